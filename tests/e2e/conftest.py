"""Helpers for end-to-end tests: kwokctl and kubectl run as users run them, in an isolated home."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import command


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    e = dict(os.environ)
    e["KWOK_WORKDIR"] = str(tmp_path / "kwok")
    e["KUBECONFIG"] = str(tmp_path / "kube" / "config")
    e["KUBECACHEDIR"] = str(tmp_path / "kubecache")
    return e


def kwokctl(env: dict[str, str], *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([command("kwokctl"), *args], env=env, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"kwokctl {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def kubectl(env: dict[str, str], binary: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run([binary, f"--cache-dir={env['KUBECACHEDIR']}", *args], env=env,
                          capture_output=True, text=True, timeout=60)
    if check and proc.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc


def wait_for(check, timeout: float = 30.0, what: str = "condition") -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def pod_phases(env: dict[str, str], kube: str) -> dict[str, str]:
    out = kubectl(env, kube, "get", "pods", "-o", "json").stdout
    return {p["metadata"]["name"]: p.get("status", {}).get("phase", "") for p in json.loads(out)["items"]}


