"""ReplicaSet bookkeeping (pure): the per-set pod counts kept from events agree with a recount."""

from __future__ import annotations

import random

from kwok.controlplane.controllers.replicaset_logic import PodTallies, count_pods

TEMPLATE = {"app": "web"}


def pod(name: str, rng: random.Random) -> dict:
    labels = {"app": "web"} if rng.random() < 0.8 else {"app": "other"}
    status: dict = {"phase": rng.choice(["Pending", "Running", "Running", "Succeeded"])}
    if rng.random() < 0.6:
        status["conditions"] = [{"type": "Ready", "status": rng.choice(["True", "False"])}]
    meta: dict = {"name": name, "namespace": "default", "labels": labels}
    if rng.random() < 0.1:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return {"metadata": meta, "status": status}


def test_tallies_follow_a_random_event_stream_like_a_recount() -> None:
    rng = random.Random(7)
    tallies = PodTallies()
    owner_of: dict[str, str | None] = {}
    pods: dict[str, dict] = {}
    for _ in range(3000):
        name = f"p{rng.randrange(60)}"
        if name in pods and rng.random() < 0.2:
            tallies.on_event("DELETED", name, pods.pop(name), owner_of.pop(name))
            continue
        owner = rng.choice(["rs-a", "rs-b", None])  # adoption, release and orphans
        kind = "MODIFIED" if name in pods else "ADDED"
        pods[name], owner_of[name] = pod(name, rng), owner
        tallies.on_event(kind, name, pods[name], owner)
    for uid in ("rs-a", "rs-b"):
        mine = [p for n, p in pods.items() if owner_of[n] == uid]
        assert mine, "the stream should leave pods with each owner"
        assert tallies.counts(uid, TEMPLATE) == count_pods(mine, TEMPLATE)
        assert tallies.counts(uid, {"app": "other"}) == count_pods(mine, {"app": "other"})  # template changed


def test_only_pods_with_new_labels_are_rechecked_against_the_selector() -> None:
    rng = random.Random(1)
    tallies = PodTallies()
    a, b = pod("a", rng), pod("b", rng)
    tallies.on_event("ADDED", "a", a, "rs")
    tallies.on_event("ADDED", "b", b, "rs")
    assert tallies.take_unchecked("rs") == {"a", "b"}
    tallies.on_event("MODIFIED", "a", {**a, "status": {"phase": "Running"}}, "rs")  # a status change only
    assert tallies.take_unchecked("rs") == set()
    relabeled = {**b, "metadata": {**b["metadata"], "labels": {"app": "moved"}}}
    tallies.on_event("MODIFIED", "b", relabeled, "rs")
    assert tallies.take_unchecked("rs") == {"b"}
    tallies.recheck("rs", {"b", "gone"})  # a failed release: looked at again next sync
    assert tallies.take_unchecked("rs") == {"b"}


def ranked(name: str, node: str = "n1", phase: str = "Running", ready_at: str | None = "2026-01-01T00:10:00Z",
           cost: str | None = None, restarts: int = 0, created: str = "2026-01-01T00:00:00Z") -> dict:
    meta: dict = {"name": name, "creationTimestamp": created}
    if cost is not None:
        meta["annotations"] = {"controller.kubernetes.io/pod-deletion-cost": cost}
    conditions = [{"type": "Ready", "status": "True" if ready_at else "False", "lastTransitionTime": ready_at}]
    return {"metadata": meta, "spec": {"nodeName": node} if node else {},
            "status": {"phase": phase, "conditions": conditions, "containerStatuses": [{"restartCount": restarts}]}}


def test_scale_down_deletes_pods_in_the_order_of_active_pods_with_ranks() -> None:
    from kwok.controlplane.controllers.pods import pods_to_delete

    keep = ranked("keep", node="n9", created="2025-12-01T00:00:00Z")
    order = [
        ranked("unassigned", node=""),
        ranked("pending", phase="Pending", ready_at=None),
        ranked("not-ready", ready_at=None),
        ranked("cheap", cost="-5"),
        ranked("doubled-a", node="n2"), ranked("doubled-b", node="n2"),
        ranked("ready-later", node="n3", ready_at="2026-01-01T00:20:00Z"),
        ranked("restarted", node="n4", restarts=3),
        ranked("newer", node="n5", created="2026-01-01T00:05:00Z"),
        ranked("older", node="n6"),
    ]
    pods = [keep, *reversed(order)]
    names = [p["metadata"]["name"] for p in order]
    for count in range(1, len(order) + 1):
        chosen = {p["metadata"]["name"] for p in pods_to_delete(pods, count)}
        if count == 5:  # either of the doubled-up pair, they tie
            assert chosen - {"doubled-a", "doubled-b"} == set(names[:4]) and len(chosen) == 5
        else:
            assert chosen == set(names[:count])
