"""Processes for the kwok end-to-end tests: a real `kwok apiserver`, `kwok` controllers, kubectl."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from kwok.engine.stagesets import default_stages

KUBECTLS = [k for k in ("/usr/bin/kubectl", str(Path(sys.executable).parent / "kubectl")) if os.path.exists(k)]


def stage_file(*names: str) -> str:
    """The shipped Stages of these names (see kwok.engine.stagesets) as one YAML text."""
    return yaml.dump_all(default_stages(names), Dumper=yaml.CSafeDumper)


FAST_STAGES = ("node-initialize", "pod-ready", "pod-complete", "pod-delete")


def wait_for(what: str, check: Callable[[], Any], timeout: float = 15.0, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


class Process:
    def __init__(self, args: list[str], log: Path) -> None:
        self.log = log
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(args, stdout=out, stderr=out)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        return self.proc.returncode

    def output(self) -> str:
        return self.log.read_text(errors="replace")


class Cluster:
    """A `kwok apiserver` (memory store) reachable over a Unix socket and plain HTTP."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.socket = workdir / "api.sock"
        ready = workdir / "ready"
        self.apiserver = Process(
            [sys.executable, "-m", "kwok.cli.apiserver", "--port", "0", "--unix-socket", str(self.socket),
             "--ready-file", str(ready)],
            workdir / "apiserver.log",
        )
        wait_for("the API server", lambda: ready.exists() or self.apiserver.proc.poll() is not None, 20)
        if self.apiserver.proc.poll() is not None:
            raise RuntimeError(self.apiserver.output())
        ports = dict(item.split("=", 1) for item in ready.read_text().split())
        self.url = f"http://127.0.0.1:{ports['http']}"
        self.cache = workdir / "kubectl-cache"
        self.kwoks: list[Process] = []

    def kwok(self, *args: str, config: str | None = None, name: str = "kwok") -> Process:
        cmd = [sys.executable, "-m", "kwok.cli.kwok", "--master", f"unix://{self.socket}", *args]
        if config is not None:
            path = self.workdir / f"{name}-config.yaml"
            path.write_text(config)
            cmd += ["--config", str(path)]
        proc = Process(cmd, self.workdir / f"{name}.log")
        self.kwoks.append(proc)
        return proc

    def kubectl(self, *args: str, stdin: str | None = None, binary: str | None = None, check: bool = True) -> str:
        cmd = [binary or KUBECTLS[0], f"--cache-dir={self.cache}", "-s", self.url, *args]
        for _ in range(3):
            result = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=30)
            # The API server sometimes reads a large request body short (bodies.py reads one chunk,
            # reported to its owner); that is not what these tests are about, so try again.
            if "json parse error: unexpected end of data" not in result.stderr:
                break
        if check and result.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed: {result.stderr}")
        return result.stdout + (result.stderr if not check else "")

    def apply(self, *objects: dict[str, Any], binary: str | None = None) -> None:
        manifest = yaml.dump_all(objects, Dumper=yaml.CSafeDumper)
        self.kubectl("apply", "-f", "-", stdin=manifest, binary=binary)

    def get(self, kind: str, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        args = ["get", kind, name, "-o", "json", "--ignore-not-found"]
        if namespace:
            args += ["-n", namespace]
        out = self.kubectl(*args)
        return json.loads(out) if out.strip() else None

    def list(self, kind: str, *args: str) -> list[dict[str, Any]]:
        return list(json.loads(self.kubectl("get", kind, "-o", "json", *args))["items"])

    def close(self) -> None:
        for proc in self.kwoks:
            proc.stop()
        self.apiserver.stop()
        shutil.rmtree(self.cache, ignore_errors=True)


def condition(obj: dict[str, Any] | None, kind: str) -> str | None:
    for c in ((obj or {}).get("status") or {}).get("conditions") or []:
        if c.get("type") == kind:
            return str(c.get("status"))
    return None
