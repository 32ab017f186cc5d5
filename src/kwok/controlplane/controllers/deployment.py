"""Deployment controller: rolls ReplicaSets forward (RollingUpdate or Recreate), scales them
proportionally, keeps the revision history, and writes the status `kubectl rollout status` reads.

Each sync takes one step with the decisions of deployment_logic; the ReplicaSet and pod events
that step causes bring the next sync.
"""

from __future__ import annotations

import logging
from typing import Any

from kwok.api.selectors import SelectorError, label_selector_from_object
from kwok.client import ApiError
from kwok.controlplane.controllers import deployment_logic as logic
from kwok.controlplane.controllers.base import Controller, controller_of
from kwok.controlplane.controllers.pods import controller_ref, is_terminal
from kwok.controlplane.mergediff import replace_patch
from kwok.controlplane.timefmt import parse_time

log = logging.getLogger("kwok.controlplane.controllers.deployment")
KIND, API_VERSION = "Deployment", "apps/v1"


class DeploymentController(Controller):
    name = "deployment"
    component = "deployment-controller"
    workers = 5

    def setup(self) -> None:
        self.deployments = self.ctx.informer(API_VERSION, "deployments")
        self.sets = self.ctx.informer(API_VERSION, "replicasets")
        self.set_index = self.ctx.owner_index(API_VERSION, "replicasets")
        self.pod_index = self.ctx.owner_index("v1", "pods")
        self.deployments.add_handler(lambda kind, obj, old: self.enqueue(obj))
        self.sets.add_handler(self._on_set)
        self.ctx.informer("v1", "pods").add_handler(self._on_pod)
        self.api = self.client.resource(API_VERSION, "deployments")
        self.rs_api = self.client.resource(API_VERSION, "replicasets")

    def _on_set(self, kind: str, rs: dict[str, Any], old: dict[str, Any] | None) -> None:
        ref = controller_of(rs)
        if ref is not None and ref.get("kind") == KIND:
            self.queue.add(f"{rs['metadata'].get('namespace')}/{ref['name']}")
        elif ref is None and kind != "DELETED":
            labels = rs["metadata"].get("labels") or {}
            for key, d in self.deployments.store.items():
                if d["metadata"].get("namespace") == rs["metadata"].get("namespace") and _matches(d, labels):
                    self.queue.add(key)

    def _on_pod(self, kind: str, pod: dict[str, Any], old: dict[str, Any] | None) -> None:
        """A Recreate rollout waits for the old pods to be gone (deletePod): only then does a
        deleted pod matter here; a RollingUpdate follows its ReplicaSets' status instead, and
        syncing on each of 10,000 deletions would only repeat that."""
        if kind != "DELETED":
            return
        ref = controller_of(pod)
        if ref is None or ref.get("kind") != "ReplicaSet":
            return
        ns = pod["metadata"].get("namespace")
        rs = self.sets.store.get(f"{ns}/{ref['name']}")
        owner = controller_of(rs) if rs is not None else None
        if owner is None or owner.get("kind") != KIND:
            return
        key = f"{ns}/{owner['name']}"
        d = self.deployments.store.get(key)
        if d is not None and ((d.get("spec") or {}).get("strategy") or {}).get("type") == "Recreate":
            self.queue.add(key)

    async def sync(self, key: str) -> None:
        d = self.deployments.store.get(key)
        if d is None:
            return
        try:
            selector = label_selector_from_object((d.get("spec") or {}).get("selector"))
        except SelectorError:
            selector = None
        if selector is None or selector.empty:
            self.events.event(d, "Warning", "SelectingAll",
                              "This deployment is selecting all pods. A non-empty selector is required.",
                              kind=KIND, api_version=API_VERSION)
            return
        sets = await self._claim(d)
        if d["metadata"].get("deletionTimestamp"):
            await self._sync_status(d, sets)
            return
        if (d.get("spec") or {}).get("paused") or logic.is_scaling_event(d, sets):
            new, _ = logic.split_sets(d, sets)
            if await self._apply_sizes(d, sets, logic.proportional_sizes(d, sets, new)):
                return
            await self._sync_status(d, sets)
            return
        strategy = ((d.get("spec") or {}).get("strategy") or {}).get("type", "RollingUpdate")
        if strategy == "Recreate":
            await self._recreate(d, sets)
        else:
            await self._rolling(d, sets)

    async def _claim(self, d: dict[str, Any]) -> list[dict[str, Any]]:
        owned = self.set_index.owned_by(d["metadata"]["uid"])
        ns = d["metadata"].get("namespace")
        if d["metadata"].get("deletionTimestamp"):
            return owned
        for rs in list(self.sets.store.values()):
            meta = rs["metadata"]
            if (meta.get("namespace") == ns and controller_of(rs) is None and not meta.get("deletionTimestamp")
                    and _matches(d, meta.get("labels") or {})):
                refs = [*(meta.get("ownerReferences") or ()), controller_ref(d, KIND, API_VERSION)]
                try:
                    owned.append(await self.rs_api.patch(meta["name"], {"metadata": {
                        "ownerReferences": refs, "uid": meta["uid"]}}, namespace=ns))
                except ApiError as err:
                    if not (err.is_not_found or err.status == 422):
                        raise
        return owned

    # --- strategies -------------------------------------------------------------------------

    async def _rolling(self, d: dict[str, Any], sets: list[dict[str, Any]]) -> None:
        new, old = logic.split_sets(d, sets)
        if new is None:
            new = await self._create_new_set(d, old)
            if new is None:
                return
            await self._sync_status(d, [*old, new])
            return
        new = await self._sync_revision(d, new, old)
        all_sets = [*old, new]
        target = min(logic.new_rs_replicas(d, all_sets, new), logic.replicas_of(d)) \
            if logic.replicas_of(new) <= logic.replicas_of(d) else logic.replicas_of(d)
        if target != logic.replicas_of(new):
            await self._scale(d, new, target)
            return
        changes = logic.scale_down_old(d, all_sets, [rs for rs in old if logic.replicas_of(rs) > 0], new)
        if await self._apply_sizes(d, all_sets, changes):
            return
        await self._finish(d, all_sets, new, old)

    async def _recreate(self, d: dict[str, Any], sets: list[dict[str, Any]]) -> None:
        new, old = logic.split_sets(d, sets)
        active_old = [rs for rs in old if logic.replicas_of(rs) > 0]
        if active_old:
            await self._apply_sizes(d, sets, {rs["metadata"]["name"]: 0 for rs in active_old})
            return
        if any(not is_terminal(p) for rs in old for p in self.pod_index.owned_by(rs["metadata"]["uid"])):
            await self._sync_status(d, sets)
            return
        if new is None:
            created = await self._create_new_set(d, old)
            if created is not None:
                await self._sync_status(d, [*old, created])
            return
        new = await self._sync_revision(d, new, old)
        if logic.replicas_of(new) != logic.replicas_of(d):
            await self._scale(d, new, logic.replicas_of(d))
            return
        await self._finish(d, [*old, new], new, old)

    async def _finish(self, d: dict[str, Any], all_sets: list[dict[str, Any]], new: dict[str, Any],
                      old: list[dict[str, Any]]) -> None:
        status = await self._sync_status(d, all_sets, new)
        if logic.complete(d, status):
            for rs in logic.cleanup_candidates(d, old):
                try:
                    await self.rs_api.delete(rs["metadata"]["name"], rs["metadata"].get("namespace"),
                                             preconditions={"uid": rs["metadata"]["uid"]})
                except ApiError as err:
                    if not (err.is_not_found or err.is_conflict):
                        raise

    # --- writes -------------------------------------------------------------------------------

    async def _create_new_set(self, d: dict[str, Any], old: list[dict[str, Any]]) -> dict[str, Any] | None:
        spec, meta = d.get("spec") or {}, d["metadata"]
        collisions = (d.get("status") or {}).get("collisionCount")
        pod_hash = logic.compute_hash(spec.get("template") or {}, collisions)
        template = logic.new_rs_template(d, pod_hash)
        selector = dict(spec.get("selector") or {})
        selector["matchLabels"] = {**(selector.get("matchLabels") or {}), logic.HASH_LABEL: pod_hash}
        next_revision = max((logic.revision(rs) for rs in old), default=0) + 1
        replicas = logic.new_rs_replicas(d, old, None)
        rs: dict[str, Any] = {"apiVersion": API_VERSION, "kind": "ReplicaSet", "metadata": {
            "name": f"{meta['name']}-{pod_hash}", "namespace": meta.get("namespace"),
            "labels": dict(template["metadata"]["labels"]),
            "annotations": logic.replica_set_annotations(d, next_revision),
            "ownerReferences": [controller_ref(d, KIND, API_VERSION)]},
            "spec": {"replicas": replicas, "minReadySeconds": int(spec.get("minReadySeconds") or 0),
                     "selector": selector, "template": template}}
        try:
            created = await self.rs_api.create(rs, meta.get("namespace"))
        except ApiError as err:
            if err.is_already_exists:
                await self._collision(d, rs["metadata"]["name"])
                return None
            raise
        self.events.event(d, "Normal", "ScalingReplicaSet",
                          f"Scaled up replica set {created['metadata']['name']} from 0 to {replicas}",
                          kind=KIND, api_version=API_VERSION)
        conditions = logic.progressing_on_new_set(d, "NewReplicaSetCreated",
                                                  f'Created new replica set "{created["metadata"]["name"]}"',
                                                  self.ctx.now())
        if conditions is not None:
            d = await self.api.patch(meta["name"], {"status": {"conditions": conditions}},
                                     namespace=meta.get("namespace"), subresource="status")
            self.deployments.store[f"{meta.get('namespace')}/{meta['name']}"] = d
        await self._set_deployment_revision(d, next_revision)
        return created

    async def _collision(self, d: dict[str, Any], name: str) -> None:
        existing = await self.rs_api.get(name, d["metadata"].get("namespace"))
        owner = controller_of(existing)
        same = logic.equal_ignore_hash((existing.get("spec") or {}).get("template") or {},
                                       (d.get("spec") or {}).get("template") or {})
        if owner is not None and owner.get("uid") == d["metadata"]["uid"] and same:
            return  # ours; the informer has not caught up
        count = int((d.get("status") or {}).get("collisionCount") or 0) + 1
        await self.api.patch(d["metadata"]["name"], {"status": {"collisionCount": count}},
                             namespace=d["metadata"].get("namespace"), subresource="status")

    async def _sync_revision(self, d: dict[str, Any], new: dict[str, Any], old: list[dict[str, Any]]) -> dict[str, Any]:
        """The new set carries the next revision and the Deployment's annotations (after a rollback
        an old set becomes new again and gets a fresh revision)."""
        wanted_revision = max((logic.revision(rs) for rs in old), default=0) + 1
        rev = logic.revision(new) if logic.revision(new) >= wanted_revision else wanted_revision
        annotations = new["metadata"].get("annotations") or {}
        wanted = logic.replica_set_annotations(d, rev)
        wanted.pop(logic.DESIRED_REPLICAS, None)
        wanted.pop(logic.MAX_REPLICAS, None)
        min_ready = int((d.get("spec") or {}).get("minReadySeconds") or 0)
        patch: dict[str, Any] = {}
        if any(annotations.get(k) != v for k, v in wanted.items()):
            patch["metadata"] = {"annotations": wanted}
        if int((new.get("spec") or {}).get("minReadySeconds") or 0) != min_ready:
            patch["spec"] = {"minReadySeconds": min_ready}
        if patch:
            new = await self.rs_api.patch(new["metadata"]["name"], patch, namespace=new["metadata"].get("namespace"))
        conditions = logic.progressing_on_new_set(d, "FoundNewReplicaSet",
                                                  f'Found new replica set "{new["metadata"]["name"]}"', self.ctx.now())
        if conditions is not None:
            await self.api.patch(d["metadata"]["name"], {"status": {"conditions": conditions}},
                                 namespace=d["metadata"].get("namespace"), subresource="status")
        await self._set_deployment_revision(d, rev)
        return new

    async def _set_deployment_revision(self, d: dict[str, Any], rev: int) -> None:
        if (d["metadata"].get("annotations") or {}).get(logic.REVISION) != str(rev):
            await self.api.patch(d["metadata"]["name"], {"metadata": {"annotations": {logic.REVISION: str(rev)}}},
                                 namespace=d["metadata"].get("namespace"))

    async def _apply_sizes(self, d: dict[str, Any], sets: list[dict[str, Any]], sizes: dict[str, int]) -> bool:
        by_name = {rs["metadata"]["name"]: rs for rs in sets}
        changed = False
        for name, size in sizes.items():
            rs = by_name.get(name)
            if rs is not None and (logic.replicas_of(rs) != size or _annotations_stale(d, rs)):
                await self._scale(d, rs, size)
                changed = True
        return changed

    async def _scale(self, d: dict[str, Any], rs: dict[str, Any], size: int) -> None:
        before = logic.replicas_of(rs)
        annotations = logic.replica_set_annotations(d, None)
        keep = {k: v for k, v in annotations.items() if k in (logic.DESIRED_REPLICAS, logic.MAX_REPLICAS)}
        await self.rs_api.patch(rs["metadata"]["name"], {"metadata": {"annotations": keep}, "spec": {"replicas": size}},
                                namespace=rs["metadata"].get("namespace"))
        if before != size:
            direction = "up" if size > before else "down"
            self.events.event(d, "Normal", "ScalingReplicaSet",
                              f"Scaled {direction} replica set {rs['metadata']['name']} from {before} to {size}",
                              kind=KIND, api_version=API_VERSION)

    async def _sync_status(self, d: dict[str, Any], sets: list[dict[str, Any]],
                           new: dict[str, Any] | None = None) -> dict[str, Any]:
        if new is None:
            new, _ = logic.split_sets(d, sets)
        failures = [c for rs in sets for c in (rs.get("status") or {}).get("conditions") or ()
                    if c.get("type") == "ReplicaFailure" and c.get("status") == "True"]
        failure_conditions = [{"type": "ReplicaFailure", "status": "True", "reason": c.get("reason", ""),
                               "message": c.get("message", ""), "lastUpdateTime": c.get("lastTransitionTime"),
                               "lastTransitionTime": c.get("lastTransitionTime")} for c in failures]
        now = self.ctx.now()
        status = logic.rollout_status(logic.StatusInputs(d, sets, new, now, failure_conditions))
        if status != (d.get("status") or {}):
            await self.api.patch(d["metadata"]["name"], {"status": replace_patch(d.get("status"), status)},
                                 namespace=d["metadata"].get("namespace"), subresource="status")
        self._requeue_stuck(d, status, now)
        return status

    def _requeue_stuck(self, d: dict[str, Any], status: dict[str, Any], now: float) -> None:
        cond = next((c for c in status.get("conditions") or () if c.get("type") == "Progressing"), None)
        if cond is None or cond.get("reason") in ("NewReplicaSetAvailable", "ProgressDeadlineExceeded"):
            return
        if logic.complete(d, status) or not cond.get("lastUpdateTime"):
            return
        left = parse_time(cond["lastUpdateTime"]) + logic.progress_deadline(d) - now
        key = f"{d['metadata'].get('namespace')}/{d['metadata']['name']}"
        self.queue.add_after(key, max(left, 0) + 1)


def _matches(d: dict[str, Any], labels: dict[str, str]) -> bool:
    try:
        selector = label_selector_from_object((d.get("spec") or {}).get("selector"))
    except SelectorError:
        return False
    return not selector.empty and selector.matches(labels)


def _annotations_stale(d: dict[str, Any], rs: dict[str, Any]) -> bool:
    wanted = logic.replica_set_annotations(d, None)
    have = rs["metadata"].get("annotations") or {}
    return any(have.get(k) != wanted[k] for k in (logic.DESIRED_REPLICAS, logic.MAX_REPLICAS))
