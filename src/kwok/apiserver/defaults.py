"""Scheme defaulting of the core/v1 types that many kinds embed (pkg/apis/core/v1/defaults.go).

The real server defaults every object it decodes, so a stored Pod, and every pod template inside a
Deployment, Job, ..., carries these values whether or not the client wrote them. Pods get a few
more (requests from limits, pod-level requests, enableServiceLinks) than templates: `default_pod` vs
`default_pod_spec`.
"""

from __future__ import annotations

from typing import Any

from kwok.api import podresources
from kwok.api.quantity import QuantityError

Obj = dict[str, Any]

_PROBE_DEFAULTS = {"timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3}
_MODE_DEFAULT = 0o644   # 420: secret, configMap, projected and downwardAPI volumes


def image_pull_policy(image: str) -> str:
    """Always for `:latest` or an untagged image, else IfNotPresent (a digest counts as a tag)."""
    if "@" in image:
        return "IfNotPresent"
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return "Always"
    return "Always" if last.rsplit(":", 1)[1] == "latest" else "IfNotPresent"


def default_container(c: Obj) -> None:
    c.setdefault("terminationMessagePath", "/dev/termination-log")
    c.setdefault("terminationMessagePolicy", "File")
    if "imagePullPolicy" not in c and c.get("image"):
        c["imagePullPolicy"] = image_pull_policy(c["image"])
    c.setdefault("resources", {})
    for port in c.get("ports") or []:
        port.setdefault("protocol", "TCP")
    for env in c.get("env") or []:
        field_ref = (env.get("valueFrom") or {}).get("fieldRef")
        if field_ref is not None:
            field_ref.setdefault("apiVersion", "v1")
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        if isinstance(c.get(probe), dict):
            _default_probe(c[probe])
    for hook in ("postStart", "preStop"):
        handler = (c.get("lifecycle") or {}).get(hook)
        if isinstance(handler, dict) and isinstance(handler.get("httpGet"), dict):
            _default_http_get(handler["httpGet"])


def _default_probe(probe: Obj) -> None:
    for key, value in _PROBE_DEFAULTS.items():
        probe.setdefault(key, value)
    if isinstance(probe.get("httpGet"), dict):
        _default_http_get(probe["httpGet"])
    if isinstance(probe.get("grpc"), dict):
        probe["grpc"].setdefault("service", "")


def _default_http_get(action: Obj) -> None:
    action.setdefault("path", "/")
    action.setdefault("scheme", "HTTP")


def default_volume(v: Obj) -> None:
    sources = set(v) - {"name"}
    if not sources:
        v["emptyDir"] = {}
    for kind in ("secret", "configMap", "projected", "downwardAPI"):
        if isinstance(v.get(kind), dict):
            v[kind].setdefault("defaultMode", _MODE_DEFAULT)
    if isinstance(v.get("hostPath"), dict):
        v["hostPath"].setdefault("type", "")
    if isinstance(v.get("iscsi"), dict):
        v["iscsi"].setdefault("iscsiInterface", "default")
    if isinstance(v.get("rbd"), dict):
        v["rbd"].setdefault("pool", "rbd")
        v["rbd"].setdefault("user", "admin")
        v["rbd"].setdefault("keyring", "/etc/ceph/keyring")


def default_pod_spec(spec: Obj) -> None:
    """SetDefaults_PodSpec and the nested container/volume defaults (pods and pod templates)."""
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    for key in ("containers", "initContainers"):
        for c in spec.get(key) or []:
            if isinstance(c, dict):
                default_container(c)
                if spec.get("hostNetwork"):
                    for port in c.get("ports") or []:
                        port.setdefault("hostPort", port.get("containerPort"))
    for v in spec.get("volumes") or []:
        if isinstance(v, dict):
            default_volume(v)


def default_pod_template(template: Any) -> None:
    if isinstance(template, dict) and isinstance(template.get("spec"), dict):
        default_pod_spec(template["spec"])


def default_pod(pod: Obj) -> None:
    """SetDefaults_Pod: the pod spec defaults plus requests copied from limits, service links on."""
    spec = pod.setdefault("spec", {})
    if not isinstance(spec, dict):
        return
    default_pod_spec(spec)
    spec.setdefault("enableServiceLinks", True)
    for key in ("containers", "initContainers"):
        for c in spec.get(key) or []:
            if isinstance(c, dict) and isinstance(c.get("resources"), dict):
                _requests_from_limits(c["resources"])
    _pod_level_requests(spec)


def _requests_from_limits(resources: Obj) -> None:
    limits = resources.get("limits") or {}
    if not limits:
        return
    requests = resources.setdefault("requests", {})
    for name, quantity in limits.items():
        requests.setdefault(name, quantity)


def _pod_level_requests(spec: Obj) -> None:
    """defaultPodRequests (PodLevelResources, on by default since 1.34), after the containers'
    defaults: a pod with pod-level limits gets the pod-level requests it leaves out: for cpu and
    memory the containers' effective total (sidecars and init containers counted as the scheduler
    counts them) where any container requests it, otherwise the pod-level limit."""
    resources = spec.get("resources")
    if not isinstance(resources, dict) or not isinstance(resources.get("limits"), dict) or not resources["limits"]:
        return
    requests = resources.get("requests")
    if requests is not None and not isinstance(requests, dict):
        return      # validation reports it
    limits = resources["limits"]
    try:
        wanted = podresources.pod_level_requests({"spec": spec}, podresources.QUANTITY)
    except (QuantityError, TypeError, AttributeError):
        return      # a malformed quantity: validation reports it, with its path
    filled = dict(requests or {})
    for name, amount in wanted.items():
        if name not in filled:
            # a limit copied as written (as container requests are), a total in canonical form
            from_limit = name in limits and podresources.parse_quantity_value(limits[name]) == amount
            filled[name] = limits[name] if from_limit else str(amount)
    if filled:
        resources["requests"] = filled
