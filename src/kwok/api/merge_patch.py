"""JSON merge patch (RFC 7386), as `application/merge-patch+json` applies it.

Public names:

    apply_merge_patch(original, patch) -> new document; `original` and `patch` are left untouched and
        the result shares no list or dict with either, so the caller may mutate it freely
    merge_patch_in_place(target, patch) -> target with the patch merged in; only `target` (which the
        caller owns) is mutated, and values taken from the patch are copied
    create_merge_patch(original, modified) -> the merge patch turning original into modified
    json_copy(value) -> a deep copy of a JSON-shaped value (dicts, lists, scalars), ~5x copy.deepcopy

`null` in the patch deletes a key; a patch that is not an object replaces the target; lists are
replaced whole. Where a value is added with nothing to merge into, nulls inside it are dropped,
as the API server's evanphx/json-patch does. (The server also requires the top-level patch to be
an object.)
"""

from __future__ import annotations

from typing import Any

import orjson

__all__ = ["apply_merge_patch", "create_merge_patch", "json_copy", "merge_patch_in_place"]


def json_copy(value: Any) -> Any:
    """Deep copy of JSON data; scalars (immutable) are shared.

    An orjson round trip copies a whole object in C, several times faster than walking it; what
    orjson cannot encode (integers past 64 bits from YAML, lone surrogates) is copied by walking.
    """
    if not isinstance(value, dict | list):
        return value
    try:
        return orjson.loads(orjson.dumps(value))
    except (TypeError, orjson.JSONDecodeError):
        return _walk_copy(value)


def _walk_copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _walk_copy(v) if isinstance(v, dict | list) else v for k, v in value.items()}
    if isinstance(value, list):
        return [_walk_copy(v) if isinstance(v, dict | list) else v for v in value]
    return value


def apply_merge_patch(original: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return _without_nulls(patch)
    target = json_copy(original) if isinstance(original, dict) else {}
    return merge_patch_in_place(target, patch)


def merge_patch_in_place(target: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
            continue
        current = target.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            merge_patch_in_place(current, value)
        elif isinstance(current, dict):
            target[key] = json_copy(value)
        else:
            target[key] = _without_nulls(value)
    return target


def _without_nulls(value: Any) -> Any:
    """A copy of a value being added, with null members dropped from every object in it.

    This is what the API server's library (evanphx/json-patch) does for a value with nothing to
    merge into (a missing, null or non-object target); null array elements stay.
    """
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def create_merge_patch(original: Any, modified: Any) -> Any:
    """The smallest merge patch from `original` to `modified` ({} when they are equal).

    A null in `modified` cannot be expressed (null means delete), so it is emitted as null.
    """
    if not isinstance(original, dict) or not isinstance(modified, dict):
        return json_copy(modified)
    patch: dict[str, Any] = {}
    for key in original:
        if key not in modified:
            patch[key] = None
    for key, new in modified.items():
        if key not in original:
            patch[key] = json_copy(new)
            continue
        old = original[key]
        if old == new and type(old) is type(new):
            continue
        if isinstance(old, dict) and isinstance(new, dict):
            sub = create_merge_patch(old, new)
            if sub:
                patch[key] = sub
        else:
            patch[key] = json_copy(new)
    return patch
