"""Admission configuration read from the store through a cache that writes invalidate.

Every write request consults the webhook configurations and policies; reading and decoding them
from the store each time would cost a LIST per request. Instead each cache follows its resource
(`Lookup.follow`): the first request after a write of a configuration rebuilds the compiled form
(matchers, CEL programs), every other request reuses it. With no configuration stored the cost
per request is one attribute check.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from kwok.apiserver.registry import Lookup

Obj = dict[str, Any]
T = TypeVar("T")


class ConfigCache(Generic[T]):
    """The compiled objects of one resource, rebuilt on the first use after a change."""

    def __init__(self, group: str, plural: str, compile_all: Callable[[list[Obj]], T]) -> None:
        self.group = group
        self.plural = plural
        self._compile_all = compile_all
        self._followed: Lookup | None = None
        self._value: T | None = None
        self._stale = True

    async def get(self, lookup: Lookup) -> T:
        if lookup is not self._followed:
            self._stale = True
            self._followed = lookup if lookup.follow(self.group, self.plural, self.invalidate) else None
        if self._stale or self._value is None:
            # marked fresh before reading: a write landing while we read invalidates again
            self._stale = self._followed is None
            objects = await lookup.list(self.group, self.plural, None)
            self._value = self._compile_all(sorted(objects, key=_name))
        return self._value

    def invalidate(self) -> None:
        self._stale = True


def _name(obj: Obj) -> str:
    return str((obj.get("metadata") or {}).get("name", ""))
