"""One informer per resource for all the components of a process (client-go's SharedInformerFactory).

`kwok control-plane` runs the scheduler and the controllers side by side. Each watching pods and
nodes on its own would double what the API server encodes and what this process decodes — at
10,000 pods the largest part of its work. Components take their informers from one
`SharedInformers`; `start` runs each informer's list+watch once, however many components ask, and
a handler added to an informer that already holds objects is first handed those objects as ADDED,
as a shared informer does for a late handler (the scheduler may win its lease after the
controllers filled the caches).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable
from typing import Any

from kwok.client import Client, Informer, object_key

log = logging.getLogger("kwok.controlplane.informers")

Handler = Callable[[str, dict[str, Any], "dict[str, Any] | None"], Any]


def strip(obj: dict[str, Any]) -> dict[str, Any]:
    """Informer transform: managedFields are never read and are a large part of a pod."""
    obj.get("metadata", {}).pop("managedFields", None)
    return obj


class SharedInformer(Informer):
    def add_handler(self, on_event: Handler) -> None:
        super().add_handler(on_event)
        # Handlers run synchronously inside the informer's loop, so the store is never half
        # updated here: replaying it and then following the watch misses and repeats nothing.
        for obj in list(self.store.values()):
            try:
                result = on_event("ADDED", obj, None)
                if inspect.isawaitable(result):
                    asyncio.ensure_future(result)
            except Exception:  # as Informer._dispatch: one bad handler must not stop the others
                log.exception("%s: handler %s failed on replay of %s", self, on_event, object_key(obj))


class SharedInformers:
    def __init__(self, client: Client) -> None:
        self.client = client
        self._informers: dict[tuple[str, str], SharedInformer] = {}
        self._tasks: dict[tuple[str, str], asyncio.Task[None]] = {}

    def informer(self, group_version: str, plural: str) -> SharedInformer:
        key = (group_version, plural)
        informer = self._informers.get(key)
        if informer is None:
            informer = self._informers[key] = SharedInformer(self.client.resource(group_version, plural),
                                                             transform=strip)
        return informer

    def start(self) -> None:
        """Run every informer asked for so far that is not running yet."""
        for key, informer in self._informers.items():
            if key not in self._tasks:
                self._tasks[key] = asyncio.create_task(informer.run(), name=f"informer-{key[1]}")

    async def stop(self) -> None:
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
