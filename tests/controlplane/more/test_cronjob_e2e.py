"""CronJob policies end to end: a CronJob whose last run is moved back in time has a missed
schedule, which the controller runs now (or not) according to its policies."""

from __future__ import annotations

import time
from typing import Any

import pytest

from ..e2e.harness import ApiError, Cluster, namespace, wait_for

TEMPLATE = {"spec": {"template": {"spec": {"restartPolicy": "Never", "nodeName": "fake-node",
                                           "containers": [{"name": "c", "image": "busybox"}]}}}}


def stamp(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def create_cronjob(cluster: Cluster, ns: str, name: str, last_run: float, **spec: Any) -> dict[str, Any]:
    body = {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": name},
            "spec": {"schedule": "*/5 * * * *", "jobTemplate": TEMPLATE, **spec}}
    created: dict[str, Any] = cluster.api.post(f"/apis/batch/v1/namespaces/{ns}/cronjobs", body)
    return created


def miss_a_run(cluster: Cluster, ns: str, name: str, last_run: float) -> None:
    cluster.api.patch(f"/apis/batch/v1/namespaces/{ns}/cronjobs/{name}/status",
                      {"status": {"lastScheduleTime": stamp(last_run)}})


def running_job(cluster: Cluster, ns: str, cronjob: dict[str, Any], name: str) -> None:
    """A Job of the CronJob from an earlier run, still running."""
    meta = cronjob["metadata"]
    owner = {"apiVersion": "batch/v1", "kind": "CronJob", "name": meta["name"], "uid": meta["uid"],
             "controller": True, "blockOwnerDeletion": True}
    cluster.api.post(f"/apis/batch/v1/namespaces/{ns}/jobs", {"apiVersion": "batch/v1", "kind": "Job",
                                                              "metadata": {"name": name, "ownerReferences": [owner]},
                                                              **TEMPLATE})


def job_names(cluster: Cluster, ns: str) -> list[str]:
    return sorted(j["metadata"]["name"] for j in cluster.api.items(f"/apis/batch/v1/namespaces/{ns}/jobs")
                  if not j["metadata"].get("deletionTimestamp"))


@pytest.mark.parametrize("policy", ["Allow", "Forbid", "Replace"])
def test_concurrency_policy(control_plane: Cluster, policy: str) -> None:
    ns = namespace(control_plane.api, f"cron-{policy.lower()}")
    cronjob = create_cronjob(control_plane, ns, "tick", 0, concurrencyPolicy=policy)
    running_job(control_plane, ns, cronjob, "tick-earlier")
    wait_for(lambda: (control_plane.api.get(f"/apis/batch/v1/namespaces/{ns}/cronjobs/tick").get("status") or {})
             .get("active"), 10, what="the earlier job listed as active")
    miss_a_run(control_plane, ns, "tick", time.time() - 360)
    scheduled = f"tick-{int(time.time()) // 300 * 5}"
    expected = {"Allow": ["tick-earlier", scheduled], "Forbid": ["tick-earlier"], "Replace": [scheduled]}[policy]
    if policy == "Forbid":
        time.sleep(1.5)  # give it the chance to (wrongly) start one
        assert job_names(control_plane, ns) == expected
    else:
        wait_for(lambda: job_names(control_plane, ns) == sorted(expected), 10, what=f"jobs {expected}")


def test_suspended_cronjob_starts_nothing(control_plane: Cluster) -> None:
    ns = namespace(control_plane.api, "cron-suspend")
    create_cronjob(control_plane, ns, "paused", 0, suspend=True)
    miss_a_run(control_plane, ns, "paused", time.time() - 360)
    time.sleep(1.5)
    assert job_names(control_plane, ns) == []
    control_plane.api.patch(f"/apis/batch/v1/namespaces/{ns}/cronjobs/paused", {"spec": {"suspend": False}})
    wait_for(lambda: job_names(control_plane, ns), 10, what="a job once resumed")


def test_starting_deadline_skips_runs_missed_for_too_long(control_plane: Cluster) -> None:
    ns = namespace(control_plane.api, "cron-deadline")
    now = time.time()
    yearly = {"schedule": "0 0 1 1 *"}
    create_cronjob(control_plane, ns, "late", 0, startingDeadlineSeconds=60, **yearly)
    create_cronjob(control_plane, ns, "whenever", 0, **yearly)
    two_years_ago = now - 2 * 366 * 86400
    miss_a_run(control_plane, ns, "late", two_years_ago)
    miss_a_run(control_plane, ns, "whenever", two_years_ago)
    new_year = time.strftime("%Y", time.gmtime(now))
    minutes = int(time.mktime(time.strptime(f"{new_year}-01-01", "%Y-%m-%d")) - time.timezone) // 60
    wait_for(lambda: job_names(control_plane, ns) == [f"whenever-{minutes}"], 10, what="the missed new-year run")
    time.sleep(1)
    assert job_names(control_plane, ns) == [f"whenever-{minutes}"]


def test_invalid_time_zone_is_refused_or_reported(control_plane: Cluster) -> None:
    ns = namespace(control_plane.api, "cron-tz")
    try:
        create_cronjob(control_plane, ns, "mars", 0, timeZone="Mars/Olympus_Mons")
    except ApiError as err:  # the API server validates the zone, as a real one does
        assert err.code == 422
        return
    events = wait_for(lambda: [e for e in control_plane.api.items(f"/api/v1/namespaces/{ns}/events")
                               if e["reason"] in ("UnknownTimeZone", "UnparseableSchedule", "InvalidSchedule")], 10)
    assert events[0]["type"] == "Warning"


def test_time_zone_shifts_the_schedule(control_plane: Cluster) -> None:
    """Hourly at minute 0 in Asia/Kolkata (UTC+5:30) is minute 30 of each UTC hour."""
    ns = namespace(control_plane.api, "cron-zone")
    create_cronjob(control_plane, ns, "india", 0, schedule="0 * * * *", timeZone="Asia/Kolkata")
    now = time.time()
    miss_a_run(control_plane, ns, "india", now - 3700)
    latest = (int(now) - 1800) // 3600 * 3600 + 1800  # the last hh:30 UTC at or before now
    wait_for(lambda: job_names(control_plane, ns) == [f"india-{latest // 60}"], 10, what="the hh:30 UTC run")
