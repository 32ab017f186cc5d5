"""The types structured-merge-diff walks objects with: struct, map, list (atomic/set/map), scalar.

List kinds and keys come from the schema (the `+listType`/`+listMapKey`/`+patchMergeKey` tags
carried in `kwok.api.schema`), injected as a `TypeResolver` so tests and custom resources can use
another one (`OpenAPITypes` reads a CRD's structural schema). Without schema types are *deduced*:
objects are granular, lists atomic.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol


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


def is_object(t: Type) -> bool:
    return t.kind in ("struct", "map", "deduced")


def list_relationship(t: Type) -> str:
    return "atomic" if t.kind == "deduced" else t.relationship


def is_atomic(value: Any, t: Type) -> bool:
    if isinstance(value, list):
        return t.kind not in ("list",) or t.relationship == "atomic"
    if isinstance(value, dict):
        return t.relationship == "atomic" or t.kind in ("scalar", "list")
    return True
