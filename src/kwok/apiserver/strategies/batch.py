"""Jobs and CronJobs (pkg/registry/batch/*/strategy.go, pkg/apis/batch/v1/defaults.go).

A Job's selector is generated from its uid unless `manualSelector: true`: the server adds
`batch.kubernetes.io/controller-uid` (and the legacy `controller-uid`) plus `job-name` labels to the
template, exactly what the job controller and `kubectl logs job/x` select pods by.
"""

from __future__ import annotations

import re
import uuid

from kwok.apiserver.defaults import default_pod_template
from kwok.apiserver.registry import Cause, Obj, register
from kwok.apiserver.strategies.base import KindStrategy
from kwok.apiserver.strategies.fielderrors import (
    immutable,
    invalid,
    non_negative,
    not_supported,
    required,
)
from kwok.apiserver.strategies.podspec import validate_template
from kwok.apiserver.strategies.workloads import validate_selector

JOB_RESTART_POLICIES = ["OnFailure", "Never"]
CONTROLLER_UID = "batch.kubernetes.io/controller-uid"
JOB_NAME = "batch.kubernetes.io/job-name"
CRONJOB_NAME_MAX = 52


def default_job_spec(spec: Obj) -> None:
    """SetDefaults_Job."""
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
        spec["parallelism"] = 1
    spec.setdefault("parallelism", 1)
    if spec.get("backoffLimit") is None:
        spec["backoffLimit"] = 2147483647 if spec.get("backoffLimitPerIndex") is not None else 6
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("manualSelector", False)
    spec.setdefault("suspend", False)
    if spec.get("podFailurePolicy") is None:
        spec.setdefault("podReplacementPolicy", "TerminatingOrFailed")
    else:
        spec.setdefault("podReplacementPolicy", "Failed")
    default_pod_template(spec.get("template"))


def generate_selector(job: Obj) -> None:
    """The selector and template labels of a Job without manualSelector (job strategy generateSelector)."""
    meta = job.setdefault("metadata", {})
    uid = meta.setdefault("uid", str(uuid.uuid4()))
    spec = job.setdefault("spec", {})
    template = spec.setdefault("template", {})
    labels = template.setdefault("metadata", {}).setdefault("labels", {})
    labels.setdefault(CONTROLLER_UID, uid)
    labels.setdefault(JOB_NAME, meta.get("name", ""))
    labels.setdefault("controller-uid", uid)
    labels.setdefault("job-name", meta.get("name", ""))
    spec["selector"] = {"matchLabels": {CONTROLLER_UID: uid}}
    default_job_labels(job)


def default_job_labels(job: Obj) -> None:
    """A Job without labels shows its template's (SetDefaults_Job, applied on every read)."""
    meta = job.setdefault("metadata", {})
    template_labels = ((job.get("spec") or {}).get("template") or {}).get("metadata", {}).get("labels")
    if not meta.get("labels") and template_labels:
        meta["labels"] = dict(template_labels)


@register("batch", "jobs")
class JobStrategy(KindStrategy):
    # batch/v1 keeps the pre-GC behaviour: deleting a Job without a policy orphans its pods.
    default_propagation = "Orphan"

    def default(self, obj: Obj) -> None:
        default_job_spec(obj.setdefault("spec", {}))
        default_job_labels(obj)

    def _validate_create(self, obj: Obj) -> list[Cause]:
        # The real strategy generates the selector in Validate, once the uid is known.
        if not (obj.get("spec") or {}).get("manualSelector"):
            generate_selector(obj)
        return super()._validate_create(obj)

    def validate_spec(self, obj: Obj) -> list[Cause]:
        spec = obj.get("spec") or {}
        causes: list[Cause] = []
        for key in ("parallelism", "completions", "backoffLimit", "activeDeadlineSeconds", "ttlSecondsAfterFinished"):
            causes += non_negative(f"spec.{key}", spec.get(key))
        if spec.get("completionMode") not in (None, "NonIndexed", "Indexed"):
            causes.append(not_supported("spec.completionMode", spec["completionMode"], ["NonIndexed", "Indexed"]))
        if spec.get("completionMode") == "Indexed" and spec.get("completions") is None:
            causes.append(required("spec.completions", "when completion mode is Indexed"))
        causes += validate_selector(spec, "job")
        if "template" not in spec:
            causes.append(required("spec.template"))
            return causes
        policy = ((spec.get("template") or {}).get("spec") or {}).get("restartPolicy")
        causes += validate_template(spec["template"], "spec.template")
        if policy == "Always":
            causes.append(not_supported("spec.template.spec.restartPolicy", policy, JOB_RESTART_POLICIES))
        return causes

    def validate_spec_update(self, new: Obj, old: Obj) -> list[Cause]:
        ns, os_ = new.get("spec") or {}, old.get("spec") or {}
        causes: list[Cause] = []
        for key in ("selector", "completionMode", "podFailurePolicy", "backoffLimitPerIndex"):
            if ns.get(key) != os_.get(key):
                causes.append(immutable(f"spec.{key}", ns.get(key)))
        if ns.get("completions") != os_.get("completions") and ns.get("completionMode") != "Indexed":
            causes.append(immutable("spec.completions", ns.get("completions")))
        if ns.get("template") != os_.get("template") and not os_.get("suspend"):
            causes.append(immutable("spec.template", ns.get("template")))
        return causes

    def field_values(self, obj: Obj) -> dict[str, str]:
        out = super().field_values(obj)
        out["status.successful"] = str((obj.get("status") or {}).get("succeeded", 0))
        return out


