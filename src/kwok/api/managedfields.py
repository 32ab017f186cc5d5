"""Field ownership (`metadata.managedFields`) as structured-merge-diff records it.

Every write names a field manager. The API server remembers which manager set which field, as
*field sets* encoded in FieldsV1 JSON:

    {"f:metadata":{"f:labels":{".":{},"f:app":{}}},
     "f:spec":{"f:containers":{"k:{\\"name\\":\\"c\\"}":{".":{},"f:image":{}}}}}

`f:<name>` is a field of an object, `k:{...}` an item of a list keyed by its key fields (a
`listType=map` list such as containers), `v:<json>` a member of a `listType=set` list, `i:<n>`
an item of a list without keys. A path is *in* the set when its node is empty (a leaf) or has
`"."`. Internally a set is the same nested dict with every member marked by `"."`.

How a path is formed depends on the type: list kinds and keys come from the schema (the
`+listType`/`+listMapKey`/`+patchMergeKey` tags carried in `kwok.api.schema`), injected as a
`TypeResolver` so tests and custom resources can use another one (`OpenAPITypes` reads a CRD's
structural schema). Without schema types are *deduced*: objects are granular, lists atomic.
Keyed list items that omit a key field with a default (`protocol`) are keyed by the default.

PUBLIC NAMES (the API server and apply.py use these):

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
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple, Protocol

import orjson

FieldSet = dict[str, Any]  # str -> FieldSet; a recursive alias mypy accepts as Any below
MEMBER = "."

# --- field set algebra ---------------------------------------------------------------------------


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


def encode_fields(fields: FieldSet) -> dict[str, Any]:
    """The internal form to FieldsV1 JSON, in structured-merge-diff's order ("." first)."""
    out: dict[str, Any] = {}
    if MEMBER in fields and len(fields) > 1:
        out[MEMBER] = {}
    keys = [k for k in fields if k != MEMBER]
    # field names sort as plain strings; keys and values need structured-merge-diff's value order
    keys.sort(key=None if all(k.startswith("f:") for k in keys) else element_order)
    for key in keys:
        child = fields[key]
        out[key] = {} if len(child) == 1 and MEMBER in child else encode_fields(child)
    return out


def element_order(element: str) -> tuple[int, Any]:
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
    result = dict(a)
    for key, child in b.items():
        result[key] = union(result[key], child) if key in result else child
    return result


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


# --- types ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Type:
    """What structured-merge-diff needs to know about a node.

    kind: "struct" (declared fields), "map" (free keys, e.g. labels), "list", "scalar", or
    "deduced" (no schema: objects granular, lists atomic). `relationship` is "atomic",
    "granular", "set" or "map" (lists keyed by `keys`).
    """

    kind: str
    relationship: str = "granular"
    message: str | None = None
    element: Type | None = None
    keys: tuple[str, ...] = ()
    required: bool = False  # a list or map without omitempty: Go's zero object has it as null
    schema: Any = field(default=None, compare=False, hash=False, repr=False)  # OpenAPI node (CRDs)


DEDUCED = Type("deduced")
SCALAR = Type("scalar")


class TypeResolver(Protocol):
    def root(self, api_version: str, kind: str) -> Type: ...

    def field(self, parent: Type, name: str) -> tuple[Type, bool]:
        """The type of `name` below `parent`, and whether it is a declared struct field."""
        ...


class DeducedTypes:
    """Types for objects without schema: every object granular, every list atomic."""

    def root(self, api_version: str, kind: str) -> Type:
        return DEDUCED

    def field(self, parent: Type, name: str) -> tuple[Type, bool]:
        if parent.kind == "struct":
            return DEDUCED, False
        return (parent.element or DEDUCED), False


