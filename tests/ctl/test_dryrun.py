"""`kwokctl --dry-run` prints the components as data, reproducibly (KWOK's dry-run golden files)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.conftest import command

TESTDATA = Path(__file__).parent / "testdata"


def dry_run(tmp_path: Path, *args: str) -> str:
    # a short work folder, whatever pytest's tmp_path is: a deep one moves the API server's socket
    # out of the cluster folder (a Unix socket path holds 108 bytes), which the golden files do not show
    short = Path(tempfile.mkdtemp(prefix="kd-", dir="/tmp"))
    try:
        env = dict(os.environ, KWOK_WORKDIR=str(short / "work"), KUBECONFIG=str(tmp_path / "kubeconfig"))
        proc = subprocess.run([command("kwokctl"), "--dry-run", *args], env=env, capture_output=True, text=True,
                              timeout=60, check=True)
        assert not (short / "work").exists(), "--dry-run must not create anything"
    finally:
        shutil.rmtree(short, ignore_errors=True)
    out = proc.stdout.replace(str(short / "work"), "<ROOT_DIR>")
    # The interpreter path differs per machine and venv.
    return re.sub(r"\S*/python[\d.]*(?= )", "<PYTHON>", out)


@pytest.mark.parametrize(("name", "args"), [
    ("create_cluster", ["create", "cluster"]),
    ("create_cluster_with_extra", ["create", "cluster", "--disable", "kube-controller-manager",
                                   "--extra-args", "kwok-controller=v=DEBUG", "--node-lease-duration-seconds", "0"]),
    # The user's own Kubernetes binaries (not on this machine: --dry-run does not look for them).
    ("create_cluster_with_binaries", ["create", "cluster", "--kube-apiserver-binary=/opt/k8s/kube-apiserver",
                                      "--etcd-binary=/opt/k8s/etcd", "--kube-scheduler-binary=/opt/k8s/kube-scheduler",
                                      "--kube-controller-manager-binary=/opt/k8s/kube-controller-manager",
                                      "--disable-qps-limits"]),
    ("create_cluster_with_real_scheduler", ["create", "cluster", "--kube-scheduler-binary=/opt/k8s/kube-scheduler"]),
])
def test_dry_run_matches_golden(tmp_path: Path, name: str, args: list[str]) -> None:
    out = dry_run(tmp_path, *args)
    golden = TESTDATA / f"dryrun_{name}.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(out)
    assert out == golden.read_text()


def test_dry_run_delete_shows_the_stop_then_the_removal_and_does_neither(tmp_path: Path) -> None:
    short = Path(tempfile.mkdtemp(prefix="kd-", dir="/tmp"))
    env = dict(os.environ, KWOK_WORKDIR=str(short), KUBECONFIG=str(tmp_path / "kubeconfig"))

    def kwokctl(*args: str) -> str:
        return subprocess.run([command("kwokctl"), "--name", "dry", *args], env=env, capture_output=True, text=True,
                              timeout=60, check=True).stdout

    try:
        kwokctl("create", "cluster", "--disable", "kube-controller-manager")
        root = short / "clusters" / "dry"
        assert kwokctl("--dry-run", "delete", "cluster").splitlines() == [
            f"kill $(cat {root}/pids/kube-apiserver.pid)",
            f"kill $(cat {root}/pids/kube-scheduler.pid)",     # alone, without the controller manager
            f"kill $(cat {root}/pids/kwok-controller.pid)",
            f"rm -rf {root}",
        ]
        assert "kwok-dry" in (tmp_path / "kubeconfig").read_text()
        assert "Ready" in kwokctl("get", "components")          # nothing was stopped
    finally:
        subprocess.run([command("kwokctl"), "delete", "cluster", "--all"], env=env, capture_output=True, timeout=60)
        shutil.rmtree(short, ignore_errors=True)


def _dry(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, KWOK_WORKDIR=str(tmp_path / "work"), KUBECONFIG=str(tmp_path / "kubeconfig"))
    return subprocess.run([command("kwokctl"), "--dry-run", "create", "cluster", *args], env=env,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("args", [["--enable", "prometheus"], ["--prometheus-port", "9090"],
                                  ["--enable", "kueue"], ["--components", "kube-apiserver,jaeger"]])
def test_add_ons_that_need_downloads_are_refused_by_name(tmp_path: Path, args: list[str]) -> None:
    proc = _dry(tmp_path, *args)
    name = "jaeger" if "jaeger" in args[-1] else "kueue" if "kueue" in args else "prometheus"
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"Error: component '{name}' is not available: this kwokctl runs ")
    assert proc.stdout == ""


def test_options_for_real_binaries_warn_when_the_built_in_component_runs(tmp_path: Path) -> None:
    built_in = _dry(tmp_path, "--kube-feature-gates=Foo=true", "--kube-scheduler-config=/etc/sched.yaml",
                    "--enable", "metrics-server")
    assert built_in.returncode == 0
    assert ("WARNING --kube-feature-gates is passed only to your own binary (--kube-apiserver-binary); "
            "the built-in component ignores it") in built_in.stderr
    assert "--kube-scheduler-config is passed only to your own binary (--kube-scheduler-binary)" in built_in.stderr
    real = _dry(tmp_path, "--kube-feature-gates=Foo=true", "--kube-apiserver-binary=/opt/k8s/kube-apiserver",
                "--etcd-binary=/opt/k8s/etcd")
    assert real.returncode == 0 and "WARNING" not in real.stderr
    assert "--feature-gates=Foo=true" in real.stdout
