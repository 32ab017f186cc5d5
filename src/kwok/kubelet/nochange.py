"""Would this patch change the object? (KWOK applies each patch locally and skips no-op patches.)

Rather than applying the patch to a copy and comparing whole objects (two deep walks and a copy
per patch, at thousands of patches a second), this checks that everything the patch says is
already true of the object. For strategic merge patches the list semantics come from the schema
(`patchStrategy`/`patchMergeKey`): a merging list only needs each patched item present, matched
by its key; every other list must be equal. An unknown shape or a `$` directive counts as a
change, so the check can only err towards sending a patch.
"""

from __future__ import annotations

import copy
from typing import Any

import jsonpatch

from kwok.api.schema import FieldInfo, get_schema


def merge_patch_is_noop(obj: Any, patch: Any) -> bool:
    if not isinstance(patch, dict):
        return bool(obj == patch)
    if not isinstance(obj, dict):
        return False
    for key, value in patch.items():
        if value is None:
            if key in obj:
                return False
        elif isinstance(value, dict):
            if not merge_patch_is_noop(obj.get(key), value):
                return False
        elif obj.get(key) != value or key not in obj:
            return False
    return True


def json_patch_is_noop(obj: Any, ops: Any) -> bool:
    try:
        return bool(jsonpatch.apply_patch(copy.deepcopy(obj), ops) == obj)
    except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException, TypeError, KeyError, IndexError):
        return False  # let the server report the error


def strategic_patch_is_noop(obj: Any, patch: Any, group: str, version: str, kind: str) -> bool:
    message = get_schema().message_for_kind(group, version, kind)
    return _contained(obj, patch, message)


def _field(message: str | None, key: str) -> FieldInfo | None:
    if message is None:
        return None
    return get_schema().field_path(message, (key,))


def _contained(obj: Any, patch: Any, message: str | None) -> bool:
    if not isinstance(patch, dict) or not isinstance(obj, dict):
        return bool(obj == patch)
    for key, value in patch.items():
        if key.startswith("$"):
            return False
        if value is None:
            if key in obj:
                return False
            continue
        if key not in obj:
            return False
        info = _field(message, key)
        if not _value_contained(obj[key], value, info):
            return False
    return True


def _value_contained(current: Any, value: Any, info: FieldInfo | None) -> bool:
    if isinstance(value, dict):
        if info is not None and info.is_map:
            ref = info.ref if info.map_value == "message" else None
            return isinstance(current, dict) and all(
                k in current and _contained(current[k], v, ref) if isinstance(v, dict) else current.get(k) == v
                for k, v in value.items()
            )
        return _contained(current, value, info.ref if info else None)
    if isinstance(value, list):
        return _list_contained(current, value, info)
    return bool(current == value) and type(current) is type(value)


def _list_contained(current: Any, value: list[Any], info: FieldInfo | None) -> bool:
    if not isinstance(current, list):
        return False
    strategy = (info.patch_strategy or "") if info else ""
    if "merge" not in strategy:
        return current == value
    key = info.patch_merge_key if info else None
    if not key:  # a merging list of scalars is a set union
        return all(v in current for v in value)
    by_key = {item.get(key): item for item in current if isinstance(item, dict)}
    for item in value:
        if not isinstance(item, dict) or key not in item:
            return False
        found = by_key.get(item[key])
        if found is None or not _contained(found, item, info.ref if info else None):
            return False
    return True
