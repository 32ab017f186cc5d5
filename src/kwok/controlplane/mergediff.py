"""The JSON merge patch (RFC 7386) that turns one object into another (pure).

Controllers write status as a merge patch of what changed; a key that disappeared must be sent
as null, or the server keeps it.
"""

from __future__ import annotations

from typing import Any


def merge_diff(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    old = old or {}
    patch: dict[str, Any] = {}
    for key in old.keys() - new.keys():
        patch[key] = None
    for key, value in new.items():
        before = old.get(key)
        if isinstance(value, dict) and isinstance(before, dict):
            sub = merge_diff(before, value)
            if sub:
                patch[key] = sub
        elif key not in old or before != value:
            patch[key] = value
    return patch
