"""Disruption controller: PodDisruptionBudget status (healthy pods, how many may be disrupted),
which the eviction API and the scheduler's preemption read."""

from __future__ import annotations

import math
from typing import Any

from kwok.api.selectors import SelectorError, label_selector_from_object
from kwok.controlplane.controllers.base import Controller
from kwok.controlplane.controllers.pods import is_ready, is_terminal
from kwok.controlplane.mergediff import merge_diff
from kwok.controlplane.timefmt import rfc3339


def _resolve(value: Any, total: int) -> int:
    text = str(value)
    if text.endswith("%"):
        return math.ceil(int(text[:-1]) * total / 100)
    return int(text)


def pdb_status(pdb: dict[str, Any], pods: list[dict[str, Any]], now: float) -> dict[str, Any]:
    spec, old = pdb.get("spec") or {}, pdb.get("status") or {}
    expected = len(pods)
    healthy = sum(1 for p in pods if is_ready(p))
    if spec.get("maxUnavailable") is not None:
        desired = max(expected - _resolve(spec["maxUnavailable"], expected), 0)
    elif spec.get("minAvailable") is not None:
        desired = _resolve(spec["minAvailable"], expected)
    else:
        desired = expected
    allowed = max(healthy - desired, 0)
    reason, message = ("SufficientPods", "") if allowed > 0 else ("InsufficientPods", "")
    current = next((c for c in old.get("conditions") or () if c.get("type") == "DisruptionAllowed"), None)
    status_value = "True" if allowed > 0 else "False"
    since = current.get("lastTransitionTime") if current and current.get("status") == status_value else rfc3339(now)
    return {"observedGeneration": pdb["metadata"].get("generation", 0), "disruptionsAllowed": allowed,
            "currentHealthy": healthy, "desiredHealthy": desired, "expectedPods": expected,
            "conditions": [{"type": "DisruptionAllowed", "status": status_value, "reason": reason, "message": message,
                            "observedGeneration": pdb["metadata"].get("generation", 0), "lastTransitionTime": since}]}


class DisruptionController(Controller):
    name = "disruption"
    component = "controllermanager"

    def setup(self) -> None:
        self.budgets = self.ctx.informer("policy/v1", "poddisruptionbudgets")
        self.pods = self.ctx.informer("v1", "pods")
        self.budgets.add_handler(lambda kind, obj, old: self.enqueue(obj))
        self.pods.add_handler(self._on_pod)
        self.api = self.client.resource("policy/v1", "poddisruptionbudgets")

    def _on_pod(self, kind: str, pod: dict[str, Any], old: dict[str, Any] | None) -> None:
        ns = pod["metadata"].get("namespace")
        for key, pdb in self.budgets.store.items():
            if pdb["metadata"].get("namespace") == ns:
                self.queue.add(key)

    async def sync(self, key: str) -> None:
        pdb = self.budgets.store.get(key)
        if pdb is None:
            return
        try:
            selector = label_selector_from_object((pdb.get("spec") or {}).get("selector"))
        except SelectorError:
            return
        ns = pdb["metadata"].get("namespace")
        pods = [p for p in self.pods.store.values() if p["metadata"].get("namespace") == ns and not is_terminal(p)
                and not p["metadata"].get("deletionTimestamp") and not selector.empty
                and selector.matches(p["metadata"].get("labels") or {})]
        status = pdb_status(pdb, pods, self.ctx.now())
        patch = merge_diff(pdb.get("status"), status)
        if patch and set(patch) != {"conditions"} or (patch.get("conditions") and
                                                       _condition_changed(pdb.get("status"), status)):
            await self.api.patch(pdb["metadata"]["name"], {"status": patch}, namespace=ns, subresource="status")


def _condition_changed(old: dict[str, Any] | None, new: dict[str, Any]) -> bool:
    def key(status: dict[str, Any] | None) -> list[tuple[Any, ...]]:
        return [(c.get("type"), c.get("status"), c.get("reason")) for c in (status or {}).get("conditions") or ()]
    return key(old) != key(new)
