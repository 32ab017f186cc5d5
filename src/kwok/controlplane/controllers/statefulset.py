"""StatefulSet controller: the pods `<set>-<ordinal>` (and their claims) in order or in parallel,
ControllerRevisions, rolling updates, claim retention, and the status."""

from __future__ import annotations

from typing import Any

from kwok.client import ApiError
from kwok.controlplane.controllers import history
from kwok.controlplane.controllers import statefulset_logic as logic
from kwok.controlplane.controllers.base import Controller, controller_of
from kwok.controlplane.mergediff import replace_patch

KIND, API_VERSION = logic.KIND, logic.API_VERSION
MAX_COLLISIONS = 16  # a fresh hash per collision; more than a few means something else is wrong


class StatefulSetController(Controller):
    name = "statefulset"
    component = "statefulset-controller"
    workers = 2

    def setup(self) -> None:
        self.sets = self.ctx.informer(API_VERSION, "statefulsets")
        self.owned = self.ctx.owner_index("v1", "pods")
        self.revisions = self.ctx.owner_index(API_VERSION, "controllerrevisions")
        self.claims = self.ctx.informer("v1", "persistentvolumeclaims")
        self.sets.add_handler(lambda kind, obj, old: self.enqueue(obj))
        self.ctx.informer("v1", "pods").add_handler(self._on_owned)
        self.ctx.informer(API_VERSION, "controllerrevisions").add_handler(self._on_owned)
        self.api = self.client.resource(API_VERSION, "statefulsets")
        self.pod_api = self.client.resource("v1", "pods")
        self.claim_api = self.client.resource("v1", "persistentvolumeclaims")
        self.revision_api = self.client.resource(API_VERSION, "controllerrevisions")

    def _on_owned(self, kind: str, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        ref = controller_of(obj)
        if ref is not None and ref.get("kind") == KIND:
            self.queue.add(f"{obj['metadata'].get('namespace')}/{ref['name']}")

    async def sync(self, key: str) -> None:
        sts = self.sets.store.get(key)
        if sts is None:
            return
        revisions = self.revisions.owned_by(sts["metadata"]["uid"])
        choice = logic.choose_revisions(sts, revisions)
        sts, update = await self._materialize(sts, choice)
        ns = sts["metadata"].get("namespace")
        pods = self.owned.owned_by(sts["metadata"]["uid"])
        claims = {name: c for name in logic.claim_names(sts, pods) if (c := self.claims.store.get(f"{ns}/{name}"))}
        plan = logic.plan(sts, pods, self.ctx.now(), choice.current, update, claims)
        if not sts["metadata"].get("deletionTimestamp"):
            await self._act(sts, plan)
        await self._write_status(sts, plan.status)
        await self._truncate(sts, pods, revisions, plan.status)

    async def _materialize(self, sts: dict[str, Any], choice: logic.RevisionChoice) -> tuple[dict[str, Any], dict[str, Any]]:
        """Create or renumber the update revision; on a name collision with a different revision,
        count the collision and hash again (CreateControllerRevision)."""
        ns = sts["metadata"].get("namespace")
        if choice.renumber:
            updated = await self.revision_api.patch(choice.update["metadata"]["name"],
                                                    {"revision": choice.update["revision"]}, namespace=ns)
            return sts, updated
        if not choice.create:
            return sts, choice.update
        candidate = choice.update
        for _ in range(MAX_COLLISIONS):
            try:
                return sts, await self.revision_api.create(candidate, ns)
            except ApiError as err:
                if not err.is_already_exists:
                    raise
            existing = await self.revision_api.get(candidate["metadata"]["name"], ns)
            if history.equal(existing, candidate):
                return sts, existing
            collisions = logic.collision_count(sts) + 1
            sts = {**sts, "status": {**(sts.get("status") or {}), "collisionCount": collisions}}
            candidate = logic.new_revision(sts, int(candidate["revision"]), collisions)
        raise RuntimeError(f"StatefulSet {ns}/{sts['metadata']['name']}: {MAX_COLLISIONS} revision name collisions")

    async def _act(self, sts: dict[str, Any], plan: logic.StatefulPlan) -> None:
        for creation in plan.create:
            if await self._create_claims(sts, creation.pod["metadata"]["name"], creation.claims):
                await self._create_pod(sts, creation.pod)
        for pod_name, claim in plan.missing_claims:
            await self._create_claims(sts, pod_name, [claim])
        for claim, refs in plan.claim_owners:
            await self._own_claim(claim, refs)
        for pod, labels in plan.relabel:
            await self._relabel(sts, pod, labels)
        for pod in plan.delete:
            await self._delete(sts, pod)

    async def _create_claims(self, sts: dict[str, Any], pod_name: str, claims: list[dict[str, Any]]) -> bool:
        name = sts["metadata"]["name"]
        for claim in claims:
            claim_name = claim["metadata"]["name"]
            try:
                await self.claim_api.create(claim, sts["metadata"].get("namespace"))
            except ApiError as err:
                if err.is_already_exists:
                    continue
                self._event(sts, "Warning", "FailedCreate", f"create Claim {claim_name} for Pod {pod_name} in "
                            f"StatefulSet {name} failed error: {err.message}")
                return False
            self._event(sts, "Normal", "SuccessfulCreate",
                        f"create Claim {claim_name} Pod {pod_name} in StatefulSet {name} success")
        return True

    async def _create_pod(self, sts: dict[str, Any], pod: dict[str, Any]) -> None:
        name = pod["metadata"]["name"]
        try:
            await self.pod_api.create(pod, sts["metadata"].get("namespace"))
        except ApiError as err:
            if err.is_already_exists:
                return
            self._event(sts, "Warning", "FailedCreate",
                        f"create Pod {name} in StatefulSet {sts['metadata']['name']} failed error: {err.message}")
            return
        self._event(sts, "Normal", "SuccessfulCreate",
                    f"create Pod {name} in StatefulSet {sts['metadata']['name']} successful")

    async def _own_claim(self, claim: dict[str, Any], refs: list[dict[str, Any]]) -> None:
        meta = claim["metadata"]
        try:
            await self.claim_api.patch(meta["name"], {"metadata": {"ownerReferences": refs or None,
                                                                   "resourceVersion": meta.get("resourceVersion")}},
                                       namespace=meta.get("namespace"))
        except ApiError as err:
            if not (err.is_not_found or err.is_conflict):
                raise

    async def _relabel(self, sts: dict[str, Any], pod: dict[str, Any], labels: dict[str, str]) -> None:
        name = pod["metadata"]["name"]
        try:
            await self.pod_api.patch(name, {"metadata": {"labels": labels,
                                                         "resourceVersion": pod["metadata"].get("resourceVersion")}},
                                     namespace=pod["metadata"].get("namespace"))
        except ApiError as err:
            if err.is_not_found or err.is_conflict:
                return
            self._event(sts, "Warning", "FailedUpdate",
                        f"update Pod {name} in StatefulSet {sts['metadata']['name']} failed error: {err.message}")
            raise
        self._event(sts, "Normal", "SuccessfulUpdate", f"update Pod {name} in StatefulSet {sts['metadata']['name']} successful")

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

    async def _write_status(self, sts: dict[str, Any], status: dict[str, Any]) -> None:
        if status != (sts.get("status") or {}):
            await self.api.patch(sts["metadata"]["name"], {"status": replace_patch(sts.get("status"), status)},
                                 namespace=sts["metadata"].get("namespace"), subresource="status")
        min_ready = int((sts.get("spec") or {}).get("minReadySeconds") or 0)
        if min_ready > 0 and status["readyReplicas"] != status["availableReplicas"]:
            self.queue.add_after(f"{sts['metadata'].get('namespace')}/{sts['metadata']['name']}", min_ready)

    async def _truncate(self, sts: dict[str, Any], pods: list[dict[str, Any]], revisions: list[dict[str, Any]],
                        status: dict[str, Any]) -> None:
        """Keep revisionHistoryLimit revisions besides those in use (truncateHistory)."""
        live = {status["currentRevision"], status["updateRevision"]} | {logic.revision_label(p) for p in pods}
        limit = int((sts.get("spec") or {}).get("revisionHistoryLimit", 10) or 0)
        for old in history.to_truncate(revisions, live, limit):
            try:
                await self.revision_api.delete(old["metadata"]["name"], old["metadata"].get("namespace"))
            except ApiError as err:
                if not err.is_not_found:
                    raise

    def _event(self, sts: dict[str, Any], type_: str, reason: str, message: str) -> None:
        self.events.event(sts, type_, reason, message, kind=KIND, api_version=API_VERSION)
