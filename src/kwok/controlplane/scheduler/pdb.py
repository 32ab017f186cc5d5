"""PodDisruptionBudgets as preemption sees them: would evicting this pod violate one?

A pod is protected when a PDB in its namespace selects it and the PDB's `status.disruptionsAllowed`
is zero (the disruption controller computes it); preemption then prefers other victims.
"""

from __future__ import annotations

from typing import Any

from kwok.api.selectors import LabelSelector, SelectorError, label_selector_from_object
from kwok.controlplane.scheduler.podinfo import PodInfo


class DisruptionBudgets:
    def __init__(self) -> None:
        self._budgets: dict[str, tuple[str, LabelSelector, int]] = {}

    def on_event(self, kind: str, pdb: dict[str, Any], old: dict[str, Any] | None) -> None:
        meta = pdb["metadata"]
        key = f"{meta.get('namespace')}/{meta['name']}"
        if kind == "DELETED":
            self._budgets.pop(key, None)
            return
        try:
            selector = label_selector_from_object((pdb.get("spec") or {}).get("selector"))
        except SelectorError:
            return
        allowed = int((pdb.get("status") or {}).get("disruptionsAllowed") or 0)
        self._budgets[key] = (meta.get("namespace", ""), selector, allowed)

    def violated_by(self, pod: PodInfo) -> bool:
        for namespace, selector, allowed in self._budgets.values():
            if namespace == pod.namespace and allowed <= 0 and not selector.empty and selector.matches(pod.labels):
                return True
        return False
