"""Values shared by the store and its backends."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

Done = Callable[[BaseException | None], None]   # told on the event loop: durable (None) or why not


@dataclass(slots=True)
class Entry:
    """One stored object: its JSON bytes and the fields indexes and selectors read."""

    resource: str                    # "group/plural", e.g. "/pods", "apps/deployments"
    namespace: str
    name: str
    rv: int
    data: bytes                      # the object as JSON, resourceVersion included
    labels: dict[str, str] = field(default_factory=dict)
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.resource}/{self.namespace}/{self.name}"


@dataclass(slots=True)
class Event:
    """One change: ADDED / MODIFIED / DELETED with the new and the previous state."""

    type: str
    rv: int
    entry: Entry                     # the new state (for DELETED: the last state, with the new rv)
    old: Entry | None = None
    frames: dict[str, bytes] = field(default_factory=dict)   # encoded watch lines, by event type

    def frame(self, event_type: str) -> bytes:
        """The watch line for this event, encoded once and shared by every watcher."""
        cached = self.frames.get(event_type)
        if cached is None:
            cached = b'{"type":"' + event_type.encode() + b'","object":' + self.entry.data + b"}\n"
            self.frames[event_type] = cached
        return cached


class Expired(Exception):
    """A resourceVersion older than the history window (HTTP 410)."""

    def __init__(self, requested: int, oldest: int) -> None:
        super().__init__(f"too old resource version: {requested} ({oldest})")
        self.requested = requested
        self.oldest = oldest


class PreconditionFailed(Exception):
    """The stored resourceVersion differs from the one the write was based on."""


class Backend(Protocol):
    """Durable log under the in-memory index. Writes are applied in rv order."""

    def load(self) -> tuple[int, list[tuple[str, int, bytes]]]:
        """(last rv, [(key, rv, data)]) as persisted."""
        ...

    def submit(self, rv: int, puts: list[tuple[str, int, bytes]], deletes: list[str], done: Done) -> None:
        """Persist one write; `done` is called on the event loop once it is durable (or failed),
        possibly before submit returns."""
        ...

    async def close(self) -> None: ...


class NullBackend:
    """No durability: everything lives in memory for the life of the process."""

    def load(self) -> tuple[int, list[tuple[str, int, bytes]]]:
        return 0, []

    def submit(self, rv: int, puts: list[tuple[str, int, bytes]], deletes: list[str], done: Done) -> None:
        done(None)

    async def close(self) -> None:
        return None


def split_key(key: str) -> tuple[str, str, str]:
    """'apps/deployments/ns/name' -> ('apps/deployments', 'ns', 'name')."""
    resource_ns, _, name = key.rpartition("/")
    resource, _, namespace = resource_ns.rpartition("/")
    return resource, namespace, name


Obj = dict[str, Any]
