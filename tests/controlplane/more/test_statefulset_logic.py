"""Which StatefulSet pods to create or delete in one sync, and its status (pure logic)."""

from __future__ import annotations

from typing import Any

from kwok.controlplane.controllers import statefulset_logic as logic

from .objects import NOW, make_pod


def sts(replicas: int = 3, parallel: bool = False, partition: int | None = None, image: str = "db:1",
        on_delete: bool = False) -> dict[str, Any]:
    strategy: dict[str, Any] = {"type": "OnDelete"} if on_delete else {"type": "RollingUpdate"}
    if partition is not None:
        strategy["rollingUpdate"] = {"partition": partition}
    return {"metadata": {"name": "db", "namespace": "default", "uid": "sts-uid", "generation": 4},
            "spec": {"replicas": replicas, "serviceName": "db", "podManagementPolicy": "Parallel" if parallel else
                     "OrderedReady", "updateStrategy": strategy, "selector": {"matchLabels": {"app": "db"}},
                     "template": {"metadata": {"labels": {"app": "db"}},
                                  "spec": {"containers": [{"name": "c", "image": image}]}},
                     "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"]}}]}}


def member(s: dict[str, Any], ordinal: int, revision: str | None = None, **kw: Any) -> dict[str, Any]:
    return make_pod(f"db-{ordinal}", {"app": "db"}, owner={"kind": "StatefulSet", **s},
                    extra_labels={logic.REVISION_LABEL: revision or logic.revision(s),
                                  logic.POD_NAME_LABEL: f"db-{ordinal}", logic.POD_INDEX_LABEL: str(ordinal)}, **kw)


def created(step: logic.StatefulPlan) -> list[int]:
    return [int(c.pod["metadata"]["labels"][logic.POD_INDEX_LABEL]) for c in step.create]


def deleted(step: logic.StatefulPlan) -> list[str]:
    return [p["metadata"]["name"] for p in step.delete]


