"""Field ownership (`metadata.managedFields`) as structured-merge-diff records it.

Every write names a field manager. The API server remembers which manager set which field, as
*field sets* (`kwok.api.fieldsets`) encoded in FieldsV1 JSON:

    {"f:metadata":{"f:labels":{".":{},"f:app":{}}},
     "f:spec":{"f:containers":{"k:{\\"name\\":\\"c\\"}":{".":{},"f:image":{}}}}}

How a path is formed depends on the type (`kwok.api.fieldtypes`); walking objects into field sets
and comparing two states is `kwok.api.fieldpaths`. This module keeps the managedFields entries and
records an Update; it re-exports the names of the other three, so users import from here:

    FieldSet = dict[str, FieldSet]                  # internal form, "." marks a member
    decode_fields(fields_v1) -> FieldSet / encode_fields(field_set) -> dict (FieldsV1 JSON)
    union / difference / intersection / is_empty / members(field_set) / path_string(path)
    recursive_difference(field_set, [("status",), ...])     # drop whole subtrees (reset fields)
    TypeResolver, Type, DEDUCED, schema_types(), resolver_for(api_version, kind, resolver=None)
    OpenAPITypes(openapi_v3_schema)                 # a resolver for a CRD version's structural schema
    field_set(obj, root_type, resolver) -> FieldSet          # structured-merge-diff ToFieldSet
    compare(old, new, root_type, resolver) -> Comparison     # added / modified / removed sets
    ManagedEntry, decode_managed(obj) -> dict[ManagerKey, ManagedEntry], encode_managed(entries)
    update_managed_fields(old, new, manager, operation, api_version, time, subresource="",
                          resolver=None, ignored=()) -> dict
        # the new object with managedFields recording an Update (PUT/PATCH/POST; old=None for a
        # create), as kube-apiserver's field manager does. `time` is RFC 3339, second precision.

A create without managedFields in its body takes a fast path (`kwok.api.createdfields`: the
object walked straight into FieldsV1), compares graft what they find one node at a time and
remember list elements and leaf sets (`kwok.api.fieldpaths`). `FAST_PATHS = False` here and in
fieldpaths is the general algorithm: the oracle of tests/api/test_managedfields_fast_paths.py
and the baseline of bench/managedfields_bench.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

import orjson

from kwok.api import createdfields, fieldpaths
from kwok.api.createdfields import created_fields_v1
from kwok.api.fieldpaths import (
    KEY_DEFAULTS,
    Comparison,
    compare,
    create_baseline,
    field_set,
    item_key,
    list_item_element,
    list_items,
    missing_key_errors,
)
from kwok.api.fieldsets import (
    MEMBER,
    STRIPPED_PATHS,
    FieldSet,
    decode_fields,
    difference,
    element_order,
    encode_fields,
    forget_encoding,
    insert,
    intersection,
    is_empty,
    members,
    path_string,
    recursive_difference,
    remember_encoding,
    strip_meta,
    union,
)
from kwok.api.fieldtypes import (
    DEDUCED,
    DEDUCED_TYPES,
    SCALAR,
    DeducedTypes,
    OpenAPITypes,
    SchemaTypes,
    Type,
    TypeResolver,
    is_atomic,
    is_object,
    list_relationship,
    resolver_for,
    schema_types,
)

__all__ = [
    "DEDUCED", "DEDUCED_TYPES", "KEY_DEFAULTS", "MAX_UPDATE_MANAGERS", "MEMBER", "OLD_UPDATES_MANAGER", "SCALAR",
    "STRIPPED_PATHS", "Comparison", "DeducedTypes", "FieldSet", "ManagedEntry", "ManagerKey", "OpenAPITypes",
    "SchemaTypes", "Type", "TypeResolver", "cap_update_managers", "compare", "create_baseline", "decode_fields",
    "decode_managed", "difference", "element_order", "encode_fields", "encode_managed", "field_set", "insert",
    "intersection", "is_atomic", "is_empty", "is_object", "is_reset_request", "item_key", "list_item_element",
    "list_items", "list_relationship", "members", "missing_key_errors", "path_string", "recursive_difference",
    "resolver_for", "schema_types", "strip_meta", "union", "update_managed_fields", "with_managed_fields",
    "without_managed_fields",
]


# --- managedFields entries -----------------------------------------------------------------------


class ManagerKey(NamedTuple):
    """BuildManagerIdentifier: Apply entries are one per manager whatever the apiVersion."""

    manager: str
    operation: str
    api_version: str
    subresource: str


class ManagedEntry:
    """One managedFields record: who owns which fields, through which operation and endpoint.

    An entry read from an object keeps its FieldsV1 and decodes it only when a write needs the
    set (most writes touch none of most entries' fields), and is written back as that very
    FieldsV1 while its set is unchanged.
    """

    __slots__ = ("manager", "operation", "api_version", "time", "subresource", "_fields", "_wire", "_source")

    def __init__(self, manager: str, operation: str, api_version: str, time: str | None,
                 fields: FieldSet | None = None, subresource: str = "",
                 wire: dict[str, Any] | None = None) -> None:
        self.manager = manager
        self.operation = operation
        self.api_version = api_version
        self.time = time
        self.subresource = subresource
        self._fields = fields if fields is not None or wire is not None else {}
        self._wire = wire                           # FieldsV1 of `_source` (of the entry while undecoded)
        self._source: FieldSet | None = None        # the decoding of `_wire`, once decoded

    @property
    def fields(self) -> FieldSet:
        if self._fields is None:
            self._fields = self._source = decode_fields(self._wire)
        return self._fields

    @fields.setter
    def fields(self, value: FieldSet) -> None:
        self._fields = value

    def fields_v1(self) -> dict[str, Any]:
        """The set as FieldsV1 JSON, reusing the one it was read as while unchanged."""
        if self._wire is not None and (self._fields is None or self._fields is self._source):
            return self._wire
        return encode_fields(self.fields)

    def touches(self, other: FieldSet) -> bool:
        """Whether the entry may own something in `other` (read off FieldsV1 while undecoded)."""
        if not other:
            return False
        if self._fields is not None:
            return not other.keys().isdisjoint(self._fields)
        return _owns_any(self._wire or {}, other)

    def holds(self, other: FieldSet) -> bool:
        """Whether every member of `other` is one of this entry's while it is undecoded (what
        `union(self.fields, other) is self.fields` says, read off FieldsV1)."""
        return self._fields is None and self._wire is not None and _holds(self._wire, other)

    def take_fields_of(self, previous: ManagedEntry) -> None:
        """Take over `previous`'s set and FieldsV1 as they are (decoded or not)."""
        self._fields, self._wire, self._source = previous._fields, previous._wire, previous._source

    def keep_encoding_of(self, previous: ManagedEntry) -> None:
        """Take over `previous`'s FieldsV1, valid while this entry's set is previous's set."""
        self._wire, self._source = previous._wire, previous._source

    @property
    def key(self) -> ManagerKey:
        return ManagerKey(self.manager, self.operation, "" if self.operation == "Apply" else self.api_version,
                          self.subresource)

    def describe(self) -> str:
        """printManager: how a conflict names this manager."""
        text = _go_quote(self.manager)
        if self.subresource:
            text += f" with subresource {_go_quote(self.subresource)}"
        if self.operation == "Update":
            text += f" using {self.api_version}"
        return text

    def __repr__(self) -> str:
        return f"ManagedEntry({self.describe()}, {self.operation}, time={self.time})"


