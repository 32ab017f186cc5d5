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


def replace_patch(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    """A merge patch that makes the server's value exactly `new` whatever it holds now, as long as
    it has no keys beyond `old`'s: every key of `new` is sent (not only those that differ from a
    possibly stale cached `old`), and keys of `old` missing in `new` are sent as null."""
    old = old or {}
    patch: dict[str, Any] = {key: None for key in old.keys() - new.keys()}
    for key, value in new.items():
        before = old.get(key)
        patch[key] = replace_patch(before, value) if isinstance(value, dict) and isinstance(before, dict) else value
    return patch
