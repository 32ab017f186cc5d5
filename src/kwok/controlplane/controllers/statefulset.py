"""StatefulSet controller: the pods `<set>-0..N-1` (and their claims) in order or in parallel,
rolling updates, and the status."""

from __future__ import annotations

from typing import Any

from kwok.client import ApiError
from kwok.controlplane.controllers import statefulset_logic as logic
from kwok.controlplane.controllers.base import Controller, controller_of
from kwok.controlplane.controllers.pods import controller_ref
from kwok.controlplane.mergediff import replace_patch

KIND, API_VERSION = "StatefulSet", "apps/v1"


class StatefulSetController(Controller):
    name = "statefulset"
    component = "statefulset-controller"
    workers = 2

    def setup(self) -> None:
        self.sets = self.ctx.informer(API_VERSION, "statefulsets")
        self.owned = self.ctx.owner_index("v1", "pods")
        self.sets.add_handler(lambda kind, obj, old: self.enqueue(obj))
        self.ctx.informer("v1", "pods").add_handler(self._on_pod)
        self.api = self.client.resource(API_VERSION, "statefulsets")
        self.pod_api = self.client.resource("v1", "pods")
        self.claim_api = self.client.resource("v1", "persistentvolumeclaims")

    def _on_pod(self, kind: str, pod: dict[str, Any], old: dict[str, Any] | None) -> None:
        ref = controller_of(pod)
        if ref is not None and ref.get("kind") == KIND:
            self.queue.add(f"{pod['metadata'].get('namespace')}/{ref['name']}")

    async def sync(self, key: str) -> None:
        sts = self.sets.store.get(key)
        if sts is None:
            return
        pods = self.owned.owned_by(sts["metadata"]["uid"])
        plan = logic.plan(sts, pods, self.ctx.now())
        if not sts["metadata"].get("deletionTimestamp"):
            for index in plan.create:
                await self._create(sts, index)
            for pod in plan.delete:
                await self._delete(sts, pod)
        if plan.status != (sts.get("status") or {}):
            await self.api.patch(sts["metadata"]["name"], {"status": replace_patch(sts.get("status"), plan.status)},
                                 namespace=sts["metadata"].get("namespace"), subresource="status")

    async def _create(self, sts: dict[str, Any], index: int) -> None:
        ns = sts["metadata"].get("namespace")
        for template in (sts.get("spec") or {}).get("volumeClaimTemplates") or ():
            claim: dict[str, Any] = {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                     "metadata": {"name": logic.claim_name(template, sts, index), "namespace": ns,
                                  "labels": dict(((sts.get("spec") or {}).get("selector") or {}).get("matchLabels") or {})},
                     "spec": template.get("spec") or {}}
            try:
                await self.claim_api.create(claim, ns)
            except ApiError as err:
                if not err.is_already_exists:
                    self._event(sts, "Warning", "FailedCreate", f"create Claim {claim['metadata']['name']} for Pod "
                                f"{sts['metadata']['name']}-{index} in StatefulSet {sts['metadata']['name']} failed "
                                f"error: {err.message}")
                    return
        pod = logic.pod_for(sts, index)
        pod["metadata"]["namespace"] = ns
        pod["metadata"]["ownerReferences"] = [controller_ref(sts, KIND, API_VERSION)]
        name = pod["metadata"]["name"]
        try:
            await self.pod_api.create(pod, ns)
        except ApiError as err:
            if err.is_already_exists:
                return
            self._event(sts, "Warning", "FailedCreate",
                        f"create Pod {name} in StatefulSet {sts['metadata']['name']} failed error: {err.message}")
            return
        self._event(sts, "Normal", "SuccessfulCreate",
                    f"create Pod {name} in StatefulSet {sts['metadata']['name']} successful")

    async def _delete(self, sts: dict[str, Any], pod: dict[str, Any]) -> None:
        name = pod["metadata"]["name"]
        try:
            await self.pod_api.delete(name, pod["metadata"].get("namespace"), preconditions={"uid": pod["metadata"]["uid"]})
        except ApiError as err:
            if not (err.is_not_found or err.is_conflict):
                raise
            return
        self._event(sts, "Normal", "SuccessfulDelete",
                    f"delete Pod {name} in StatefulSet {sts['metadata']['name']} successful")

    def _event(self, sts: dict[str, Any], type_: str, reason: str, message: str) -> None:
        self.events.event(sts, type_, reason, message, kind=KIND, api_version=API_VERSION)
