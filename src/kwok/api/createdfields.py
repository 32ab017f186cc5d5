"""What a create by Update owns, as FieldsV1, in one walk of the created object.

The general algorithm (`kwok.api.fieldpaths`) builds the kind's zero object (`create_baseline`),
compares the created object with it into added and modified sets, unites them, strips the
fields nobody owns (`strip_meta`) and encodes the result. A create is the commonest write of a
scale-up (every node, pod and lease), so this module derives the same FieldsV1 directly: each
field is compared with what the zero object has in its place, one of

    nothing   the field is absent from the zero object: it and everything below it is set
    null      a list or map Go serialises as null: a null stays unowned, anything else is
              set, the field itself only when it is not walked into (a scalar, empty, atomic)
    {...}     a non-pointer struct: equal to its zero value it is unowned, else its fields are
              compared the same way, the struct itself never a member

The encoding is built as it is walked, in structured-merge-diff's order. `created_fields_v1` is
pinned to the general algorithm by differential tests (tests/api/test_managedfields_fast_paths.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from kwok.api.fieldpaths import POINTER_STRUCT_FIELDS, create_baseline, list_items
from kwok.api.fieldsets import MEMBER, STRIPPED_PATHS, element_order
from kwok.api.fieldtypes import DEDUCED, SCALAR, Type, TypeResolver, is_atomic

_STRIPPED_META = tuple(path[1] for path in STRIPPED_PATHS if len(path) == 2)

# isinstance with a tuple built once (`dict | list` builds a union at every call, twice as slow)
_CONTAINERS = (dict, list)


def created_fields_v1(obj: Mapping[str, Any], root: Type, resolver: TypeResolver,
                      unowned: Iterable[str], remember: bool = False) -> dict[str, Any] | None:
    """FieldsV1 of the fields a create of `obj` sets that its manager owns (the general
    algorithm's `encode_fields(strip_meta(union(added, modified)))`), leaving out the top-level
    fields in `unowned` and `metadata.managedFields`. `remember`: the types are the process-wide
    schema's, so encodings of recurring fields may be remembered. None when the object is outside
    the shapes this walk is written for (the caller takes the general path then)."""
    if root.kind != "struct" or is_atomic(obj, root):
        return None
    meta = obj.get("metadata")
    if "metadata" in obj and not isinstance(meta, dict):
        return None
    skipped = frozenset(unowned)
    fields = {name: value for name, value in obj.items() if name not in skipped}
    if isinstance(meta, dict) and "managedFields" in meta and "metadata" in fields:
        fields["metadata"] = {name: value for name, value in meta.items() if name != "managedFields"}
    memo = (root.message,) if remember and root.message else None
    encoded = _from_zero(fields, root, resolver, memo) or {}
    return _strip_meta(encoded)


# Encodings of the fields of many objects made from one template (a ReplicaSet's pods' spec,
# their ownerReferences), by (message, field names down to the value, JSON of the value), for the
# two top levels of an object (metadata itself, unique to each object, excepted). The type of a field is fixed by its message and the names down
# to it, so the same key gives the same encoding. Encodings are shared and, like every FieldsV1
# the API server writes, never mutated.
_REMEMBERED: dict[tuple[Any, ...], dict[str, Any] | None] = {}
_REMEMBERED_KEPT = 4096
_REMEMBERED_DEPTH = 3   # the key's length for a field of a top-level field


def forget_remembered() -> None:
    _REMEMBERED.clear()


def _field(name: str, child: Any, t: Type, declared: bool, resolver: TypeResolver,
           memo: tuple[Any, ...] | None) -> dict[str, Any] | None:
    """The encoding of field `name` of a struct (None: nobody owns it), remembered by `memo`."""
    if memo is None or not child or not isinstance(child, _CONTAINERS) or t.element is SCALAR:
        # a scalar, or a map or list of scalars: quicker walked than looked up (and often per object)
        return _compute_field(name, child, t, declared, resolver, memo)
    if memo[1:] == ("metadata",):
        # metadata has the object's name and uid: never seen again, unlike its ownerReferences
        return _compute_field(name, child, t, declared, resolver, memo)
    try:
        key = (*memo, orjson.dumps(child))
    except TypeError:   # not JSON (an integer past 64 bits): compute it every time
        return _compute_field(name, child, t, declared, resolver, None)
    if key in _REMEMBERED:
        return _REMEMBERED[key]
    node = _compute_field(name, child, t, declared, resolver, memo if len(memo) < _REMEMBERED_DEPTH else None)
    if len(_REMEMBERED) >= _REMEMBERED_KEPT:
        _REMEMBERED.clear()     # objects of a few templates at a time: their encodings come back
    _REMEMBERED[key] = node
    return node


def _compute_field(name: str, child: Any, t: Type, declared: bool, resolver: TypeResolver,
                   memo: tuple[Any, ...] | None) -> dict[str, Any] | None:
    """Compared with the field's zero value, as `create_baseline` makes it."""
    if declared and t.kind == "struct" and isinstance(child, dict) and name not in POINTER_STRUCT_FIELDS:
        return _from_zero(child, t, resolver, memo)
    if declared and t.required and t.kind in ("list", "map"):
        return _from_null(child, t, resolver) if isinstance(child, _CONTAINERS) else None if child is None else {}
    return _every(child, t, resolver) if child and isinstance(child, _CONTAINERS) else {}


def _every(value: Any, t: Type, resolver: TypeResolver) -> dict[str, Any]:
    """A value set where nothing was: its node and every node below it are members."""
    if not value or not isinstance(value, _CONTAINERS) or is_atomic(value, t):
        return {}
    encoded: dict[str, Any] = {MEMBER: {}}
    _add_sorted(encoded, _every_child(value, t, resolver))
    return encoded


def _every_child(value: dict[str, Any] | list[Any], t: Type, resolver: TypeResolver) -> dict[str, Any]:
    if isinstance(value, dict):
        if t.element is SCALAR:     # labels, annotations, resources: every value a leaf
            return {"f:" + name: {} for name in value}
        return {"f:" + name: _every(child, resolver.field(t, name)[0], resolver)
                if child and isinstance(child, _CONTAINERS) else {} for name, child in value.items()}
    element = t.element or DEDUCED
    return {key: _every(item, element, resolver) if item and isinstance(item, _CONTAINERS) else {}
            for key, item in list_items(value, t).items()}


def _from_null(value: Any, t: Type, resolver: TypeResolver) -> dict[str, Any] | None:
    """A value set where the zero object has null (a required list or map)."""
    if value is None:
        return None
    if not _walkable(value, t):
        return {}
    encoded: dict[str, Any] = {}
    _add_sorted(encoded, _every_child(value, t, resolver))
    return encoded


def _from_zero(value: dict[str, Any], t: Type, resolver: TypeResolver, memo: tuple[Any, ...] | None = None
               ) -> dict[str, Any] | None:
    """A struct set where the zero object has the struct's zero value: equal to it, nobody owns
    it; else its fields are compared with theirs (an atomic struct is owned whole). `memo`: the
    key prefix of its fields' remembered encodings (None: not remembered)."""
    if not value:
        return None
    if is_atomic(value, t):
        return None if create_baseline(value, t, resolver) == value else {}
    children: dict[str, Any] = {}
    for name, child in value.items():
        if child is not None and not isinstance(child, _CONTAINERS):
            children["f:" + name] = {}  # a scalar is set whatever the field's type
            continue
        child_type, declared = resolver.field(t, name)
        node = _field(name, child, child_type, declared, resolver, None if memo is None else (*memo, name))
        if node is not None:
            children["f:" + name] = node
    if not children:
        return None
    encoded: dict[str, Any] = {}
    _add_sorted(encoded, children)
    return encoded


def _walkable(value: Any, t: Type) -> bool:
    return bool(value) and isinstance(value, _CONTAINERS) and not is_atomic(value, t)


def _add_sorted(encoded: dict[str, Any], children: dict[str, Any]) -> None:
    """Children in FieldsV1 order: field names as plain strings, list elements by value order."""
    keys = sorted(children)
    if keys and not keys[-1].startswith("f:"):
        keys.sort(key=element_order)
    for key in keys:
        encoded[key] = children[key]


def _strip_meta(encoded: dict[str, Any]) -> dict[str, Any]:
    """strip_meta on FieldsV1: apiVersion, kind, metadata and its server-set fields unowned."""
    for key in ("f:apiVersion", "f:kind", "f:metadata"):
        node = encoded.get(key)
        if node is None:
            continue
        if key == "f:metadata" and node:
            node = dict(node)
            for name in _STRIPPED_META:
                child = node.get(name)
                if child is not None:
                    _set_or_drop(node, name, _without_member(child))
        _set_or_drop(encoded, key, _without_member(node))
    return encoded


def _without_member(node: dict[str, Any]) -> dict[str, Any]:
    """A FieldsV1 node no longer a member itself (`{}` is a member leaf: nothing is left)."""
    if MEMBER not in node:
        return node
    return {key: child for key, child in node.items() if key != MEMBER}


def _set_or_drop(parent: dict[str, Any], key: str, node: dict[str, Any]) -> None:
    if node:
        parent[key] = node
    else:
        del parent[key]