# `+structType=atomic` messages of the Kubernetes 1.36 protos (the schema file does not carry
# message-level markers yet), derived from the upstream generated.proto comments.
_ATOMIC_STRUCTS = frozenset(
    [f"k8s.io.api.admissionregistration.{v}.{m}" for v in ("v1", "v1beta1", "v1alpha1")
     for m in ("MatchResources", "NamedRuleWithOperations", "ParamKind", "ParamRef")]
    + ["k8s.io.api.admissionregistration.v1.Variable", "k8s.io.api.admissionregistration.v1beta1.Variable",
       "k8s.io.api.autoscaling.v1.CrossVersionObjectReference", "k8s.io.api.discovery.v1.EndpointPort",
       "k8s.io.api.networking.v1.ServiceBackendPort", "k8s.io.api.rbac.v1.RoleRef", "k8s.io.api.rbac.v1.Subject",
       "k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector", "k8s.io.apimachinery.pkg.apis.meta.v1.OwnerReference"]
    + [f"k8s.io.api.core.v1.{m}" for m in (
        "ConfigMapKeySelector", "EndpointAddress", "EndpointPort", "FileKeySelector", "LocalObjectReference",
        "NodeSelector", "NodeSelectorTerm", "ObjectFieldSelector", "ObjectReference", "ResourceFieldSelector",
        "ScopeSelector", "SecretKeySelector", "SecretReference", "TopologySelectorTerm", "TypedLocalObjectReference")]
)


class SchemaTypes:
    """Types of built-in kinds from the schema generated from Kubernetes' protos."""

    def __init__(self, schema: Any) -> None:
        self._schema = schema
        self._field = functools.lru_cache(maxsize=65536)(self._resolve_field)

    def root(self, api_version: str, kind: str) -> Type:
        group, _, version = api_version.rpartition("/")
        message = self._schema.message_for_kind(group, version, kind)
        return self._struct(message) if message else DEDUCED

    def field(self, parent: Type, name: str) -> tuple[Type, bool]:
        if parent.kind == "struct" and parent.message:
            found = self._field(parent.message, name)
            if found is not None:
                return found, True
            return DEDUCED, False
        if parent.kind in ("map", "list") and parent.element is not None:
            return parent.element, False
        return DEDUCED, False

    def _struct(self, message: str) -> Type:
        relationship = "atomic" if message in _ATOMIC_STRUCTS else "granular"
        return Type("struct", relationship, message=message)

    def _value(self, kind: str, ref: str | None) -> Type:
        if kind == "message" and ref:
            return self._struct(ref)
        if kind in ("rawextension", "fieldsv1"):
            return DEDUCED
        if kind == "stringlist":
            return Type("list", "atomic", element=SCALAR)
        return SCALAR

    def _resolve_field(self, message: str, name: str) -> Type | None:
        info = self._schema.message(message)
        found = info.fields.get(name) if info else None
        if found is None:
            return None
        if found.is_map:
            element = self._value(found.map_value, found.ref)
            return Type("map", getattr(found, "map_type", None) or "granular", element=element,
                        required=not found.optional)
        element = self._value(found.type, found.ref)
        if found.repeated and found.type != "bytes":
            return replace(self._list(found, element), required=not found.optional)
        return element

    @staticmethod
    def _list(found: Any, element: Type) -> Type:
        strategy = found.patch_strategy or ""
        if found.list_type == "map" or (found.list_type is None and "merge" in strategy and found.patch_merge_key):
            keys = tuple(found.list_map_keys) or (found.patch_merge_key,)
            return Type("list", "map", element=element, keys=keys)
        if found.list_type == "set" or (found.list_type is None and "merge" in strategy):
            return Type("list", "set", element=element)
        return Type("list", "atomic", element=element)


@functools.cache
def schema_types() -> TypeResolver:
    from kwok.api.schema import get_schema

    return SchemaTypes(get_schema())


DEDUCED_TYPES = DeducedTypes()


