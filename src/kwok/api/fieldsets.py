"""Field sets: the paths of an object a manager owns, their algebra and their FieldsV1 encoding.

`f:<name>` is a field of an object, `k:{...}` an item of a list keyed by its key fields (a
`listType=map` list such as containers), `v:<json>` a member of a `listType=set` list, `i:<n>`
an item of a list without keys. A path is *in* the set when its node is empty (a leaf) or has
`"."` in FieldsV1. Internally a set is the same nested dict with every member marked by `"."`,
and a set once built is never mutated (the operations return new sets, sharing unchanged parts).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import orjson

FieldSet = dict[str, Any]  # str -> FieldSet; a recursive alias mypy accepts as Any below
MEMBER = "."


def decode_fields(fields_v1: Mapping[str, Any] | None) -> FieldSet:
    """FieldsV1 JSON to the internal form (an empty child is a member leaf)."""
    result: FieldSet = {}
    for key, child in (fields_v1 or {}).items():
        if key == MEMBER:
            result[MEMBER] = {}
        elif not child:
            result[key] = {MEMBER: {}}
        else:
            result[key] = decode_fields(child)
    return result


# Encodings of sets that recur by identity (see `remember_encoding`), by id() of the set.
_ENCODED: dict[int, tuple[FieldSet, dict[str, Any] | None]] = {}


def remember_encoding(fields: FieldSet) -> None:
    """Keep the FieldsV1 of a set that will be encoded again as the very same object (a remembered
    comparison's subtrees), once it is first encoded. The encoding is shared, and like every set
    it is never mutated."""
    _ENCODED[id(fields)] = (fields, None)


def forget_encoding(fields: FieldSet) -> None:
    hit = _ENCODED.get(id(fields))
    if hit is not None and hit[0] is fields:
        del _ENCODED[id(fields)]


def encode_fields(fields: FieldSet) -> dict[str, Any]:
    """The internal form to FieldsV1 JSON, in structured-merge-diff's order ("." first)."""
    hit = _ENCODED.get(id(fields))
    if hit is None or hit[0] is not fields:
        return _encode(fields)
    encoded = hit[1]
    if encoded is None:
        encoded = _encode(fields)
        _ENCODED[id(fields)] = (fields, encoded)
    return encoded


def _encode(fields: FieldSet) -> dict[str, Any]:
    out: dict[str, Any] = {}
    keys = list(fields)
    if MEMBER in fields:
        keys.remove(MEMBER)
        if keys:
            out[MEMBER] = {}
    # field names sort as plain strings, and "f:" sorts before "i:", "k:" and "v:": when the last
    # key is a field name, all are; keys and values need structured-merge-diff's value order
    keys.sort()
    if keys and not keys[-1].startswith("f:"):
        keys.sort(key=element_order)
    for key in keys:
        child = fields[key]
        out[key] = {} if len(child) == 1 and MEMBER in child else encode_fields(child)
    return out


@functools.lru_cache(maxsize=4096)
def element_order(element: str) -> tuple[int, Any]:
    """structured-merge-diff's order of path elements (remembered: the same keys recur in every
    object of a kind, `k:{"type":"Ready"}`)."""
    prefix, body = element[:2], element[2:]
    if prefix == "f:":
        return (0, body)
    if prefix == "k:":
        return (1, [(name, _value_order(value)) for name, value in orjson.loads(body).items()])
    if prefix == "v:":
        return (2, _value_order(orjson.loads(body)))
    return (3, int(body) if body.lstrip("-").isdigit() else body)


def _value_order(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, 0)
    if isinstance(value, bool):
        return (1, value)
    if isinstance(value, int | float):
        return (2, value)
    if isinstance(value, str):
        return (3, value)
    return (4, orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode())


def union(a: FieldSet, b: FieldSet) -> FieldSet:
    """Members of a or b. Returns `a` itself when b adds nothing, so an Update that touches only
    fields its manager already owns keeps the entry's set (and its encoding) as it was."""
    if not b:
        return a
    if not a:
        return b
    result: FieldSet | None = None
    for key, child in b.items():
        mine = a.get(key)
        merged = child if mine is None else union(mine, child)
        if merged is not mine:
            if result is None:
                result = dict(a)
            result[key] = merged
    return a if result is None else result


def difference(a: FieldSet, b: FieldSet) -> FieldSet:
    """Members of a not in b (b's membership of a node does not remove a's children).

    Returns `a` itself when nothing is removed, so unchanged sets keep their identity.
    """
    if not b or not a.keys() & b.keys():
        return a
    result: FieldSet = {}
    for key, child in a.items():
        if key == MEMBER:
            if MEMBER not in b:
                result[MEMBER] = {}
        elif key not in b:
            result[key] = child
        else:
            rest = difference(child, b[key])
            if rest:
                result[key] = rest
    return a if result == a else result


def intersection(a: FieldSet, b: FieldSet) -> FieldSet:
    result: FieldSet = {}
    for key, child in a.items():
        if key not in b:
            continue
        if key == MEMBER:
            result[MEMBER] = {}
        else:
            both = intersection(child, b[key])
            if both:
                result[key] = both
    return result


def is_empty(fields: FieldSet) -> bool:
    return not fields


def members(fields: FieldSet, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every path in the set, depth first in structured-merge-diff order."""
    if MEMBER in fields and prefix:
        yield prefix
    for key in sorted((k for k in fields if k != MEMBER), key=element_order):
        yield from members(fields[key], (*prefix, key))


def insert(fields: FieldSet, path: tuple[str, ...]) -> None:
    node = fields
    for element in path:
        node = node.setdefault(element, {})
    node[MEMBER] = {}






def path_string(path: tuple[str, ...]) -> str:
    """fieldpath.Path.String(): `.spec.containers[name="c"].image`, `[="v"]`, `[0]`."""
    parts = []
    for element in path:
        prefix, body = element[:2], element[2:]
        if prefix == "f:":
            parts.append("." + body)
        elif prefix == "k:":
            keys = orjson.loads(body)
            parts.append("[" + ",".join(f"{k}={_json(v)}" for k, v in keys.items()) + "]")
        elif prefix == "v:":
            parts.append(f"[={body}]")
        else:
            parts.append(f"[{body}]")
    return "".join(parts)


def _json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


# stripMetaManager: fields every object has and nobody owns.
STRIPPED_PATHS = (("f:apiVersion",), ("f:kind",), ("f:metadata",)) + tuple(
    ("f:metadata", "f:" + name) for name in ("name", "namespace", "creationTimestamp", "selfLink", "uid",
                                              "clusterName", "generation", "managedFields", "resourceVersion"))


def recursive_difference(fields: FieldSet, paths: Iterable[tuple[str, ...]]) -> FieldSet:
    """The set without everything at or below each field path (e.g. ("status",)).

    The API server passes the fields a write to this endpoint resets (a resource's status, or
    all but status on the status subresource), which nobody owns through that endpoint.
    """
    for path in paths:
        fields = _drop_subtree(fields, tuple("f:" + name for name in path))
    return fields


def _drop_subtree(fields: FieldSet, path: tuple[str, ...]) -> FieldSet:
    head, rest = path[0], path[1:]
    if head not in fields:
        return fields
    result = dict(fields)
    if rest:
        child = _drop_subtree(fields[head], rest)
        if child:
            result[head] = child
        else:
            del result[head]
    else:
        del result[head]
    return result


_STRIPPED_TOP = ("f:apiVersion", "f:kind", "f:metadata")
_STRIPPED_META = tuple(path[1] for path in STRIPPED_PATHS if len(path) == 2)


def strip_meta(fields: FieldSet) -> FieldSet:
    """The set without STRIPPED_PATHS as members (their children, such as labels, stay)."""
    if not any(key in fields for key in _STRIPPED_TOP):
        return fields
    result = dict(fields)
    for key in _STRIPPED_TOP:
        node = result.get(key)
        if node is None:
            continue
        if key == "f:metadata":
            node = _without_members(node, _STRIPPED_META)
        node = _without_members(node, None)
        if node:
            result[key] = node
        else:
            del result[key]
    return result


def _without_members(node: FieldSet, children: tuple[str, ...] | None) -> FieldSet:
    """`node` no longer a member itself (children None), or without those children as members."""
    if children is None:
        return {k: v for k, v in node.items() if k != MEMBER} if MEMBER in node else node
    if not any(name in node for name in children):
        return node
    result = dict(node)
    for name in children:
        child = result.get(name)
        if child is not None and MEMBER in child:
            trimmed = _without_members(child, None)
            if trimmed:
                result[name] = trimmed
            else:
                del result[name]
    return result
