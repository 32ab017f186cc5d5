"""Runs components as background processes of this machine, each with a pid file and a log.

This is kwokctl's `binary` runtime: no container engine, nothing downloaded. By default each
component is a command of this package; a component whose binary is given by flag or config runs
that binary instead.
"""

from __future__ import annotations

import functools
import os
import signal
import subprocess
import sys
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
    if component.command[0] == sys.executable:
        env.update(lazy_trust_store())
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


@functools.cache
def lazy_trust_store() -> dict[str, str]:
    """Environment that makes OpenSSL find the system CAs lazily in Python components.

    Python's ssl loads the whole system CA bundle into every default context, and aiohttp makes
    two at import: ~35 ms and ~1 MB each, in every component, before the API server can listen.
    The same CAs sit in OpenSSL's hashed directory (the distribution builds both from one set),
    where a verification looks up only the one it needs. An empty bundle plus that directory
    keeps the trust anchors and loads them on demand. Only where the directory is populated, and
    never over a bundle or directory of the user's own choosing (naming the defaults is fine).
    """
    import _ssl  # not `ssl`: only the default paths are needed

    _, cafile, _, capath = _ssl.get_default_verify_paths()
    for variable, default in (("SSL_CERT_FILE", cafile), ("SSL_CERT_DIR", capath)):
        chosen = os.environ.get(variable)
        if chosen is not None and os.path.realpath(chosen) != os.path.realpath(default):
            return {}
    try:
        hashed = any(name.endswith(".0") for name in os.listdir(capath))
    except OSError:
        return {}
    return {"SSL_CERT_FILE": os.devnull, "SSL_CERT_DIR": capath} if hashed else {}


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
    pids = _signal(paths, names, signal.SIGTERM)
    pids = _wait_gone(pids, timeout)
    _signal_groups(pids, signal.SIGKILL)
    _wait_gone(pids, timeout)
    for name in names:
        paths.pid_file(name).unlink(missing_ok=True)


def kill(paths: ClusterPaths, names: list[str], timeout: float = 5.0) -> None:
    """SIGKILL every component (and anything it started) and wait until they are gone: for a
    cluster being deleted, a graceful stop would only flush state that is about to be removed."""
    pids = {n: p for n in names if (p := read_pid(paths, n)) and is_running(p)}
    _signal_groups(pids, signal.SIGKILL)
    _wait_gone(pids, timeout)
    for name in names:
        paths.pid_file(name).unlink(missing_ok=True)


def _signal(paths: ClusterPaths, names: list[str], sig: signal.Signals) -> dict[str, int]:
    pids = {}
    for name in names:
        pid = read_pid(paths, name)
        if pid and is_running(pid):
            try:
                os.kill(pid, sig)
                pids[name] = pid
            except ProcessLookupError:
                pass
    return pids


def _signal_groups(pids: dict[str, int], sig: signal.Signals) -> None:
    # Each component leads its own session (start_new_session), so its group is its pid.
    for pid in pids.values():
        try:
            os.killpg(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def _wait_gone(pids: dict[str, int], timeout: float) -> dict[str, int]:
    """Poll until every process has exited; the ones still running at `timeout`."""
    deadline = time.monotonic() + timeout
    while pids:
        pids = {n: p for n, p in pids.items() if is_running(p)}
        if not pids or time.monotonic() >= deadline:
            break
        time.sleep(0.005)
    return pids


def log_tail(paths: ClusterPaths, name: str, lines: int = 20) -> str:
    try:
        data = paths.log_file(name).read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join(data[-lines:])
