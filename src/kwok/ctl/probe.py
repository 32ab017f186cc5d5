"""Readiness probes for components (blocking; kwokctl is a short-lived CLI)."""

from __future__ import annotations

import http.client
import socket
import time
from collections.abc import Callable
from pathlib import Path


class _UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path: Path, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = str(path)

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self._path)
        self.sock = sock


def get_unix(path: Path, url: str, timeout: float = 1.0) -> tuple[int, bytes]:
    conn = _UnixHTTPConnection(path, timeout)
    try:
        conn.request("GET", url)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def get_http(url: str, timeout: float = 1.0) -> tuple[int, bytes]:
    rest = url.split("://", 1)[1]
    hostport, _, path = rest.partition("/")
    host, _, port = hostport.rpartition(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request("GET", "/" + path)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def apiserver_ready(socket_path: Path) -> bool:
    try:
        status, _ = get_unix(socket_path, "/readyz", timeout=0.5)
    except OSError:
        return False
    return status == 200


def http_healthy(url: str) -> bool:
    try:
        status, _ = get_http(url, timeout=0.5)
    except (OSError, ValueError):
        return False
    return status == 200


def wait_until(check: Callable[[], bool], timeout: float, interval: float = 0.01,
               alive: Callable[[], bool] | None = None) -> bool:
    """Poll `check` until true; give up at `timeout` or as soon as `alive()` says the process died."""
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return True
        if alive is not None and not alive():
            return check()
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)
        interval = min(interval * 1.5, 0.1)
