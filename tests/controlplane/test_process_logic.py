"""Pure pieces of the processes: leader election decisions, scheduler configuration, event spam."""

from __future__ import annotations

import pytest

from kwok.controlplane.events import SpamFilter
from kwok.controlplane.leaderelection import LeaderElectionConfig, desired_lease, may_acquire
from kwok.controlplane.scheduler.config import SchedulerConfigError, parse_scheduler_config
from kwok.controlplane.timefmt import micro_time

NOW = 1_800_000_000.0


def lease(holder: str, renewed: float, duration: int = 15, transitions: int = 0) -> dict:
    return {"metadata": {"name": "kube-scheduler", "namespace": "kube-system", "resourceVersion": "7"},
            "spec": {"holderIdentity": holder, "renewTime": micro_time(renewed), "leaseDurationSeconds": duration,
                     "leaseTransitions": transitions}}


def test_lease_taken_only_when_free_own_or_expired() -> None:
    assert may_acquire(None, "me", NOW)
    assert may_acquire(lease("me", NOW - 100), "me", NOW)
    assert not may_acquire(lease("other", NOW - 5), "me", NOW)
    assert may_acquire(lease("other", NOW - 16), "me", NOW)
    assert may_acquire(lease("", NOW), "me", NOW)  # released


def test_desired_lease_counts_transitions_and_keeps_precondition() -> None:
    cfg = LeaderElectionConfig("kube-scheduler", identity="me")
    taken = desired_lease(lease("other", NOW - 20, transitions=2), cfg, NOW)
    assert taken["spec"]["holderIdentity"] == "me" and taken["spec"]["leaseTransitions"] == 3
    assert taken["metadata"]["resourceVersion"] == "7"  # a racing candidate gets a conflict
    renewed = desired_lease(taken, cfg, NOW + 2)
    assert renewed["spec"]["leaseTransitions"] == 3 and renewed["spec"]["acquireTime"] == taken["spec"]["acquireTime"]
    assert desired_lease(None, cfg, NOW)["spec"]["leaseTransitions"] == 0


def test_scheduler_configuration_profiles() -> None:
    settings = parse_scheduler_config("""
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
percentageOfNodesToScore: 20
profiles:
- schedulerName: default-scheduler
- schedulerName: my-scheduler
""")
    assert settings.scheduler_names == ("default-scheduler", "my-scheduler")
    assert settings.percentage_of_nodes_to_score == 20
    with pytest.raises(SchedulerConfigError, match="custom plugins are not supported"):
        parse_scheduler_config("profiles:\n- plugins: {score: {disabled: [{name: '*'}]}}\n")


def test_event_spam_filter_is_a_token_bucket_per_object() -> None:
    spam = SpamFilter(burst=3, refill_seconds=10)
    assert [spam.allow("rs-controller", "uid-1", 0) for _ in range(4)] == [True, True, True, False]
    assert spam.allow("rs-controller", "uid-2", 0)  # another object has its own bucket
    assert not spam.allow("rs-controller", "uid-1", 5)
    assert spam.allow("rs-controller", "uid-1", 10.5)
