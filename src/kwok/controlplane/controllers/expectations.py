"""Controller expectations: don't act again on an owner until the informer has seen the effect
of what was just done (the pods created or deleted), or a timeout passes.

Without this a controller that syncs before its own creations reach its cache creates them twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kwok.controlplane.controllers.base import controller_of

EXPECTATIONS_TIMEOUT = 300.0


@dataclass(slots=True)
class _Expectation:
    adds: int = 0
    deletes: set[str] = field(default_factory=set)
    since: float = 0.0


class Expectations:
    def __init__(self) -> None:
        self._by_owner: dict[str, _Expectation] = {}

    def expect(self, owner: str, adds: int, deletes: list[str], now: float) -> None:
        self._by_owner[owner] = _Expectation(adds, set(deletes), now)

    def created(self, owner: str) -> None:
        exp = self._by_owner.get(owner)
        if exp is not None and exp.adds > 0:
            exp.adds -= 1

    def creation_failed(self, owner: str) -> None:
        self.created(owner)

    def deleted(self, owner: str, pod_key: str) -> None:
        exp = self._by_owner.get(owner)
        if exp is not None:
            exp.deletes.discard(pod_key)

    def satisfied(self, owner: str, now: float) -> bool:
        exp = self._by_owner.get(owner)
        if exp is None:
            return True
        if (exp.adds <= 0 and not exp.deletes) or now - exp.since > EXPECTATIONS_TIMEOUT:
            del self._by_owner[owner]
            return True
        return False

    def observe_pod(self, owner_kind: str, event: str, pod: dict[str, Any]) -> str | None:
        """Count a pod event against its controlling owner of `owner_kind`; the owner's key, or
        None when the pod has no such controller."""
        ref = controller_of(pod)
        if ref is None or ref.get("kind") != owner_kind:
            return None
        namespace = pod["metadata"].get("namespace")
        owner = f"{namespace}/{ref['name']}"
        if event == "ADDED":
            self.created(owner)
        elif event == "DELETED" or pod["metadata"].get("deletionTimestamp"):
            self.deleted(owner, f"{namespace}/{pod['metadata']['name']}")
        return owner

    def forget(self, owner: str) -> None:
        self._by_owner.pop(owner, None)
