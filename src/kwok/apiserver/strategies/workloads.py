"""Replicated workloads: Deployment, ReplicaSet, StatefulSet, DaemonSet (apps/v1) and
ReplicationController (v1). Defaults from pkg/apis/apps/v1/defaults.go; validation from
pkg/apis/apps/validation (selector required, non-empty, matching the template, immutable)."""

from __future__ import annotations

from typing import Any

from kwok.api.selectors import SelectorError, label_selector_from_object
from kwok.apiserver.defaults import default_pod_template
from kwok.apiserver.registry import Cause, Obj, register
from kwok.apiserver.strategies.base import KindStrategy
from kwok.apiserver.strategies.fielderrors import (
    forbidden,
    go_string_map,
    immutable,
    invalid,
    invalid_rendered,
    non_negative,
    not_supported,
    required,
)
from kwok.apiserver.strategies.podspec import validate_template

ALWAYS = ["Always"]


def _spec(obj: Obj) -> Obj:
    spec = obj.setdefault("spec", {})
    return spec if isinstance(spec, dict) else {}


def selector_matches_template(selector: Any, template: Any) -> bool:
    labels = ((template or {}).get("metadata") or {}).get("labels") or {}
    try:
        return label_selector_from_object(selector).matches(labels)
    except SelectorError:
        return False


def validate_selector(spec: Obj, kind_word: str) -> list[Cause]:
    """Selector required, valid, non-empty, and matching the template labels."""
    selector = spec.get("selector")
    if selector is None:
        return [required("spec.selector")]
    try:
        compiled = label_selector_from_object(selector)
    except SelectorError as err:
        return [invalid("spec.selector", selector, str(err))]
    causes: list[Cause] = []
    if not selector.get("matchLabels") and not selector.get("matchExpressions"):
        causes.append(invalid("spec.selector", selector, f"empty selector is invalid for {kind_word}"))
    template = spec.get("template")
    labels = ((template or {}).get("metadata") or {}).get("labels") or {}
    if isinstance(template, dict) and not compiled.matches(labels):
        causes.append(invalid_rendered("spec.template.metadata.labels", go_string_map(labels),
                                      "`selector` does not match template `labels`"))
    return causes


def _enum(obj: Obj, key: str, allowed: list[str], path: str) -> list[Cause]:
    value = obj.get(key)
    return [] if value is None or value in allowed else [not_supported(f"{path}.{key}", value, allowed)]


def _int_or_percent(value: Any) -> bool:
    return isinstance(value, int) or (isinstance(value, str) and (value.isdigit() or
                                      (value.endswith("%") and value[:-1].isdigit())))


def _validate_rolling(rolling: Obj, path: str) -> list[Cause]:
    causes: list[Cause] = []
    for key in ("maxUnavailable", "maxSurge"):
        value = rolling.get(key)
        if value is not None and not _int_or_percent(value):
            causes.append(invalid(f"{path}.{key}", value, "a valid percent string must be a numeric string "
                                  "followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation "
                                  "is '[0-9]+%')"))
    if str(rolling.get("maxUnavailable", "")) in ("0", "0%") and str(rolling.get("maxSurge", "")) in ("0", "0%"):
        causes.append(invalid(f"{path}.maxUnavailable", rolling.get("maxUnavailable"),
                              "may not be 0 when `maxSurge` is 0"))
    return causes


class _Replicated(KindStrategy):
    kind_word = "deployment"

    def validate_spec(self, obj: Obj) -> list[Cause]:
        spec = obj.get("spec") or {}
        causes = non_negative("spec.replicas", spec.get("replicas"))
        causes += validate_selector(spec, self.kind_word)
        if "template" not in spec:
            causes.append(required("spec.template"))
        else:
            causes += validate_template(self.template_to_validate(spec), "spec.template", ALWAYS)
        return causes

    def template_to_validate(self, spec: Obj) -> Any:
        return spec["template"]

    def validate_spec_update(self, new: Obj, old: Obj) -> list[Cause]:
        ns, os_ = new.get("spec") or {}, old.get("spec") or {}
        if ns.get("selector") != os_.get("selector"):
            return [immutable("spec.selector", ns.get("selector"))]
        return []

    def field_values(self, obj: Obj) -> dict[str, str]:
        out = super().field_values(obj)
        if self.info.plural == "replicasets" or self.info.plural == "replicationcontrollers":
            out["status.replicas"] = str((obj.get("status") or {}).get("replicas", 0))
        return out


