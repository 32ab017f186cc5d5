"""Disruption controller: PodDisruptionBudget status (healthy pods, how many may be disrupted),
which the eviction API and the scheduler's preemption read."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from kwok.api.selectors import SelectorError, label_selector_from_object
from kwok.client import ApiError
from kwok.controlplane.controllers.base import Controller, controller_of
from kwok.controlplane.controllers.pods import is_ready
from kwok.controlplane.mergediff import merge_diff
from kwok.controlplane.timefmt import parse_time, rfc3339

DELETION_TIMEOUT = 120.0  # an evicted pod is expected to be deleted within this


def _resolve(value: Any, total: int) -> int:
    text = str(value)
    if text.endswith("%"):
        return math.ceil(int(text[:-1]) * total / 100)
    return int(text)


class NoController(Exception):
    """A selected pod's controller has no known scale (getExpectedScale)."""


Scales = Mapping[str, tuple[str, int]]  # a pod's controller uid -> (uid of the scaled owner, its replicas)


def expected_scale(pods: list[dict[str, Any]], scales: Scales) -> tuple[int, list[str]]:
    """The sum of the scales of the pods' controllers, each counted once (a Deployment's, not
    each of its ReplicaSets'), and the pods with no controller, which a percentage or
    maxUnavailable cannot account for."""
    counted: dict[str, int] = {}
    unmanaged = []
    for pod in pods:
        ref = controller_of(pod)
        if ref is None:
            unmanaged.append(pod["metadata"]["name"])
            continue
        uid = ref.get("uid") or ""
        if uid not in scales:
            raise NoController(f'found no controllers for pod "{pod["metadata"]["name"]}"')
        owner, scale = scales[uid]
        counted[owner] = scale
    return sum(counted.values()), unmanaged


def expected_and_desired(pdb: dict[str, Any], pods: list[dict[str, Any]], scales: Scales) -> tuple[int, int]:
    """getExpectedPodCount: an integer minAvailable counts the pods found; maxUnavailable and a
    percentage count the scale of their controllers, so a missing pod counts as unavailable."""
    spec = pdb.get("spec") or {}
    if spec.get("maxUnavailable") is not None:
        expected, _ = expected_scale(pods, scales)
        return expected, max(expected - _resolve(spec["maxUnavailable"], expected), 0)
    min_available = spec.get("minAvailable")
    if isinstance(min_available, int) or (isinstance(min_available, str) and not min_available.endswith("%")):
        return len(pods), int(min_available)
    if min_available is not None:
        expected, _ = expected_scale(pods, scales)
        return expected, _resolve(min_available, expected)
    return 0, 0


def _condition(old: dict[str, Any], allowed: bool, reason: str, message: str, generation: int,
               now: float) -> dict[str, Any]:
    """The DisruptionAllowed condition; its transition time moves only when its status does."""
    current = next((c for c in old.get("conditions") or () if c.get("type") == "DisruptionAllowed"), None)
    status = "True" if allowed else "False"
    since = current.get("lastTransitionTime") if current and current.get("status") == status else rfc3339(now)
    return {"type": "DisruptionAllowed", "status": status, "reason": reason, "message": message,
            "observedGeneration": generation, "lastTransitionTime": since}


def disrupted_pods(pdb: dict[str, Any], pods: list[dict[str, Any]], now: float) -> tuple[dict[str, str], float | None]:
    """The evictions the API server recorded that still await their pod's deletion, and when the
    earliest of them expires (buildDisruptedPodMap): an evicted pod not deleted within two
    minutes counts again."""
    recorded = (pdb.get("status") or {}).get("disruptedPods") or {}
    kept: dict[str, str] = {}
    recheck: float | None = None
    for pod in pods:
        name = pod["metadata"]["name"]
        if pod["metadata"].get("deletionTimestamp") or name not in recorded:
            continue
        expires = parse_time(recorded[name]) + DELETION_TIMEOUT
        if expires > now:
            kept[name] = recorded[name]
            recheck = expires if recheck is None else min(recheck, expires)
    return kept, recheck


def pdb_status(pdb: dict[str, Any], pods: list[dict[str, Any]], now: float,
               scales: Scales | None = None) -> dict[str, Any]:
    """The status for the selected pods, `scales` giving their controllers' replicas; pods being
    deleted or evicted moments ago are not healthy. Raises NoController when a pod's controller
    is not among them and the budget needs it."""
    old = pdb.get("status") or {}
    expected, desired = expected_and_desired(pdb, pods, scales or {})
    disrupted, _ = disrupted_pods(pdb, pods, now)
    healthy = sum(1 for p in pods if is_ready(p) and not p["metadata"].get("deletionTimestamp")
                  and p["metadata"]["name"] not in disrupted)
    allowed = healthy - desired if expected > 0 and healthy > desired else 0
    generation = pdb["metadata"].get("generation", 0)
    reason = "SufficientPods" if allowed > 0 else "InsufficientPods"
    status = {"observedGeneration": generation, "disruptionsAllowed": allowed, "currentHealthy": healthy,
              "desiredHealthy": desired, "expectedPods": expected,
              "conditions": [_condition(old, allowed > 0, reason, "", generation, now)]}
    if disrupted:
        status["disruptedPods"] = disrupted
    return status


