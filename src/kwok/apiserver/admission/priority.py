"""Priority: a pod's priority comes from its PriorityClass (or the global default, else 0), and at
most one PriorityClass may be the global default."""

from __future__ import annotations

from kwok.apiserver.admission.common import is_pod_create, pod_spec, refuse
from kwok.apiserver.registry import AdmissionPlugin, AdmissionRequest, Lookup, Obj

GROUP = "scheduling.k8s.io"
SYSTEM_CLASSES: dict[str, Obj] = {
    name: {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": name},
           "value": value, "preemptionPolicy": "PreemptLowerPriority", "description": description}
    for name, value, description in (
        ("system-node-critical", 2000001000, "Used for system critical pods that must not be moved from their "
                                             "current node."),
        ("system-cluster-critical", 2000000000, "Used for system critical pods that must run in the cluster, "
                                                "but can be moved to another node if necessary."),
    )
}


async def _global_default(lookup: Lookup) -> Obj | None:
    defaults = [pc for pc in await lookup.list(GROUP, "priorityclasses", None) if pc.get("globalDefault")]
    # Should two ever exist (created concurrently), the lowest value wins, as in the real plugin.
    return min(defaults, key=lambda pc: pc.get("value", 0), default=None)


class Priority(AdmissionPlugin):
    name = "Priority"

    def __init__(self) -> None:
        # The global default, read once and forgotten on any PriorityClass write (every pod
        # create needs it; listing and decoding the classes each time is measurable at scale).
        self._default: Obj | None = None
        self._default_known = False
        self._following = False

    def _forget(self) -> None:
        self._default_known = False

    async def _cached_default(self, lookup: Lookup) -> Obj | None:
        if not self._following:
            self._following = lookup.follow(GROUP, "priorityclasses", self._forget)
            if not self._following:
                return await _global_default(lookup)
        if not self._default_known:
            self._default, self._default_known = await _global_default(lookup), True
        return self._default

    def handles(self, req: AdmissionRequest) -> bool:
        if is_pod_create(req):
            return True
        return (req.info.group == GROUP and req.info.plural == "priorityclasses"
                and req.operation in ("CREATE", "UPDATE"))

    async def admit(self, req: AdmissionRequest, lookup: Lookup) -> None:
        if req.info.plural != "pods":
            return
        spec = pod_spec(req)
        class_name = spec.get("priorityClassName", "")
        if class_name:
            pc = await lookup.get(GROUP, "priorityclasses", None, class_name) or SYSTEM_CLASSES.get(class_name)
            if pc is None:
                raise refuse(req, f"no PriorityClass with name {class_name} was found")
        else:
            pc = await self._cached_default(lookup)
            if pc is not None:
                spec["priorityClassName"] = (pc.get("metadata") or {}).get("name", "")
        value = int(pc.get("value", 0)) if pc else 0
        if spec.get("priority") is not None and spec["priority"] != value:
            raise refuse(req, f"the integer value of priority ({spec['priority']}) must not be provided in pod "
                              f"spec; priority admission controller computed {value} from the given "
                              "PriorityClass name")
        spec["priority"] = value
        policy = (pc or {}).get("preemptionPolicy") or "PreemptLowerPriority"
        if spec.get("preemptionPolicy") not in (None, policy):
            raise refuse(req, f"the string value of PreemptionPolicy ({spec['preemptionPolicy']}) must not be "
                              f"provided in pod spec; priority admission controller computed {policy} from the "
                              "given PriorityClass name")
        spec["preemptionPolicy"] = policy

    async def validate(self, req: AdmissionRequest, lookup: Lookup) -> None:
        if req.info.plural != "priorityclasses" or not (req.obj or {}).get("globalDefault"):
            return
        current = await _global_default(lookup)
        name = (current or {}).get("metadata", {}).get("name")
        if current is not None and name != req.name:
            raise refuse(req, f"PriorityClass {name} is already marked as default. Only one default can exist")
