"""Job controller: runs pods until `completions` succeed (or the backoff limit / deadline is hit),
with `parallelism` at a time, Indexed or NonIndexed, counting finished pods through their
tracking finalizer (see job_logic)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from kwok.client import ApiError
from kwok.controlplane.controllers import job_logic as logic
from kwok.controlplane.controllers.base import Controller
from kwok.controlplane.controllers.expectations import Expectations
from kwok.controlplane.controllers.pods import pod_from_template
from kwok.controlplane.mergediff import replace_patch

log = logging.getLogger("kwok.controlplane.controllers.job")
KIND, API_VERSION = "Job", "batch/v1"


class JobController(Controller):
    name = "job"
    component = "job-controller"
    workers = 5

    def setup(self) -> None:
        self.expectations = Expectations()
        self.last_failure: dict[str, float] = {}
        self.jobs = self.ctx.informer(API_VERSION, "jobs")
        self.owned = self.ctx.owner_index("v1", "pods")
        self.jobs.add_handler(self._on_job)
        self.ctx.informer("v1", "pods").add_handler(self._on_pod)
        self.api = self.client.resource(API_VERSION, "jobs")
        self.pod_api = self.client.resource("v1", "pods")

    def _on_job(self, kind: str, job: dict[str, Any], old: dict[str, Any] | None) -> None:
        if kind == "DELETED":
            self.last_failure.pop(job["metadata"]["uid"], None)
        self.enqueue(job)

    def _on_pod(self, kind: str, pod: dict[str, Any], old: dict[str, Any] | None) -> None:
        key = self.expectations.observe_pod(KIND, kind, pod)
        if key is not None:
            self.queue.add(key)

    async def sync(self, key: str) -> None:
        job = self.jobs.store.get(key)
        if job is None:
            self.expectations.forget(key)
            return
        pods = self.owned.owned_by(job["metadata"]["uid"])
        now = self.ctx.now()
        uid = job["metadata"]["uid"]
        if not self.expectations.satisfied(key, now):
            return
        plan = logic.plan(job, pods, now, self.last_failure.get(uid))
        if plan.new_failures:
            self.last_failure[uid] = now
        if plan.status != (job.get("status") or {}):
            patch = {"status": replace_patch(job.get("status"), plan.status)}
            updated = await self.api.patch(job["metadata"]["name"], patch,
                                           namespace=job["metadata"].get("namespace"), subresource="status")
            # Write through: the next sync (caused by the finalizer removals below) must see the
            # uncounted pods this status lists, even before the watch delivers it.
            self.jobs.store[key] = updated
        await asyncio.gather(*(self._untrack(p) for p in plan.untrack))
        for type_, reason, message in plan.events:
            self.events.event(job, type_, reason, message, kind=KIND, api_version=API_VERSION)
        if plan.delete:
            self.expectations.expect(key, 0, [f"{p['metadata'].get('namespace')}/{p['metadata']['name']}"
                                              for p in plan.delete], now)
            await asyncio.gather(*(self._delete(job, p) for p in plan.delete))
        elif plan.create_indexes:
            self.expectations.expect(key, len(plan.create_indexes), [], now)
            await asyncio.gather(*(self._create(key, job, i) for i in plan.create_indexes))
        if plan.requeue_after is not None:
            self.queue.add_after(key, plan.requeue_after)

    async def _create(self, key: str, job: dict[str, Any], index: int | None) -> None:
        meta = job["metadata"]
        template = (job.get("spec") or {}).get("template") or {}
        labels = {"batch.kubernetes.io/controller-uid": meta["uid"], "batch.kubernetes.io/job-name": meta["name"],
                  "controller-uid": meta["uid"], "job-name": meta["name"]}
        pod = pod_from_template(template, job, KIND, API_VERSION, extra_labels=labels)
        pod["metadata"]["finalizers"] = [*pod["metadata"].get("finalizers", []), logic.TRACKING_FINALIZER]
        if index is not None:
            pod["metadata"]["generateName"] = f"{meta['name']}-{index}-"
            pod["metadata"]["labels"][logic.COMPLETION_INDEX] = str(index)
            pod["metadata"].setdefault("annotations", {})[logic.COMPLETION_INDEX] = str(index)
            pod["spec"].setdefault("hostname", f"{meta['name']}-{index}")
        try:
            created = await self.pod_api.create(pod, meta.get("namespace"))
        except ApiError as err:
            self.expectations.creation_failed(key)
            self.events.event(job, "Warning", "FailedCreate", f"Error creating: {err.message}", kind=KIND,
                              api_version=API_VERSION)
            return
        self.events.event(job, "Normal", "SuccessfulCreate", f"Created pod: {created['metadata']['name']}",
                          kind=KIND, api_version=API_VERSION)

    async def _delete(self, job: dict[str, Any], pod: dict[str, Any]) -> None:
        try:
            await self.pod_api.delete(pod["metadata"]["name"], pod["metadata"].get("namespace"))
        except ApiError as err:
            if not err.is_not_found:
                raise
            return
        self.events.event(job, "Normal", "SuccessfulDelete", f"Deleted pod: {pod['metadata']['name']}",
                          kind=KIND, api_version=API_VERSION)

    async def _untrack(self, pod: dict[str, Any]) -> None:
        finalizers = [f for f in pod["metadata"].get("finalizers") or () if f != logic.TRACKING_FINALIZER]
        patch = {"metadata": {"finalizers": finalizers or None, "resourceVersion": pod["metadata"].get("resourceVersion")}}
        try:
            await self.pod_api.patch(pod["metadata"]["name"], patch, namespace=pod["metadata"].get("namespace"))
        except ApiError as err:
            if not (err.is_not_found or err.is_conflict):
                raise
