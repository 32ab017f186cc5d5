"""ServiceAccount: every pod runs as a service account (`default` unless named), which must exist;
the account's imagePullSecrets are copied to a pod that has none. No token volume is projected:
simulated containers never read it."""

from __future__ import annotations

from kwok.apiserver.admission.common import is_mirror_pod, is_pod_create, pod_spec, refuse
from kwok.apiserver.registry import AdmissionPlugin, AdmissionRequest, Lookup

DEFAULT = "default"


class ServiceAccount(AdmissionPlugin):
    name = "ServiceAccount"

    def __init__(self, require_default: bool = False) -> None:
        # The real plugin also refuses pods while the namespace's `default` account is still missing
        # (the service-account controller creates it moments after the namespace). Without that
        # controller running every pod would be refused, so this is opt-in.
        self.require_default = require_default

    def handles(self, req: AdmissionRequest) -> bool:
        return is_pod_create(req) and req.obj is not None and not is_mirror_pod(req.obj)

    async def admit(self, req: AdmissionRequest, lookup: Lookup) -> None:
        spec = pod_spec(req)
        name = spec.get("serviceAccountName") or spec.get("serviceAccount") or DEFAULT
        spec["serviceAccountName"] = name
        spec["serviceAccount"] = name   # the deprecated mirror field, kept equal
        account = await lookup.get("", "serviceaccounts", req.namespace, name)
        if account is None:
            if name == DEFAULT and not self.require_default:
                return
            raise refuse(req, f"error looking up service account {req.namespace}/{name}: "
                              f'serviceaccount "{name}" not found')
        if not spec.get("imagePullSecrets") and account.get("imagePullSecrets"):
            spec["imagePullSecrets"] = [{"name": s.get("name", "")} for s in account["imagePullSecrets"]]
