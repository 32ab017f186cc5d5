"""Job and node lifecycle end to end (the test plays the kubelet, as kwok's stages would)."""

from __future__ import annotations

import asyncio
import time

from .harness import Cluster, FakeKubelet, create_node, namespace, node, wait_for


def job(name: str, completions: int, parallelism: int, backoff_limit: int = 6, mode: str = "NonIndexed") -> dict:
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
            "spec": {"completions": completions, "parallelism": parallelism, "backoffLimit": backoff_limit,
                     "completionMode": mode,
                     "template": {"spec": {"restartPolicy": "Never", "nodeName": "fake-node",
                                           "containers": [{"name": "c", "image": "busybox"}]}}}}


def _conditions(obj: dict) -> dict[str, dict]:
    return {c["type"]: c for c in (obj.get("status") or {}).get("conditions") or ()}


def test_job_runs_parallelism_pods_until_completions_succeed(control_plane: Cluster) -> None:
    api, kubelet = control_plane.api, FakeKubelet(control_plane.api)
    ns = namespace(api, "jobs")
    api.post(f"/apis/batch/v1/namespaces/{ns}/jobs", job("pi", completions=3, parallelism=2))
    max_active = 0

    def complete() -> dict | None:
        nonlocal max_active
        pods = api.items(f"/api/v1/namespaces/{ns}/pods")
        active = [p for p in pods if (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed")]
        max_active = max(max_active, len(active))
        kubelet.step(ns, phase="Succeeded")
        current = api.get(f"/apis/batch/v1/namespaces/{ns}/jobs/pi")
        return current if "Complete" in _conditions(current) else None

    done = wait_for(complete, 20, what="job complete")
    assert max_active <= 2
    status = done["status"]
    assert status["succeeded"] == 3 and status.get("failed", 0) == 0
    assert status["completionTime"] and status["startTime"]
    assert _conditions(done)["SuccessCriteriaMet"]["reason"] == "CompletionsReached"
    pods = api.items(f"/api/v1/namespaces/{ns}/pods")
    assert len(pods) == 3
    assert all("batch.kubernetes.io/job-tracking" not in (p["metadata"].get("finalizers") or ()) for p in pods)
    assert {p["metadata"]["labels"]["batch.kubernetes.io/job-name"] for p in pods} == {"pi"}


def test_job_fails_after_backoff_limit(control_plane: Cluster) -> None:
    api, kubelet = control_plane.api, FakeKubelet(control_plane.api)
    ns = namespace(api, "failing")
    api.post(f"/apis/batch/v1/namespaces/{ns}/jobs", job("bad", completions=1, parallelism=1, backoff_limit=0))

    def failed() -> dict | None:
        kubelet.step(ns, phase="Failed")
        current = api.get(f"/apis/batch/v1/namespaces/{ns}/jobs/bad")
        return current if "Failed" in _conditions(current) else None

    done = wait_for(failed, 20, what="job failed")
    cond = _conditions(done)["Failed"]
    assert (cond["reason"], cond["message"]) == ("BackoffLimitExceeded", "Job has reached the specified backoff limit")
    assert done["status"]["failed"] == 1


def test_silent_node_becomes_unknown_tainted_and_pods_evicted(fast_node_monitor: Cluster) -> None:
    api = fast_node_monitor.api
    ns = namespace(api, "evict")
    create_node(api, node("silent-node"))
    tolerations = [{"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute",
                    "tolerationSeconds": 2}]
    for name, tol in (("short", tolerations), ("forever", [{"operator": "Exists"}])):
        api.post(f"/api/v1/namespaces/{ns}/pods", {"metadata": {"name": name}, "spec": {
            "nodeName": "silent-node", "tolerations": tol, "containers": [{"name": "c", "image": "busybox"}]}})
    # no heartbeat and no lease: after the 3 s grace period the node is Unknown
    unknown = wait_for(lambda: (n := api.get("/api/v1/nodes/silent-node"))
                       and _conditions(n).get("Ready", {}).get("status") == "Unknown" and n, 15, what="Unknown")
    ready = _conditions(unknown)["Ready"]
    assert (ready["reason"], ready["message"]) == ("NodeStatusUnknown", "Kubelet stopped posting node status.")
    tainted = wait_for(lambda: (n := api.get("/api/v1/nodes/silent-node"))
                       and {(t["key"], t["effect"]) for t in (n.get("spec") or {}).get("taints") or ()}, 10,
                       what="taints")  # the node has no spec until the controller taints it
    assert tainted == {("node.kubernetes.io/unreachable", "NoExecute"), ("node.kubernetes.io/unreachable", "NoSchedule")}
    started = time.monotonic()
    wait_for(lambda: api.get(f"/api/v1/namespaces/{ns}/pods/short")["metadata"].get("deletionTimestamp"), 15,
             what="eviction after tolerationSeconds")
    assert time.monotonic() - started >= 0.5
    assert not api.get(f"/api/v1/namespaces/{ns}/pods/forever")["metadata"].get("deletionTimestamp")
    evicted = api.get(f"/api/v1/namespaces/{ns}/pods/short")
    assert _conditions(evicted)["DisruptionTarget"]["reason"] == "DeletionByTaintManager"


def test_cronjob_creates_jobs_each_minute_and_reports_bad_schedule(control_plane: Cluster) -> None:
    api = control_plane.api
    ns = namespace(api, "cron")
    template = job("x", completions=1, parallelism=1)["spec"]
    # created "long ago" is not possible through the API; an every-minute schedule with a job due
    # at the next minute boundary is what a user sees first: lastScheduleTime and a Job named by minutes
    api.post(f"/apis/batch/v1/namespaces/{ns}/cronjobs", {"apiVersion": "batch/v1", "kind": "CronJob",
             "metadata": {"name": "tick"}, "spec": {"schedule": "* * * * *", "jobTemplate": {"spec": template}}})
    bad = {"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "bad"},
           "spec": {"schedule": "61 * * * *", "jobTemplate": {"spec": template}}}
    try:
        api.post(f"/apis/batch/v1/namespaces/{ns}/cronjobs", bad)
        rejected_by_server = False
    except Exception as err:  # a server that validates schedules rejects it: that is right too
        rejected_by_server = "schedule" in str(err)
    if not rejected_by_server:
        events = wait_for(lambda: [e for e in api.items(f"/api/v1/namespaces/{ns}/events")
                                   if e["reason"] == "UnparseableSchedule"], 10, what="bad schedule event")
        assert events[0]["message"].startswith("unparseable schedule: '61 * * * *' : ")
    # the process's clock is real; run the controller in-process a few minutes ahead to see a schedule fire
    created = asyncio.run(_cronjob_ahead(control_plane.url, ns, minutes_ahead=3))
    names = sorted(j["metadata"]["name"] for j in created)
    minute = int(time.time() // 60) + 3
    if f"tick-{minute}" not in names:  # the minute turned while the test ran
        minute -= 1
    assert f"tick-{minute}" in names  # the latest missed time runs, named in minutes since the epoch
    assert all(j["metadata"]["ownerReferences"][0]["kind"] == "CronJob" for j in created)
    cj = api.get(f"/apis/batch/v1/namespaces/{ns}/cronjobs/tick")
    assert cj["status"]["lastScheduleTime"].endswith(":00Z")
    assert any(ref["name"] == f"tick-{minute}" for ref in cj["status"]["active"])


async def _cronjob_ahead(url: str, ns: str, minutes_ahead: int) -> list[dict]:
    from kwok.client import ApiError, Client, ClientConfig
    from kwok.controlplane.controllers.base import ControllerContext
    from kwok.controlplane.controllers.cronjob import CronJobController
    from kwok.controlplane.events import EventRecorder

    async with Client(ClientConfig.load(master=url)) as client:
        ctx = ControllerContext(client, EventRecorder(client, "test"))
        ctx.now = lambda: time.time() + minutes_ahead * 60
        controller = CronJobController(ctx)
        tasks = [asyncio.create_task(i.run()) for i in ctx.informers.values()]
        try:
            for informer in ctx.informers.values():
                await informer.wait_synced()
            for _ in range(5):   # as the controller's worker does: a conflict is retried
                try:
                    await controller.sync(f"{ns}/tick")
                    break
                except ApiError as err:
                    if not err.is_conflict:
                        raise
                    await asyncio.sleep(0.2)
            return (await client.resource("batch/v1", "jobs").list(ns)).get("items") or []
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
