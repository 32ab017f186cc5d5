"""StatefulSet end to end: ordered creation, stable names, claims, rolling update and scale down,
watched with the real `kubectl rollout status sts`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ..e2e.harness import Cluster, namespace, wait_for
from .conftest import KUBECTLS, kubectl, kubelet_running


def statefulset(name: str, replicas: int, image: str = "nginx:1.25") -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": name},
            "spec": {"replicas": replicas, "serviceName": name, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"nodeName": "fake-node", "containers": [{"name": "c", "image": image}]}},
                     "volumeClaimTemplates": [{"metadata": {"name": "data"},
                                               "spec": {"accessModes": ["ReadWriteOnce"],
                                                        "resources": {"requests": {"storage": "1Gi"}}}}]}}


def _pods(cluster: Cluster, ns: str) -> dict[str, dict[str, Any]]:
    return {p["metadata"]["name"]: p for p in cluster.api.items(f"/api/v1/namespaces/{ns}/pods")
            if not p["metadata"].get("deletionTimestamp")}


@pytest.mark.parametrize("binary", KUBECTLS)
def test_statefulset_rollout_with_kubectl(control_plane: Cluster, binary: str, tmp_path: Path) -> None:
    api = control_plane.api
    ns = namespace(api, "sts-" + ("venv" if "venv" in binary else "system"))
    base = f"/apis/apps/v1/namespaces/{ns}/statefulsets"
    api.post(base, statefulset("web", 3))
    # OrderedReady: web-1 does not exist before web-0 is Running and Ready
    first = wait_for(lambda: _pods(control_plane, ns), 15, what="web-0")
    assert list(first) == ["web-0"]
    with kubelet_running(control_plane, ns):
        done = kubectl(binary, control_plane, tmp_path, "-n", ns, "rollout", "status", "sts/web", "--timeout=40s")
        assert done.returncode == 0, done.stderr
        assert "roll out complete: 3 new pods have been updated" in done.stdout
        pods = _pods(control_plane, ns)
        assert sorted(pods) == ["web-0", "web-1", "web-2"]
        labels = pods["web-2"]["metadata"]["labels"]
        assert labels["statefulset.kubernetes.io/pod-name"] == "web-2" and labels["apps.kubernetes.io/pod-index"] == "2"
        assert pods["web-2"]["spec"]["hostname"] == "web-2" and pods["web-2"]["spec"]["subdomain"] == "web"
        claims = sorted(c["metadata"]["name"] for c in api.items(f"/api/v1/namespaces/{ns}/persistentvolumeclaims"))
        assert claims == ["data-web-0", "data-web-1", "data-web-2"]
        first_revision = labels["controller-revision-hash"]

        api.patch(f"{base}/web", {"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "nginx:1.26"}]}}}})
        done = kubectl(binary, control_plane, tmp_path, "-n", ns, "rollout", "status", "sts/web", "--timeout=40s")
        assert done.returncode == 0, done.stderr
        status = api.get(f"{base}/web")["status"]
        assert status["currentRevision"] == status["updateRevision"] != first_revision
        assert status["updatedReplicas"] == status["readyReplicas"] == 3
        images = {p["spec"]["containers"][0]["image"] for p in _pods(control_plane, ns).values()}
        assert images == {"nginx:1.26"}
        revisions = api.items(f"/apis/apps/v1/namespaces/{ns}/controllerrevisions")
        assert sorted(r["revision"] for r in revisions) == [1, 2]

        api.patch(f"{base}/web", {"spec": {"replicas": 1}})
        wait_for(lambda: sorted(_pods(control_plane, ns)) == ["web-0"], 20, what="scale down to web-0")
    # claims outlive the pods (retention policy Retain)
    assert len(api.items(f"/api/v1/namespaces/{ns}/persistentvolumeclaims")) == 3
