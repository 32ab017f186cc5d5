"""JSON patch (RFC 6902), as `application/json-patch+json` applies it, over the pinned `jsonpatch`.

Public names:

    apply_json_patch(document, operations) -> new document (inputs untouched, nothing aliased)
    JsonPatchError(ValueError)  .code: 400 for a malformed patch, 422 for one that does not apply;
                                .to_api_error() gives the Status the real API server answers with

The library inserts the patch's own value objects into the document; this wrapper copies every
value first, so later changes to the result can never reach back into the request's patch.
"""

from __future__ import annotations

from typing import Any

import jsonpatch
import jsonpointer

from kwok.api.errors import ApiError, bad_request, failure
from kwok.api.merge_patch import json_copy

__all__ = ["JsonPatchError", "apply_json_patch"]

_OPERATIONS = frozenset({"add", "remove", "replace", "move", "copy", "test"})
_GO_JSON_KIND = {dict: "object", list: "array", str: "string", bool: "bool", int: "number", float: "number"}


class JsonPatchError(ValueError):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code

    def to_api_error(self) -> ApiError:
        if self.code == 400:
            return bad_request(str(self))
        # The server reports a patch that does not apply as a generic 422, the cause in details.
        return failure(422, "Invalid", "the server rejected our request due to an error in our request",
                       {"causes": [{"reason": "UnexpectedServerResponse", "message": str(self)}]})


def apply_json_patch(document: Any, operations: Any) -> Any:
    ops = _decode(operations)
    result = json_copy(document)
    for op in ops:
        result = _apply_one(result, op)
    return result


def _decode(operations: Any) -> list[dict[str, Any]]:
    """Reject what Go's json.Unmarshal into a jsonpatch.Patch rejects (a 400, like the server)."""
    if not isinstance(operations, list):
        kind = "null" if operations is None else _GO_JSON_KIND.get(type(operations), "value")
        raise JsonPatchError(f"json: cannot unmarshal {kind} into Go value of type jsonpatch.Patch", 400)
    for op in operations:
        if not isinstance(op, dict) and op is not None:
            kind = _GO_JSON_KIND.get(type(op), "value")
            raise JsonPatchError(f"json: cannot unmarshal {kind} into Go value of type jsonpatch.Operation", 400)
    return [op or {} for op in operations]


def _apply_one(document: Any, op: dict[str, Any]) -> Any:
    kind = op.get("op")
    if kind not in _OPERATIONS:
        raise JsonPatchError(f"Unexpected kind: {kind if isinstance(kind, str) else 'unknown'}", 422)
    path = op.get("path")
    if not isinstance(path, str):
        raise JsonPatchError(f"{kind} operation failed to decode path: missing value", 422)
    value = json_copy(op.get("value"))      # the library would insert the patch's own object
    if kind == "test":
        return _test(document, path, value)
    parent, key = _locate(document, path)
    if kind in ("move", "copy") and not isinstance(op.get("from"), str):
        raise JsonPatchError(f"{kind} operation failed to decode from: missing value", 422)
    if kind == "copy":
        # evanphx/json-patch v4 (the server's) copies a missing member as null.
        source = op["from"]
        if source and _locate(document, source)[0] is None:
            raise JsonPatchError(f"copy operation does not apply: doc is missing from path: {source}: missing value", 422)
        kind, value = "add", json_copy(_lookup(document, source)[1])
    if kind == "replace" and isinstance(parent, dict) and key not in parent:
        kind = "add"                        # v4 replaces a missing member by adding it
    if kind == "add" and isinstance(parent, list) and key == "-1":
        path = path[: -len(key)] + "-"      # v4 reads index -1 as "append"
    safe = {**op, "op": kind, "path": path}
    if kind in ("add", "replace"):
        safe["value"] = value
    try:
        return jsonpatch.JsonPatch([safe]).apply(document, in_place=True)
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException, KeyError, IndexError, TypeError):
        raise JsonPatchError(_describe(kind, op, document), 422) from None


def _locate(document: Any, path: str) -> tuple[Any, str]:
    """The container a path points into (None when it does not exist) and the last token."""
    if path == "":
        return None, ""
    head, _, last = path.rpartition("/")
    found, parent = _lookup(document, head)
    token = last.replace("~1", "/").replace("~0", "~")
    return (parent if found and isinstance(parent, dict | list) else None), token


def _lookup(document: Any, path: str) -> tuple[bool, Any]:
    try:
        return True, jsonpointer.resolve_pointer(document, path)
    except jsonpointer.JsonPointerException:
        return False, None


def _test(document: Any, path: str, expected: Any) -> Any:
    found, actual = _lookup(document, path)
    # v4 treats a missing member as null.
    if not _json_equal(actual if found else None, expected):
        raise JsonPatchError(f"testing value {path} failed: test failed", 422)
    return document


def _json_equal(a: Any, b: Any) -> bool:
    """Equality of JSON values: unlike Python's ==, true is not 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b) and isinstance(a, dict | list) == isinstance(b, dict | list)


def _describe(kind: str, op: dict[str, Any], document: Any) -> str:
    """The wording of evanphx/json-patch v4, which the API server uses."""
    path = op.get("path", "")
    parent, key = _locate(document, path)
    if kind in ("move", "copy"):
        source = str(op.get("from", ""))
        source_parent, source_key = _locate(document, source)
        if source_parent is None:
            return f"{kind} operation does not apply: doc is missing from path: {source}: missing value"
        if kind == "move" and not _lookup(document, source)[0]:
            return f"error in move for path: '{source_key}': Unable to remove nonexistent key: {source_key}: missing value"
        return f"{kind} operation does not apply: doc is missing destination path: {path}: missing value"
    if parent is None:
        if kind == "replace":
            return f"replace operation does not apply: doc is missing path: {path}: missing value"
        return f'{kind} operation does not apply: doc is missing path: "{path}": missing value'
    if isinstance(parent, list):
        if kind == "replace":
            return f"Object to be patched is missing field ({path}: missing value)"
        return f"error in {kind} for path: '{path}': Unable to access invalid index: {key}: invalid index referenced"
    return f"error in remove for path: '{path}': Unable to remove nonexistent key: {key}: missing value"
