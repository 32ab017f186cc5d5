"""--enable-crds: Logs and Exec objects applied with kubectl take effect in a running kwok."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from kwok.kubelet.crds import crd_documents
from tests.kubelet.debug.test_kubectl_e2e import NOW, free_port
from tests.kubelet.harness import FAST_STAGES, Cluster, stage_file, wait_for


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cluster, Path]]:
    workdir = tmp_path_factory.mktemp("kwok-crds")
    c = Cluster(workdir)
    try:
        c.apply(*crd_documents())
        c.kwok("--manage-all-nodes", "--node-ip=127.0.0.1", f"--node-port={free_port()}",
               "--enable-crds=Logs", "--enable-crds=ClusterExec", config=stage_file(*FAST_STAGES))
        node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "crd-node"}}
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "api", "namespace": "default"},
               "spec": {"nodeName": "crd-node", "containers": [{"name": "app", "image": "nginx"}]}}
        c.apply(node, pod)
        wait_for("pod api Running", lambda: (c.get("pod", "api", "default") or {}).get("status", {}).get("phase")
                 == "Running", 60)
        yield c, workdir
    finally:
        c.close()


def test_objects_applied_later_are_used_without_a_restart(cluster: tuple[Cluster, Path]) -> None:
    c, workdir = cluster
    assert c.kubectl("logs", "api", check=False).startswith("Error from server")  # no Logs object yet
    log_file = workdir / "api.log"
    log_file.write_text(f"{NOW} stdout F from a watched Logs object\n")
    c.apply(
        {"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "Logs", "metadata": {"name": "api", "namespace": "default"},
         "spec": {"logs": [{"containers": ["app"], "logsFile": str(log_file)}]}},
        {"apiVersion": "kwok.x-k8s.io/v1alpha1", "kind": "ClusterExec", "metadata": {"name": "everyone"},
         "spec": {"execs": [{"local": {"envs": [{"name": "FROM_CRD", "value": "yes"}]}}]}},
    )
    wait_for("logs from the Logs object",
             lambda: c.kubectl("logs", "api", check=False) == "from a watched Logs object\n", 15)
    assert "FROM_CRD=yes" in c.kubectl("exec", "api", "--", "env").splitlines()
    assert yaml.safe_load(c.kubectl("get", "clusterexecs", "-o", "yaml"))["items"][0]["metadata"]["name"] == "everyone"
