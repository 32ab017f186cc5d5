"""Walking objects by type: the paths an object sets (ToFieldSet) and what a write changed (Compare).

Compare is on every write's path: it skips equal subtrees with one C-level `==`, grafts what it
finds below a node in one go, and remembers keyed list elements and the sets of all-leaf objects
(`FAST_PATHS`; off, the plain walk the differential tests check them against).

Keyed list items that omit a key field with a default (`protocol`) are keyed by the default.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import orjson

from kwok.api.fieldsets import MEMBER, FieldSet, forget_encoding, insert, remember_encoding, union
from kwok.api.fieldtypes import DEDUCED, Type, TypeResolver, is_atomic, list_relationship

# Whether the remembered elements and leaf sets below are used (the benchmark and differential
# tests turn them off to compare with the plain walk).
FAST_PATHS = True

# Key fields with an OpenAPI default: an item that omits one is keyed by the default, as the
# server defaults it (`ports: [{containerPort: 80}]` is the TCP port 80 the live object has).
KEY_DEFAULTS: dict[str, Any] = {"protocol": "TCP"}

# isinstance with a tuple built once (`dict | list` builds a union at every call, twice as slow)
_CONTAINERS = (dict, list)


def item_key(item: Mapping[str, Any], keys: tuple[str, ...]) -> tuple[dict[str, Any], str | None]:
    """The key fields of a keyed list item, and the first key field it omits without default."""
    key: dict[str, Any] = {}
    for name in sorted(keys):
        if name in item and item[name] is not None:
            key[name] = item[name]
        elif name in KEY_DEFAULTS:
            key[name] = KEY_DEFAULTS[name]
        else:
            return key, name
    return key, None


def list_item_element(item: Any, index: int, t: Type) -> str:
    """The path element of a list item: keyed, a set value, or a position."""
    relationship = list_relationship(t)
    if relationship == "map" and isinstance(item, dict):
        element = _keyed_element(item, t.keys)
        if element is not None:
            return element
    if relationship == "set":
        return "v:" + orjson.dumps(item, option=orjson.OPT_SORT_KEYS).decode()
    return f"i:{index}"


# "k:{...}" elements by key names and values: the same keys recur in every object of a kind
# (`k:{"type":"Ready"}`, a container's name); values of other types than these are not remembered.
_ELEMENTS: dict[tuple[Any, ...], str | None] = {}
_ELEMENTS_KEPT = 8192
_PLAIN = (str, int, type(None))   # no float: 1.0 == 1 as keys, though their JSON differs
_ABSENT = object()


def _keyed_element(item: Mapping[str, Any], keys: tuple[str, ...]) -> str | None:
    """A keyed item's element, None when it has no complete key."""
    if len(keys) == 1:     # most lists: a name, a type, an ip
        values: tuple[Any, ...] = (item.get(keys[0], _ABSENT),)
        remembered = FAST_PATHS and (type(values[0]) in _PLAIN or values[0] is _ABSENT)
    else:
        values = tuple(item.get(name, _ABSENT) for name in keys)
        remembered = FAST_PATHS and all(type(value) in _PLAIN or value is _ABSENT for value in values)
    if remembered:
        found = _ELEMENTS.get((keys, values), _ABSENT)
        if found is not _ABSENT:
            return found    # type: ignore[return-value]
    key, missing = item_key(item, keys)
    element = "k:" + orjson.dumps(key).decode() if key and missing is None else None
    if remembered:
        if len(_ELEMENTS) >= _ELEMENTS_KEPT:
            _ELEMENTS.clear()
        _ELEMENTS[(keys, values)] = element
    return element


def missing_key_errors(value: Any, t: Type, resolver: TypeResolver, path: str = "") -> list[str]:
    """structured-merge-diff's errors for keyed list items that omit a key field."""
    errors_found: list[str] = []
    if isinstance(value, dict) and not is_atomic(value, t):
        for name, child in value.items():
            child_type, _ = resolver.field(t, name)
            errors_found += missing_key_errors(child, child_type, resolver, f"{path}.{name}")
    elif isinstance(value, list) and not is_atomic(value, t):
        element = t.element or DEDUCED
        for index, item in enumerate(value):
            missing = item_key(item, t.keys)[1] if list_relationship(t) == "map" and isinstance(item, dict) else None
            if missing is not None:
                errors_found.append(f"{path}: element {index}: associative list with keys has an element that "
                                    f'omits key field "{missing}" (and doesn\'t have default value)')
                continue
            errors_found += missing_key_errors(item, element, resolver, f"{path}[{index}]")
    return errors_found


