"""The quota monitor: a watch of each resource that quotas count, so that a deletion, which no
admission plugin sees, makes the namespace's quotas be recounted (replenishment).

Watches start when a quota first counts a resource and hold no objects, only react to DELETED.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from kwok.client import ApiError, Client

log = logging.getLogger("kwok.controlplane.controllers")
RETRY_DELAY = 1.0
WATCH_TIMEOUT = 300


class QuotaMonitor:
    def __init__(self, client: Client, on_delete: Callable[[str | None], None]) -> None:
        self.client = client
        self.on_delete = on_delete
        self._tasks: dict[tuple[str, str], asyncio.Task[None]] = {}

    def watch(self, group_version: str, plural: str) -> None:
        key = (group_version, plural)
        if key not in self._tasks:
            self._tasks[key] = asyncio.create_task(self._run(group_version, plural), name=f"quota-monitor-{plural}")

    async def stop(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        self._tasks.clear()

    async def _run(self, group_version: str, plural: str) -> None:
        resource = self.client.resource(group_version, plural)
        while True:
            try:
                listed = await resource.list(limit=1)
                version = (listed.get("metadata") or {}).get("resourceVersion")
                # a deletion before this point (since a quota first counted the resource, or
                # while a broken watch was down) is never seen as an event: recount everywhere
                self.on_delete(None)
                async for kind, obj in resource.watch(resource_version=version, timeout_seconds=WATCH_TIMEOUT):
                    if kind == "DELETED":
                        self.on_delete((obj.get("metadata") or {}).get("namespace") or "")
            except asyncio.CancelledError:
                raise
            except ApiError as err:
                if not err.is_gone:
                    log.warning("quota monitor of %s: %s", plural, err.message)
                    await asyncio.sleep(RETRY_DELAY)
            except Exception as err:  # noqa: BLE001 - a broken connection is retried, never fatal
                log.warning("quota monitor of %s: %s", plural, err)
                await asyncio.sleep(RETRY_DELAY)
