"""A real `kwok apiserver` process on a free port, and the clients that drive it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from tests.conftest import command

READY_TIMEOUT = 20.0


class ApiServer:
    def __init__(self, workdir: Path, *extra: str, data_dir: Path | None = None,
                 env: dict[str, str] | None = None) -> None:
        self.workdir = workdir
        self.env = {**os.environ, **env} if env else None
        self.data_dir = data_dir if data_dir is not None else workdir / "data"
        self.ready = workdir / f"ready-{time.monotonic_ns()}"
        self.log = workdir / "apiserver.log"
        self.extra = extra
        self.proc: subprocess.Popen[bytes] | None = None
        self.ports: dict[str, str] = {}

    def start(self) -> ApiServer:
        args = [command("kwok"), "apiserver", "--data-dir", str(self.data_dir),
                "--ready-file", str(self.ready), *self.extra]
        if not any(a in ("--port", "--secure-port", "--unix-socket") for a in self.extra):
            args += ["--port", "0"]
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(args, stdout=log, stderr=log, env=self.env)
        deadline = time.monotonic() + READY_TIMEOUT
        while not self.ready.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"apiserver did not start:\n{self.log.read_text()}")
            time.sleep(0.05)
        self.ports = dict(item.split("=", 1) for item in self.ready.read_text().split())
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.ports['http']}"

    def stop(self, sig: int = signal.SIGTERM) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        return self.proc.returncode

    # ----------------------------------------------------------------- raw HTTP
    def request(self, method: str, path: str, body: Any = None, content_type: str | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, Any, dict[str, str]]:
        data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=dict(headers or {}))
        if content_type or data is not None:
            # urllib would otherwise send application/x-www-form-urlencoded, which the server refuses
            req.add_header("Content-Type", content_type or "application/json")
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                raw, code, hdrs = resp.read(), resp.status, dict(resp.headers)
        except urllib.error.HTTPError as err:
            raw, code, hdrs = err.read(), err.code, dict(err.headers)
        try:
            return code, json.loads(raw), hdrs
        except ValueError:
            return code, raw.decode(), hdrs

    # ------------------------------------------------------------------ kubectl
    def kubeconfig(self) -> Path:
        path = self.workdir / f"kubeconfig-{self.ports['http']}"
        path.write_text(json.dumps({
            "apiVersion": "v1", "kind": "Config",
            "clusters": [{"name": "kwok", "cluster": {"server": self.url}}],
            "users": [{"name": "kwok", "user": {}}],
            "contexts": [{"name": "kwok", "context": {"cluster": "kwok", "user": "kwok"}}],
            "current-context": "kwok"}))
        return path

    def kubectl(self, kubectl_bin: str, *args: str, stdin: str | None = None, check: bool = True,
                timeout: float = 30) -> subprocess.CompletedProcess[str]:
        cmd = [kubectl_bin, f"--kubeconfig={self.kubeconfig()}", f"--cache-dir={self.workdir / 'kcache'}", *args]
        env = dict(os.environ, KUBECACHEDIR=str(self.workdir / "kcache"))
        result = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=timeout, env=env)
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        return result

    def apply(self, kubectl_bin: str, *objects: dict[str, Any]) -> None:
        """`kubectl apply -f -` of the objects, as one v1 List."""
        self.kubectl(kubectl_bin, "apply", "-f", "-", stdin=json.dumps({"apiVersion": "v1", "kind": "List",
                                                                        "items": list(objects)}))


def stream_lines(server: ApiServer, path: str, headers: dict[str, str] | None = None,
                 until: int | None = None, timeout: float = 10) -> list[dict[str, Any]]:
    """Read a watch: one JSON event per line, until the server ends it or `until` events arrived."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", int(server.ports["http"]), timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        assert resp.status == 200, resp.read()
        events: list[dict[str, Any]] = []
        while until is None or len(events) < until:
            line = resp.readline()
            if not line:
                break
            events.append(json.loads(line))
        return events
    finally:
        conn.close()
