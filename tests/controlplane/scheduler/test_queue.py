"""The scheduling queue's order, backoff and retry rules (virtual time)."""

from __future__ import annotations

from kwok.controlplane.scheduler.podinfo import pod_info
from kwok.controlplane.scheduler.queue import MAX_UNSCHEDULABLE_SECONDS, SchedulingQueue

from .helpers import pod


def test_highest_priority_then_oldest_first() -> None:
    q = SchedulingQueue()
    old, new, vip = pod("old"), pod("new"), pod("vip", priority=100)
    new["metadata"]["creationTimestamp"] = "2026-01-02T00:00:00Z"
    for p in (new, old, vip):
        q.add(pod_info(p), 0)
    assert [q.pop(0).name, q.pop(0).name, q.pop(0).name] == ["vip", "old", "new"]
    assert q.pop(0) is None


def test_unschedulable_waits_for_cluster_change_and_backoff() -> None:
    q = SchedulingQueue()
    q.add(pod_info(pod("p")), 0)
    assert q.pop(0).name == "p"
    q.unschedulable("default/p", 0)
    assert q.pop(100) is None  # nothing changed in the cluster
    q.move_all(100)
    assert q.pop(100).name == "p"
    q.unschedulable("default/p", 100)  # second attempt: 2 s backoff
    q.move_all(100.5)
    assert q.pop(101) is None
    assert q.next_wakeup(101) == 1.0
    assert q.pop(102).name == "p"


def test_unschedulable_pods_retried_after_five_minutes() -> None:
    q = SchedulingQueue()
    q.add(pod_info(pod("p")), 0)
    q.pop(0)
    q.unschedulable("default/p", 0)
    assert q.pop(MAX_UNSCHEDULABLE_SECONDS - 1) is None
    assert q.pop(MAX_UNSCHEDULABLE_SECONDS).name == "p"


def test_spec_change_of_unschedulable_pod_retries_it() -> None:
    q = SchedulingQueue()
    q.add(pod_info(pod("p")), 0)
    q.pop(0)
    q.unschedulable("default/p", 0)
    q.add(pod_info(pod("p", tolerations=[{"operator": "Exists"}])), 5)
    assert q.pop(5).name == "p"


def test_deleted_pod_never_pops() -> None:
    q = SchedulingQueue()
    q.add(pod_info(pod("p")), 0)
    q.delete("default/p")
    assert q.pop(0) is None and len(q) == 0
