"""Runs components as background processes of this machine, each with a pid file and a log.

This is kwokctl's `binary` runtime: no container engine, nothing downloaded. By default each
component is a command of this package; a component whose binary is given by flag or config runs
that binary instead.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from kwok.ctl.components import Component
from kwok.ctl.paths import ClusterPaths


class ComponentFailed(Exception):
    def __init__(self, name: str, log: Path, tail: str) -> None:
        super().__init__(f"component {name} exited during start-up; last lines of {log}:\n{tail}")
        self.name = name


def start(paths: ClusterPaths, component: Component) -> int:
    paths.pids.mkdir(parents=True, exist_ok=True)
    paths.logs.mkdir(parents=True, exist_ok=True)
    log = open(paths.log_file(component.name), "ab")  # noqa: SIM115 - handed to the child
    env = {**os.environ, **component.env, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        component.argv(),
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=log,
        env=env,
        cwd=paths.root,
        start_new_session=True,   # survives the kwokctl process and its terminal
    )
    log.close()
    paths.pid_file(component.name).write_text(f"{proc.pid}\n")
    return proc.pid


def read_pid(paths: ClusterPaths, name: str) -> int | None:
    try:
        return int(paths.pid_file(name).read_text().strip())
    except (OSError, ValueError):
        return None


def is_running(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child of ours still answers kill(0); reap it if it is ours.
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == 0
    except ChildProcessError:
        return _not_zombie(pid)


def _not_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True   # no procfs: trust kill(0)
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def status(paths: ClusterPaths, name: str) -> str:
    pid = read_pid(paths, name)
    if pid is None:
        return "Stopped"
    return "Running" if is_running(pid) else "Stopped"


def stop(paths: ClusterPaths, names: list[str], timeout: float = 5.0) -> None:
    """SIGTERM every component, wait for all together, SIGKILL whatever is left."""
    pids = {}
    for name in names:
        pid = read_pid(paths, name)
        if pid and is_running(pid):
            try:
                os.kill(pid, signal.SIGTERM)
                pids[name] = pid
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + timeout
    while pids and time.monotonic() < deadline:
        pids = {n: p for n, p in pids.items() if is_running(p)}
        if pids:
            time.sleep(0.02)
    for pid in pids.values():
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    for name in names:
        paths.pid_file(name).unlink(missing_ok=True)


def log_tail(paths: ClusterPaths, name: str, lines: int = 20) -> str:
    try:
        data = paths.log_file(name).read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join(data[-lines:])