@register("apps", "deployments")
class DeploymentStrategy(_Replicated):
    def default(self, obj: Obj) -> None:
        spec = _spec(obj)
        spec.setdefault("replicas", 1)
        strategy = spec.setdefault("strategy", {})
        strategy.setdefault("type", "RollingUpdate")
        if strategy["type"] == "RollingUpdate":
            rolling = strategy.setdefault("rollingUpdate", {})
            rolling.setdefault("maxUnavailable", "25%")
            rolling.setdefault("maxSurge", "25%")
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault("progressDeadlineSeconds", 600)
        default_pod_template(spec.get("template"))

    def validate_spec(self, obj: Obj) -> list[Cause]:
        spec = obj.get("spec") or {}
        causes = super().validate_spec(obj)
        strategy = spec.get("strategy") or {}
        causes += _enum(strategy, "type", ["Recreate", "RollingUpdate"], "spec.strategy")
        if strategy.get("type") == "Recreate" and strategy.get("rollingUpdate"):
            causes.append(forbidden("spec.strategy.rollingUpdate",
                                    "may not be specified when strategy `type` is 'Recreate'"))
        causes += _validate_rolling(strategy.get("rollingUpdate") or {}, "spec.strategy.rollingUpdate")
        causes += non_negative("spec.revisionHistoryLimit", spec.get("revisionHistoryLimit"))
        causes += non_negative("spec.minReadySeconds", spec.get("minReadySeconds"))
        deadline = spec.get("progressDeadlineSeconds")
        if isinstance(deadline, int) and deadline <= spec.get("minReadySeconds", 0):
            causes.append(invalid("spec.progressDeadlineSeconds", deadline,
                                  "must be greater than minReadySeconds"))
        return causes


@register("apps", "replicasets")
class ReplicaSetStrategy(_Replicated):
    kind_word = "deployment"   # apps validation reuses the deployment wording for ReplicaSets

    def default(self, obj: Obj) -> None:
        spec = _spec(obj)
        spec.setdefault("replicas", 1)
        default_pod_template(spec.get("template"))


@register("", "replicationcontrollers")
class ReplicationControllerStrategy(_Replicated):
    def default(self, obj: Obj) -> None:
        """SetDefaults_ReplicationController: selector and labels default to the template's labels."""
        spec = _spec(obj)
        spec.setdefault("replicas", 1)
        labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
        if labels and not spec.get("selector"):
            spec["selector"] = dict(labels)
        meta = obj.setdefault("metadata", {})
        if labels and not meta.get("labels"):
            meta["labels"] = dict(labels)
        default_pod_template(spec.get("template"))

    def validate_spec(self, obj: Obj) -> list[Cause]:
        spec = obj.get("spec") or {}
        causes = non_negative("spec.replicas", spec.get("replicas"))
        selector = spec.get("selector") or {}
        if not selector:
            causes.append(required("spec.selector"))
        template = spec.get("template")
        if template is None:
            causes.append(required("spec.template"))
            return causes
        labels = (template.get("metadata") or {}).get("labels") or {}
        if any(labels.get(k) != v for k, v in selector.items()):
            causes.append(invalid_rendered("spec.template.metadata.labels", go_string_map(labels),
                                           "`selector` does not match template `labels`"))
        return causes + validate_template(template, "spec.template", ALWAYS)

    def validate_spec_update(self, new: Obj, old: Obj) -> list[Cause]:
        return []   # a ReplicationController's selector may change


