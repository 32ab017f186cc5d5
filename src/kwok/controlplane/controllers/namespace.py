"""Namespace controller: empties a terminating namespace, then removes its `kubernetes`
finalizer through `namespaces/{name}/finalize` so the API server deletes it.

Every namespaced resource the server lists in discovery is deleted (collection delete, or one by
one where the collection verb is not served); while objects remain (graceful pod deletion,
finalizers of their own) the conditions say what is left and the namespace is looked at again.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from kwok.client import ApiError
from kwok.controlplane.controllers.base import Controller
from kwok.controlplane.controllers.namespace_logic import conditions, remaining_messages

log = logging.getLogger("kwok.controlplane.controllers.namespace")
FINALIZER = "kubernetes"
RECHECK_SECONDS = 1.0


class NamespaceController(Controller):
    name = "namespace"
    component = "namespace-controller"
    workers = 2

    def setup(self) -> None:
        self.namespaces = self.ctx.informer("v1", "namespaces")
        self.namespaces.add_handler(self._on_namespace)
        self.api = self.client.resource("v1", "namespaces")

    def _on_namespace(self, kind: str, ns: dict[str, Any], old: dict[str, Any] | None) -> None:
        if kind != "DELETED" and ns["metadata"].get("deletionTimestamp"):
            self.queue.add(ns["metadata"]["name"])

    async def sync(self, name: str) -> None:
        ns = self.namespaces.store.get(name)
        if ns is None or not ns["metadata"].get("deletionTimestamp"):
            return
        if FINALIZER not in ((ns.get("spec") or {}).get("finalizers") or ()):
            return
        resources, discovery_error = await self._namespaced_resources()
        counts, finalizers = await self._delete_content(name, resources)
        failing = remaining_messages(counts, finalizers)
        if discovery_error:
            failing["NamespaceDeletionDiscoveryFailure"] = ("DiscoveryFailed", discovery_error)
        await self._write_conditions(ns, failing)
        if counts or discovery_error:
            self.queue.add_after(name, RECHECK_SECONDS)
            return
        spec_finalizers = [f for f in (ns.get("spec") or {}).get("finalizers") or () if f != FINALIZER]
        body = {**ns, "spec": {**(ns.get("spec") or {}), "finalizers": spec_finalizers}}
        try:
            await self.client.request("PUT", f"/api/v1/namespaces/{name}/finalize", body)
        except ApiError as err:
            if not err.is_not_found:
                raise

    async def _namespaced_resources(self) -> tuple[list[tuple[str, str, set[str]]], str]:
        """(group_version, plural, verbs) of every namespaced resource, and a discovery error."""
        found: list[tuple[str, str, set[str]]] = []
        errors = []
        versions = ["v1"]
        try:
            groups = await self.client.request("GET", "/apis")
            for group in (groups or {}).get("groups") or ():
                preferred = (group.get("preferredVersion") or {}).get("groupVersion")
                if preferred:
                    versions.append(preferred)
        except ApiError as err:
            errors.append(f"/apis: {err.message}")
        for gv in versions:
            path = "/api/v1" if gv == "v1" else f"/apis/{gv}"
            try:
                doc = await self.client.request("GET", path)
            except ApiError as err:
                errors.append(f"{gv}: {err.message}")
                continue
            for res in (doc or {}).get("resources") or ():
                verbs = set(res.get("verbs") or ())
                if res.get("namespaced") and "/" not in res["name"] and "list" in verbs and "delete" in verbs:
                    found.append((gv, res["name"], verbs))
        message = "Discovery failed for some groups: " + "; ".join(errors) if errors else ""
        return found, message

    async def _delete_content(self, ns: str, resources: list[tuple[str, str, set[str]]]) -> tuple[dict[str, int], dict[str, int]]:
        counts: dict[str, int] = {}
        finalizers: dict[str, int] = {}
        results = await asyncio.gather(*(self._empty(ns, gv, plural, verbs) for gv, plural, verbs in resources))
        for (gv, plural, _), (left, pending) in zip(resources, results, strict=True):
            if left:
                group = gv.split("/")[0] if "/" in gv else ""
                counts[f"{plural}.{group}"] = left
            for finalizer, n in pending.items():
                finalizers[finalizer] = finalizers.get(finalizer, 0) + n
        return counts, finalizers

    async def _empty(self, ns: str, gv: str, plural: str, verbs: set[str]) -> tuple[int, dict[str, int]]:
        res = self.client.resource(gv, plural)
        if "deletecollection" in verbs:
            try:
                await self.client.request("DELETE", res.path(ns))
            except ApiError as err:
                if err.status not in (404, 405):
                    log.info("deleting %s in %s: %s", plural, ns, err.message)
        try:
            items = (await res.list(ns)).get("items") or []
        except ApiError:
            return 0, {}
        pending: dict[str, int] = {}
        for item in items:
            meta = item.get("metadata") or {}
            if not meta.get("deletionTimestamp"):
                try:
                    await res.delete(meta["name"], ns)
                except ApiError as err:
                    if not err.is_not_found:
                        log.info("deleting %s/%s in %s: %s", plural, meta["name"], ns, err.message)
            for finalizer in meta.get("finalizers") or ():
                pending[finalizer] = pending.get(finalizer, 0) + 1
        return len(items), pending

    async def _write_conditions(self, ns: dict[str, Any], failing: dict[str, tuple[str, str]]) -> None:
        current = (ns.get("status") or {}).get("conditions") or []
        wanted = conditions(current, failing, self.ctx.now())
        if wanted != current:
            try:
                await self.api.patch(ns["metadata"]["name"], {"status": {"conditions": wanted}}, subresource="status")
            except ApiError as err:
                if not err.is_not_found:
                    raise