def _owns_any(wire: Mapping[str, Any], fields: FieldSet) -> bool:
    """Whether FieldsV1 `wire` has a member in the set `fields` (walking only shared paths)."""
    for key, child in fields.items():
        if key == MEMBER or key not in wire:
            continue
        owned = wire[key]
        if (MEMBER in child and (not owned or MEMBER in owned)) or (owned and _owns_any(owned, child)):
            return True
    return False


def _holds(wire: Mapping[str, Any], fields: FieldSet) -> bool:
    """Whether FieldsV1 `wire` has every member and node of the set `fields` (`{}` is a member leaf)."""
    for key, child in fields.items():
        if key == MEMBER:
            if wire and MEMBER not in wire:
                return False
        else:
            owned = wire.get(key)
            if owned is None or not _holds(owned, child):
                return False
    return True


def _go_quote(text: str) -> str:
    return orjson.dumps(text).decode()


def decode_managed(obj: Mapping[str, Any] | None) -> dict[ManagerKey, ManagedEntry]:
    entries: dict[ManagerKey, ManagedEntry] = {}
    for raw in ((obj or {}).get("metadata") or {}).get("managedFields") or []:
        if not isinstance(raw, dict) or not raw.get("manager") and not raw.get("fieldsV1"):
            continue
        entry = ManagedEntry(raw.get("manager", ""), raw.get("operation", ""), raw.get("apiVersion", ""),
                             raw.get("time"), None, raw.get("subresource", ""), raw.get("fieldsV1") or {})
        previous = entries.get(entry.key)
        if previous is not None:
            entry.fields = union(previous.fields, entry.fields)
        entries[entry.key] = entry
    return entries


