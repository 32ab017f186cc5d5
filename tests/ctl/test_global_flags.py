"""The global flags (--name, -c/--config, --dry-run, -v) work before or after any subcommand, as
KWOK's cobra persistent flags do: scripts written for KWOK's kwokctl run unchanged."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import command


def kwokctl(tmp_path: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, KWOK_WORKDIR=str(tmp_path / "work"), KUBECONFIG=str(tmp_path / "kubeconfig"))
    env.pop("KWOK_NAME", None)
    proc = subprocess.run([command("kwokctl"), *args], env=env, capture_output=True, text=True, timeout=60)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


@pytest.mark.parametrize("argv", [
    ["create", "cluster", "--name", "foo", "--dry-run"],
    ["create", "--name=foo", "cluster", "--dry-run=true"],
    ["--dry-run", "create", "cluster", "--name=foo"],
])
def test_create_cluster_flags_after_the_subcommand(tmp_path: Path, argv: list[str]) -> None:
    expected = kwokctl(tmp_path, "--name", "foo", "--dry-run", "create", "cluster").stdout
    assert "/clusters/foo/" in expected
    assert kwokctl(tmp_path, *argv).stdout == expected
    assert not (tmp_path / "work").exists()


def test_the_last_name_wins(tmp_path: Path) -> None:
    out = kwokctl(tmp_path, "--name", "first", "create", "cluster", "--dry-run", "--name", "last").stdout
    assert "/clusters/last/" in out and "/clusters/first/" not in out


def test_config_after_the_subcommand_is_read(tmp_path: Path) -> None:
    config = tmp_path / "ports.yaml"
    config.write_text("apiVersion: config.kwok.x-k8s.io/v1alpha1\nkind: KwokctlConfiguration\n"
                      "options:\n  kubeApiserverPort: 42424\n")
    out = kwokctl(tmp_path, "create", "cluster", "--dry-run", "-c", str(config)).stdout
    assert "--secure-port=42424" in out
    out = kwokctl(tmp_path, "config", "view", f"--config={config}").stdout
    assert "kubeApiserverPort: 42424" in out


def test_verbosity_after_the_subcommand(tmp_path: Path) -> None:
    assert "Creating cluster" in kwokctl(tmp_path, "create", "cluster", "--dry-run").stderr
    assert "Creating cluster" not in kwokctl(tmp_path, "create", "cluster", "--dry-run", "-v=ERROR").stderr


def test_name_after_delete_and_scale_names_the_cluster(tmp_path: Path) -> None:
    for argv in (["delete", "cluster", "--name=foo"], ["scale", "node", "--replicas", "3", "--name", "foo"],
                 ["get", "components", "--name", "foo"]):
        proc = kwokctl(tmp_path, *argv, check=False)
        assert proc.returncode == 1
        assert proc.stderr.strip() == f"Error: cluster 'foo' does not exist ({tmp_path}/work/clusters/foo)"


def test_subcommand_help_lists_global_flags_apart(tmp_path: Path) -> None:
    out = kwokctl(tmp_path, "delete", "cluster", "--help").stdout
    own, _, inherited = out.partition("Global Flags:")
    assert "--all" in own and "--name" not in own
    assert "--name" in inherited and "--dry-run" in inherited and "-c, --config" in inherited
