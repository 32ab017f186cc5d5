"""Garbage collector: deletes objects whose owners are gone, and carries out foreground and
orphan deletion (the `foregroundDeletion` and `orphan` finalizers the API server sets).

A graph of uid -> (where the object lives, its owner references, its finalizers) is fed by the
informers of the watched resources. An object is looked at when it or one of its owners changes:
- it is being deleted with `orphan`: its dependents lose their references to it, then the
  finalizer goes;
- it is being deleted with `foregroundDeletion`: its dependents are deleted, and once none is
  left the finalizer goes (the API server then removes the object);
- it has owners and none of them exists any more (an owner absent from the graph is confirmed
  with a live GET, as the real collector does for "virtual" nodes): it is deleted, in the
  foreground if an owner waits for it; owners that vanished while others remain are removed
  from its references.
Owner cycles never loop hot: every retry goes through the work queue's backoff.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from kwok.client import ApiError
from kwok.controlplane.controllers.base import Controller

log = logging.getLogger("kwok.controlplane.controllers.gc")

FOREGROUND = "foregroundDeletion"
ORPHAN = "orphan"

# (group_version, plural, kind) of the resources whose objects are owners or dependents here
WATCHED = [
    ("v1", "pods", "Pod"), ("apps/v1", "replicasets", "ReplicaSet"), ("apps/v1", "deployments", "Deployment"),
    ("apps/v1", "statefulsets", "StatefulSet"), ("apps/v1", "daemonsets", "DaemonSet"),
    ("apps/v1", "controllerrevisions", "ControllerRevision"), ("batch/v1", "jobs", "Job"),
    ("batch/v1", "cronjobs", "CronJob"), ("v1", "services", "Service"), ("v1", "endpoints", "Endpoints"),
    ("discovery.k8s.io/v1", "endpointslices", "EndpointSlice"), ("v1", "configmaps", "ConfigMap"),
    ("v1", "secrets", "Secret"), ("v1", "persistentvolumeclaims", "PersistentVolumeClaim"),
    ("v1", "nodes", "Node"), ("coordination.k8s.io/v1", "leases", "Lease"),
    ("v1", "replicationcontrollers", "ReplicationController"),
]
KIND_TO_RESOURCE = {(gv, kind): plural for gv, plural, kind in WATCHED}


@dataclass(slots=True)
class GraphNode:
    group_version: str
    plural: str
    namespace: str
    name: str
    owners: list[dict[str, Any]] = field(default_factory=list)
    finalizers: tuple[str, ...] = ()
    deleting: bool = False


class GarbageCollector(Controller):
    name = "garbage-collector"
    component = "garbage-collector-controller"
    workers = 4

    def setup(self) -> None:
        self.graph: dict[str, GraphNode] = {}
        self.dependents: dict[str, set[str]] = {}
        for gv, plural, _ in WATCHED:
            self.ctx.informer(gv, plural).add_handler(self._handler(gv, plural))

    def _handler(self, gv: str, plural: str) -> Any:
        def on_event(kind: str, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
            self._observe(gv, plural, kind, obj)
        return on_event

    def _observe(self, gv: str, plural: str, kind: str, obj: dict[str, Any]) -> None:
        meta = obj.get("metadata") or {}
        uid = meta.get("uid")
        if not uid:
            return
        previous = self.graph.get(uid)
        if previous is not None:
            for ref in previous.owners:
                self.dependents.get(ref.get("uid", ""), set()).discard(uid)
        if kind == "DELETED":
            self.graph.pop(uid, None)
            for dependent in self.dependents.pop(uid, set()):
                self.queue.add(dependent)
            return
        node = GraphNode(gv, plural, meta.get("namespace", ""), meta["name"], list(meta.get("ownerReferences") or ()),
                         tuple(meta.get("finalizers") or ()), bool(meta.get("deletionTimestamp")))
        self.graph[uid] = node
        for ref in node.owners:
            self.dependents.setdefault(ref.get("uid", ""), set()).add(uid)
        unchanged = (previous is not None and previous.owners == node.owners
                     and previous.finalizers == node.finalizers and previous.deleting == node.deleting)
        if unchanged:
            return  # a status update: nothing the collector decides on changed
        if node.owners or (node.deleting and (FOREGROUND in node.finalizers or ORPHAN in node.finalizers)):
            self.queue.add(uid)
        if node.deleting:
            for dependent in self.dependents.get(uid, ()):
                self.queue.add(dependent)

    def _api(self, node: GraphNode) -> Any:
        return self.client.resource(node.group_version, node.plural)

    async def sync(self, uid: str) -> None:
        node = self.graph.get(uid)
        if node is None:
            return
        if node.deleting and ORPHAN in node.finalizers:
            await self._orphan_dependents(uid, node)
        elif node.deleting and FOREGROUND in node.finalizers:
            await self._delete_dependents(uid, node)
        elif node.owners and not node.deleting:
            await self._check_owners(uid, node)

    async def _orphan_dependents(self, uid: str, node: GraphNode) -> None:
        for dep_uid in list(self.dependents.get(uid, ())):
            dep = self.graph.get(dep_uid)
            if dep is None:
                continue
            refs = [r for r in dep.owners if r.get("uid") != uid]
            try:
                await self._api(dep).patch(dep.name, {"metadata": {"ownerReferences": refs or None, "uid": dep_uid}},
                                           namespace=dep.namespace or None)
            except ApiError as err:
                if not (err.is_not_found or err.status == 422):
                    raise
        await self._remove_finalizer(uid, node, ORPHAN)

    async def _delete_dependents(self, uid: str, node: GraphNode) -> None:
        remaining = [d for d in self.dependents.get(uid, ()) if d in self.graph]
        for dep_uid in remaining:
            dep = self.graph[dep_uid]
            if dep.deleting:
                continue
            policy = "Foreground" if self.dependents.get(dep_uid) else "Background"
            await self._delete(dep_uid, dep, policy)
        blocking = [d for d in remaining if _blocks(self.graph.get(d), uid)]
        if blocking:
            self.queue.add_after(uid, 1.0)  # dependents' deletion events re-queue it sooner
            return
        await self._remove_finalizer(uid, node, FOREGROUND)

    async def _check_owners(self, uid: str, node: GraphNode) -> None:
        solid: list[dict[str, Any]] = []
        dangling: list[dict[str, Any]] = []
        waiting: list[dict[str, Any]] = []
        for ref in node.owners:
            state = await self._owner_state(ref, node.namespace)
            {"solid": solid, "dangling": dangling, "waiting": waiting}[state].append(ref)
        if not solid and (dangling or waiting):
            foreground = bool(waiting) and bool(self.dependents.get(uid))
            if ORPHAN in node.finalizers:
                policy = "Orphan"
            elif FOREGROUND in node.finalizers or foreground:
                policy = "Foreground"
            else:
                policy = "Background"
            await self._delete(uid, node, policy)
        elif dangling:
            gone = {r.get("uid") for r in dangling}
            refs = [r for r in node.owners if r.get("uid") not in gone]
            try:
                await self._api(node).patch(node.name, {"metadata": {"ownerReferences": refs, "uid": uid}},
                                            namespace=node.namespace or None)
            except ApiError as err:
                if not (err.is_not_found or err.status == 422):
                    raise

    async def _owner_state(self, ref: dict[str, Any], namespace: str) -> str:
        owner = self.graph.get(ref.get("uid", ""))
        if owner is not None:
            return "waiting" if owner.deleting and FOREGROUND in owner.finalizers else "solid"
        plural = await self._plural_for(ref.get("apiVersion", ""), ref.get("kind", ""))
        if plural is None:
            return "solid"  # unknown kind: never delete on a guess
        try:
            live = await self.client.resource(ref["apiVersion"], plural).get(ref.get("name", ""), namespace or None)
        except ApiError as err:
            if err.is_not_found:
                return "dangling"
            raise
        if (live.get("metadata") or {}).get("uid") != ref.get("uid"):
            return "dangling"
        meta = live.get("metadata") or {}
        return "waiting" if meta.get("deletionTimestamp") and FOREGROUND in (meta.get("finalizers") or ()) else "solid"

    async def _plural_for(self, api_version: str, kind: str) -> str | None:
        plural = KIND_TO_RESOURCE.get((api_version, kind))
        if plural is not None:
            return plural
        path = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
        try:
            doc = await self.client.request("GET", path)
        except ApiError:
            return None
        for res in (doc or {}).get("resources") or () if isinstance(doc, dict) else ():
            if res.get("kind") == kind and "/" not in res.get("name", ""):
                KIND_TO_RESOURCE[(api_version, kind)] = res["name"]
                return str(res["name"])
        return None

    async def _delete(self, uid: str, node: GraphNode, policy: str) -> None:
        try:
            await self._api(node).delete(node.name, node.namespace or None, propagation_policy=policy,
                                         preconditions={"uid": uid})
        except ApiError as err:
            if not (err.is_not_found or err.is_conflict):
                raise

    async def _remove_finalizer(self, uid: str, node: GraphNode, finalizer: str) -> None:
        api = self._api(node)
        try:
            live = await api.get(node.name, node.namespace or None)
        except ApiError as err:
            if err.is_not_found:
                return
            raise
        meta = live.get("metadata") or {}
        if meta.get("uid") != uid or finalizer not in (meta.get("finalizers") or ()):
            return
        finalizers = [f for f in meta["finalizers"] if f != finalizer]
        patch = {"metadata": {"finalizers": finalizers or None, "resourceVersion": meta.get("resourceVersion")}}
        await api.patch(node.name, patch, namespace=node.namespace or None)


def _blocks(dep: GraphNode | None, owner_uid: str) -> bool:
    if dep is None:
        return False
    return any(r.get("uid") == owner_uid and r.get("blockOwnerDeletion") for r in dep.owners)
