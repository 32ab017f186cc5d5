"""The pod mirror keeps pods small but gives back exactly what it was given."""

from __future__ import annotations

import gc

from kwok.kubelet.pods import compact, expand

POD = {
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "p", "namespace": "ns", "uid": "u", "resourceVersion": "7",
                 "annotations": {"kwok.x-k8s.io/usage-cpu": "100m"}, "finalizers": ["f"]},
    "spec": {"nodeName": "n", "containers": [{"name": "c", "image": "busybox"}], "hostNetwork": False,
             "tolerations": [{"key": "k", "operator": "Exists"}], "dnsPolicy": "ClusterFirst"},
    "status": {"phase": "Running", "podIP": "10.0.0.1", "podIPs": [{"ip": "10.0.0.1"}]},
}


def test_round_trip_is_exact_and_the_informer_still_finds_key_and_version() -> None:
    stored = compact(POD)
    assert stored["metadata"] == {"name": "p", "namespace": "ns", "resourceVersion": "7"}
    assert stored["spec"] == {"nodeName": "n"}
    assert expand(stored) == POD
    assert expand(compact({"metadata": {"name": "x"}})) == {"metadata": {"name": "x"}}
    assert expand(POD) is POD  # not compacted: as it is


def test_a_stored_pod_is_one_object_for_the_cyclic_garbage_collector() -> None:
    """The collector walks every tracked container at each full collection: at 100,000 pods the
    mirror must not hold dozens per pod (as nested dicts and lists would)."""
    stored = compact(POD)
    assert [gc.is_tracked(part) for part in (stored, stored["metadata"], stored["spec"])] == [True, False, False]
