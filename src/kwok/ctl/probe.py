"""Readiness probes for components (blocking; kwokctl is a short-lived CLI).

A probe is one HTTP/1.0 GET written on a raw socket and the status code read back: no
http.client (its import, with email and ssl, costs kwokctl ~15 ms), and nothing else to parse.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ssl


def _status(sock: socket.socket, path: str) -> int:
    sock.sendall(f"GET {path} HTTP/1.0\r\nHost: localhost\r\nUser-Agent: kwokctl\r\n\r\n".encode())
    head = b""
    while b"\r\n" not in head and len(head) < 1024:
        chunk = sock.recv(1024)
        if not chunk:
            break
        head += chunk
    parts = head.split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/") or not parts[1].isdigit():
        raise OSError(f"not an HTTP response: {head[:40]!r}")
    return int(parts[1])


def get_status_unix(path: Path, url: str, timeout: float = 1.0) -> int:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(str(path))
        return _status(sock, url)


def get_status_http(url: str, timeout: float = 1.0) -> int:
    scheme, _, rest = url.partition("://")
    hostport, _, path = rest.partition("/")
    host, _, port = hostport.rpartition(":")
    with socket.create_connection((host, int(port)), timeout=timeout) as sock:
        if scheme != "https":
            return _status(sock, "/" + path)
        with _insecure_tls().wrap_socket(sock, server_hostname=host) as tls:
            return _status(tls, "/" + path)


def _insecure_tls() -> ssl.SSLContext:
    """For health endpoints of real Kubernetes components: up or not, whoever serves it."""
    import ssl

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def apiserver_ready(socket_path: Path) -> bool:
    try:
        return get_status_unix(socket_path, "/readyz", timeout=0.5) == 200
    except OSError:
        return False


def http_healthy(url: str) -> bool:
    try:
        return get_status_http(url, timeout=0.5) == 200
    except (OSError, ValueError):
        return False


def wait_until(check: Callable[[], bool], timeout: float, interval: float = 0.005,
               alive: Callable[[], bool] | None = None) -> bool:
    """Poll `check` every `interval` until true; give up at `timeout` or as soon as `alive()`
    says the process died. A probe that fails costs a refused connect, so polling tightly is
    cheap, and every millisecond between ready and noticing it is added to `create cluster`."""
    deadline = time.monotonic() + timeout
    while True:
        if check():
            return True
        if alive is not None and not alive():
            return check()
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)
