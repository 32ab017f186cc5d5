"""DefaultTolerationSeconds: pods tolerate a not-ready or unreachable node for 300 s before the
taint manager evicts them, unless they say otherwise."""

from __future__ import annotations

from kwok.apiserver.admission.common import is_pod_create, pod_spec
from kwok.apiserver.registry import AdmissionPlugin, AdmissionRequest, Lookup, Obj

NOT_READY = "node.kubernetes.io/not-ready"
UNREACHABLE = "node.kubernetes.io/unreachable"
DEFAULT_SECONDS = 300


def _tolerates(tolerations: list[Obj], key: str) -> bool:
    return any(t.get("key", "") in (key, "") and t.get("effect", "") in ("NoExecute", "")
               for t in tolerations)


def default_tolerations(spec: Obj, not_ready: int = DEFAULT_SECONDS, unreachable: int = DEFAULT_SECONDS) -> None:
    tolerations = spec.get("tolerations") or []
    added = [{"key": key, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": seconds}
             for key, seconds in ((NOT_READY, not_ready), (UNREACHABLE, unreachable))
             if not _tolerates(tolerations, key)]
    if added:
        spec["tolerations"] = tolerations + added


class DefaultTolerationSeconds(AdmissionPlugin):
    name = "DefaultTolerationSeconds"
    not_ready_seconds = DEFAULT_SECONDS      # kube-apiserver's --default-not-ready-toleration-seconds
    unreachable_seconds = DEFAULT_SECONDS    # and --default-unreachable-toleration-seconds

    def handles(self, req: AdmissionRequest) -> bool:
        return is_pod_create(req)

    async def admit(self, req: AdmissionRequest, lookup: Lookup) -> None:
        default_tolerations(pod_spec(req), self.not_ready_seconds, self.unreachable_seconds)
