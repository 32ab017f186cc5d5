"""AdmissionReview: the request a webhook receives (also CEL's `request`) and checks of its answer.

The shape follows admission.k8s.io/v1 (v1beta1 is the same on the wire apart from apiVersion).
`kind`/`resource` name the version the webhook's rule matched (under matchPolicy Equivalent the
object is converted to it); `requestKind`/`requestResource` name what the client sent.
"""

from __future__ import annotations

from typing import Any

from kwok.api.schema import get_schema
from kwok.apiserver.admission.matching import Target, request_target
from kwok.apiserver.registry import AdmissionRequest

Obj = dict[str, Any]
SUPPORTED_VERSIONS = ("v1", "v1beta1")
_OPTIONS_KIND = {"CREATE": "CreateOptions", "UPDATE": "UpdateOptions", "DELETE": "DeleteOptions"}


class InvalidResponse(ValueError):
    """A webhook answer the server cannot use (reported as `received invalid webhook response`)."""


def review_version(accepted: list[str]) -> str | None:
    """The first AdmissionReview version the webhook accepts that the server speaks."""
    return next((v for v in accepted if v in SUPPORTED_VERSIONS), None)


def request_body(req: AdmissionRequest, target: Target, uid: str, obj: Obj | None, old: Obj | None) -> Obj:
    """The `request` of an AdmissionReview (and CEL's `request` variable)."""
    own = request_target(req)
    kind, sub_kind = _kinds(req, target), _kinds(req, own)
    obj, old = _typed(obj, target), _typed(old, target)
    body: Obj = {
        "uid": uid,
        "kind": kind,
        "resource": {"group": target.group, "version": target.version, "resource": target.resource},
        "requestKind": sub_kind,
        "requestResource": {"group": own.group, "version": own.version, "resource": own.resource},
        "name": req.name,
        "namespace": _namespace(req),
        "operation": req.operation,
        "userInfo": _user_info(req),
        "object": obj,
        "oldObject": old,
        "dryRun": req.ctx.dry_run,
        "options": _options(req),
    }
    if req.subresource:
        body["subResource"] = body["requestSubResource"] = req.subresource
    return body


def _namespace(req: AdmissionRequest) -> str:
    # the URL /api/v1/namespaces/<name> names a namespace: the real server's request attributes
    # carry it as the namespace too (all but a create, whose URL has no name)
    if req.info.group == "" and req.info.plural == "namespaces" and req.operation != "CREATE":
        return req.name
    return req.namespace or ""


def _typed(obj: Obj | None, target: Target) -> Obj | None:
    """The object with its apiVersion and kind, as the server always sends it."""
    if obj is None or (obj.get("apiVersion") and obj.get("kind")):
        return obj
    group_version = f"{target.group}/{target.version}" if target.group else target.version
    return {"apiVersion": group_version, "kind": target.kind, **obj}


def _kinds(req: AdmissionRequest, target: Target) -> Obj:
    """The kind of what is sent: a subresource may have its own (Scale, Binding, Eviction)."""
    if req.subresource:
        sub = get_schema().subresource(target.group, target.version, target.resource, req.subresource)
        if sub is not None and sub.kind:
            return {"group": sub.group, "version": sub.version, "kind": sub.kind}
        if req.subresource == "scale":      # a custom resource's scale subresource
            return {"group": "autoscaling", "version": "v1", "kind": "Scale"}
    return {"group": target.group, "version": target.version, "kind": target.kind}


def _user_info(req: AdmissionRequest) -> Obj:
    info: Obj = {"username": req.ctx.user}
    if req.ctx.groups:
        info["groups"] = list(req.ctx.groups)
    return info


def _options(req: AdmissionRequest) -> Obj | None:
    kind = _OPTIONS_KIND.get(req.operation)
    if kind is None:
        return None
    options: Obj = {"kind": kind, "apiVersion": "meta.k8s.io/v1"}
    options.update({k: v for k, v in req.options.items() if k not in ("kind", "apiVersion")})
    if req.ctx.field_manager and req.operation != "DELETE":
        options.setdefault("fieldManager", req.ctx.field_manager)
    if req.ctx.dry_run:
        options.setdefault("dryRun", ["All"])
    return options


def review(version: str, request: Obj) -> Obj:
    return {"kind": "AdmissionReview", "apiVersion": f"admission.k8s.io/{version}", "request": request}


def verify_response(version: str, uid: str, answer: Any, mutating: bool) -> Obj:
    """The `response` of a webhook's AdmissionReview, checked as VerifyAdmissionResponse does."""
    if not isinstance(answer, dict):
        raise InvalidResponse("response is not an AdmissionReview object")
    response = answer.get("response")
    if not isinstance(response, dict):
        raise InvalidResponse("webhook response was absent")
    if response.get("uid") != uid:
        raise InvalidResponse(f'expected response.uid="{uid}", got "{response.get("uid", "")}"')
    if version == "v1":
        _check_v1(answer, response, mutating)
    elif response.get("patchType") not in (None, "", "JSONPatch"):
        raise InvalidResponse(f'webhook returned invalid response.patchType of "{response["patchType"]}"')
    return response


def _check_v1(answer: Obj, response: Obj, mutating: bool) -> None:
    api_version, kind = answer.get("apiVersion", ""), answer.get("kind", "")
    if api_version != "admission.k8s.io/v1" or kind != "AdmissionReview":
        raise InvalidResponse(f"expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, "
                              f"got {api_version}, Kind={kind}")
    patch, patch_type = response.get("patch"), response.get("patchType")
    if mutating and patch and not patch_type:
        raise InvalidResponse("webhook returned response.patch but not response.patchType")
    if mutating and patch_type and not patch:
        raise InvalidResponse("webhook returned response.patchType but not response.patch")
    if not mutating and patch:
        raise InvalidResponse("validating webhook may not return response.patch")
    if not mutating and patch_type:
        raise InvalidResponse("validating webhook may not return response.patchType")
    if patch_type not in (None, "", "JSONPatch"):
        raise InvalidResponse(f'webhook returned invalid response.patchType of "{patch_type}"')
