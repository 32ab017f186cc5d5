"""DaemonSet controller: one pod per eligible node (fake kwok nodes included when the template
tolerates their taints), rolling updates by template hash, and the status."""

from __future__ import annotations

import asyncio
from typing import Any

from kwok.client import ApiError
from kwok.controlplane.controllers import daemonset_logic as logic
from kwok.controlplane.controllers.base import Controller
from kwok.controlplane.controllers.expectations import Expectations
from kwok.controlplane.controllers.pods import pod_from_template
from kwok.controlplane.mergediff import replace_patch

KIND, API_VERSION = "DaemonSet", "apps/v1"


class DaemonSetController(Controller):
    name = "daemonset"
    component = "daemonset-controller"
    workers = 2

    def setup(self) -> None:
        self.expectations = Expectations()
        self.sets = self.ctx.informer(API_VERSION, "daemonsets")
        self.nodes = self.ctx.informer("v1", "nodes")
        self.owned = self.ctx.owner_index("v1", "pods")
        self.sets.add_handler(lambda kind, obj, old: self.enqueue(obj))
        self.nodes.add_handler(self._on_node)
        self.ctx.informer("v1", "pods").add_handler(self._on_pod)
        self.api = self.client.resource(API_VERSION, "daemonsets")
        self.pod_api = self.client.resource("v1", "pods")

    def _on_node(self, kind: str, node: dict[str, Any], old: dict[str, Any] | None) -> None:
        if old is not None and kind == "MODIFIED" and old["metadata"].get("labels") == node["metadata"].get("labels") \
                and (old.get("spec") or {}) == (node.get("spec") or {}):
            return
        for key in self.sets.store:
            self.queue.add(key)

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
        plan = logic.plan(ds, list(self.nodes.store.values()), pods, now)
        if self.expectations.satisfied(key, now) and not ds["metadata"].get("deletionTimestamp"):
            deletes = [f"{p['metadata'].get('namespace')}/{p['metadata']['name']}" for p in plan.delete]
            self.expectations.expect(key, len(plan.create_on), deletes, now)
            await asyncio.gather(*(self._create(key, ds, node) for node in plan.create_on),
                                 *(self._delete(p) for p in plan.delete))
        if plan.status != {k: v for k, v in (ds.get("status") or {}).items() if k != "conditions"}:
            await self.api.patch(ds["metadata"]["name"], {"status": replace_patch(ds.get("status"), plan.status)}, namespace=ds["metadata"].get("namespace"),
                                 subresource="status")

    async def _create(self, key: str, ds: dict[str, Any], node: str) -> None:
        template = (ds.get("spec") or {}).get("template") or {}
        pod = pod_from_template(template, ds, KIND, API_VERSION,
                                extra_labels={logic.REVISION_LABEL: logic.template_hash(ds)})
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

    async def _delete(self, pod: dict[str, Any]) -> None:
        try:
            await self.pod_api.delete(pod["metadata"]["name"], pod["metadata"].get("namespace"))
        except ApiError as err:
            if not err.is_not_found:
                raise