def encode_managed(entries: Mapping[ManagerKey, ManagedEntry]) -> list[dict[str, Any]]:
    """managedFields in the API server's order: Apply first, then by time, manager, version."""
    ordered = sorted(entries.values(), key=lambda e: (e.operation, e.time or "", e.manager, e.api_version,
                                                      e.subresource))
    result = []
    for entry in ordered:
        encoded: dict[str, Any] = {"manager": entry.manager, "operation": entry.operation,
                                   "apiVersion": entry.api_version}
        if entry.time:
            encoded["time"] = entry.time
        encoded["fieldsType"] = "FieldsV1"
        encoded["fieldsV1"] = entry.fields_v1()
        if entry.subresource:
            encoded["subresource"] = entry.subresource
        result.append(encoded)
    return result


def without_managed_fields(obj: Mapping[str, Any]) -> dict[str, Any]:
    copy = dict(obj)
    meta = dict(copy.get("metadata") or {})
    meta.pop("managedFields", None)
    copy["metadata"] = meta
    return copy


def with_managed_fields(obj: Mapping[str, Any], entries: Mapping[ManagerKey, ManagedEntry]) -> dict[str, Any]:
    copy = dict(obj)
    meta = dict(copy.get("metadata") or {})
    encoded = encode_managed(entries)
    if encoded:
        meta["managedFields"] = encoded
    else:
        meta.pop("managedFields", None)
    copy["metadata"] = meta
    return copy


def is_reset_request(new: Mapping[str, Any]) -> bool:
    """`managedFields: []` or `[{}]` in a write asks to drop all ownership records."""
    managed = (new.get("metadata") or {}).get("managedFields", None)
    return managed == [] or managed == [{}]


def update_managed_fields(old: Mapping[str, Any] | None, new: Mapping[str, Any], manager: str, operation: str,
                          api_version: str, time: str, subresource: str = "",
                          resolver: TypeResolver | None = None,
                          ignored: Iterable[tuple[str, ...]] = ()) -> dict[str, Any]:
    """Record an Update (PUT/PATCH/POST) by `manager` the way kube-apiserver's field manager does.

    Each manager+operation+apiVersion+subresource entry owns the fields it added or changed;
    fields another manager changes or removes move away from their previous owner; entries left
    empty disappear; the entry's time is refreshed only when the write changed something it owns.
    An update of an object that never had managedFields stays untracked (as upstream skips it).
    `ignored` lists the field paths this endpoint resets (see `recursive_difference`).
    """
    if is_reset_request(new):
        return without_managed_fields(new)
    entries = _base_entries(old, new, subresource)
    if old is not None and not entries:
        return without_managed_fields(new)
    if old is None and not entries and FAST_PATHS:
        created = _created_entry(new, manager, operation, api_version, time, subresource, resolver, ignored)
        if created is not None:
            return with_managed_fields(new, created)
    changed, removed = _changes(old, new, api_version, resolver, ignored)
    mine = ManagedEntry(manager, operation, api_version, time, changed, subresource)
    for key, entry in list(entries.items()):
        # the manager's own fields stay its own (only what it removed goes), so a write that
        # touches only fields it already owns keeps the entry's set and its encoding
        taken = {} if key == mine.key and changed else changed
        if entry.touches(taken) or entry.touches(removed):
            entry.fields = difference(difference(entry.fields, taken), removed)
            if not entry.fields:
                del entries[key]
    if changed:
        previous = entries.get(mine.key)
        if previous is not None:
            if FAST_PATHS and previous.holds(changed):
                mine.take_fields_of(previous)   # a renewal: no need to decode the set to unite it
            else:
                mine.fields = union(previous.fields, changed)
                mine.keep_encoding_of(previous)
        entries[mine.key] = mine
    cap_update_managers(entries)
    return with_managed_fields(new, entries)


def _created_entry(new: Mapping[str, Any], manager: str, operation: str, api_version: str, time: str,
                   subresource: str, resolver: TypeResolver | None, ignored: Iterable[tuple[str, ...]]
                   ) -> dict[ManagerKey, ManagedEntry] | None:
    """The entries of a create that sends no managedFields, its set walked straight into FieldsV1
    (`kwok.api.createdfields`); None when that walk does not apply."""
    ignored = tuple(ignored)
    if any(len(path) != 1 for path in ignored):
        return None
    root, types = resolver_for(api_version, str(new.get("kind", "")), resolver)
    wire = created_fields_v1(new, root, types, [path[0] for path in ignored], remember=resolver is None)
    if wire is None:
        return None
    if not wire:
        return {}
    entry = ManagedEntry(manager, operation, api_version, time, None, subresource, wire)
    return {entry.key: entry}


