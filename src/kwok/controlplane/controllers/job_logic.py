"""Job decisions (pure): how many pods to run, when the Job succeeded or failed, its status.

Finished pods are counted the way the job controller does with pod finalizers: a pod that just
finished is first listed in `status.uncountedTerminatedPods`, its `batch.kubernetes.io/job-tracking`
finalizer is then removed, and on a later sync it moves into `succeeded` / `failed` — so a pod is
counted exactly once even if the controller restarts in between. A pod deleted before it
succeeded counts as failed. Retries after failures wait 10 s doubling up to 6 minutes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kwok.controlplane.controllers.pods import is_ready
from kwok.controlplane.timefmt import parse_time, rfc3339

TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking"
COMPLETION_INDEX = "batch.kubernetes.io/job-completion-index"
DEFAULT_BACKOFF_LIMIT = 6
BACKOFF_BASE = 10.0
BACKOFF_MAX = 360.0


def _spec(job: dict[str, Any]) -> dict[str, Any]:
    return job.get("spec") or {}


def completions(job: dict[str, Any]) -> int | None:
    value = _spec(job).get("completions")
    return None if value is None else int(value)


def parallelism(job: dict[str, Any]) -> int:
    value = _spec(job).get("parallelism")
    return 1 if value is None else int(value)


def indexed(job: dict[str, Any]) -> bool:
    return _spec(job).get("completionMode") == "Indexed"


def pod_index(pod: dict[str, Any]) -> int | None:
    meta = pod["metadata"]
    value = (meta.get("annotations") or {}).get(COMPLETION_INDEX) or (meta.get("labels") or {}).get(COMPLETION_INDEX)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def format_indexes(indexes: set[int]) -> str:
    """`completedIndexes`: "0-2,4,6-7"."""
    out, ordered, i = [], sorted(indexes), 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        out.append(str(ordered[i]) if i == j else f"{ordered[i]}-{ordered[j]}")
        i = j + 1
    return ",".join(out)


def parse_indexes(text: str | None) -> set[int]:
    out: set[int] = set()
    for part in (text or "").split(","):
        if not part:
            continue
        if "-" in part:
            lo, hi = part.split("-", 1)
            out.update(range(int(lo), int(hi) + 1))
        else:
            out.add(int(part))
    return out


def _finished_as(pod: dict[str, Any]) -> str | None:
    phase = (pod.get("status") or {}).get("phase")
    if phase == "Succeeded":
        return "succeeded"
    if phase == "Failed" or pod["metadata"].get("deletionTimestamp"):
        return "failed"
    return None


@dataclass
class JobPlan:
    status: dict[str, Any]
    create_indexes: list[int | None] = field(default_factory=list)  # None: a non-indexed pod
    delete: list[dict[str, Any]] = field(default_factory=list)
    untrack: list[dict[str, Any]] = field(default_factory=list)  # pods whose finalizer to remove
    requeue_after: float | None = None
    events: list[tuple[str, str, str]] = field(default_factory=list)
    finished: bool = False
    new_failures: int = 0


def _condition(type_: str, reason: str, message: str, now: float, status: str = "True") -> dict[str, Any]:
    stamp = rfc3339(now)
    return {"type": type_, "status": status, "lastProbeTime": stamp, "lastTransitionTime": stamp,
            "reason": reason, "message": message}


def _has(status: dict[str, Any], type_: str) -> bool:
    return any(c.get("type") == type_ and c.get("status") == "True" for c in status.get("conditions") or ())


def plan(job: dict[str, Any], pods: list[dict[str, Any]], now: float, last_failure: float | None = None) -> JobPlan:
    """What to do for `job` given its pods; `last_failure` is when a pod of it last failed."""
    old = job.get("status") or {}
    status: dict[str, Any] = {k: v for k, v in old.items()}
    status.setdefault("startTime", rfc3339(now))
    if _has(old, "Complete") or _has(old, "Failed"):
        return JobPlan(status=old, finished=True)
    uncounted = {k: list(v) for k, v in (old.get("uncountedTerminatedPods") or {}).items()}
    counted = {"succeeded": int(old.get("succeeded") or 0), "failed": int(old.get("failed") or 0)}
    done_indexes = parse_indexes(old.get("completedIndexes"))
    by_uid = {p["metadata"]["uid"]: p for p in pods}
    # uncounted pods whose finalizer is gone (or that are gone) now count
    for outcome in ("succeeded", "failed"):
        still = []
        for uid in uncounted.get(outcome, []):
            pod = by_uid.get(uid)
            if pod is not None and TRACKING_FINALIZER in (pod["metadata"].get("finalizers") or ()):
                still.append(uid)
            else:
                counted[outcome] += 1
        uncounted[outcome] = still
    p = JobPlan(status=status)
    listed = set(uncounted.get("succeeded", [])) | set(uncounted.get("failed", []))
    for pod in pods:
        finished = _finished_as(pod)
        if finished is None or TRACKING_FINALIZER not in (pod["metadata"].get("finalizers") or ()):
            continue
        if pod["metadata"]["uid"] not in listed:
            uncounted.setdefault(finished, []).append(pod["metadata"]["uid"])
            p.new_failures += finished == "failed"
        p.untrack.append(pod)
    for pod in pods:
        if (pod.get("status") or {}).get("phase") == "Succeeded" and pod_index(pod) is not None:
            done_indexes.add(int(pod_index(pod) or 0))
    succeeded = counted["succeeded"] + len(uncounted.get("succeeded", []))
    failed = counted["failed"] + len(uncounted.get("failed", []))
    active = [pod for pod in pods if _finished_as(pod) is None]
    status.update(succeeded=counted["succeeded"], failed=counted["failed"], active=len(active),
                  ready=sum(1 for pod in active if is_ready(pod)),
                  terminating=sum(1 for pod in pods if pod["metadata"].get("deletionTimestamp")
                                  and (pod.get("status") or {}).get("phase") not in ("Succeeded", "Failed")))
    status["uncountedTerminatedPods"] = {k: v for k, v in uncounted.items() if v}
    if indexed(job):
        status["completedIndexes"] = format_indexes(done_indexes)
    if p.new_failures:
        last_failure = now
    _decide(job, p, active, succeeded, failed, done_indexes, now, last_failure)
    return p


def _decide(job: dict[str, Any], p: JobPlan, active: list[dict[str, Any]], succeeded: int, failed: int,
            done_indexes: set[int], now: float, last_failure: float | None) -> None:
    status, spec = p.status, _spec(job)
    want = completions(job)
    backoff_limit = spec.get("backoffLimit")
    backoff_limit = DEFAULT_BACKOFF_LIMIT if backoff_limit is None else int(backoff_limit)
    deadline = spec.get("activeDeadlineSeconds")
    failure: tuple[str, str] | None = None
    if failed > backoff_limit:
        failure = ("BackoffLimitExceeded", "Job has reached the specified backoff limit")
    elif deadline is not None and parse_time(status["startTime"]) + int(deadline) <= now:
        failure = ("DeadlineExceeded", "Job was active longer than specified deadline")
    complete = (len(done_indexes) >= (want or 0) if indexed(job) and want is not None
                else succeeded >= want if want is not None else succeeded > 0 and not active)
    if failure is not None:
        p.delete = active
        if not _has(status, "FailureTarget"):
            status["conditions"] = [*(status.get("conditions") or ()), _condition("FailureTarget", *failure, now)]
        if not active and not status.get("uncountedTerminatedPods"):
            status["conditions"] = [*status["conditions"], _condition("Failed", *failure, now)]
            p.events.append(("Warning", failure[0], failure[1]))
            p.finished = True
        return
    if complete:
        p.delete = active
        message = "Reached expected number of succeeded pods"
        if not _has(status, "SuccessCriteriaMet"):
            status["conditions"] = [*(status.get("conditions") or ()),
                                    _condition("SuccessCriteriaMet", "CompletionsReached", message, now)]
        if not active and not status.get("uncountedTerminatedPods"):
            status["conditions"] = [*status["conditions"], _condition("Complete", "CompletionsReached", message, now)]
            status["completionTime"] = rfc3339(now)
            p.events.append(("Normal", "Completed", "Job completed"))
            p.finished = True
        return
    if spec.get("suspend"):
        p.delete = active
        return
    if deadline is not None:
        p.requeue_after = max(parse_time(status["startTime"]) + int(deadline) - now, 0) + 0.05
    _scale(job, p, active, succeeded, failed, done_indexes, now, last_failure)


def _scale(job: dict[str, Any], p: JobPlan, active: list[dict[str, Any]], succeeded: int, failed: int,
           done_indexes: set[int], now: float, last_failure: float | None) -> None:
    want = completions(job)
    if want is None:
        target = len(active) if succeeded > 0 else parallelism(job)
    elif indexed(job):
        target = min(want - len(done_indexes), parallelism(job))
    else:
        target = min(want - succeeded, parallelism(job))
    target = max(target, 0)
    if len(active) > target:
        p.delete = sorted(active, key=lambda pod: bool((pod.get("spec") or {}).get("nodeName")))[:len(active) - target]
        return
    missing = target - len(active)
    if missing <= 0:
        return
    wait = _retry_wait(failed, last_failure, now)
    if wait > 0:
        p.requeue_after = wait if p.requeue_after is None else min(wait, p.requeue_after)
        return
    if indexed(job):
        running = {pod_index(pod) for pod in active}
        free = [i for i in range(want or 0) if i not in done_indexes and i not in running]
        p.create_indexes = list(free[:missing])
    else:
        p.create_indexes = [None] * missing


def _retry_wait(failed: int, last_failure: float | None, now: float) -> float:
    """Seconds until replacements of failed pods may be created (10 s * 2^(failures-1), max 6 min)."""
    if failed <= 0 or last_failure is None:
        return 0.0
    delay = min(BACKOFF_BASE * 2.0 ** (failed - 1), BACKOFF_MAX)
    return float(max(last_failure + delay - now, 0.0))
