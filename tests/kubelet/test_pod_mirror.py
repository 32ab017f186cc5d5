"""The pod mirror keeps pods small but gives back exactly what it was given."""

from __future__ import annotations

from kwok.kubelet.pods import compact, expand

POD = {
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "p", "namespace": "ns", "uid": "u", "resourceVersion": "7",
                 "annotations": {"kwok.x-k8s.io/usage-cpu": "100m"}},
    "spec": {"nodeName": "n", "containers": [{"name": "c", "image": "busybox"}], "hostNetwork": False,
             "tolerations": [{"key": "k", "operator": "Exists"}], "dnsPolicy": "ClusterFirst"},
    "status": {"phase": "Running", "podIP": "10.0.0.1"},
}


def test_round_trip_is_exact_and_what_metrics_read_stays_readable() -> None:
    stored = compact(POD)
    assert stored["metadata"] == POD["metadata"]
    assert stored["spec"] == {"nodeName": "n", "containers": [{"name": "c", "image": "busybox"}],
                              "hostNetwork": False}
    assert "status" not in stored
    assert expand(stored) == POD
    assert expand(compact({"metadata": {"name": "x"}})) == {"metadata": {"name": "x"}, "spec": {}}
