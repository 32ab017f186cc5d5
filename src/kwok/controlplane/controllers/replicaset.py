"""ReplicaSet controller: keeps `spec.replicas` pods matching the selector, and the status.

Pods are found through the owner index (pods whose controller is this ReplicaSet); matching pods
without a controller are adopted and owned pods that no longer match are released, as
ControllerRefManager does. Creations and deletions are tracked as expectations so that a sync
does not act again before the informer has seen the previous round.

A sync reads the counts it needs from per-set tallies kept on pod events (replicaset_logic), and
matches only pods whose labels changed against the selector: a set of 10,000 pods is synced on
nearly every one of its pods' events, and a pass over all of them each time made scaling
quadratic. Lists of pods are built only to choose which to delete, or for minReadySeconds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, ClassVar

from kwok.api.selectors import LabelSelector, SelectorError, label_selector_from_object
from kwok.client import ApiError, object_key
from kwok.controlplane.controllers.base import Controller, controller_of
from kwok.controlplane.controllers.expectations import Expectations
from kwok.controlplane.controllers.pods import available_in, controller_ref, is_active, pod_from_template
from kwok.controlplane.controllers.replicaset_logic import (
    PodTallies,
    count_available,
    count_pods,
    create_count,
    decide_scale,
    slow_start_batches,
    status_changed,
    status_from_counts,
    template_labels_of,
)
from kwok.controlplane.mergediff import replace_patch

log = logging.getLogger("kwok.controlplane.controllers.replicaset")


class ReplicaSetController(Controller):
    name = "replicaset"
    component = "replicaset-controller"
    workers = 5
    group_version: ClassVar[str] = "apps/v1"
    plural: ClassVar[str] = "replicasets"
    kind: ClassVar[str] = "ReplicaSet"

    def setup(self) -> None:
        self.expectations = Expectations()
        self.tallies = PodTallies()
        self.sets = self.ctx.informer(self.group_version, self.plural)
        self.pods = self.ctx.informer("v1", "pods")
        self.owned = self.ctx.owner_index("v1", "pods")
        self.sets.add_handler(lambda kind, obj, old: self.enqueue(obj))
        self.pods.add_handler(self._on_pod)
        self.api = self.client.resource(self.group_version, self.plural)
        self.pod_api = self.client.resource("v1", "pods")
        self._create_errors: dict[str, str] = {}
        self._orphans: dict[str, set[str]] = {}  # namespace -> keys of active pods without a controller

    def _owner_ref(self, pod: dict[str, Any]) -> dict[str, Any] | None:
        ref = controller_of(pod)
        return ref if ref is not None and ref.get("kind") == self.kind else None

    def _track_orphan(self, kind: str, pod: dict[str, Any]) -> bool:
        ns, key = pod["metadata"].get("namespace", ""), object_key(pod)
        orphan = kind != "DELETED" and controller_of(pod) is None and is_active(pod)
        if orphan:
            self._orphans.setdefault(ns, set()).add(key)
        elif key in self._orphans.get(ns, ()):
            self._orphans[ns].discard(key)
        return orphan

    def _on_pod(self, kind: str, pod: dict[str, Any], old: dict[str, Any] | None) -> None:
        orphan = self._track_orphan(kind, pod)
        key, ref = object_key(pod), self._owner_ref(pod)
        self.tallies.on_event(kind, key, pod, ref.get("uid") if ref is not None else None)
        owner = f"{pod['metadata'].get('namespace')}/{ref['name']}" if ref is not None else None
        if owner is not None:
            if kind == "ADDED":
                self.expectations.created(owner)
            elif kind == "DELETED" or pod["metadata"].get("deletionTimestamp"):
                self.expectations.deleted(owner, key)
            self.queue.add(owner)
        if old is not None:
            old_ref = self._owner_ref(old)
            old_owner = f"{old['metadata'].get('namespace')}/{old_ref['name']}" if old_ref is not None else None
            if old_owner is not None and old_owner != owner:
                self.queue.add(old_owner)
        if orphan and (old is None or old["metadata"].get("labels") != pod["metadata"].get("labels")
                       or controller_of(old) is not None):
            self._enqueue_matching(pod)

    def _enqueue_matching(self, pod: dict[str, Any]) -> None:
        ns = pod["metadata"].get("namespace")
        labels = pod["metadata"].get("labels") or {}
        for key, rs in self.sets.store.items():
            if rs["metadata"].get("namespace") == ns:
                selector = _selector(rs)
                if selector is not None and not selector.empty and selector.matches(labels):
                    self.queue.add(key)

    async def sync(self, key: str) -> None:
        rs = self.sets.store.get(key)
        if rs is None:
            self.expectations.forget(key)
            return
        selector = _selector(rs)
        if selector is None or selector.empty:
            self.events.event(rs, "Warning", "SelectorInvalid", "invalid selector", kind=self.kind,
                              api_version=self.group_version)
            return
        claimed = await self._claim(rs, selector)
        uid, now = rs["metadata"]["uid"], self.ctx.now()
        counts = (self.tallies.counts(uid, template_labels_of(rs)) if claimed is None
                  else count_pods(claimed, template_labels_of(rs)))
        if self.expectations.satisfied(key, now) and not rs["metadata"].get("deletionTimestamp"):
            await self._manage(key, rs, counts.active, lambda: self._active(rs, selector, claimed))
        min_ready = int((rs.get("spec") or {}).get("minReadySeconds") or 0)
        active = self._active(rs, selector, claimed) if min_ready > 0 else []
        available = count_available(active, min_ready, now) if min_ready > 0 else counts.ready
        status = status_from_counts(rs, counts, available, now, self._create_errors.get(key))
        if status_changed(rs.get("status"), status):
            await self.api.patch(rs["metadata"]["name"], {"status": replace_patch(rs.get("status"), status)},
                                 namespace=rs["metadata"].get("namespace"), subresource="status")
        self._requeue_for_availability(key, min_ready, active, now)

    def _active(self, rs: dict[str, Any], selector: LabelSelector,
                claimed: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
        """The set's active pods, as a list (only scaling down and minReadySeconds need one)."""
        if claimed is not None:
            return [p for p in claimed if is_active(p)]
        return [p for p in self.owned.owned_by(rs["metadata"]["uid"])
                if is_active(p) and selector.matches(p["metadata"].get("labels") or {})]

    def _requeue_for_availability(self, key: str, min_ready: int, active: list[dict[str, Any]], now: float) -> None:
        waits = [w for w in (available_in(p, min_ready, now) for p in active) if w is not None]
        if waits:
            self.queue.add_after(key, min(waits) + 0.05)

    async def _claim(self, rs: dict[str, Any], selector: LabelSelector) -> list[dict[str, Any]] | None:
        """Release owned pods that no longer match and adopt matching orphans (ControllerRefManager).
        None when that changed nothing, so that the pods are exactly those the tally counts;
        otherwise the pods owned from now on."""
        uid, ns = rs["metadata"]["uid"], rs["metadata"].get("namespace")
        if rs["metadata"].get("deletionTimestamp"):
            return None
        released = await self._release_mismatched(uid, selector)
        adopted = []
        for key in list(self._orphans.get(ns, ())):
            orphan = self.pods.store.get(key)
            if orphan is None:
                continue
            meta = orphan["metadata"]
            if controller_of(orphan) is None and is_active(orphan) and selector.matches(meta.get("labels") or {}):
                pod = await self._adopt(rs, orphan)
                if pod is not None:
                    adopted.append(pod)
        if not released and not adopted:
            return None
        kept = [p for p in self.owned.owned_by(uid)
                if object_key(p) not in released and selector.matches(p["metadata"].get("labels") or {})]
        return kept + adopted

    async def _release_mismatched(self, uid: str, selector: LabelSelector) -> set[str]:
        """Only pods whose labels changed since the last sync are matched again: the selector of an
        apps/v1 ReplicaSet is immutable."""
        unchecked = self.tallies.take_unchecked(uid)
        released: set[str] = set()
        try:
            for key in unchecked:
                pod = self.pods.store.get(key)
                if pod is not None and not selector.matches(pod["metadata"].get("labels") or {}):
                    await self._release(pod, uid)
                    released.add(key)
        except BaseException:
            self.tallies.recheck(uid, unchecked - released)
            raise
        return released

    async def _adopt(self, rs: dict[str, Any], pod: dict[str, Any]) -> dict[str, Any] | None:
        refs = [r for r in pod["metadata"].get("ownerReferences") or () if not r.get("controller")]
        refs.append(controller_ref(rs, self.kind, self.group_version))
        patch = {"metadata": {"ownerReferences": refs, "uid": pod["metadata"]["uid"]}}
        try:
            return await self.pod_api.patch(pod["metadata"]["name"], patch, namespace=pod["metadata"].get("namespace"))
        except ApiError as err:
            if err.is_not_found or err.status == 422:
                return None
            raise

    async def _release(self, pod: dict[str, Any], uid: str) -> None:
        refs = [r for r in pod["metadata"].get("ownerReferences") or () if r.get("uid") != uid]
        patch = {"metadata": {"ownerReferences": refs or None, "uid": pod["metadata"]["uid"]}}
        try:
            await self.pod_api.patch(pod["metadata"]["name"], patch, namespace=pod["metadata"].get("namespace"))
        except ApiError as err:
            if not (err.is_not_found or err.status == 422):
                raise

    async def _manage(self, key: str, rs: dict[str, Any], active_count: int,
                      active: Callable[[], list[dict[str, Any]]]) -> None:
        replicas = int((rs.get("spec") or {}).get("replicas", 1))
        if active_count < replicas:
            count = create_count(replicas, active_count)
            self.expectations.expect(key, count, [], self.ctx.now())
            await self._create(key, rs, count)
            return
        if active_count == replicas:
            return
        decision = decide_scale(replicas, active())
        if decision.delete:
            self.expectations.expect(key, 0, [object_key(p) for p in decision.delete], self.ctx.now())
            await asyncio.gather(*(self._delete(key, rs, p) for p in decision.delete))

    async def _create(self, key: str, rs: dict[str, Any], count: int) -> None:
        template = (rs.get("spec") or {}).get("template") or {}
        pending = count
        for batch in slow_start_batches(count):
            results = await asyncio.gather(*(self._create_one(rs, template) for _ in range(batch)))
            pending -= batch
            failures = [r for r in results if r is not None]
            if failures:
                for _ in range(pending + len(failures)):
                    self.expectations.creation_failed(key)
                self._create_errors[key] = failures[0]
                return
        self._create_errors.pop(key, None)

    async def _create_one(self, rs: dict[str, Any], template: dict[str, Any]) -> str | None:
        pod = pod_from_template(template, rs, self.kind, self.group_version)
        ns = rs["metadata"].get("namespace")
        try:
            created = await self.pod_api.create(pod, ns)
        except ApiError as err:
            message = f"Error creating: {err.message}"
            self.events.event(rs, "Warning", "FailedCreate", message, kind=self.kind, api_version=self.group_version)
            return message
        self.events.event(rs, "Normal", "SuccessfulCreate", f"Created pod: {created['metadata']['name']}",
                          kind=self.kind, api_version=self.group_version)
        return None

    async def _delete(self, key: str, rs: dict[str, Any], pod: dict[str, Any]) -> None:
        name, ns = pod["metadata"]["name"], pod["metadata"].get("namespace")
        try:
            await self.pod_api.delete(name, ns, preconditions={"uid": pod["metadata"]["uid"]})
        except ApiError as err:
            self.expectations.deleted(key, object_key(pod))
            if err.is_not_found or err.is_conflict:
                return
            self.events.event(rs, "Warning", "FailedDelete", f"Error deleting: {err.message}",
                              kind=self.kind, api_version=self.group_version)
            raise
        self.events.event(rs, "Normal", "SuccessfulDelete", f"Deleted pod: {name}", kind=self.kind,
                          api_version=self.group_version)


def _selector(rs: dict[str, Any]) -> LabelSelector | None:
    try:
        return label_selector_from_object((rs.get("spec") or {}).get("selector"))
    except SelectorError:
        return None
