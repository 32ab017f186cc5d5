"""Job, node lifecycle and namespace decisions (pure)."""

from __future__ import annotations

from kwok.controlplane.controllers import job_logic, nodelifecycle_logic
from kwok.controlplane.controllers.namespace_logic import remaining_messages
from kwok.controlplane.controllers.replicaset_logic import decide_scale, slow_start_batches
from kwok.controlplane.timefmt import rfc3339

NOW = 1_800_000_000.0


def job(completions: int | None = 3, parallelism: int = 2, **spec: object) -> dict:
    return {"metadata": {"name": "j", "namespace": "default", "uid": "j-uid"},
            "spec": {"completions": completions, "parallelism": parallelism, **spec}, "status": {}}


def pod(name: str, phase: str = "Running", tracked: bool = True, index: int | None = None) -> dict:
    meta: dict = {"name": name, "uid": f"uid-{name}", "namespace": "default",
                  "finalizers": [job_logic.TRACKING_FINALIZER] if tracked else []}
    if index is not None:
        meta["annotations"] = {job_logic.COMPLETION_INDEX: str(index)}
    return {"metadata": meta, "spec": {"nodeName": "n"}, "status": {"phase": phase}}


def test_job_starts_parallelism_pods() -> None:
    plan = job_logic.plan(job(), [], NOW)
    assert plan.create_indexes == [None, None]
    assert plan.status["startTime"] == rfc3339(NOW)


def test_finished_pods_counted_once_through_uncounted() -> None:
    j = job()
    first = job_logic.plan(j, [pod("a", "Succeeded"), pod("b")], NOW)
    assert first.status["uncountedTerminatedPods"] == {"succeeded": ["uid-a"]}
    assert [p["metadata"]["name"] for p in first.untrack] == ["a"]
    assert first.create_indexes == [None]  # 3 - 1 succeeded = 2 wanted, 1 active
    j["status"] = first.status
    second = job_logic.plan(j, [pod("a", "Succeeded", tracked=False), pod("b")], NOW)
    assert second.status["succeeded"] == 1 and second.status["uncountedTerminatedPods"] == {}


def test_job_completes_with_both_conditions() -> None:
    j = job(completions=1, parallelism=1)
    j["status"] = {"succeeded": 1, "startTime": rfc3339(NOW - 5)}
    plan = job_logic.plan(j, [pod("a", "Succeeded", tracked=False)], NOW)
    types = [c["type"] for c in plan.status["conditions"]]
    assert types == ["SuccessCriteriaMet", "Complete"] and plan.finished
    assert plan.events == [("Normal", "Completed", "Job completed")]


def test_backoff_limit_exceeded_fails_after_pods_terminate() -> None:
    j = job(completions=1, parallelism=1, backoffLimit=0)
    j["status"] = {"failed": 1, "startTime": rfc3339(NOW - 5)}
    plan = job_logic.plan(j, [pod("a", "Failed", tracked=False)], NOW)
    conditions = {c["type"]: c for c in plan.status["conditions"]}
    assert conditions["Failed"]["reason"] == "BackoffLimitExceeded"
    assert conditions["FailureTarget"]["message"] == "Job has reached the specified backoff limit"


def test_failed_pod_replaced_after_backoff() -> None:
    j = job(completions=1, parallelism=1)
    j["status"] = {"failed": 1, "startTime": rfc3339(NOW - 5)}
    waiting = job_logic.plan(j, [], NOW, last_failure=NOW - 3)
    assert waiting.create_indexes == [] and 6.9 < (waiting.requeue_after or 0) <= 7.0
    assert job_logic.plan(j, [], NOW, last_failure=NOW - 11).create_indexes == [None]


def test_indexed_job_creates_missing_indexes() -> None:
    j = job(completions=4, parallelism=3, completionMode="Indexed")
    plan = job_logic.plan(j, [pod("a", "Succeeded", index=0), pod("b", index=1)], NOW)
    assert plan.create_indexes == [2, 3]
    assert plan.status["completedIndexes"] == "0"
    assert job_logic.format_indexes({0, 1, 2, 4, 6, 7}) == "0-2,4,6-7"
    assert job_logic.parse_indexes("0-2,4,6-7") == {0, 1, 2, 4, 6, 7}


def node(heartbeat: float | None, created: float = NOW - 3600) -> dict:
    conditions = [] if heartbeat is None else [
        {"type": "Ready", "status": "True", "lastHeartbeatTime": rfc3339(heartbeat), "lastTransitionTime": rfc3339(0)}]
    return {"metadata": {"name": "n", "creationTimestamp": rfc3339(created)}, "spec": {}, "status": {"conditions": conditions}}


