"""Helpers the admission plugins share: refusals worded as admission.NewForbidden words them."""

from __future__ import annotations

from typing import Any

from kwok.api import errors
from kwok.apiserver.registry import AdmissionRequest

Obj = dict[str, Any]


def refuse(req: AdmissionRequest, message: str) -> errors.ApiError:
    """403 Forbidden for the request's object: `pods "x" is forbidden: <message>`."""
    return errors.forbidden(req.info.plural, req.name, message, req.info.group)


def is_pod_create(req: AdmissionRequest) -> bool:
    return (req.operation == "CREATE" and not req.subresource and req.info.group == ""
            and req.info.plural == "pods" and isinstance(req.obj, dict))


def pod_spec(req: AdmissionRequest) -> Obj:
    assert req.obj is not None
    spec = req.obj.setdefault("spec", {})
    assert isinstance(spec, dict)
    return spec


def is_mirror_pod(pod: Obj) -> bool:
    return "kubernetes.io/config.mirror" in ((pod.get("metadata") or {}).get("annotations") or {})
