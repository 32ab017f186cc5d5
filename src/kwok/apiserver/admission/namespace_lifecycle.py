"""NamespaceLifecycle: objects live only in existing namespaces, nothing new enters a terminating
one, and the four system namespaces can never be deleted."""

from __future__ import annotations

from kwok.api import errors
from kwok.apiserver.admission.common import refuse
from kwok.apiserver.registry import AdmissionPlugin, AdmissionRequest, Lookup

IMMORTAL = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})
# Reviews are evaluated, never stored: they may name any namespace.
_EXEMPT = frozenset({"localsubjectaccessreviews", "subjectaccessreviews", "selfsubjectaccessreviews",
                     "tokenreviews", "selfsubjectrulesreviews"})


class NamespaceLifecycle(AdmissionPlugin):
    name = "NamespaceLifecycle"

    def handles(self, req: AdmissionRequest) -> bool:
        if req.operation == "CONNECT":         # as upstream: creates, updates and deletes only
            return False
        if req.info.group == "" and req.info.plural == "namespaces":
            return req.operation == "DELETE"
        return bool(req.namespace) and req.info.namespaced and req.info.plural not in _EXEMPT

    async def validate(self, req: AdmissionRequest, lookup: Lookup) -> None:
        if req.info.plural == "namespaces":
            if req.name in IMMORTAL:
                raise refuse(req, "this namespace may not be deleted")
            return
        if req.operation == "DELETE":
            return
        namespace = await lookup.get("", "namespaces", None, req.namespace or "")
        if namespace is None:
            raise errors.not_found("namespaces", req.namespace or "")
        if req.operation != "CREATE" or (namespace.get("status") or {}).get("phase") != "Terminating":
            return
        err = refuse(req, f"unable to create new content in namespace {req.namespace} because it is being terminated")
        err.status.setdefault("details", {})["causes"] = [{
            "reason": "NamespaceTerminating", "message": f"namespace {req.namespace} is being terminated",
            "field": "metadata.namespace"}]
        raise err
