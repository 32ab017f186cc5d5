"""CronJob controller: creates a Job at each scheduled time (`<name>-<minutes since epoch>`),
honours concurrencyPolicy, suspend and startingDeadlineSeconds, keeps the job history limits and
the status (active, lastScheduleTime, lastSuccessfulTime). An unparseable schedule is reported as
an event and the CronJob is left alone until it changes."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from kwok.client import ApiError
from kwok.controlplane.controllers import cron
from kwok.controlplane.controllers.base import Controller, controller_of
from kwok.controlplane.controllers.pods import controller_ref
from kwok.controlplane.timefmt import parse_time, rfc3339

log = logging.getLogger("kwok.controlplane.controllers.cronjob")
KIND, API_VERSION = "CronJob", "batch/v1"
SCHEDULED_ANNOTATION = "batch.kubernetes.io/cronjob-scheduled-timestamp"
MAX_MISSED = 100


def _finished(job: dict[str, Any]) -> str | None:
    for cond in (job.get("status") or {}).get("conditions") or ():
        if cond.get("type") in ("Complete", "Failed") and cond.get("status") == "True":
            return str(cond["type"])
    return None


class CronJobController(Controller):
    name = "cronjob"
    component = "cronjob-controller"
    workers = 2

    def setup(self) -> None:
        self.cronjobs = self.ctx.informer(API_VERSION, "cronjobs")
        self.jobs = self.ctx.owner_index(API_VERSION, "jobs")
        self.cronjobs.add_handler(lambda kind, obj, old: self.enqueue(obj))
        self.ctx.informer(API_VERSION, "jobs").add_handler(self._on_job)
        self.api = self.client.resource(API_VERSION, "cronjobs")
        self.job_api = self.client.resource(API_VERSION, "jobs")
        self._reported: dict[str, str] = {}

    def _on_job(self, kind: str, job: dict[str, Any], old: dict[str, Any] | None) -> None:
        ref = controller_of(job)
        if ref is not None and ref.get("kind") == KIND:
            self.queue.add(f"{job['metadata'].get('namespace')}/{ref['name']}")

    async def sync(self, key: str) -> None:
        cj = self.cronjobs.store.get(key)
        if cj is None or cj["metadata"].get("deletionTimestamp"):
            return
        spec = cj.get("spec") or {}
        try:
            schedule = cron.parse(spec.get("schedule", ""), spec.get("timeZone"))
        except cron.CronError as err:
            message = f"unparseable schedule: {spec.get('schedule', '')!r} : {err}"
            if self._reported.get(key) != message:
                self._reported[key] = message
                self.events.event(cj, "Warning", "UnparseableSchedule", message, kind=KIND, api_version=API_VERSION)
            return
        self._reported.pop(key, None)
        jobs = self.jobs.owned_by(cj["metadata"]["uid"])
        status = dict(cj.get("status") or {})
        active = [j for j in jobs if not _finished(j)]
        await self._record_finished(cj, jobs, status)
        now = dt.datetime.fromtimestamp(self.ctx.now(), dt.UTC)
        started: list[dict[str, Any]] = []
        replaced: set[str] = set()
        if not spec.get("suspend"):
            await self._maybe_run(cj, schedule, active, status, now, started, replaced)
        refs = await self._active_refs(cj, jobs, replaced)
        status["active"] = refs + [self._ref(j) for j in started] or None
        await self._cleanup(cj, jobs)
        if {k: v for k, v in status.items() if v is not None} != (cj.get("status") or {}):
            # against the version read, as kube-controller-manager's UpdateStatus: a status computed
            # from a stale cache (a job another writer just made) must not clear `active`
            patch = {"metadata": {"resourceVersion": cj["metadata"].get("resourceVersion")},
                     "status": {**{k: None for k in (cj.get("status") or {})}, **status}}
            await self.api.patch(cj["metadata"]["name"], patch, namespace=cj["metadata"].get("namespace"),
                                 subresource="status")
        upcoming = schedule.next_after(now)
        if upcoming is not None:
            self.queue.add_after(key, (upcoming - now).total_seconds() + 0.1)

    async def _active_refs(self, cj: dict[str, Any], jobs: list[dict[str, Any]], replaced: set[str]) -> list[Any]:
        """status.active: the unfinished jobs of this CronJob. A job the status lists that the cache
        has not seen is asked for at the API server before it is dropped, as kube-controller-manager
        does: it may be one another writer just made, which a slow watch has not delivered yet."""
        by_uid = {j["metadata"]["uid"]: j for j in jobs}
        refs: list[Any] = []
        for ref in (cj.get("status") or {}).get("active") or ():
            uid = ref.get("uid")
            job = by_uid.get(uid)
            if uid in replaced or (job is not None and _finished(job)):
                continue
            if job is not None:
                refs.append(self._ref(job))
            elif await self._still_exists(ref):
                refs.append(ref)
        listed = {r.get("uid") for r in refs}
        refs += [self._ref(j) for j in jobs
                 if not _finished(j) and j["metadata"]["uid"] not in listed | replaced]
        return refs

    async def _still_exists(self, ref: dict[str, Any]) -> bool:
        try:
            job = await self.job_api.get(ref.get("name", ""), namespace=ref.get("namespace"))
        except ApiError as err:
            return not err.is_not_found
        return bool(job["metadata"].get("uid") == ref.get("uid") and not _finished(job))

    async def _maybe_run(self, cj: dict[str, Any], schedule: cron.Schedule, active: list[dict[str, Any]],
                         status: dict[str, Any], now: dt.datetime, started: list[dict[str, Any]],
                         replaced: set[str]) -> None:
        """Start the job of the latest missed time, if any is due (into `started`; jobs a Replace
        policy deleted into `replaced`)."""
        spec = cj.get("spec") or {}
        since_text = status.get("lastScheduleTime") or cj["metadata"].get("creationTimestamp")
        since = dt.datetime.fromtimestamp(parse_time(since_text), dt.UTC) if since_text else now
        deadline = spec.get("startingDeadlineSeconds")
        if deadline is not None:
            since = max(since, now - dt.timedelta(seconds=int(deadline)))
        missed = cron.missed_times(schedule, since, now, MAX_MISSED + 1)
        if not missed:
            return
        if len(missed) > MAX_MISSED:
            self.events.event(cj, "Warning", "TooManyMissedTimes",
                              "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check "
                              "clock skew", kind=KIND, api_version=API_VERSION)
        scheduled = missed[-1]
        name = f"{cj['metadata']['name']}-{int(scheduled.timestamp()) // 60}"
        # a time already run (seen through a stale CronJob) is not run again, whatever the policy
        if any(j["metadata"]["name"] == name for j in self.jobs.owned_by(cj["metadata"]["uid"])):
            status["lastScheduleTime"] = rfc3339(scheduled.timestamp())
            return
        policy = spec.get("concurrencyPolicy", "Allow")
        if active and policy == "Forbid":
            self.events.event(cj, "Normal", "JobAlreadyActive", "Not starting job because prior execution is running "
                              "and concurrency policy is Forbid", kind=KIND, api_version=API_VERSION)
            return
        if active and policy == "Replace":
            for job in active:
                await self._delete_job(cj, job, "SuccessfulDelete")
                replaced.add(job["metadata"]["uid"])
        template = spec.get("jobTemplate") or {}
        meta = template.get("metadata") or {}
        job = {"apiVersion": API_VERSION, "kind": "Job", "metadata": {
            "name": name, "namespace": cj["metadata"].get("namespace"), "labels": dict(meta.get("labels") or {}),
            "annotations": {**(meta.get("annotations") or {}), SCHEDULED_ANNOTATION: rfc3339(scheduled.timestamp())},
            "ownerReferences": [controller_ref(cj, KIND, API_VERSION)]}, "spec": template.get("spec") or {}}
        try:
            started.append(await self.job_api.create(job, cj["metadata"].get("namespace")))
        except ApiError as err:
            if err.is_already_exists:  # created by an earlier sync this cache has not seen yet
                status["lastScheduleTime"] = rfc3339(scheduled.timestamp())
                return
            self.events.event(cj, "Warning", "FailedCreate", f"Error creating job: {err.message}", kind=KIND,
                              api_version=API_VERSION)
            return
        self.events.event(cj, "Normal", "SuccessfulCreate", f"Created job {name}", kind=KIND, api_version=API_VERSION)
        status["lastScheduleTime"] = rfc3339(scheduled.timestamp())

    async def _record_finished(self, cj: dict[str, Any], jobs: list[dict[str, Any]], status: dict[str, Any]) -> None:
        previously_active = {ref.get("uid") for ref in (cj.get("status") or {}).get("active") or ()}
        for job in jobs:
            outcome = _finished(job)
            if outcome and job["metadata"]["uid"] in previously_active:
                self.events.event(cj, "Normal", "SawCompletedJob",
                                  f"Saw completed job: {job['metadata']['name']}, condition: {outcome}", kind=KIND,
                                  api_version=API_VERSION)
            if outcome == "Complete":
                done = (job.get("status") or {}).get("completionTime")
                if done and (not status.get("lastSuccessfulTime") or parse_time(done) > parse_time(status["lastSuccessfulTime"])):
                    status["lastSuccessfulTime"] = done

    async def _cleanup(self, cj: dict[str, Any], jobs: list[dict[str, Any]]) -> None:
        spec = cj.get("spec") or {}
        for outcome, limit in (("Complete", spec.get("successfulJobsHistoryLimit", 3)),
                               ("Failed", spec.get("failedJobsHistoryLimit", 1))):
            done = sorted((j for j in jobs if _finished(j) == outcome and not j["metadata"].get("deletionTimestamp")),
                          key=lambda j: (j.get("status") or {}).get("startTime") or j["metadata"].get("creationTimestamp") or "")
            for job in done[:max(len(done) - int(limit if limit is not None else 0), 0)]:
                await self._delete_job(cj, job, "SuccessfulDelete")

    async def _delete_job(self, cj: dict[str, Any], job: dict[str, Any], reason: str) -> None:
        try:
            await self.job_api.delete(job["metadata"]["name"], job["metadata"].get("namespace"),
                                      propagation_policy="Background")
        except ApiError as err:
            if not err.is_not_found:
                raise
            return
        self.events.event(cj, "Normal", reason, f"Deleted job {job['metadata']['name']}", kind=KIND,
                          api_version=API_VERSION)

    @staticmethod
    def _ref(job: dict[str, Any]) -> dict[str, Any]:
        meta = job["metadata"]
        return {"kind": "Job", "namespace": meta.get("namespace"), "name": meta["name"], "uid": meta["uid"],
                "apiVersion": API_VERSION}
