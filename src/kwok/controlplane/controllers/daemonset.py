"""DaemonSet controller: one pod per eligible node (fake kwok nodes included when the template
tolerates their taints), ControllerRevisions of its templates, rolling updates (maxUnavailable or
maxSurge), finished pods replaced with back-off, and the status."""

from __future__ import annotations

import asyncio
from typing import Any

from kwok.client import ApiError
from kwok.controlplane.controllers import daemonset_logic as logic
from kwok.controlplane.controllers import history
from kwok.controlplane.controllers.base import Controller, controller_of
from kwok.controlplane.controllers.expectations import Expectations
from kwok.controlplane.controllers.pods import pod_from_template
from kwok.controlplane.mergediff import replace_patch

KIND, API_VERSION = "DaemonSet", "apps/v1"
FAILED_BACKOFF_INITIAL, FAILED_BACKOFF_MAX = 1.0, 900.0


class DaemonSetController(Controller):
    name = "daemonset"
    component = "daemonset-controller"
    workers = 2

    def setup(self) -> None:
        self.expectations = Expectations()
        self._failed_backoff: dict[str, tuple[float, float]] = {}  # "<set key>/<node>" -> (last, delay)
        self.sets = self.ctx.informer(API_VERSION, "daemonsets")
        self.nodes = self.ctx.informer("v1", "nodes")
        self.owned = self.ctx.owner_index("v1", "pods")
        self.sets.add_handler(lambda kind, obj, old: self.enqueue(obj))
        self.nodes.add_handler(self._on_node)
        self.ctx.informer("v1", "pods").add_handler(self._on_pod)
        self.revisions = self.ctx.owner_index(API_VERSION, "controllerrevisions")
        self.ctx.informer(API_VERSION, "controllerrevisions").add_handler(self._on_revision)
        self.api = self.client.resource(API_VERSION, "daemonsets")
        self.revision_api = self.client.resource(API_VERSION, "controllerrevisions")
        self.pod_api = self.client.resource("v1", "pods")

    def _on_node(self, kind: str, node: dict[str, Any], old: dict[str, Any] | None) -> None:
        if old is not None and kind == "MODIFIED" and old["metadata"].get("labels") == node["metadata"].get("labels") \
                and (old.get("spec") or {}) == (node.get("spec") or {}):
            return
        for key in self.sets.store:
            self.queue.add(key)

    def _on_revision(self, kind: str, revision: dict[str, Any], old: dict[str, Any] | None) -> None:
        ref = controller_of(revision)
        if ref is not None and ref.get("kind") == KIND:
            self.queue.add(f"{revision['metadata'].get('namespace')}/{ref['name']}")

    def _on_pod(self, kind: str, pod: dict[str, Any], old: dict[str, Any] | None) -> None:
        key = self.expectations.observe_pod(KIND, kind, pod)
        if key is not None:
            self.queue.add(key)

    async def sync(self, key: str) -> None:
        ds = self.sets.store.get(key)
        if ds is None:
            self.expectations.forget(key)
            return
        now = self.ctx.now()
        pods = self.owned.owned_by(ds["metadata"]["uid"])
        choice = logic.choose_history(ds, self.revisions.owned_by(ds["metadata"]["uid"]))
        current = await self._materialize(ds, choice)
        if current is None:
            return  # a name collision: the status now counts it and the next sync hashes again
        hash_ = (current["metadata"].get("labels") or {}).get(logic.REVISION_LABEL) or logic.template_hash(ds)
        plan = logic.plan(ds, list(self.nodes.store.values()), pods, now, hash_)
        if self.expectations.satisfied(key, now) and not ds["metadata"].get("deletionTimestamp"):
            self._back_off_failed(key, ds, plan, now)
            deletes = [f"{p['metadata'].get('namespace')}/{p['metadata']['name']}" for p in plan.delete]
            self.expectations.expect(key, len(plan.create_on), deletes, now)
            await asyncio.gather(*(self._create(key, ds, node, hash_) for node in plan.create_on),
                                 *(self._delete(ds, p) for p in plan.delete))
            if not plan.create_on and not plan.delete:
                await self._cleanup_history(ds, choice.old, pods)
        if plan.status != {k: v for k, v in (ds.get("status") or {}).items() if k != "conditions"}:
            await self.api.patch(ds["metadata"]["name"], {"status": replace_patch(ds.get("status"), plan.status)}, namespace=ds["metadata"].get("namespace"),
                                 subresource="status")

    async def _materialize(self, ds: dict[str, Any], choice: logic.HistoryChoice) -> dict[str, Any] | None:
        """Create or renumber the current revision (snapshot); a name taken by a different
        revision bumps status.collisionCount and returns None."""
        ns, revision = ds["metadata"].get("namespace"), choice.current
        if choice.renumber:
            return await self.revision_api.patch(revision["metadata"]["name"], {"revision": revision["revision"]},
                                                 namespace=ns)
        if not choice.create:
            return revision
        try:
            return await self.revision_api.create(revision, ns)
        except ApiError as err:
            if not err.is_already_exists:
                raise
        existing = await self.revision_api.get(revision["metadata"]["name"], ns)
        if history.equal(existing, revision):
            return existing
        collisions = int((ds.get("status") or {}).get("collisionCount") or 0) + 1
        await self.api.patch(ds["metadata"]["name"], {"status": {"collisionCount": collisions}}, namespace=ns,
                             subresource="status")
        return None

    async def _cleanup_history(self, ds: dict[str, Any], old: list[dict[str, Any]], pods: list[dict[str, Any]]) -> None:
        for revision in logic.history_to_delete(ds, old, pods):
            try:
                await self.revision_api.delete(revision["metadata"]["name"], revision["metadata"].get("namespace"))
            except ApiError as err:
                if not err.is_not_found:
                    raise

    def _back_off_failed(self, key: str, ds: dict[str, Any], plan: logic.DaemonPlan, now: float) -> None:
        """A finished daemon pod is deleted (to be replaced) at most once per back-off period of
        its node, 1 s doubling to 15 min: a kubelet that keeps rejecting the pod must not make
        the controller hot-loop."""
        for pod, node in plan.failed:
            since, delay = self._failed_backoff.get(f"{key}/{node}", (float("-inf"), 0.0))
            if since + delay > now:
                plan.delete = [p for p in plan.delete if p is not pod]
                self.queue.add_after(key, since + delay - now)
                continue
            fresh = now - since > 2 * FAILED_BACKOFF_MAX
            self._failed_backoff[f"{key}/{node}"] = (now, FAILED_BACKOFF_INITIAL if fresh else
                                                     min(delay * 2, FAILED_BACKOFF_MAX))
            if (pod.get("status") or {}).get("phase") == "Failed":
                self.events.event(ds, "Warning", "FailedDaemonPod",
                                  f"Found failed daemon pod {pod['metadata'].get('namespace')}/"
                                  f"{pod['metadata']['name']} on node {node}, will try to kill it",
                                  kind=KIND, api_version=API_VERSION)

    async def _create(self, key: str, ds: dict[str, Any], node: str, hash_: str) -> None:
        template = (ds.get("spec") or {}).get("template") or {}
        pod = pod_from_template(template, ds, KIND, API_VERSION, extra_labels={logic.REVISION_LABEL: hash_})
        pod["spec"] = logic.pod_spec_for(ds, node)
        try:
            created = await self.pod_api.create(pod, ds["metadata"].get("namespace"))
        except ApiError as err:
            self.expectations.creation_failed(key)
            self.events.event(ds, "Warning", "FailedCreate", f"Error creating: {err.message}", kind=KIND,
                              api_version=API_VERSION)
            return
        self.events.event(ds, "Normal", "SuccessfulCreate", f"Created pod: {created['metadata']['name']}",
                          kind=KIND, api_version=API_VERSION)

    async def _delete(self, ds: dict[str, Any], pod: dict[str, Any]) -> None:
        try:
            await self.pod_api.delete(pod["metadata"]["name"], pod["metadata"].get("namespace"))
        except ApiError as err:
            if not err.is_not_found:
                self.events.event(ds, "Warning", "FailedDelete", f"Error deleting: {err.message}", kind=KIND,
                                  api_version=API_VERSION)
                raise
            return
        self.events.event(ds, "Normal", "SuccessfulDelete", f"Deleted pod: {pod['metadata']['name']}",
                          kind=KIND, api_version=API_VERSION)