class OpenAPITypes:
    """Types of a custom resource from its CRD version's structural `openAPIV3Schema`.

    Declared `properties` are struct fields, `additionalProperties` a map, arrays are atomic
    unless `x-kubernetes-list-type` says `map` (keyed by `x-kubernetes-list-map-keys`) or `set`,
    and `x-kubernetes-map-type: atomic` objects are replaced whole, as the real server does.
    Anything the schema leaves open (`x-kubernetes-preserve-unknown-fields`) is deduced.
    """

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self._root = self.type_of(schema)

    def root(self, api_version: str, kind: str) -> Type:
        return self._root

    def field(self, parent: Type, name: str) -> tuple[Type, bool]:
        node = parent.schema
        if parent.kind == "deduced" or not isinstance(node, Mapping):
            return (parent.element or DEDUCED), False
        properties = node.get("properties") or {}
        if name in properties:
            return self.type_of(properties[name]), True
        if isinstance(node.get("additionalProperties"), Mapping):
            return self.type_of(node["additionalProperties"]), False
        return DEDUCED, False

    def type_of(self, node: Mapping[str, Any]) -> Type:
        kind = node.get("type")
        if kind == "array":
            items = node.get("items")
            element = self.type_of(items) if isinstance(items, Mapping) else DEDUCED
            list_type = node.get("x-kubernetes-list-type", "atomic")
            keys = tuple(node.get("x-kubernetes-list-map-keys") or ())
            return Type("list", list_type, element=element, keys=keys, schema=node)
        if kind == "object" or "properties" in node or "additionalProperties" in node:
            relationship = "atomic" if node.get("x-kubernetes-map-type") == "atomic" else "granular"
            if node.get("properties"):
                return Type("struct", relationship, schema=node)
            if isinstance(node.get("additionalProperties"), Mapping):
                element = self.type_of(node["additionalProperties"])
                return Type("map", relationship, element=element, schema=node)
            return replace(DEDUCED, relationship=relationship)
        if node.get("x-kubernetes-preserve-unknown-fields") and not kind:
            return DEDUCED
        return SCALAR


def resolver_for(api_version: str, kind: str, resolver: TypeResolver | None = None) -> tuple[Type, TypeResolver]:
    """The root type of a kind and the resolver to walk it (schema, else deduced)."""
    chosen = resolver or schema_types()
    root = chosen.root(api_version, kind)
    if root is DEDUCED:
        return DEDUCED, DEDUCED_TYPES
    return root, chosen


# --- walking objects -----------------------------------------------------------------------------


def is_object(t: Type) -> bool:
    return t.kind in ("struct", "map", "deduced")


def list_relationship(t: Type) -> str:
    return "atomic" if t.kind == "deduced" else t.relationship


# Key fields with an OpenAPI default: an item that omits one is keyed by the default, as the
# server defaults it (`ports: [{containerPort: 80}]` is the TCP port 80 the live object has).
KEY_DEFAULTS: dict[str, Any] = {"protocol": "TCP"}


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
        key, missing = item_key(item, t.keys)
        if key and missing is None:
            return "k:" + orjson.dumps(key).decode()
    if relationship == "set":
        return "v:" + orjson.dumps(item, option=orjson.OPT_SORT_KEYS).decode()
    return f"i:{index}"


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
    for index, item in enumerate(items):
        indexed.setdefault(list_item_element(item, index, t), item)
    return indexed


def is_atomic(value: Any, t: Type) -> bool:
    if isinstance(value, list):
        return t.kind not in ("list",) or t.relationship == "atomic"
    if isinstance(value, dict):
        return t.relationship == "atomic" or t.kind in ("scalar", "list")
    return True


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


_ABSENT = object()


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
    if not value or not isinstance(value, dict | list) or is_atomic(value, t):
        return node
    if isinstance(value, dict):
        for name, child in value.items():
            node["f:" + name] = _every_path(child, resolver.field(t, name)[0], resolver)
    else:
        element = t.element or DEDUCED
        for key, item in list_items(value, t).items():
            node[key] = _every_path(item, element, resolver)
    return node


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
    return bool(value) and isinstance(value, dict | list) and not is_atomic(value, t)


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _compare_fields(old: dict[str, Any], new: dict[str, Any], t: Type, resolver: TypeResolver,
                    path: tuple[str, ...], out: Comparison) -> None:
    for name in {**old, **new}:
        child_type, _ = resolver.field(t, name)
        _compare(old.get(name, _ABSENT), new.get(name, _ABSENT), child_type, resolver, (*path, "f:" + name), out)


def _compare_items(old: Any, new: Any, t: Type, resolver: TypeResolver, path: tuple[str, ...],
                   out: Comparison) -> None:
    old_items = list_items(old, t) if isinstance(old, list) else {}
    new_items = list_items(new, t) if isinstance(new, list) else {}
    element = t.element or DEDUCED
    for key in {**old_items, **new_items}:
        _compare(old_items.get(key, _ABSENT), new_items.get(key, _ABSENT), element, resolver, (*path, key), out)


# --- managedFields entries -----------------------------------------------------------------------