def _changes(old: Mapping[str, Any] | None, new: Mapping[str, Any], api_version: str,
             resolver: TypeResolver | None, ignored: Iterable[tuple[str, ...]]) -> tuple[FieldSet, FieldSet]:
    """(fields the write set or changed, fields it removed), without the ones nobody owns."""
    kind = str(new.get("kind", ""))
    root, types = resolver_for(api_version, kind, resolver)
    ignored = tuple(ignored)
    if old is None:
        # a create removes nothing, and what it sets in a reset field nobody owns: skip comparing it
        unowned = {path[0] for path in ignored if len(path) == 1}
        diff = _compare_created(without_managed_fields(new), (api_version, kind) if resolver is None else None,
                                root, types, unowned)
    else:
        diff = compare(without_managed_fields(old), without_managed_fields(new), root, types)
    changed = recursive_difference(strip_meta(union(diff.added, diff.modified)), ignored)
    return changed, strip_meta(diff.removed)


# Whether the fast paths are taken (the benchmark and the differential tests turn them off to
# measure and check them against the general algorithm).
FAST_PATHS = True


def forget_remembered() -> None:
    """Drop every remembered comparison and encoding (benchmarks start cold)."""
    createdfields.forget_remembered()
    fieldpaths.forget_leaves()
    for key in list(_CREATED):
        for subtree in _CREATED.pop(key).added.values():
            forget_encoding(subtree)


_CREATED: dict[tuple[str, str, bytes], Comparison] = {}
_CREATED_KEPT = 256


def _remember_created(key: tuple[str, str, bytes], comparison: Comparison) -> None:
    if len(_CREATED) >= _CREATED_KEPT:
        evicted = _CREATED.pop(next(iter(_CREATED)))
        for subtree in evicted.added.values():
            forget_encoding(subtree)
    _CREATED[key] = comparison
    for subtree in comparison.added.values():
        remember_encoding(subtree)


def _compare_created(new: dict[str, Any], kind: tuple[str, str] | None, root: Type, types: TypeResolver,
                     unowned: set[str]) -> Comparison:
    """compare() of a created object with its kind's zero object.

    Objects made from one template (the pods of a ReplicaSet, the nodes of a scale-up) differ in
    their metadata only. Each top-level field compares on its own, so the comparison of all but
    metadata is remembered by their JSON: the same input gives the same result. `kind` is None
    when the types are not the process-wide schema (nothing is remembered then). `unowned`: the
    top-level fields left out (reset by this endpoint).
    """
    rest = {k: v for k, v in new.items() if k != "metadata" and k not in unowned}
    key = None
    if kind is not None:
        try:
            key = (*kind, orjson.dumps(rest))
        except TypeError:   # not JSON (an integer past 64 bits): compare it every time
            key = None
    cached = _CREATED.get(key) if key is not None else None
    if cached is None:
        cached = compare(create_baseline(rest, root, types), rest, root, types)
        if key is not None:
            _remember_created(key, cached)
    if "metadata" not in new:
        return cached
    head = {"metadata": new["metadata"]}
    meta = compare(create_baseline(head, root, types), head, root, types)
    return Comparison({**cached.added, **meta.added}, {**cached.modified, **meta.modified},
                      {**cached.removed, **meta.removed})


MAX_UPDATE_MANAGERS = 10
OLD_UPDATES_MANAGER = "ancient-changes"


def cap_update_managers(entries: dict[ManagerKey, ManagedEntry], limit: int = MAX_UPDATE_MANAGERS) -> None:
    """capManagersManager: past `limit` Update entries the oldest fold into `ancient-changes`.

    One bucket per apiVersion; it takes the time of the newest entry folded into it.
    """
    updaters = sorted((e for e in entries.values() if e.operation == "Update"), key=lambda e: (e.time or "", e.key))
    count = len(updaters)
    for entry in updaters:
        if count <= limit:
            return
        if entry.manager == OLD_UPDATES_MANAGER:
            continue
        del entries[entry.key]
        bucket = ManagedEntry(OLD_UPDATES_MANAGER, "Update", entry.api_version, entry.time, entry.fields)
        existing = entries.get(bucket.key)
        if existing is None:
            count += 1
        else:
            bucket.fields = union(existing.fields, entry.fields)
        entries[bucket.key] = bucket
        count -= 1


def _base_entries(old: Mapping[str, Any] | None, new: Mapping[str, Any], subresource: str
                  ) -> dict[ManagerKey, ManagedEntry]:
    """decodeLiveOrNew: ownership a client sends in the body wins (not on subresources)."""
    if not subresource:
        sent = decode_managed(new)
        if sent:
            return sent
    return decode_managed(old)