def fail_safe_status(pdb: dict[str, Any], message: str, now: float) -> dict[str, Any]:
    """No disruption allowed while the budget cannot be computed (failSafe)."""
    old = pdb.get("status") or {}
    generation = int(old.get("observedGeneration") or 0)
    return {**old, "disruptionsAllowed": 0,
            "conditions": [_condition(old, False, "SyncFailed", message, generation, now)]}


KIND, API_VERSION = "PodDisruptionBudget", "policy/v1"


class DisruptionController(Controller):
    name = "disruption"
    component = "controllermanager"

    def setup(self) -> None:
        self.budgets = self.ctx.informer("policy/v1", "poddisruptionbudgets")
        self.pods = self.ctx.informer("v1", "pods")
        self.budgets.add_handler(lambda kind, obj, old: self.enqueue(obj))
        self.pods.add_handler(self._on_pod)
        self.api = self.client.resource("policy/v1", "poddisruptionbudgets")
        self.replicasets = self.ctx.informer("apps/v1", "replicasets")
        self.deployments = self.ctx.informer("apps/v1", "deployments")
        self.statefulsets = self.ctx.informer("apps/v1", "statefulsets")

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
        # policy/v1: an empty selector selects every pod of the namespace, a missing one none
        pods = [p for p in self.pods.store.values() if p["metadata"].get("namespace") == ns
                and selector.matches(p["metadata"].get("labels") or {})]
        if not pods:
            self.events.event(pdb, "Normal", "NoPods", "No matching pods found", kind=KIND, api_version=API_VERSION)
        now = self.ctx.now()
        try:
            status = pdb_status(pdb, pods, now, await self._scales(ns, pods))
        except NoController as err:
            self.events.event(pdb, "Warning", "CalculateExpectedPodCountFailed",
                              f"Failed to calculate the number of expected pods: {err}", kind=KIND,
                              api_version=API_VERSION)
            status = fail_safe_status(pdb, str(err), now)
        _, recheck = disrupted_pods(pdb, pods, now)
        if recheck is not None:
            self.queue.add_after(key, recheck - now)
        patch = merge_diff(pdb.get("status"), status)
        if patch and set(patch) != {"conditions"} or (patch.get("conditions") and
                                                       _condition_changed(pdb.get("status"), status)):
            # against the version read: the eviction API may have just spent a disruption
            body = {"metadata": {"resourceVersion": pdb["metadata"].get("resourceVersion")}, "status": patch}
            await self.api.patch(pdb["metadata"]["name"], body, namespace=ns, subresource="status")

    async def _scales(self, ns: str, pods: list[dict[str, Any]]) -> dict[str, tuple[str, int]]:
        """The scale behind each controller of the pods (the finders of the disruption controller)."""
        found: dict[str, tuple[str, int]] = {}
        for pod in pods:
            ref = controller_of(pod)
            if ref is not None and ref.get("uid") not in found:
                scale = await self._scale_of(ns, ref)
                if scale is not None:
                    found[ref["uid"]] = scale
        return found

    async def _scale_of(self, ns: str, ref: dict[str, Any]) -> tuple[str, int] | None:
        kind, group = ref.get("kind"), (ref.get("apiVersion") or "").split("/")[0]
        if (kind, group) == ("ReplicaSet", "apps"):
            rs = self._owned(self.replicasets, ns, ref)
            owner = controller_of(rs) if rs is not None else None
            if owner is not None and owner.get("kind") == "Deployment":
                rs = self._owned(self.deployments, ns, owner)
            return _replicas(rs)
        if (kind, group) == ("StatefulSet", "apps"):
            return _replicas(self._owned(self.statefulsets, ns, ref))
        if (kind, ref.get("apiVersion")) == ("ReplicationController", "v1"):
            try:
                return _replicas(await self.client.resource("v1", "replicationcontrollers").get(ref["name"], ns))
            except ApiError as err:
                if not err.is_not_found:
                    raise
        return None

    @staticmethod
    def _owned(informer: Any, ns: str, ref: dict[str, Any]) -> dict[str, Any] | None:
        obj = informer.store.get(f"{ns}/{ref.get('name')}")
        return obj if obj is not None and obj["metadata"].get("uid") == ref.get("uid") else None


def _replicas(obj: dict[str, Any] | None) -> tuple[str, int] | None:
    if obj is None:
        return None
    replicas = (obj.get("spec") or {}).get("replicas")
    return obj["metadata"]["uid"], 1 if replicas is None else int(replicas)


def _condition_changed(old: dict[str, Any] | None, new: dict[str, Any]) -> bool:
    def key(status: dict[str, Any] | None) -> list[tuple[Any, ...]]:
        return [(c.get("type"), c.get("status"), c.get("reason"), c.get("message"))
                for c in (status or {}).get("conditions") or ()]
    return key(old) != key(new)
