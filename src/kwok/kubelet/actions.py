"""Carry out a stage's planned actions (event, patch, apply, delete, immediate) through the API.

The engine plans; this module does the I/O. A patch that would change nothing is not sent.
Progress is kept in `job.step`, so a retried job resumes at the action that failed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

from kwok.client import ApiError, Client, Resource
from kwok.engine.templatefuncs import rfc3339nano
from kwok.kubelet.logonce import LogOnce
from kwok.kubelet.mapper import RESTMapper
from kwok.kubelet.nochange import json_patch_is_noop, merge_patch_is_noop, strategic_patch_is_noop

if TYPE_CHECKING:
    from kwok.kubelet.player import Job

log = logging.getLogger("kwok.kubelet.actions")

PATCH_TYPE_NAMES = {
    "application/json-patch+json": "json",
    "application/merge-patch+json": "merge",
    "application/strategic-merge-patch+json": "strategic",
    "application/apply-patch+yaml": "apply",
}
FIELD_MANAGER = "kwok"
EVENT_SOURCE = "kwok_controller"


class ActionRunner:
    def __init__(self, client: Client, mapper: RESTMapper) -> None:
        self._client = client
        self._mapper = mapper
        self._events = client.resource("v1", "events")
        self._problems = LogOnce(log)
        self._event_tasks: set[asyncio.Task[None]] = set()

    async def run(self, res: Resource, api_group: str, kind: str, job: Job, obj: dict[str, Any]) -> dict[str, Any] | None:
        """Run job.actions on `obj` from job.step; returns the object to re-evaluate (immediateNextStage)."""
        current = obj
        latest: dict[str, Any] | None = None
        deleted = False
        assert job.actions is not None
        while job.step < len(job.actions):
            action = job.actions[job.step]
            what = action["kind"]
            if what == "event":
                self._event(api_group, kind, current, action)
            elif what == "delete":
                await self._delete(res, current)
                deleted = True
            elif what == "patch" and not deleted:
                # The patched object is only read by a later action (or immediateNextStage);
                # otherwise the informer delivers it and decoding the reply would be wasted.
                wanted = job.step + 1 < len(job.actions)
                result = await self._patch(res, api_group, kind, current, action, wanted)
                if result is not None:
                    current = latest = result
            elif what == "apply" and not deleted:
                await self._apply(current, action)
            elif what == "immediate":
                job.step += 1
                return latest
            job.step += 1
        return None

    async def _patch(
        self, res: Resource, api_group: str, kind: str, obj: dict[str, Any], action: dict[str, Any], wanted: bool
    ) -> dict[str, Any] | None:
        """The patched object (None if nothing was sent, or it is not `wanted`)."""
        patch_type = PATCH_TYPE_NAMES[action["type"]]
        data = action["data"]
        if _is_noop(obj, data, patch_type, api_group, kind):
            return None
        meta = obj["metadata"]
        result = await res.patch(
            meta["name"],
            data,
            patch_type,
            namespace=meta.get("namespace"),
            subresource=action.get("subresource") or None,
            field_manager=FIELD_MANAGER if patch_type == "apply" else None,
            force=True if patch_type == "apply" else None,
            impersonate=(action.get("impersonation") or {}).get("username"),
            decode=wanted,
        )
        return result if wanted else None

    async def _delete(self, res: Resource, obj: dict[str, Any]) -> None:
        meta = obj["metadata"]
        try:
            await res.delete(meta["name"], namespace=meta.get("namespace"), grace_period_seconds=0)
        except ApiError as err:
            if not err.is_not_found:
                raise

    async def _apply(self, source: dict[str, Any], action: dict[str, Any]) -> None:
        data = action["data"]
        if not isinstance(data, dict) or not data.get("apiVersion") or not data.get("kind"):
            raise ApiError(400, "BadRequest", "apply: the rendered object needs apiVersion and kind")
        try:
            mapping = await self._mapper.mapping(data["apiVersion"], data["kind"])
        except LookupError as err:
            raise ApiError(404, "NotFound", str(err)) from None
        res = self._client.resource(mapping.group_version, mapping.plural)
        meta = data.setdefault("metadata", {})
        namespace = None
        if mapping.namespaced:
            namespace = meta.get("namespace") or source["metadata"].get("namespace")
            meta["namespace"] = namespace
        patch_type = PATCH_TYPE_NAMES[action["type"]]
        impersonate = (action.get("impersonation") or {}).get("username")
        subresource = action.get("subresource") or None
        if subresource or patch_type == "apply":
            await res.patch(
                meta["name"],
                data,
                patch_type,
                namespace=namespace,
                subresource=subresource,
                field_manager=FIELD_MANAGER,
                force=True if patch_type == "apply" else None,
                impersonate=impersonate,
            )
            return
        try:
            await res.create(data, namespace=namespace, field_manager=FIELD_MANAGER)
        except ApiError as err:
            if not err.is_already_exists:
                raise
            await res.patch(meta["name"], data, patch_type, namespace=namespace, impersonate=impersonate)

    def _event(self, api_group: str, kind: str, obj: dict[str, Any], action: dict[str, Any]) -> None:
        """Events are best effort and must not hold the stage back: sent in the background."""
        task = asyncio.create_task(self._send_event(api_group, kind, obj, action))
        self._event_tasks.add(task)
        task.add_done_callback(self._event_tasks.discard)

    async def _send_event(self, api_group: str, kind: str, obj: dict[str, Any], action: dict[str, Any]) -> None:
        now = dt.datetime.now(dt.UTC)
        meta = obj.get("metadata") or {}
        namespace = meta.get("namespace") or "default"
        event = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": f"{meta.get('name')}.{int(now.timestamp() * 1e9):x}", "namespace": namespace},
            "involvedObject": {
                "apiVersion": api_group,
                "kind": kind,
                "name": meta.get("name"),
                "namespace": meta.get("namespace"),
                "uid": meta.get("uid"),
                "resourceVersion": meta.get("resourceVersion"),
            },
            "reason": action.get("reason"),
            "message": action.get("message"),
            "type": action.get("type") or "Normal",
            "source": {"component": EVENT_SOURCE},
            "reportingComponent": EVENT_SOURCE,
            "firstTimestamp": rfc3339nano(now.replace(microsecond=0)),
            "lastTimestamp": rfc3339nano(now.replace(microsecond=0)),
            "count": 1,
        }
        try:
            await self._events.create(event, namespace=namespace)
        except ApiError as err:
            self._problems.warning(("event", err.status, err.reason), "cannot record event: %s", err)


def _is_noop(obj: dict[str, Any], data: Any, patch_type: str, api_group: str, kind: str) -> bool:
    if patch_type == "merge":
        return merge_patch_is_noop(obj, data)
    if patch_type == "strategic":
        group, _, version = api_group.rpartition("/")
        return strategic_patch_is_noop(obj, data, group, version, kind)
    if patch_type == "json":
        return json_patch_is_noop(obj, data)
    return False