def list_items(items: list[Any], t: Type) -> dict[str, Any]:
    """A granular list's items by path element (the first of duplicates wins)."""
    indexed: dict[str, Any] = {}
    if list_relationship(t) == "map":   # list_item_element's keyed case, its type checked once
        keys = t.keys
        for index, item in enumerate(items):
            element = _keyed_element(item, keys) if isinstance(item, dict) else None
            indexed.setdefault(element or f"i:{index}", item)
        return indexed
    for index, item in enumerate(items):
        indexed.setdefault(list_item_element(item, index, t), item)
    return indexed


def field_set(obj: Any, t: Type, resolver: TypeResolver) -> FieldSet:
    """ToFieldSet: the paths an applied configuration sets."""
    result: FieldSet = {}
    _collect(obj, t, resolver, result)
    return result


def _collect(value: Any, t: Type, resolver: TypeResolver, out: FieldSet) -> bool:
    """Fill `out` with the paths below `value`; True when `value` itself is a leaf member."""
    if isinstance(value, dict) and not is_atomic(value, t):
        for name, child in value.items():
            child_type, declared = resolver.field(t, name)
            node: FieldSet = {}
            # an empty or null object, or a free map key, is owned itself besides its contents
            if _collect(child, child_type, resolver, node) or child is None or child == {} or not declared:
                node[MEMBER] = {}
            if node:
                out["f:" + name] = node
        return False
    if isinstance(value, list) and not is_atomic(value, t):
        element = t.element or DEDUCED
        for key, item in list_items(value, t).items():
            node = {MEMBER: {}}
            _collect(item, element, resolver, node)
            out[key] = node
        return False
    return True


class Comparison(NamedTuple):
    added: FieldSet
    modified: FieldSet
    removed: FieldSet


def compare(old: Any, new: Any, t: Type, resolver: TypeResolver) -> Comparison:
    result = Comparison({}, {}, {})
    _compare(old, new, t, resolver, (), result)
    return result


def _compare(old: Any, new: Any, t: Type, resolver: TypeResolver, path: tuple[str, ...], out: Comparison) -> None:
    if old is new or (type(old) is type(new) and old == new):
        return  # most of an object is unchanged by a write: one C-level comparison skips it
    if path and (old is _ABSENT or new is _ABSENT):
        # a whole subtree appeared or went away: every path in it, the subtree itself included
        target = out.added if old is _ABSENT else out.removed
        _graft(target, path, _every_path(new if old is _ABSENT else old, t, resolver))
        return
    walk_old, walk_new = _walkable(old, t), _walkable(new, t)
    if not walk_old and not walk_new:
        _compare_leaf(old, new, path, out)
        return
    container = dict if isinstance(old if walk_old else new, dict) else list
    for side in (old, new):
        if side is not _ABSENT and not isinstance(side, container) and side is not None:
            insert(out.modified, path)  # the value changed shape (scalar <-> object)
    if container is dict:
        _compare_fields(_as_dict(old), _as_dict(new), t, resolver, path, out)
    else:
        _compare_items(old, new, t, resolver, path, out)
    if path and old is _ABSENT:
        insert(out.added, path)
    elif path and new is _ABSENT:
        insert(out.removed, path)


def _every_path(value: Any, t: Type, resolver: TypeResolver) -> FieldSet:
    """The node of a value and all its descendants, each a member (what compare reports)."""
    node: FieldSet = {MEMBER: {}}
    if not value or not isinstance(value, _CONTAINERS) or is_atomic(value, t):
        return node
    if isinstance(value, dict):
        leaves = _leaves(value) if FAST_PATHS else None
        if leaves is not None:
            return leaves
        for name, child in value.items():
            # a scalar or an empty value is a leaf whatever its type: no need to resolve it
            node["f:" + name] = (_every_path(child, resolver.field(t, name)[0], resolver)
                                 if child and isinstance(child, _CONTAINERS) else {MEMBER: {}})
    else:
        element = t.element or DEDUCED
        items = list_items(value, t)
        shared = _leaf_items(items, element) if FAST_PATHS else None
        if shared is not None:
            return shared
        for key, item in items.items():
            node[key] = _every_path(item, element, resolver) if item and isinstance(item, _CONTAINERS) \
                else {MEMBER: {}}
    return node


