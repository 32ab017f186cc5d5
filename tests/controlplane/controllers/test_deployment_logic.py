"""Deployment decisions against the rules of kube-controller-manager's deployment controller."""

from __future__ import annotations

from typing import Any

from kwok.controlplane.controllers import deployment_logic as logic

NOW = 1_800_000_000.0


def dep(replicas: int = 10, surge: Any = "25%", unavailable: Any = "25%", image: str = "v2", generation: int = 1,
        status: dict | None = None) -> dict:
    return {"metadata": {"name": "web", "namespace": "default", "uid": "d-uid", "generation": generation},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                     "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable}},
                     "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": image}]}}},
            "status": status or {}}


def rs(name: str, replicas: int, available: int, image: str, created: str, revision: int = 1) -> dict:
    return {"metadata": {"name": name, "creationTimestamp": created, "uid": name,
                         "annotations": {logic.REVISION: str(revision)}},
            "spec": {"replicas": replicas, "template": {"metadata": {"labels": {"app": "web", logic.HASH_LABEL: name}},
                                                        "spec": {"containers": [{"name": "c", "image": image}]}}},
            "status": {"replicas": replicas, "availableReplicas": available, "readyReplicas": available}}


def test_fenceposts_round_surge_up_and_unavailable_down() -> None:
    assert logic.fenceposts(dep(10)) == (3, 2)
    assert logic.fenceposts(dep(1)) == (1, 0)
    assert logic.fenceposts(dep(4, surge=0, unavailable=0)) == (0, 1)
    assert logic.fenceposts(dep(4, surge=2, unavailable="50%")) == (2, 2)


def test_new_set_is_the_one_with_the_same_template_ignoring_hash() -> None:
    old, new = rs("web-a", 10, 10, "v1", "2026-01-01T00:00:00Z"), rs("web-b", 0, 0, "v2", "2026-01-02T00:00:00Z")
    found, others = logic.split_sets(dep(), [new, old])
    assert found is new and others == [old]


def test_rolling_step_scales_new_up_within_surge_and_old_down_within_unavailable() -> None:
    d = dep(10)
    old = rs("web-a", 10, 10, "v1", "2026-01-01T00:00:00Z")
    new = rs("web-b", 0, 0, "v2", "2026-01-02T00:00:00Z", revision=2)
    assert logic.new_rs_replicas(d, [old, new], new) == 3  # 10 + maxSurge 3 - 10 current
    new = rs("web-b", 3, 0, "v2", "2026-01-02T00:00:00Z", revision=2)
    # min available 8: 13 pods - 8 - 3 unavailable new = 2 may go
    assert logic.scale_down_old(d, [old, new], [old], new) == {"web-a": 8}


def test_unhealthy_old_replicas_go_first() -> None:
    d = dep(10)
    old = rs("web-a", 10, 6, "v1", "2026-01-01T00:00:00Z")
    new = rs("web-b", 3, 3, "v2", "2026-01-02T00:00:00Z", revision=2)
    # budget 13 - 8 - 0 = 5: 4 unhealthy cleaned, then available 9 > 8 lets one more go
    assert logic.scale_down_old(d, [old, new], [old], new) == {"web-a": 5}


def test_proportional_scaling_mid_rollout() -> None:
    d = dep(20)
    old = rs("web-a", 8, 8, "v1", "2026-01-01T00:00:00Z")
    new = rs("web-b", 5, 0, "v2", "2026-01-02T00:00:00Z", revision=2)
    for s in (old, new):
        s["metadata"]["annotations"][logic.MAX_REPLICAS] = "13"
    sizes = logic.proportional_sizes(d, [old, new], new)
    assert sum(sizes.values()) == 25  # 20 + maxSurge 5
    assert sizes["web-a"] > sizes["web-b"]


def test_cleanup_keeps_revision_history_limit() -> None:
    d = dep()
    d["spec"]["revisionHistoryLimit"] = 1
    old = [rs(f"web-{i}", 0, 0, f"v{i}", f"2026-01-0{i}T00:00:00Z", revision=i) for i in range(1, 4)]
    assert [s["metadata"]["name"] for s in logic.cleanup_candidates(d, old)] == ["web-1", "web-2"]


def test_status_conditions_as_rollout_status_reads_them() -> None:
    d = dep(3, status={"replicas": 3, "updatedReplicas": 0, "availableReplicas": 3, "readyReplicas": 3})
    new = rs("web-b", 3, 3, "v2", "2026-01-02T00:00:00Z", revision=2)
    status = logic.rollout_status(logic.StatusInputs(d, [new], new, NOW))
    assert (status["updatedReplicas"], status["availableReplicas"], status["unavailableReplicas"]) == (3, 3, 0)
    conditions = {c["type"]: c for c in status["conditions"]}
    assert conditions["Available"]["reason"] == "MinimumReplicasAvailable"
    assert conditions["Progressing"]["reason"] == "NewReplicaSetAvailable"
    assert conditions["Progressing"]["message"] == 'ReplicaSet "web-b" has successfully progressed.'


def test_progress_deadline_exceeded() -> None:
    stale = {"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated", "message": "",
             "lastUpdateTime": "2026-01-01T00:00:00Z", "lastTransitionTime": "2026-01-01T00:00:00Z"}
    d = dep(3, status={"replicas": 3, "updatedReplicas": 1, "availableReplicas": 2, "readyReplicas": 2,
                       "conditions": [stale]})
    d["spec"]["progressDeadlineSeconds"] = 60
    new = rs("web-b", 1, 0, "v2", "2026-01-02T00:00:00Z", revision=2)
    old = rs("web-a", 2, 2, "v1", "2026-01-01T00:00:00Z")
    status = logic.rollout_status(logic.StatusInputs(d, [old, new], new, NOW))
    progressing = next(c for c in status["conditions"] if c["type"] == "Progressing")
    assert (progressing["status"], progressing["reason"]) == ("False", "ProgressDeadlineExceeded")
    assert progressing["message"] == 'ReplicaSet "web-b" has timed out progressing.'


def test_hash_is_stable_and_changes_with_template_and_collisions() -> None:
    t1, t2 = dep(image="v1")["spec"]["template"], dep(image="v2")["spec"]["template"]
    assert logic.compute_hash(t1, None) == logic.compute_hash(t1, None)
    assert logic.compute_hash(t1, None) != logic.compute_hash(t2, None)
    assert logic.compute_hash(t1, 1) != logic.compute_hash(t1, None)
    assert set(logic.compute_hash(t1, None)) <= set(logic.SAFE_ALPHANUMS)


def test_template_equality_is_semantic() -> None:
    """kubectl rollout undo writes the set's template back with Go's zero values
    (`creationTimestamp: null`, `resources: {}`): it is still the same template."""
    ours = {"metadata": {"labels": {"app": "web", logic.HASH_LABEL: "abc"}},
            "spec": {"containers": [{"name": "c", "image": "v1"}]}}
    from_kubectl = {"metadata": {"creationTimestamp": None, "labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "c", "image": "v1", "resources": {}}]}}
    assert logic.equal_ignore_hash(ours, from_kubectl)
    assert logic.compute_hash(from_kubectl, None) == logic.compute_hash(
        {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "c", "image": "v1"}]}}, None)
    assert not logic.equal_ignore_hash(ours, {**from_kubectl, "spec": {"containers": [{"name": "c", "image": "v2"}]}})