_CRON_MACROS = {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
_CRON_FIELD = re.compile(r"^(\*|\?|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(/[0-9]+)?(,(\*|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(/[0-9]+)?)*$")


def cron_error(schedule: str) -> str | None:
    """A parse error in robfig/cron's standard five-field syntax (or a @macro / @every), else None."""
    text = schedule.strip()
    if text.startswith("TZ=") or text.startswith("CRON_TZ="):
        return "cannot use TZ or CRON_TZ in schedule, use timeZone field instead"
    if text in _CRON_MACROS or text.startswith("@every "):
        return None
    fields = text.split()
    if len(fields) != 5:
        return f"expected exactly 5 fields, found {len(fields)}: [{' '.join(fields)}]"
    for f in fields:
        if not _CRON_FIELD.match(f):
            return f"failed to parse int from {f}: strconv.Atoi: parsing {f!r}: invalid syntax".replace("'", '"')
    return None


@register("batch", "cronjobs")
class CronJobStrategy(KindStrategy):
    def default(self, obj: Obj) -> None:
        spec = obj.setdefault("spec", {})
        spec.setdefault("concurrencyPolicy", "Allow")
        spec.setdefault("suspend", False)
        spec.setdefault("successfulJobsHistoryLimit", 3)
        spec.setdefault("failedJobsHistoryLimit", 1)
        job_spec = (spec.get("jobTemplate") or {}).get("spec")
        if isinstance(job_spec, dict):
            default_pod_template(job_spec.get("template"))

    def validate_spec(self, obj: Obj) -> list[Cause]:
        name = (obj.get("metadata") or {}).get("name", "")
        causes: list[Cause] = []
        if len(name) > CRONJOB_NAME_MAX:
            causes.append(invalid("metadata.name", name, f"must be no more than {CRONJOB_NAME_MAX} characters"))
        spec = obj.get("spec") or {}
        schedule = spec.get("schedule")
        if not schedule:
            causes.append(required("spec.schedule"))
        elif (err := cron_error(schedule)) is not None:
            causes.append(invalid("spec.schedule", schedule, err))
        if spec.get("concurrencyPolicy") not in ("Allow", "Forbid", "Replace"):
            causes.append(not_supported("spec.concurrencyPolicy", spec.get("concurrencyPolicy"),
                                        ["Allow", "Forbid", "Replace"]))
        for key in ("successfulJobsHistoryLimit", "failedJobsHistoryLimit", "startingDeadlineSeconds"):
            causes += non_negative(f"spec.{key}", spec.get(key))
        job_template = spec.get("jobTemplate")
        if not isinstance(job_template, dict) or "spec" not in job_template:
            causes.append(required("spec.jobTemplate"))
            return causes
        template = (job_template.get("spec") or {}).get("template")
        causes += validate_template(template, "spec.jobTemplate.spec.template")
        policy = ((template or {}).get("spec") or {}).get("restartPolicy")
        if policy == "Always":
            causes.append(not_supported("spec.jobTemplate.spec.template.spec.restartPolicy", policy,
                                        JOB_RESTART_POLICIES))
        return causes

