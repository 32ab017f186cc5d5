"""PATCH bodies: json-patch, merge-patch, strategic-merge-patch and server-side apply.

The patch engines live in kwok.api; this module picks one by Content-Type and turns their failures
into the Status the real server answers with.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from kwok.api import errors
from kwok.api.apply import apply as server_side_apply
from kwok.api.jsonpatch import JsonPatchError, apply_json_patch
from kwok.api.merge_patch import apply_merge_patch, merge_patch_in_place
from kwok.api.schema import ResourceInfo
from kwok.api.strategic import PatchError, apply_strategic
from kwok.apiserver.bodies import decode_yaml

Obj = dict[str, Any]
JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
APPLY = "application/apply-patch+yaml"


def accepted(custom: bool) -> list[str]:
    """The patch types a resource takes, in the order the real server lists them."""
    types = [JSON_PATCH, MERGE_PATCH, APPLY]
    return types if custom else types[:2] + [STRATEGIC] + types[2:]


def check_type(content_type: str, custom: bool) -> None:
    if content_type not in accepted(custom):
        raise errors.unsupported_media_type(accepted(custom))


def parse(content_type: str, data: bytes) -> Any:
    if content_type == APPLY:
        return decode_yaml(data)
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise errors.bad_request(f"error decoding patch: {exc}") from None


def apply_patch(content_type: str, patch: Any, current: Obj, info: ResourceInfo, *, owned: bool = False) -> Any:
    """The patched object. `current` is not modified, unless `owned`: the caller's private copy,
    which the merge patches then change in place instead of copying it first."""
    try:
        if content_type == JSON_PATCH:
            return apply_json_patch(current, patch)
        if not isinstance(patch, dict):
            raise errors.bad_request(f"json: cannot unmarshal {_go_kind(patch)} into Go value of type "
                                     "map[string]interface {}")
        if content_type == MERGE_PATCH:
            return merge_patch_in_place(current, patch) if owned else apply_merge_patch(current, patch)
        return apply_strategic(current, patch, info.message, owned=owned)
    except (JsonPatchError, PatchError) as exc:
        raise exc.to_api_error() from None


def apply_configuration(live: Obj | None, applied: Obj, manager: str, force: bool, info: ResourceInfo,
                        now: str, subresource: str = "", reset: Iterable[tuple[str, ...]] = ()) -> Obj:
    """Server-side apply: the merged object with this manager's Apply entry (409 on conflicts).
    `reset`: the fields this endpoint resets, neither merged nor owned."""
    return server_side_apply(live, applied, manager, force, info.group_version, now, info.message, kind=info.kind,
                             subresource=subresource, ignored=reset)


def _go_kind(value: Any) -> str:
    return {list: "array", str: "string", bool: "bool", int: "number", float: "number"}.get(type(value), "null")
