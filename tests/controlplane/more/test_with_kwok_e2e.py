"""The whole offline cluster: API server, `kwok control-plane` and the `kwok` controller playing
the kubelets of fake nodes. A DaemonSet reaches every fake node it tolerates, and a Service
publishes the IPs kwok gives the pods."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kwok.engine.stagesets import default_stages

from ..e2e.harness import PY, Cluster, Process, create_node, namespace, node, wait_for
from .conftest import KUBECTLS, kubectl

FAKE_TAINT = {"key": "kwok.x-k8s.io/node", "value": "fake", "effect": "NoSchedule"}


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    c = Cluster()
    try:
        c.start("control-plane", "--port=0", "--leader-elect=false")
        stages = c.dir / "stages.yaml"
        stages.write_text(yaml.dump_all(default_stages(["fast"], lease=False), Dumper=yaml.CSafeDumper))
        kwok = Process([PY, "-m", "kwok.cli.kwok", f"--master={c.url}", "--manage-all-nodes", f"--config={stages}",
                        "--node-lease-duration-seconds=0", "--server-address=127.0.0.1:0"], c.dir / "kwok.log")
        c.components.append(kwok)
        for name in ("kwok-0", "kwok-1"):
            body = node(name, taints=[FAKE_TAINT])
            body["metadata"]["annotations"] = {"kwok.x-k8s.io/node": "fake"}
            create_node(c.api, body)
        yield c
    finally:
        c.stop()


def daemonset() -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent"},
            "spec": {"selector": {"matchLabels": {"app": "agent"}},
                     "template": {"metadata": {"labels": {"app": "agent"}},
                                  "spec": {"tolerations": [{"key": "kwok.x-k8s.io/node", "operator": "Exists",
                                                            "effect": "NoSchedule"}],
                                           "containers": [{"name": "c", "image": "agent",
                                                           "ports": [{"name": "metrics", "containerPort": 9100}]}]}}}}


def test_daemonset_on_kwok_nodes_and_its_endpoints(cluster: Cluster, tmp_path: Path) -> None:
    api = cluster.api
    ns = namespace(api, "kwok-ds")
    api.post(f"/apis/apps/v1/namespaces/{ns}/daemonsets", daemonset())
    api.post(f"/api/v1/namespaces/{ns}/services", {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "agent"},
                                                   "spec": {"selector": {"app": "agent"},
                                                            "ports": [{"name": "m", "port": 80, "targetPort": "metrics"}]}})
    done = kubectl(KUBECTLS[0], cluster, tmp_path, "-n", ns, "rollout", "status", "ds/agent", "--timeout=40s")
    assert done.returncode == 0, done.stderr + cluster.components[-1].output()[-2000:]
    pods = api.items(f"/api/v1/namespaces/{ns}/pods")
    assert sorted(p["spec"]["nodeName"] for p in pods) == ["kwok-0", "kwok-1"]
    ips = sorted(p["status"]["podIP"] for p in pods)
    assert len(set(ips)) == 2

    def published() -> list[str] | None:
        subsets = api.get(f"/api/v1/namespaces/{ns}/endpoints/agent").get("subsets") or [{}]
        found = sorted(a["ip"] for a in subsets[0].get("addresses") or [])
        return found if found == ips else None
    wait_for(published, 15, what="kwok pod IPs in the endpoints")
    got = kubectl(KUBECTLS[-1], cluster, tmp_path, "-n", ns, "get", "endpoints", "agent", "--no-headers")
    assert got.stdout.split()[1] == ",".join(f"{ip}:9100" for ip in ips), got.stdout


def test_statefulset_on_kwok_nodes(cluster: Cluster, tmp_path: Path) -> None:
    api = cluster.api
    ns = namespace(api, "kwok-sts")
    spec = {"tolerations": [{"key": "kwok.x-k8s.io/node", "operator": "Exists", "effect": "NoSchedule"}],
            "containers": [{"name": "c", "image": "db"}]}
    api.post(f"/apis/apps/v1/namespaces/{ns}/statefulsets", {
        "apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"},
        "spec": {"replicas": 3, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
                 "template": {"metadata": {"labels": {"app": "db"}}, "spec": spec}}})
    done = kubectl(KUBECTLS[-1], cluster, tmp_path, "-n", ns, "rollout", "status", "sts/db", "--timeout=40s")
    assert done.returncode == 0, done.stderr
    pods = {p["metadata"]["name"]: p for p in api.items(f"/api/v1/namespaces/{ns}/pods")}
    assert sorted(pods) == ["db-0", "db-1", "db-2"]
    assert all(p["status"]["phase"] == "Running" and p["spec"]["nodeName"].startswith("kwok-") for p in pods.values())
    got = kubectl(KUBECTLS[0], cluster, tmp_path, "-n", ns, "get", "sts", "db", "--no-headers")
    assert got.stdout.split()[1] == "3/3", got.stdout