# The paths of objects whose fields are all leaves (a condition, an address, nodeInfo), by their
# field names: shared by every object that has them, so never mutated (as no set is once built),
# and encoded once.
_LEAVES: dict[tuple[str, ...], FieldSet] = {}
_LEAVES_KEPT = 2048


def _leaves(value: dict[str, Any]) -> FieldSet | None:
    """_every_path of a non-empty object when each of its fields is a leaf, else None."""
    for child in value.values():
        if child and isinstance(child, _CONTAINERS):
            return None
    names = tuple(value)
    node = _LEAVES.get(names)
    if node is None:
        if len(_LEAVES) >= _LEAVES_KEPT:
            forget_leaves()
        node = {MEMBER: {}}
        for name in names:
            node["f:" + name] = {MEMBER: {}}
        _LEAVES[names] = node
        remember_encoding(node)
    return node


# The same for lists of such objects (conditions), by their elements and field names.
_LEAF_ITEMS: dict[tuple[tuple[str, tuple[str, ...]], ...], FieldSet] = {}


def _leaf_items(items: dict[str, Any], element: Type) -> FieldSet | None:
    """_every_path of a granular list (by element) when each item is an object of leaves, else None."""
    shape = []
    for key, item in items.items():
        if type(item) is not dict or not item or is_atomic(item, element):
            return None
        for child in item.values():
            if child and isinstance(child, _CONTAINERS):
                return None
        shape.append((key, tuple(item)))
    names = tuple(shape)
    node = _LEAF_ITEMS.get(names)
    if node is None:
        if len(_LEAF_ITEMS) >= _LEAVES_KEPT:
            forget_leaves()
        node = {MEMBER: {}}
        for key, item in items.items():
            node[key] = _leaves(item)
        _LEAF_ITEMS[names] = node
        remember_encoding(node)
    return node


def forget_leaves() -> None:
    for node in (*_LEAVES.values(), *_LEAF_ITEMS.values()):
        forget_encoding(node)
    _LEAVES.clear()
    _LEAF_ITEMS.clear()
    _ELEMENTS.clear()


def _graft(fields: FieldSet, path: tuple[str, ...], subtree: FieldSet) -> None:
    node = fields
    for element in path[:-1]:
        node = node.setdefault(element, {})
    existing = node.get(path[-1])
    node[path[-1]] = union(existing, subtree) if existing else subtree


def _compare_leaf(old: Any, new: Any, path: tuple[str, ...], out: Comparison) -> None:
    if old is _ABSENT and new is _ABSENT:
        return
    if old is _ABSENT:
        insert(out.added, path)
    elif new is _ABSENT:
        insert(out.removed, path)
    elif not _same(old, new):
        insert(out.modified, path)