@register("apps", "statefulsets")
class StatefulSetStrategy(_Replicated):
    kind_word = "statefulset"
    _UPDATABLE = ("replicas", "ordinals", "template", "updateStrategy", "persistentVolumeClaimRetentionPolicy",
                  "minReadySeconds")

    def default(self, obj: Obj) -> None:
        spec = _spec(obj)
        spec.setdefault("replicas", 1)
        spec.setdefault("podManagementPolicy", "OrderedReady")
        update = spec.setdefault("updateStrategy", {})
        update.setdefault("type", "RollingUpdate")
        if update["type"] == "RollingUpdate":
            rolling = update.setdefault("rollingUpdate", {})
            rolling.setdefault("partition", 0)
            # MaxUnavailableStatefulSet is beta and on by default since 1.35
            rolling.setdefault("maxUnavailable", 1)
        spec.setdefault("revisionHistoryLimit", 10)
        retention = spec.setdefault("persistentVolumeClaimRetentionPolicy", {})
        retention.setdefault("whenDeleted", "Retain")
        retention.setdefault("whenScaled", "Retain")
        for claim in spec.get("volumeClaimTemplates") or []:
            if isinstance(claim, dict):
                claim.setdefault("spec", {}).setdefault("volumeMode", "Filesystem")
                claim.setdefault("status", {"phase": "Pending"})
        default_pod_template(spec.get("template"))

    def template_to_validate(self, spec: Obj) -> Any:
        """The template as its pods will be: each volumeClaimTemplate becomes a volume they mount."""
        template = spec["template"]
        claims = [c for c in spec.get("volumeClaimTemplates") or [] if isinstance(c, dict)]
        if not claims or not isinstance(template, dict) or not isinstance(template.get("spec"), dict):
            return template
        volumes = list(template["spec"].get("volumes") or [])
        for claim in claims:
            name = (claim.get("metadata") or {}).get("name", "")
            volumes.append({"name": name, "persistentVolumeClaim": {"claimName": name}})
        return {**template, "spec": {**template["spec"], "volumes": volumes}}

    def validate_spec(self, obj: Obj) -> list[Cause]:
        spec = obj.get("spec") or {}
        causes = super().validate_spec(obj)
        causes += _enum(spec, "podManagementPolicy", ["OrderedReady", "Parallel"], "spec")
        causes += _enum(spec.get("updateStrategy") or {}, "type", ["OnDelete", "RollingUpdate"], "spec.updateStrategy")
        return causes

    def validate_spec_update(self, new: Obj, old: Obj) -> list[Cause]:
        ns, os_ = dict(new.get("spec") or {}), dict(old.get("spec") or {})
        for key in self._UPDATABLE:
            ns.pop(key, None)
            os_.pop(key, None)
        if ns != os_:
            return [forbidden("spec", "updates to statefulset spec for fields other than 'replicas', "
                              "'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' "
                              "and 'minReadySeconds' are forbidden")]
        return []


@register("apps", "daemonsets")
class DaemonSetStrategy(_Replicated):
    kind_word = "daemonset"

    def default(self, obj: Obj) -> None:
        spec = _spec(obj)
        update = spec.setdefault("updateStrategy", {})
        update.setdefault("type", "RollingUpdate")
        if update["type"] == "RollingUpdate":
            rolling = update.setdefault("rollingUpdate", {})
            rolling.setdefault("maxUnavailable", 1)
            rolling.setdefault("maxSurge", 0)
        spec.setdefault("revisionHistoryLimit", 10)
        default_pod_template(spec.get("template"))

    def validate_spec(self, obj: Obj) -> list[Cause]:
        update = (obj.get("spec") or {}).get("updateStrategy") or {}
        return super().validate_spec(obj) + _enum(update, "type", ["OnDelete", "RollingUpdate"],
                                                  "spec.updateStrategy")


@register("", "podtemplates")
class PodTemplateStrategy(KindStrategy):
    bumps_generation = False

    def default(self, obj: Obj) -> None:
        default_pod_template(obj.get("template"))

    def validate_spec(self, obj: Obj) -> list[Cause]:
        return validate_template(obj.get("template"), "template")


@register("apps", "controllerrevisions")
class ControllerRevisionStrategy(KindStrategy):
    bumps_generation = False

    def validate_spec_update(self, new: Obj, old: Obj) -> list[Cause]:
        if new.get("data") != old.get("data"):
            return [immutable("data", new.get("data"))]
        return []
