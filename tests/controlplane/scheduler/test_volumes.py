"""VolumeBinding / VolumeZone decisions."""

from __future__ import annotations

from kwok.controlplane.scheduler.framework import FitError
from kwok.controlplane.scheduler.podinfo import pod_info
from kwok.controlplane.scheduler.preemption import preempt

from .helpers import cluster, node, pod


def claim(name: str, volume: str | None = None, cls: str = "kwok-volume") -> dict:
    c = {"metadata": {"name": name, "namespace": "default"}, "spec": {"storageClassName": cls}, "status": {}}
    if volume:
        c["spec"]["volumeName"] = volume
        c["status"]["phase"] = "Bound"
    return c


def with_claim(name: str) -> dict:
    return pod("p", volumes=[{"name": "data", "persistentVolumeClaim": {"claimName": name}}])


def test_missing_and_immediate_unbound_claims_reject_the_pod() -> None:
    algo = cluster([node("a"), node("b")])
    missing = algo.schedule(pod_info(with_claim("nope")))
    assert isinstance(missing, FitError)
    assert missing.message == '0/2 nodes are available: persistentvolumeclaim "nope" not found.'
    outcome = preempt(pod_info(with_claim("nope")), algo.snapshot, algo.pre_filter(pod_info(with_claim("nope")), {}),
                      missing, lambda p: False)
    assert outcome.message == "preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."
    algo.volumes.claims["default/data"] = claim("data", cls="standard")
    unbound = algo.schedule(pod_info(with_claim("data")))
    assert isinstance(unbound, FitError)
    assert unbound.message == "0/2 nodes are available: pod has unbound immediate PersistentVolumeClaims."


def test_wait_for_first_consumer_claim_schedules_anywhere() -> None:
    algo = cluster([node("a")])
    algo.volumes.classes["kwok-volume"] = {"metadata": {"name": "kwok-volume"}, "volumeBindingMode": "WaitForFirstConsumer"}
    algo.volumes.claims["default/data"] = claim("data")
    assert algo.schedule(pod_info(with_claim("data"))) == "a"


def test_bound_volume_node_affinity_and_zone() -> None:
    algo = cluster([node("a", labels={"topology.kubernetes.io/zone": "z1"}),
                    node("b", labels={"topology.kubernetes.io/zone": "z2"})])
    algo.volumes.claims["default/data"] = claim("data", volume="pv1")
    algo.volumes.volumes["pv1"] = {"metadata": {"name": "pv1", "labels": {"topology.kubernetes.io/zone": "z2"}},
                                   "spec": {}}
    assert algo.schedule(pod_info(with_claim("data"))) == "b"
    algo.volumes.volumes["pv1"] = {"metadata": {"name": "pv1"}, "spec": {"nodeAffinity": {"required": {
        "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["nowhere"]}]}]}}}}
    conflict = algo.schedule(pod_info(with_claim("data")))
    assert isinstance(conflict, FitError)
    assert conflict.message == "0/2 nodes are available: 2 node(s) had volume node affinity conflict."
