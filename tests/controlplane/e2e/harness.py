"""Real processes for end-to-end tests: the API server and the control plane, and a small
synchronous REST helper (plain urllib, so the tests do not depend on the client under test)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

PY = sys.executable


class ApiError(Exception):
    def __init__(self, code: int, body: Any) -> None:
        super().__init__(f"{code}: {body}")
        self.code = code
        self.body = body


class Api:
    def __init__(self, url: str) -> None:
        self.url = url

    def call(self, method: str, path: str, body: Any = None, content_type: str = "application/json") -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as err:
            raw = err.read()
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = raw.decode(errors="replace")
            raise ApiError(err.code, parsed) from None
        return json.loads(raw) if raw else None

    def get(self, path: str) -> Any:
        return self.call("GET", path)

    def post(self, path: str, body: Any) -> Any:
        return self.call("POST", path, body)

    def patch(self, path: str, body: Any) -> Any:
        return self.call("PATCH", path, body, "application/merge-patch+json")

    def delete(self, path: str, body: Any = None) -> Any:
        return self.call("DELETE", path, body)

    def items(self, path: str) -> list[dict[str, Any]]:
        return list(self.get(path).get("items") or [])


def wait_for(check: Callable[[], Any], timeout: float = 15.0, interval: float = 0.1, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except ApiError as err:
            last = err
        if last and not isinstance(last, ApiError):
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what or check}: last={last!r}")


class Process:
    def __init__(self, args: list[str], log: Path) -> None:
        self.log = log
        self._file = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(args, stdout=self._file, stderr=subprocess.STDOUT, start_new_session=True)

    def stop(self) -> int | None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self._file.close()
        return self.proc.returncode

    def output(self) -> str:
        if not self._file.closed:
            self._file.flush()
        return self.log.read_text(errors="replace")


class Cluster:
    """An API server plus whatever control-plane commands a test starts against it."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="kwok-cp-"))
        ready = self.dir / "ready"
        self.apiserver = Process([PY, "-m", "kwok.cli.apiserver", "--port", "0", "--no-generate-certs",
                                  "--ready-file", str(ready)], self.dir / "apiserver.log")
        wait_for(lambda: ready.exists() and ready.read_text().strip(), 20, what="apiserver ready file")
        port = dict(line.split("=") for line in ready.read_text().split())["http"]
        self.url = f"http://127.0.0.1:{port}"
        self.api = Api(self.url)
        wait_for(lambda: self.api.get("/api/v1/namespaces/default"), 20, what="default namespace")
        self.components: list[Process] = []

    def start(self, command: str, *flags: str) -> Process:
        log = self.dir / f"{command}-{len(self.components)}.log"
        proc = Process([PY, "-m", "kwok.cli.controlplane", command, f"--master={self.url}", *flags], log)
        self.components.append(proc)
        return proc

    def stop(self) -> None:
        for proc in self.components:
            proc.stop()
        self.apiserver.stop()


def now_rfc3339() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class FakeKubelet:
    """Plays the kubelet for bound pods (what kwok's pod stages do): Running and Ready, or a given
    final phase, and finishes graceful deletions."""

    def __init__(self, api: Api) -> None:
        self.api = api

    def step(self, namespace: str, phase: str = "Running") -> None:
        for pod in self.api.items(f"/api/v1/namespaces/{namespace}/pods"):
            meta, spec, status = pod["metadata"], pod.get("spec") or {}, pod.get("status") or {}
            path = f"/api/v1/namespaces/{namespace}/pods/{meta['name']}"
            if not spec.get("nodeName"):
                continue
            try:
                if meta.get("deletionTimestamp"):
                    self.api.call("DELETE", path, {"kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": 0})
                elif status.get("phase") not in ("Succeeded", "Failed") and status.get("phase") != phase:
                    ready = "True" if phase == "Running" else "False"
                    conditions = [{"type": t, "status": ready if t != "PodScheduled" else "True",
                                   "lastTransitionTime": now_rfc3339()}
                                  for t in ("PodScheduled", "Initialized", "ContainersReady", "Ready")]
                    self.api.patch(path + "/status", {"status": {"phase": phase, "conditions": conditions,
                                                                 "podIP": "10.0.0.1", "startTime": now_rfc3339()}})
            except ApiError as err:
                if err.code not in (404, 409):
                    raise


def node(name: str, cpu: str = "4", memory: str = "8Gi", pods: int = 110, **extra: Any) -> dict[str, Any]:
    allocatable = {"cpu": cpu, "memory": memory, "pods": str(pods)}
    body: dict[str, Any] = {"apiVersion": "v1", "kind": "Node",
                            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, "type": "kwok"}},
                            "status": {"allocatable": allocatable, "capacity": allocatable,
                                       "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                                                       "lastHeartbeatTime": now_rfc3339(),
                                                       "lastTransitionTime": now_rfc3339()}]}}
    for key, value in extra.items():
        body.setdefault("spec", {})[key] = value
    return body


def create_node(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    created = api.post("/api/v1/nodes", body)
    # status is ignored on create by a real API server: write it through the subresource
    return api.patch(f"/api/v1/nodes/{body['metadata']['name']}/status", {"status": body["status"]}) or created


def namespace(api: Api, name: str) -> str:
    api.post("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    return name
