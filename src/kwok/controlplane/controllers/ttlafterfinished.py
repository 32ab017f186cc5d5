"""TTL-after-finished controller: a finished Job with `ttlSecondsAfterFinished` is deleted (with
its pods, in the background) that many seconds after it finished."""

from __future__ import annotations

from typing import Any

from kwok.client import ApiError
from kwok.controlplane.controllers.base import Controller
from kwok.controlplane.timefmt import parse_time


def finish_time(job: dict[str, Any]) -> float | None:
    for cond in (job.get("status") or {}).get("conditions") or ():
        if cond.get("type") in ("Complete", "Failed") and cond.get("status") == "True":
            stamp = cond.get("lastTransitionTime") or (job.get("status") or {}).get("completionTime")
            return parse_time(stamp) if stamp else None
    return None


def expires_at(job: dict[str, Any]) -> float | None:
    ttl = (job.get("spec") or {}).get("ttlSecondsAfterFinished")
    finished = finish_time(job)
    if ttl is None or finished is None or job["metadata"].get("deletionTimestamp"):
        return None
    return finished + int(ttl)


class TTLAfterFinishedController(Controller):
    name = "ttl-after-finished"
    component = "ttl-after-finished-controller"

    def setup(self) -> None:
        self.jobs = self.ctx.informer("batch/v1", "jobs")
        self.jobs.add_handler(self._on_job)
        self.api = self.client.resource("batch/v1", "jobs")

    def _on_job(self, kind: str, job: dict[str, Any], old: dict[str, Any] | None) -> None:
        if kind != "DELETED" and expires_at(job) is not None:
            self.enqueue(job)

    async def sync(self, key: str) -> None:
        job = self.jobs.store.get(key)
        if job is None:
            return
        at = expires_at(job)
        if at is None:
            return
        left = at - self.ctx.now()
        if left > 0:
            self.queue.add_after(key, left)
            return
        try:
            await self.api.delete(job["metadata"]["name"], job["metadata"].get("namespace"),
                                  propagation_policy="Background", preconditions={"uid": job["metadata"]["uid"]})
        except ApiError as err:
            if not (err.is_not_found or err.is_conflict):
                raise
