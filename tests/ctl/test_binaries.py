"""The user's own Kubernetes binaries as components: clear errors, and a real process run in place
of ours (a stand-in script records the flags kwokctl gives it; the real binaries are not here)."""

from __future__ import annotations

import os
import stat
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import command


def kwokctl(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, KWOK_WORKDIR=str(tmp_path / "work"), KUBECONFIG=str(tmp_path / "kubeconfig"))
    return subprocess.run([command("kwokctl"), *args], env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(("flags", "error"), [
    (["--kube-apiserver-binary=/no/such/kube-apiserver", "--etcd-binary=/bin/sh"],
     "Error: kube-apiserver binary '/no/such/kube-apiserver' (--kube-apiserver-binary / "
     "options.kubeApiserverBinary) does not exist"),
    (["--kube-apiserver-binary=/bin/sh"],
     "Error: a real kube-apiserver (--kube-apiserver-binary) needs etcd: give --etcd-binary too"),
    (["--kube-scheduler-binary=https://dl.k8s.io/release/v1.36.0/bin/linux/amd64/kube-scheduler"],
     "kwokctl downloads nothing; give the path of a binary on this machine"),
])
def test_a_binary_that_cannot_run_is_a_one_line_error(tmp_path: Path, flags: list[str], error: str) -> None:
    proc = kwokctl(tmp_path, "create", "cluster", "--name", "bin", *flags)
    assert proc.returncode == 1
    assert error in proc.stderr and len(proc.stderr.strip().splitlines()) == 2   # "Creating cluster" + error
    assert not (tmp_path / "work" / "clusters" / "bin").exists()


def test_binary_options_in_a_config_file_are_checked_too(tmp_path: Path) -> None:
    config = tmp_path / "kwok.yaml"
    config.write_text("apiVersion: config.kwok.x-k8s.io/v1alpha1\nkind: KwokctlConfiguration\n"
                      "options:\n  kubeControllerManagerBinary: /no/such/kcm\n")
    proc = kwokctl(tmp_path, "create", "cluster", "--name", "bin", "-c", str(config))
    assert proc.returncode == 1
    assert "options.kubeControllerManagerBinary) does not exist" in proc.stderr


def test_a_real_scheduler_binary_runs_with_kwoks_flags(tmp_path: Path) -> None:
    record = tmp_path / "argv"
    fake = tmp_path / "kube-scheduler"
    fake.write_text(f"#!/bin/sh\necho \"$@\" > {record}\nexec sleep 60\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    root = tmp_path / "work" / "clusters" / "real"
    proc = kwokctl(tmp_path, "create", "cluster", "--name", "real", f"--kube-scheduler-binary={fake}")
    try:
        assert proc.returncode == 0, proc.stderr
        deadline = time.monotonic() + 10
        while not record.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        args = record.read_text().split()
        assert f"--kubeconfig={root}/kubeconfig.yaml" in args   # TLS with the admin certificate
        assert "--authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics" in args
        ours = (root / "logs").iterdir()
        assert {p.name for p in ours} >= {"kube-scheduler.log", "kube-controller-manager.log"}
        components = kwokctl(tmp_path, "get", "components", "--name", "real").stdout
        assert "kube-scheduler" in components
        pid = int((root / "pids" / "kube-scheduler.pid").read_text())
    finally:
        assert kwokctl(tmp_path, "delete", "cluster", "--name", "real").returncode == 0
    assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split(")")[1][:3]