class ManagerKey(NamedTuple):
    """BuildManagerIdentifier: Apply entries are one per manager whatever the apiVersion."""

    manager: str
    operation: str
    api_version: str
    subresource: str


@dataclass
class ManagedEntry:
    manager: str
    operation: str
    api_version: str
    time: str | None
    fields: FieldSet = field(default_factory=dict)
    subresource: str = ""
    # the FieldsV1 this entry was decoded from, reused while `fields` is still that decoding
    wire: tuple[FieldSet, dict[str, Any]] | None = None

    @property
    def key(self) -> ManagerKey:
        version = "" if self.operation == "Apply" else self.api_version
        return ManagerKey(self.manager, self.operation, version, self.subresource)

    def describe(self) -> str:
        """printManager: how a conflict names this manager."""
        text = _go_quote(self.manager)
        if self.subresource:
            text += f" with subresource {_go_quote(self.subresource)}"
        if self.operation == "Update":
            text += f" using {self.api_version}"
        return text


def _go_quote(text: str) -> str:
    return orjson.dumps(text).decode()


def decode_managed(obj: Mapping[str, Any] | None) -> dict[ManagerKey, ManagedEntry]:
    entries: dict[ManagerKey, ManagedEntry] = {}
    for raw in ((obj or {}).get("metadata") or {}).get("managedFields") or []:
        if not isinstance(raw, dict) or not raw.get("manager") and not raw.get("fieldsV1"):
            continue
        decoded = decode_fields(raw.get("fieldsV1"))
        entry = ManagedEntry(
            manager=raw.get("manager", ""), operation=raw.get("operation", ""),
            api_version=raw.get("apiVersion", ""), time=raw.get("time"),
            fields=decoded, subresource=raw.get("subresource", ""), wire=(decoded, raw.get("fieldsV1") or {}),
        )
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
        reuse = entry.wire is not None and entry.wire[0] is entry.fields
        encoded["fieldsV1"] = entry.wire[1] if entry.wire is not None and reuse else encode_fields(entry.fields)
        if entry.subresource:
            encoded["subresource"] = entry.subresource
        result.append(encoded)
    return result


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


def strip_meta(fields: FieldSet) -> FieldSet:
    """The set without STRIPPED_PATHS as members (their children, such as labels, stay)."""
    if not any(path[0] in fields for path in STRIPPED_PATHS):
        return fields
    result = dict(fields)
    for path in STRIPPED_PATHS:
        node, parent = result, None
        for element in path[:-1]:
            parent, node = node, node.get(element, {})
        leaf = node.get(path[-1])
        if leaf is None or MEMBER not in leaf:
            continue
        trimmed = {k: v for k, v in leaf.items() if k != MEMBER}
        node = dict(node)
        if trimmed:
            node[path[-1]] = trimmed
        else:
            del node[path[-1]]
        if parent is None:
            result = node
        else:
            parent[path[0]] = node
            if not node:
                del parent[path[0]]
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


# Struct fields that are pointers in the Go types (nil in a zero object), on the paths a create
# reaches without entering a list; the schema does not say which struct fields are pointers.
_POINTER_STRUCT_FIELDS = frozenset({
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
        pointer = name in _POINTER_STRUCT_FIELDS
        if declared and child_type.kind == "struct" and isinstance(value, dict) and not pointer:
            baseline[name] = create_baseline(value, child_type, resolver)
        elif declared and child_type.required and child_type.kind in ("list", "map"):
            baseline[name] = None
    return baseline


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
    root, types = resolver_for(api_version, str(new.get("kind", "")), resolver)
    old_plain = without_managed_fields(old) if old is not None else create_baseline(new, root, types)
    diff = compare(old_plain, without_managed_fields(new), root, types)
    changed = recursive_difference(strip_meta(union(diff.added, diff.modified)), ignored)
    removed = strip_meta(diff.removed)
    for key, entry in list(entries.items()):
        entry.fields = difference(difference(entry.fields, changed), removed)
        if not entry.fields:
            del entries[key]
    if changed:
        mine = ManagedEntry(manager, operation, api_version, time, changed, subresource)
        previous = entries.get(mine.key)
        if previous is not None:
            mine.fields = union(previous.fields, changed)
        entries[mine.key] = mine
    cap_update_managers(entries)
    return with_managed_fields(new, entries)


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