def history_of(old: dict[str, Any], new: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The revisions of a set whose template went from `old` to `new`."""
    return logic.new_revision(old, 1), logic.new_revision(new, 2)


def test_ordered_ready_creates_one_ordinal_after_the_previous_is_ready() -> None:
    s = sts()
    assert created(logic.plan(s, [], NOW)) == [0]
    assert created(logic.plan(s, [member(s, 0, ready=False)], NOW)) == []
    assert created(logic.plan(s, [member(s, 0, phase="Pending", ready=False)], NOW)) == []
    assert created(logic.plan(s, [member(s, 0)], NOW)) == [1]
    assert created(logic.plan(s, [member(s, 0), member(s, 1)], NOW)) == [2]


def test_parallel_creates_every_missing_ordinal() -> None:
    s = sts(parallel=True)
    assert created(logic.plan(s, [member(s, 1, ready=False)], NOW)) == [0, 2]


def test_scale_down_deletes_highest_ordinal_first_one_at_a_time() -> None:
    s = sts(replicas=1)
    pods = [member(s, i) for i in range(3)]
    assert [p["metadata"]["name"] for p in logic.plan(s, pods, NOW).delete] == ["db-2"]
    # while a pod is unhealthy, OrderedReady deletes nothing
    unhealthy = [member(s, 0, ready=False), member(s, 1), member(s, 2)]
    assert logic.plan(s, unhealthy, NOW).delete == []
    # and while the previous deletion is in progress neither
    terminating = [member(s, 0), member(s, 1), member(s, 2, deleting=True)]
    assert logic.plan(s, terminating, NOW).delete == []
    parallel = sts(replicas=1, parallel=True)
    assert sorted(p["metadata"]["name"] for p in logic.plan(parallel, [member(parallel, i) for i in range(3)],
                                                            NOW).delete) == ["db-1", "db-2"]


def test_failed_pod_is_deleted_to_be_recreated() -> None:
    s = sts(replicas=2)
    step = logic.plan(s, [member(s, 0, phase="Failed", ready=False), member(s, 1)], NOW)
    assert [p["metadata"]["name"] for p in step.delete] == ["db-0"] and step.create == []


def test_rolling_update_replaces_highest_outdated_ordinal_above_partition() -> None:
    s = sts(image="db:2")
    old = [member(s, i, revision="db-old") for i in range(3)]
    assert [p["metadata"]["name"] for p in logic.plan(s, old, NOW).delete] == ["db-2"]
    mixed = [member(s, 0, revision="db-old"), member(s, 1, revision="db-old"), member(s, 2)]
    assert [p["metadata"]["name"] for p in logic.plan(s, mixed, NOW).delete] == ["db-1"]
    # an unready updated pod holds the rollout
    waiting = [member(s, 0, revision="db-old"), member(s, 1, revision="db-old"), member(s, 2, ready=False)]
    assert logic.plan(s, waiting, NOW).delete == []
    partitioned = sts(image="db:2", partition=2)
    done = [member(partitioned, 0, revision="db-old"), member(partitioned, 1, revision="db-old"), member(partitioned, 2)]
    assert logic.plan(partitioned, done, NOW).delete == []


def test_on_delete_leaves_outdated_pods() -> None:
    s = sts(on_delete=True)
    assert logic.plan(s, [member(s, i, revision="db-old") for i in range(3)], NOW).delete == []


def test_pod_identity_and_claims() -> None:
    s = sts()
    pod = logic.pod_for(s, 2)
    assert pod["metadata"]["name"] == "db-2"
    labels = pod["metadata"]["labels"]
    assert labels[logic.POD_NAME_LABEL] == "db-2" and labels[logic.POD_INDEX_LABEL] == "2"
    assert labels[logic.REVISION_LABEL] == logic.revision(s) and labels[logic.REVISION_LABEL].startswith("db-")
    assert (pod["spec"]["hostname"], pod["spec"]["subdomain"]) == ("db-2", "db")
    assert pod["spec"]["volumes"] == [{"name": "data", "persistentVolumeClaim": {"claimName": "data-db-2"}}]
    assert logic.revision(sts(image="db:2")) != logic.revision(s)


def test_status_counts_and_revisions() -> None:
    current, update = history_of(sts(image="db:1"), s := sts(image="db:2"))
    old = current["metadata"]["name"]
    s["status"] = {"currentRevision": old}
    pods = [member(s, 0, revision=old), member(s, 1, revision=old), member(s, 2, ready=False)]
    status = logic.plan(s, pods, NOW, current, update).status
    assert (status["replicas"], status["readyReplicas"], status["currentReplicas"], status["updatedReplicas"]) == \
        (3, 2, 2, 1)
    assert status["currentRevision"] == old and status["updateRevision"] == logic.revision(s) != old
    assert status["observedGeneration"] == 4
    done = logic.plan(s, [member(s, i) for i in range(3)], NOW, current, update).status
    assert done["currentRevision"] == done["updateRevision"] and done["currentReplicas"] == 3


def test_revisions_are_created_reused_and_brought_back() -> None:
    v1, v2 = sts(image="db:1"), sts(image="db:2")
    first = logic.choose_revisions(v1, [])
    assert first.create and first.current is first.update and first.update["revision"] == 1
    rev1 = first.update
    assert rev1["metadata"]["name"] == logic.revision(v1) and rev1["metadata"]["ownerReferences"][0]["uid"] == "sts-uid"
    assert rev1["metadata"]["labels"]["controller-revision-hash"] == rev1["metadata"]["name"].removeprefix("db-")
    same = logic.choose_revisions(v1, [rev1])
    assert not same.create and not same.renumber and same.update is rev1
    v2["status"] = {"currentRevision": rev1["metadata"]["name"]}
    second = logic.choose_revisions(v2, [rev1])
    assert second.create and second.update["revision"] == 2 and second.current is rev1
    rev2 = second.update
    v1["status"] = {"currentRevision": rev2["metadata"]["name"]}
    back = logic.choose_revisions(v1, [rev1, rev2])  # a rollback to the first template
    assert back.renumber and back.update["metadata"]["name"] == rev1["metadata"]["name"] and back.update["revision"] == 3
    assert logic.apply_revision(v2, rev1)["spec"]["template"]["spec"]["containers"][0]["image"] == "db:1"


def test_collision_count_changes_the_revision_name() -> None:
    s = sts()
    assert logic.new_revision(s, 1, 1)["metadata"]["name"] != logic.new_revision(s, 1, 0)["metadata"]["name"]


def test_pod_below_partition_is_recreated_at_the_current_revision() -> None:
    current, update = history_of(sts(image="db:1"), s := sts(image="db:2", partition=2))
    old, new = current["metadata"]["name"], update["metadata"]["name"]
    s["status"] = {"currentRevision": old, "updateRevision": new}
    pods = [member(s, 1, revision=old), member(s, 2)]  # db-0 was deleted by a user
    step = logic.plan(s, pods, NOW, current, update)
    assert created(step) == [0]
    pod = step.create[0].pod
    assert pod["metadata"]["labels"][logic.REVISION_LABEL] == old and pod["spec"]["containers"][0]["image"] == "db:1"
    # above the partition a missing pod comes back at the update revision
    step = logic.plan(s, [member(s, 0, revision=old), member(s, 1, revision=old)], NOW, current, update)
    assert created(step) == [2] and step.create[0].pod["spec"]["containers"][0]["image"] == "db:2"


def test_ordinals_start() -> None:
    s = sts(replicas=2)
    s["spec"]["ordinals"] = {"start": 5}
    assert created(logic.plan(s, [], NOW)) == [5]
    assert logic.plan(s, [], NOW).create[0].pod["metadata"]["name"] == "db-5"
    assert created(logic.plan(s, [member(s, 5)], NOW)) == [6]
    # ordinals below the start are outside the range: scaled down like those above it
    step = logic.plan(s, [member(s, 0), member(s, 5), member(s, 6)], NOW)
    assert deleted(step) == ["db-0"] and step.create == []


def test_max_unavailable_replaces_several_pods_at_once() -> None:
    s = sts(image="db:2")
    s["spec"]["updateStrategy"]["rollingUpdate"] = {"maxUnavailable": 2}
    old = [member(s, i, revision="db-old") for i in range(3)]
    assert deleted(logic.plan(s, old, NOW)) == ["db-2", "db-1"]
    # an unavailable pod uses up part of the budget
    one_down = [member(s, 0, revision="db-old"), member(s, 1, revision="db-old"), member(s, 2, ready=False)]
    assert deleted(logic.plan(s, one_down, NOW)) == []
    s["spec"]["podManagementPolicy"] = "Parallel"
    assert deleted(logic.plan(s, one_down, NOW)) == ["db-1"]
    s["spec"]["updateStrategy"]["rollingUpdate"] = {"maxUnavailable": "50%"}  # of 3, rounded down, at least 1
    assert deleted(logic.plan(s, old, NOW)) == ["db-2"]


def claim(s: dict[str, Any], ordinal: int, refs: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"metadata": {"name": f"data-db-{ordinal}", "namespace": "default", "resourceVersion": "7",
                         "ownerReferences": refs or []}}


def test_claims_owned_as_the_retention_policy_says() -> None:
    s = sts(replicas=1)
    assert "ownerReferences" not in logic.claims_for(s, 0)[0]["metadata"]  # Retain/Retain: nobody owns them
    s["spec"]["persistentVolumeClaimRetentionPolicy"] = {"whenDeleted": "Delete", "whenScaled": "Delete"}
    new = logic.claims_for(s, 0)[0]
    assert [(r["kind"], r["uid"], r["controller"]) for r in new["metadata"]["ownerReferences"]] == \
        [("StatefulSet", "sts-uid", True)]
    assert new["metadata"]["labels"] == {"app": "db"}
    # scaling down: the condemned pod's claim is handed to the pod, so it goes with it
    pods = [member(s, 0), member(s, 1)]
    claims = {"data-db-0": claim(s, 0, new["metadata"]["ownerReferences"]),
              "data-db-1": claim(s, 1, new["metadata"]["ownerReferences"])}
    step = logic.plan(s, pods, NOW, claims=claims)
    assert deleted(step) == ["db-1"]
    assert [(c["metadata"]["name"], [(r["kind"], r["uid"]) for r in refs]) for c, refs in step.claim_owners] == \
        [("data-db-1", [("Pod", "uid-db-1")])]
    # a claim still owned by the deleted pod holds the pod's re-creation
    stale = {"data-db-0": claim(s, 0, [{"apiVersion": "v1", "kind": "Pod", "name": "db-0", "uid": "gone",
                                          "controller": True}])}
    assert logic.plan(s, [], NOW, claims=stale).create == []


def test_pending_pod_gets_its_missing_claims() -> None:
    s = sts(replicas=1)
    step = logic.plan(s, [member(s, 0, phase="Pending", ready=False)], NOW, claims={})
    assert [(pod, c["metadata"]["name"]) for pod, c in step.missing_claims] == [("db-0", "data-db-0")]
    assert logic.plan(s, [member(s, 0, phase="Pending", ready=False)], NOW,
                      claims={"data-db-0": claim(s, 0)}).missing_claims == []


def test_a_removed_identity_label_is_restored() -> None:
    s = sts(replicas=2)
    pods = [member(s, 0), member(s, 1)]
    assert logic.plan(s, pods, NOW).relabel == []
    del pods[1]["metadata"]["labels"][logic.POD_NAME_LABEL]
    [(pod, labels)] = logic.plan(s, pods, NOW).relabel
    assert pod["metadata"]["name"] == "db-1" and labels == {logic.POD_NAME_LABEL: "db-1", logic.POD_INDEX_LABEL: "1"}
