"""The in-cluster install (deploy/kwok) is current and accepted by an API server as a user applies it."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.kubelet.harness import Cluster

DEPLOY = Path(__file__).parents[2] / "deploy" / "kwok"


def test_generated_manifests_are_current() -> None:
    result = subprocess.run([sys.executable, str(DEPLOY / "generate.py"), "--check"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    c = Cluster(tmp_path_factory.mktemp("kwok-manifests"))
    yield c
    c.close()


def test_kubectl_apply_installs_everything(cluster: Cluster) -> None:
    # CRDs and the namespace first (the Stages and namespaced objects need them), then the rest.
    cluster.kubectl("apply", "-f", str(DEPLOY / "crds.yaml"), "-f", str(DEPLOY / "namespace.yaml"))
    out = cluster.kubectl("apply", *[a for f in ("rbac.yaml", "config.yaml", "deployment.yaml", "stage-fast.yaml")
                                     for a in ("-f", str(DEPLOY / f))])
    for created in ("serviceaccount/kwok-controller", "clusterrole.rbac.authorization.k8s.io/kwok-controller",
                    "deployment.apps/kwok-controller", "service/kwok-controller",
                    "stage.kwok.x-k8s.io/node-initialize", "stage.kwok.x-k8s.io/pod-ready"):
        assert created in out
    assert len(cluster.list("stages.kwok.x-k8s.io")) == 5