def _same(a: Any, b: Any) -> bool:
    """JSON equality (1 == 1.0, but True != 1)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return bool(a == b)


def _walkable(value: Any, t: Type) -> bool:
    """Whether compare walks into the value (a non-empty granular object or list)."""
    return bool(value) and isinstance(value, _CONTAINERS) and not is_atomic(value, t)


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _compare_fields(old: dict[str, Any], new: dict[str, Any], t: Type, resolver: TypeResolver,
                    path: tuple[str, ...], out: Comparison) -> None:
    """The fields of two objects at `path`. What is added, removed or changed right below the
    path is gathered and grafted at once (one walk down the result, not one a field)."""
    if not FAST_PATHS:
        _compare_fields_plain(old, new, t, resolver, path, out)
        return
    added: dict[str, FieldSet] = {}
    modified: list[str] = []
    removed: dict[str, FieldSet] = {}
    for name, value in new.items():
        before = old.get(name, _ABSENT)
        if before is value or (type(before) is type(value) and before == value):
            continue  # the common case, checked before resolving the field's type
        container = isinstance(value, _CONTAINERS)
        if before is _ABSENT:
            added["f:" + name] = _every_path(value, resolver.field(t, name)[0], resolver) \
                if value and container else {MEMBER: {}}
        elif not container and not isinstance(before, _CONTAINERS):
            if not _same(before, value):    # two scalars: their type does not matter
                modified.append("f:" + name)
        else:
            _compare(before, value, resolver.field(t, name)[0], resolver, (*path, "f:" + name), out)
    for name, before in old.items():
        if name not in new:
            removed["f:" + name] = _every_path(before, resolver.field(t, name)[0], resolver) \
                if before and isinstance(before, _CONTAINERS) else {MEMBER: {}}
    _graft_here(path, out, added, modified, removed)


def _graft_here(path: tuple[str, ...], out: Comparison, added: dict[str, FieldSet], modified: list[str],
                removed: dict[str, FieldSet]) -> None:
    """Graft the paths found right below `path` (by element) into the result, one walk each."""
    for found, target in ((added, out.added), (removed, out.removed)):
        if found:
            node = _node_at(target, path)
            for element, subtree in found.items():
                existing = node.get(element)
                node[element] = union(existing, subtree) if existing else subtree
    if modified:
        node = _node_at(out.modified, path)
        for element in modified:
            node.setdefault(element, {})[MEMBER] = {}


def _node_at(fields: FieldSet, path: tuple[str, ...]) -> FieldSet:
    for element in path:
        fields = fields.setdefault(element, {})
    return fields


def _compare_fields_plain(old: dict[str, Any], new: dict[str, Any], t: Type, resolver: TypeResolver,
                          path: tuple[str, ...], out: Comparison) -> None:
    """_compare_fields one path at a time: the oracle of the differential tests."""
    for name, value in new.items():
        before = old.get(name, _ABSENT)
        if before is value or (type(before) is type(value) and before == value):
            continue  # the common case, checked before resolving the field's type
        if before is not _ABSENT and not isinstance(before, _CONTAINERS) and not isinstance(value, _CONTAINERS):
            _compare_leaf(before, value, (*path, "f:" + name), out)   # two scalars: their type does not matter
            continue
        _compare(before, value, resolver.field(t, name)[0], resolver, (*path, "f:" + name), out)
    for name, before in old.items():
        if name not in new:
            _compare(before, _ABSENT, resolver.field(t, name)[0], resolver, (*path, "f:" + name), out)


def _compare_items(old: Any, new: Any, t: Type, resolver: TypeResolver, path: tuple[str, ...],
                   out: Comparison) -> None:
    old_items = list_items(old, t) if isinstance(old, list) else {}
    new_items = list_items(new, t) if isinstance(new, list) else {}
    element = t.element or DEDUCED
    if not FAST_PATHS:
        for key in {**old_items, **new_items}:
            _compare(old_items.get(key, _ABSENT), new_items.get(key, _ABSENT), element, resolver, (*path, key), out)
        return
    added: dict[str, FieldSet] = {}
    removed: dict[str, FieldSet] = {}
    for key, item in new_items.items():
        before = old_items.get(key, _ABSENT)
        if before is _ABSENT:
            added[key] = _every_path(item, element, resolver)
        elif not (before is item or (type(before) is type(item) and before == item)):
            _compare(before, item, element, resolver, (*path, key), out)
    for key, before in old_items.items():
        if key not in new_items:
            removed[key] = _every_path(before, element, resolver)
    _graft_here(path, out, added, [], removed)


# Struct fields that are pointers in the Go types (nil in a zero object), on the paths a create
# reaches without entering a list; the schema does not say which struct fields are pointers.
POINTER_STRUCT_FIELDS = frozenset({
    "securityContext", "affinity", "dnsConfig", "os", "rollingUpdate", "sessionAffinityConfig",
    "persistentVolumeClaimRetentionPolicy", "ordinals", "podFailurePolicy", "successPolicy", "selector",
    "behavior", "scaleUp", "scaleDown",
})


def create_baseline(new: Any, t: Type, resolver: TypeResolver) -> Any:
    """The zero object a create is compared against: the kind's non-pointer structs, empty.

    Go's zero value of a kind serialises its non-pointer structs as `{}`, so a create records no
    "." for spec, template, strategy, ... but does for pointer structs (rollingUpdate,
    securityContext), maps and list items it fills.
    """
    if not isinstance(new, dict) or t.kind != "struct":
        return _ABSENT
    baseline: dict[str, Any] = {}
    for name, value in new.items():
        child_type, declared = resolver.field(t, name)
        pointer = name in POINTER_STRUCT_FIELDS
        if declared and child_type.kind == "struct" and isinstance(value, dict) and not pointer:
            baseline[name] = create_baseline(value, child_type, resolver)
        elif declared and child_type.required and child_type.kind in ("list", "map"):
            baseline[name] = None
    return baseline