def test_node_heard_from_through_heartbeat_or_lease() -> None:
    lease = {"spec": {"renewTime": rfc3339(NOW - 1) + ""}}
    assert nodelifecycle_logic.unknown_conditions(node(NOW - 100), None, NOW, 40, 60) is not None
    assert nodelifecycle_logic.unknown_conditions(node(NOW - 100), lease, NOW, 40, 60) is None
    assert nodelifecycle_logic.unknown_conditions(node(NOW - 10), None, NOW, 40, 60) is None
    never = nodelifecycle_logic.unknown_conditions(node(None, created=NOW - 100), None, NOW, 40, 60)
    assert never is not None and never[0]["reason"] == "NodeStatusNeverUpdated"
    assert nodelifecycle_logic.unknown_conditions(node(None, created=NOW - 10), None, NOW, 40, 60) is None


def test_node_monitor_may_skip_a_node_until_it_would_turn_unknown() -> None:
    lease = {"spec": {"renewTime": rfc3339(NOW - 5)}}
    for n, lease_ in ((node(NOW - 30), None), (node(NOW - 30), lease), (node(None, created=NOW - 20), None)):
        until = nodelifecycle_logic.silent_after(n, lease_, 40, 60)
        assert nodelifecycle_logic.unknown_conditions(n, lease_, until - 1, 40, 60) is None
        assert nodelifecycle_logic.unknown_conditions(n, lease_, until + 1, 40, 60) is not None


def test_a_heartbeat_alone_changes_nothing_the_node_controller_decides() -> None:
    import copy

    before = node(NOW - 30)
    beat = node(NOW)
    assert nodelifecycle_logic.same_health(before, beat)
    not_ready = copy.deepcopy(beat)
    not_ready["status"]["conditions"][0]["status"] = "False"
    assert not nodelifecycle_logic.same_health(before, not_ready)
    cordoned = copy.deepcopy(beat)
    cordoned["spec"]["unschedulable"] = True
    assert not nodelifecycle_logic.same_health(before, cordoned)


def test_taints_follow_ready_condition_and_unschedulable() -> None:
    n = node(NOW)
    assert nodelifecycle_logic.wanted_taints(n, NOW) is None
    n["status"]["conditions"][0]["status"] = "Unknown"
    taints = nodelifecycle_logic.wanted_taints(n, NOW)
    assert {(t["key"], t["effect"]) for t in taints or ()} == {
        ("node.kubernetes.io/unreachable", "NoExecute"), ("node.kubernetes.io/unreachable", "NoSchedule")}
    n["spec"]["taints"] = taints
    n["status"]["conditions"][0]["status"] = "True"
    n["spec"]["unschedulable"] = True
    assert nodelifecycle_logic.wanted_taints(n, NOW) == [{"key": "node.kubernetes.io/unschedulable",
                                                          "effect": "NoSchedule"}]


def test_eviction_time_from_tolerations() -> None:
    taint = {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute", "timeAdded": rfc3339(NOW - 10)}
    def p(tolerations: list) -> dict:
        return {"spec": {"tolerations": tolerations}}
    assert nodelifecycle_logic.eviction_time(p([]), [taint], NOW).at == NOW
    timed = [{"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}]
    assert nodelifecycle_logic.eviction_time(p(timed), [taint], NOW).at == NOW - 10 + 300
    assert nodelifecycle_logic.eviction_time(p([{"operator": "Exists"}]), [taint], NOW).at is None


def test_namespace_remaining_messages() -> None:
    messages = remaining_messages({"pods.": 2}, {"example.com/x": 1})
    assert messages["NamespaceContentRemaining"] == ("SomeResourcesRemain",
                                                     "Some resources are remaining: pods. has 2 resource instances")
    assert messages["NamespaceFinalizersRemaining"][1] == (
        "Some content in the namespace has finalizers remaining: example.com/x in 1 resource instances")


def test_replica_set_scale_decisions() -> None:
    assert decide_scale(3, []).create == 3
    assert decide_scale(1000, []).create == 500  # burstReplicas
    unscheduled = {"metadata": {"name": "u", "creationTimestamp": "2026-01-01T00:00:00Z"}, "spec": {}, "status": {"phase": "Pending"}}
    running = {"metadata": {"name": "r", "creationTimestamp": "2026-01-01T00:00:00Z"}, "spec": {"nodeName": "n"},
               "status": {"phase": "Running"}}
    assert decide_scale(1, [running, unscheduled]).delete == [unscheduled]
    assert slow_start_batches(10) == [1, 2, 4, 3]
