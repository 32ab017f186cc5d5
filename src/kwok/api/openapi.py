"""OpenAPI v3 documents (`/openapi/v3`), generated from the shipped schema and from CRDs.

kubectl reads them for `apply`, `create -f`, `replace -f`, `edit`, `diff` and `explain`:

- it looks for a PATCH operation tagged with the kind's `x-kubernetes-group-version-kind` that
  declares the `fieldValidation` parameter (then it validates on the server; otherwise it falls
  back to `/openapi/v2` in protobuf and fails);
- the PATCH request body's content types decide the patch it sends: built-in kinds list
  strategic-merge-patch, custom resources must not (their server answers 415 to it);
- client-side strategic merge reads `x-kubernetes-patch-merge-key` / `-patch-strategy`;
- `explain` walks `components.schemas` from the schema tagged with the kind's GVK, following
  `allOf`/`$ref`, `items` and `additionalProperties`, and prints `description`, `type` and
  `required` (see `explain`, which does the same walk).

The documents are large and fully determined by their inputs: the API server should build each
group-version's once, encode it, and serve the bytes under `?hash=<sha512>` (see `encode`).
"""

from __future__ import annotations

import copy
import functools
import hashlib
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import orjson

from kwok.api.schema import META_V1, FieldInfo, ResourceInfo, Schema, get_schema, proto_package

Obj = dict[str, Any]
REF = "#/components/schemas/"
KUBERNETES_VERSION = "v1.36.3"

_SPECIAL_COMPONENTS = {
    "time": f"{META_V1}.Time", "microtime": f"{META_V1}.MicroTime", "fieldsv1": f"{META_V1}.FieldsV1",
    "quantity": "k8s.io.apimachinery.pkg.api.resource.Quantity",
    "intstr": "k8s.io.apimachinery.pkg.util.intstr.IntOrString",
    "rawextension": "k8s.io.apimachinery.pkg.runtime.RawExtension",
}
_SCALARS: dict[str, Obj] = {
    "string": {"type": "string"}, "bool": {"type": "boolean"},
    "int32": {"type": "integer", "format": "int32"}, "int64": {"type": "integer", "format": "int64"},
    "double": {"type": "number", "format": "double"}, "bytes": {"type": "string", "format": "byte"},
    "duration": {"type": "string"}, "stringlist": {"type": "array", "items": {"type": "string", "default": ""}},
}
# Messages that carry TypeMeta although they have no ObjectMeta/ListMeta.
_TYPED_META = frozenset(f"{META_V1}.{k}" for k in ("DeleteOptions", "Status", "APIResourceList", "WatchEvent"))
_COMMON_META = [f"{META_V1}.{k}" for k in ("ObjectMeta", "ListMeta", "Status", "DeleteOptions", "Patch",
                                              "WatchEvent")]
API_VERSION_DOC = ("APIVersion defines the versioned schema of this representation of an object. Servers "
                   "should convert recognized schemas to the latest internal value, and may reject "
                   "unrecognized values. More info: https://git.k8s.io/community/contributors/devel/"
                   "sig-architecture/api-conventions.md#resources")
KIND_DOC = ("Kind is a string value representing the REST resource this object represents. Servers may "
            "infer this from the endpoint the client submits requests to. Cannot be updated. In "
            "CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/"
            "api-conventions.md#types-kinds")
_FIXED_COMPONENTS: dict[str, Obj] = {
    "time": {"type": "string", "format": "date-time"},
    "microtime": {"type": "string", "format": "date-time"},
    "fieldsv1": {"type": "object"},
    "quantity": {"oneOf": [{"type": "string"}, {"type": "number"}]},
    "intstr": {"format": "int-or-string", "x-kubernetes-int-or-string": True,
               "oneOf": [{"type": "integer"}, {"type": "string"}]},
    "rawextension": {"type": "object"},
    "patch": {"type": "object", "description": "Patch is provided to give a concrete name and type to the "
                                               "Kubernetes PATCH request body."},
}


def component_name(message: str) -> str:
    """The OpenAPI name of a proto message: k8s.io.api.core.v1.Pod -> io.k8s.api.core.v1.Pod."""
    return "io.k8s." + message[len("k8s.io."):] if message.startswith("k8s.io.") else message


def group_version_path(group: str, version: str) -> str:
    """The key of a group-version in the root document: "api/v1", "apis/apps/v1"."""
    return f"apis/{group}/{version}" if group else f"api/{version}"


# ------------------------------------------------------------------------------------------------
# The root listing
# ------------------------------------------------------------------------------------------------
def openapi_v3_root(group_versions: list[str], hash_of: Callable[[str], str]) -> Obj:
    """`GET /openapi/v3`: every group-version ("v1", "apps/v1", CRD groups too) with its URL.

    `hash_of(group_version)` gives the hash of that group-version's current document.
    """
    paths: Obj = {}
    for gv in group_versions:
        group, _, version = gv.rpartition("/")
        key = group_version_path(group, version)
        paths[key] = {"serverRelativeURL": f"/openapi/v3/{key}?hash={hash_of(gv)}"}
    return {"paths": paths}


def encode(document: Obj) -> tuple[bytes, str]:
    """The document's JSON bytes and the hash to serve it under (uppercase SHA-512, as the real server)."""
    data = orjson.dumps(document)
    return data, hashlib.sha512(data).hexdigest().upper()


# ------------------------------------------------------------------------------------------------
# Per group-version documents
# ------------------------------------------------------------------------------------------------
def openapi_v3_group_version(group: str, version: str, resources: list[ResourceInfo],
                             crds: list[Obj]) -> Obj:
    """The document of one group-version: built-in `resources` of it, and the CRDs serving it."""
    schema = get_schema()
    builder = _Components(schema)
    paths: Obj = {}
    for info in resources:
        if info.group != group or info.version != version:
            continue
        builder.add_resource(info)
        paths.update(_resource_paths(info, custom=False))
    for crd in crds:
        served = _crd_version(crd, group, version)
        if served is not None:
            info = _crd_resource(crd, served)
            builder.add_custom(info, served)
            paths.update(_resource_paths(info, custom=True))
    builder.add_messages(_COMMON_META)
    for kind in ("DeleteOptions", "WatchEvent"):   # request/response bodies of every group-version
        builder.tag(f"{META_V1}.{kind}", group, version, kind)
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": KUBERNETES_VERSION},
            "paths": paths, "components": {"schemas": builder.finish()}}


@functools.lru_cache(maxsize=64)
def group_version_document_bytes(group: str, version: str) -> bytes:
    """The encoded document of a built-in group-version (no CRDs), built once per process."""
    resources = [r for r in get_schema().resources if r.group == group and r.version == version]
    return orjson.dumps(openapi_v3_group_version(group, version, resources, []))


def group_version_document(group: str, version: str) -> Obj:
    """The document of a built-in group-version (no CRDs), as a fresh dict the caller may change."""
    return orjson.loads(group_version_document_bytes(group, version))  # type: ignore[no-any-return]


class _Components:
    """Collects `components.schemas`: the kinds' messages and everything they reference."""

    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self.schemas: Obj = {}
        self.gvks: dict[str, list[Obj]] = {}
        self.todo: list[str] = []

    def add_resource(self, info: ResourceInfo) -> None:
        if info.message is None:     # CustomResourceDefinition: its proto is not shipped
            self._add_open_kind(info)
            return
        self.tag(info.message, info.group, info.version, info.kind)
        if info.list_kind:
            self.tag(f"{info.message}List", info.group, info.version, info.list_kind)
        for sub in info.subresource_details:
            name = self.schema.message_for_kind(sub.group, sub.version, sub.kind)
            if name is not None:
                self.tag(name, sub.group, sub.version, sub.kind)

    def add_custom(self, info: ResourceInfo, version: Obj) -> None:
        name = _custom_component(info)
        gvk = {"group": info.group, "kind": info.kind, "version": info.version}
        self.schemas[name] = _custom_schema(version, gvk)
        self.schemas[f"{name}List"] = _list_schema(info.kind, name, {**gvk, "kind": info.list_kind})
        if (version.get("subresources") or {}).get("scale") is not None:
            self.tag(f"{proto_package('autoscaling', 'v1')}.Scale", "autoscaling", "v1", "Scale")

    def add_messages(self, names: Iterable[str]) -> None:
        self.todo.extend(names)

    def finish(self) -> Obj:
        descriptions = _descriptions()
        while self.todo:
            name = self.todo.pop()
            key = component_name(name)
            if key not in self.schemas:
                self.schemas[key] = self._message_schema(name, descriptions)
        for key, gvks in self.gvks.items():
            self.schemas[key]["x-kubernetes-group-version-kind"] = gvks
        return dict(sorted(self.schemas.items()))

    def tag(self, message: str, group: str, version: str, kind: str) -> None:
        gvk = {"group": group, "kind": kind, "version": version}
        tags = self.gvks.setdefault(component_name(message), [])
        if gvk not in tags:
            tags.append(gvk)
        self.todo.append(message)

    def _add_open_kind(self, info: ResourceInfo) -> None:
        name = _open_component(info)
        gvk = {"group": info.group, "kind": info.kind, "version": info.version}
        open_object = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
        self.schemas[name] = _custom_schema({"schema": {"openAPIV3Schema": {
            "type": "object", "required": ["spec"],
            "properties": {"spec": open_object, "status": open_object}}}}, gvk)
        self.schemas[f"{name}List"] = _list_schema(info.kind, name, {**gvk, "kind": info.list_kind})

    def _message_schema(self, name: str, descriptions: dict[str, list[Any]]) -> Obj:
        special = next((k for k, v in _SPECIAL_COMPONENTS.items() if v == name), None)
        doc, field_docs = descriptions.get(name, ["", {}])
        if special is not None or name == f"{META_V1}.Patch":
            out = copy.deepcopy(_FIXED_COMPONENTS[special or "patch"])
            return {"description": _openapi_text(doc), **out} if doc and "description" not in out else out
        message = self.schema.message(name)
        if message is None:
            raise KeyError(f"unknown message {name}")
        properties: Obj = {}
        if _has_type_meta(message.fields, name):
            properties["apiVersion"] = {"type": "string", "description": API_VERSION_DOC}
            properties["kind"] = {"type": "string", "description": KIND_DOC}
        required = []
        for f in message.fields.values():
            properties[f.name] = self._property(f, _field_doc(self.schema, name, f.name, descriptions, field_docs))
            if not f.optional:
                required.append(f.name)
        out = {"description": _openapi_text(doc), "type": "object", "properties": dict(sorted(properties.items()))}
        if required:
            out["required"] = sorted(required)
        if message.atomic:
            out["x-kubernetes-map-type"] = "atomic"
        return out

    def _property(self, f: FieldInfo, doc: str) -> Obj:
        value = self._value_schema(f.type, f.ref)
        if f.is_map:
            prop: Obj = {"type": "object", "additionalProperties": value}
        elif f.repeated:
            prop = {"type": "array", "items": value}
        elif "$ref" in value:
            prop = {"allOf": [value]}
        else:
            prop = dict(value)
        if doc:
            prop["description"] = doc
        extensions = (("x-kubernetes-list-type", f.list_type), ("x-kubernetes-patch-merge-key", f.patch_merge_key),
                      ("x-kubernetes-patch-strategy", f.patch_strategy), ("x-kubernetes-map-type", f.map_type))
        prop.update((k, v) for k, v in extensions if v)
        if f.list_map_keys:
            prop["x-kubernetes-list-map-keys"] = list(f.list_map_keys)
        return prop

    def _value_schema(self, kind: str, ref: str | None) -> Obj:
        target = ref if kind == "message" else _SPECIAL_COMPONENTS.get(kind)
        if target is None:
            return dict(_SCALARS[kind])
        self.todo.append(target)
        return {"$ref": REF + component_name(target)}


def _has_type_meta(fields: dict[str, FieldInfo], name: str) -> bool:
    metadata = fields.get("metadata")
    meta_types = (f"{META_V1}.ObjectMeta", f"{META_V1}.ListMeta")
    return name in _TYPED_META or (metadata is not None and metadata.ref in meta_types)


def _field_doc(schema: Schema, message: str, field: str, descriptions: dict[str, list[Any]],
               field_docs: dict[str, str]) -> str:
    if field in field_docs:
        return _openapi_text(field_docs[field])
    # a field promoted from an embedded struct: its doc lives with that struct
    for f in (schema.message(message) or _NO_MESSAGE).by_number.values():
        if f.inline and f.ref:
            inner = descriptions.get(f.ref, ["", {}])[1]
            if field in inner:
                return _openapi_text(inner[field])
    return ""


class _NoMessage:
    by_number: dict[int, FieldInfo] = {}


_NO_MESSAGE = _NoMessage()


def _openapi_text(comment: str) -> str:
    """Go doc comment -> OpenAPI description, as kube-openapi formats it: lines joined with spaces,
    blank lines kept as paragraph breaks, indented lines (examples, lists) kept on their own lines,
    TODO lines and anything after a `---` line dropped."""
    out: list[str] = []
    for line in comment.split("\n---")[0].splitlines():
        line = line.rstrip()
        if not line:
            out.append("\n\n")
        elif line.lstrip().startswith("TODO"):
            continue
        elif line[0] in " \t":
            out.append(f"\n{line}\n")
        else:
            out.append(line if not out or out[-1].endswith("\n") else " " + line)
    text = "".join(out).strip("\n")
    return re.sub(r"\n{3,}", "\n\n", text)


@functools.cache
def _descriptions() -> dict[str, list[Any]]:
    """Field descriptions for `kubectl explain`, loaded only when a document is first built."""
    from importlib import resources

    data = resources.files("kwok.api").joinpath("data/descriptions.json").read_bytes()
    messages: dict[str, list[Any]] = orjson.loads(data)["messages"]
    return messages


def _list_schema(kind: str, item: str, gvk: Obj) -> Obj:
    return {
        "description": f"{gvk['kind']} is a list of {kind}", "type": "object", "required": ["items"],
        "properties": {
            "apiVersion": {"type": "string", "description": API_VERSION_DOC},
            "items": {"type": "array", "items": {"$ref": REF + item},
                      "description": f"List of {kind.lower()}s."},
            "kind": {"type": "string", "description": KIND_DOC},
            "metadata": {"allOf": [{"$ref": REF + component_name(f"{META_V1}.ListMeta")}],
                         "description": "Standard list metadata."},
        },
        "x-kubernetes-group-version-kind": [gvk],
    }


# ------------------------------------------------------------------------------------------------
# Custom resources
# ------------------------------------------------------------------------------------------------
def _crd_version(crd: Obj, group: str, version: str) -> Obj | None:
    spec = crd.get("spec") or {}
    if spec.get("group") != group:
        return None
    for v in spec.get("versions") or ():
        if v.get("name") == version and v.get("served", True):
            return dict(v)
    return None


def _crd_resource(crd: Obj, version: Obj) -> ResourceInfo:
    spec = crd["spec"]
    names = spec.get("names") or {}
    kind = names.get("kind", "")
    subresources = tuple(k for k in ("scale", "status") if k in (version.get("subresources") or {}))
    return ResourceInfo(
        group=spec["group"], version=version["name"], kind=kind, plural=names.get("plural", ""),
        singular=names.get("singular") or kind.lower(), namespaced=spec.get("scope") != "Cluster",
        list_kind=names.get("listKind") or f"{kind}List",
        verbs=("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"),
        short_names=tuple(names.get("shortNames") or ()), categories=tuple(names.get("categories") or ()),
        subresources=subresources,
    )


def _custom_component(info: ResourceInfo) -> str:
    return ".".join(reversed(info.group.split("."))) + f".{info.version}.{info.kind}"


def _custom_schema(version: Obj, gvk: Obj) -> Obj:
    source = ((version.get("schema") or {}).get("openAPIV3Schema")
              or {"type": "object", "x-kubernetes-preserve-unknown-fields": True})
    out: Obj = copy.deepcopy(source)
    properties = out.setdefault("properties", {})
    properties["apiVersion"] = {"type": "string", "description": API_VERSION_DOC}
    properties["kind"] = {"type": "string", "description": KIND_DOC}
    properties["metadata"] = {"allOf": [{"$ref": REF + component_name(f"{META_V1}.ObjectMeta")}],
                              "description": "Standard object's metadata. More info: https://git.k8s.io/"
                                             "community/contributors/devel/sig-architecture/"
                                             "api-conventions.md#metadata"}
    out.setdefault("type", "object")
    out["x-kubernetes-group-version-kind"] = [gvk]
    return out


# ------------------------------------------------------------------------------------------------
# Paths and operations
# ------------------------------------------------------------------------------------------------
PATCH_TYPES = ("application/apply-patch+yaml", "application/json-patch+json",
               "application/merge-patch+json", "application/strategic-merge-patch+json")
_MEDIA = ("application/json", "application/yaml", "application/vnd.kubernetes.protobuf")


def _query(name: str, description: str, kind: str = "string") -> Obj:
    return {"name": name, "in": "query", "description": description, "schema": {"type": kind},
            "uniqueItems": True}


_DRY_RUN = _query("dryRun", "When present, indicates that modifications should not be persisted. Valid "
                            "values are: - All: all dry run stages will be processed")
_FIELD_MANAGER = _query("fieldManager", "fieldManager is a name associated with the actor or entity that "
                                        "is making these changes.")
_FIELD_VALIDATION = _query("fieldValidation", "fieldValidation instructs the server on how to handle objects "
                                              "in the request containing unknown or duplicate fields. Valid "
                                              "values are: Ignore, Warn, Strict.")
_FORCE = _query("force", "Force is going to \"force\" Apply requests. It means user will re-acquire "
                         "conflicting fields owned by other people.", "boolean")
_PRETTY = _query("pretty", "If 'true', then the output is pretty printed.")
_PATH_NAME = {"name": "name", "in": "path", "required": True, "description": "name of the resource",
              "schema": {"type": "string"}, "uniqueItems": True}
_PATH_NAMESPACE = {"name": "namespace", "in": "path", "required": True, "schema": {"type": "string"},
                   "description": "object name and auth scope, such as for teams and projects", "uniqueItems": True}
_LIST_PARAMS = [_query(n, d) for n, d in (
    ("labelSelector", "A selector to restrict the list of returned objects by their labels."),
    ("fieldSelector", "A selector to restrict the list of returned objects by their fields."),
    ("continue", "The continue option should be set when retrieving more results from the server."),
    ("resourceVersion", "resourceVersion sets a constraint on what resource versions a request may be served from."),
)] + [_query("limit", "limit is a maximum number of responses to return for a list call.", "integer"),
      _query("watch", "Watch for changes to the described resources.", "boolean")]


def _resource_paths(info: ResourceInfo, custom: bool) -> Obj:
    base = "/" + group_version_path(info.group, info.version)
    scope = base + ("/namespaces/{namespace}" if info.namespaced else "")
    collection, item = f"{scope}/{info.plural}", f"{scope}/{info.plural}/{{name}}"
    kind_ref = _kind_ref(info, custom)
    gvk = {"group": info.group, "kind": info.kind, "version": info.version}
    op = _Operations(info, custom)
    paths: Obj = {}
    verbs = set(info.verbs)
    on_collection = {m: o for m, o in (
        ("get", op.make("list", "", kind_ref + "List", gvk, _LIST_PARAMS) if "list" in verbs else None),
        ("post", op.make("create", "", kind_ref, gvk, [_DRY_RUN, _FIELD_MANAGER, _FIELD_VALIDATION],
                         body=kind_ref) if "create" in verbs else None),
        ("delete", op.make("deletecollection", "", _status_ref(), gvk, _LIST_PARAMS)
         if "deletecollection" in verbs else None)) if o}
    if on_collection:
        paths[collection] = {**on_collection, "parameters": _path_params(info, named=False)}
    on_item = _item_operations(op, verbs - {"create"}, kind_ref, gvk, "")  # create is on the collection
    if on_item:
        paths[item] = {**on_item, "parameters": _path_params(info, named=True)}
    if info.namespaced and "list" in verbs:
        paths[f"{base}/{info.plural}"] = {"get": op.make("list", "ForAllNamespaces", kind_ref + "List", gvk,
                                                         _LIST_PARAMS), "parameters": [_PRETTY]}
    for sub in info.subresource_details or [_custom_sub(info, s) for s in info.subresources]:
        sub_ref = REF + (kind_ref[len(REF):] if sub.kind == info.kind and sub.group == info.group
                         else component_name(f"{proto_package(sub.group, sub.version)}.{sub.kind}"))
        sub_gvk = {"group": sub.group, "kind": sub.kind, "version": sub.version}
        if sub.kind.endswith("Options") or sub.name == "log":    # streams: exec, attach, proxy, log
            ops = _connect_operations(op, set(sub.verbs), sub_gvk, sub.name)
        else:
            ops = _item_operations(op, set(sub.verbs), sub_ref, sub_gvk, sub.name)
        if ops:
            paths[f"{item}/{sub.name}"] = {**ops, "parameters": _path_params(info, named=True)}
    return paths


def _item_operations(op: _Operations, verbs: set[str], ref: str, gvk: Obj, sub: str) -> Obj:
    write = [_DRY_RUN, _FIELD_MANAGER, _FIELD_VALIDATION]
    suffix = sub.capitalize()
    out: Obj = {}
    if "get" in verbs:
        out["get"] = op.make("read", suffix, ref, gvk, [])
    if "update" in verbs:
        out["put"] = op.make("replace", suffix, ref, gvk, write, body=ref)
    if "patch" in verbs:
        out["patch"] = op.make("patch", suffix, ref, gvk, [*write, _FORCE], patch=True)
    if "delete" in verbs:
        out["delete"] = op.make("delete", suffix, ref, gvk, [_DRY_RUN], body=_delete_ref())
    if "create" in verbs:
        out["post"] = op.make("create", suffix, ref, gvk, write, body=ref)
    return out


_CONNECT_METHODS = (("get", "get", "Get"), ("post", "create", "Post"), ("put", "update", "Put"),
                    ("patch", "patch", "Patch"), ("delete", "delete", "Delete"))


def _connect_operations(op: _Operations, verbs: set[str], gvk: Obj, sub: str) -> Obj:
    """Streaming subresources answer text, not objects; log is a read, the others `connect`."""
    if sub == "log":
        return {"get": op.make("read", "Log", "", gvk, [], text=True)}
    return {method: op.make("connect", sub.capitalize(), "", gvk, [], text=True, method=name)
            for method, verb, name in _CONNECT_METHODS if verb in verbs}


@dataclass(frozen=True)
class _Sub:
    name: str
    group: str
    version: str
    kind: str
    verbs: tuple[str, ...]


def _custom_sub(info: ResourceInfo, name: str) -> _Sub:
    if name == "scale":
        return _Sub("scale", "autoscaling", "v1", "Scale", ("get", "patch", "update"))
    return _Sub(name, info.group, info.version, info.kind, ("get", "patch", "update"))


class _Operations:
    def __init__(self, info: ResourceInfo, custom: bool) -> None:
        self.info = info
        self.custom = custom
        self.prefix = _operation_prefix(info.group, info.version)
        self.media = _MEDIA[:2] if custom else _MEDIA

    def make(self, action: str, suffix: str, response: str, gvk: Obj, params: list[Obj],
             body: str | None = None, patch: bool = False, text: bool = False, method: str = "") -> Obj:
        scope = "Namespaced" if self.info.namespaced and suffix != "ForAllNamespaces" else ""
        verb = {"deletecollection": "deleteCollection"}.get(action, action) + method
        content = ({"*/*": {"schema": {"type": "string"}}} if text
                   else {m: {"schema": {"$ref": response}} for m in self.media})
        op: Obj = {
            "operationId": f"{verb}{self.prefix}{scope}{self.info.kind}{suffix}",
            "tags": [self.prefix[0].lower() + self.prefix[1:]],
            "parameters": list(params),
            "responses": {"200": {"description": "OK", "content": content},
                          "401": {"description": "Unauthorized"}},
            "x-kubernetes-action": {"read": "get", "replace": "put", "create": "post"}.get(action, action),
            "x-kubernetes-group-version-kind": gvk,
        }
        if action == "create":
            op["responses"]["201"] = op["responses"]["202"] = op["responses"]["200"]
        if patch:
            types = [t for t in PATCH_TYPES if not (self.custom and "strategic" in t)]
            patch_ref = {"$ref": REF + component_name(f"{META_V1}.Patch")}
            op["requestBody"] = {"content": {t: {"schema": patch_ref} for t in types}, "required": True}
        elif body is not None:
            op["requestBody"] = {"content": {"*/*": {"schema": {"$ref": body}}}, "required": action != "delete"}
        return op


def _operation_prefix(group: str, version: str) -> str:
    """operationId infix of a group-version: CoreV1, AppsV1, RbacAuthorizationV1, FlowcontrolApiserverV1."""
    name = group.removesuffix(".k8s.io") if group else "core"
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[.-]", name)) + version.capitalize()


def _path_params(info: ResourceInfo, named: bool) -> list[Obj]:
    params = [_PATH_NAME] if named else []
    return params + ([_PATH_NAMESPACE] if info.namespaced else []) + [_PRETTY]


def _kind_ref(info: ResourceInfo, custom: bool) -> str:
    if custom:
        return REF + _custom_component(info)
    if info.message is None:
        return REF + _open_component(info)
    return REF + component_name(info.message)


def _open_component(info: ResourceInfo) -> str:
    """The component of a kind without a shipped proto: the CRD kind, or a resource given as built-in."""
    if info.group == "apiextensions.k8s.io":
        return f"io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.{info.version}.{info.kind}"
    return _custom_component(info)


def _status_ref() -> str:
    return REF + component_name(f"{META_V1}.Status")


def _delete_ref() -> str:
    return REF + component_name(f"{META_V1}.DeleteOptions")


# ------------------------------------------------------------------------------------------------
# kubectl explain's walk
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Explanation:
    """What `kubectl explain <kind>.<path>` prints: the field's type, its description, and its fields."""

    type: str                                   # as kubectl shows it: "[]Container", "PodSpec", "string"
    description: str
    fields: tuple[tuple[str, str, bool], ...]   # (name, type, required), sorted by name
    required: tuple[str, ...]


def explain(document: Obj, group: str, version: str, kind: str, path: list[str]) -> Explanation:
    """Walk a group-version document as `kubectl explain` does; KeyError when a field is unknown."""
    schemas: Obj = document["components"]["schemas"]
    gvk = {"group": group, "kind": kind, "version": version}
    name = next((n for n, s in schemas.items() if gvk in s.get("x-kubernetes-group-version-kind", ())), None)
    if name is None:
        raise KeyError(f"no schema for {kind} in {group or 'core'}/{version}")
    node: Obj = {"$ref": REF + name}
    for step in path:
        resolved = _resolve(schemas, node)
        while "items" in resolved or "additionalProperties" in resolved:
            resolved = _resolve(schemas, resolved.get("items") or resolved["additionalProperties"])
        properties = resolved.get("properties") or {}
        if step not in properties:
            raise KeyError(f'field "{step}" does not exist')
        node = properties[step]
    resolved = _resolve(schemas, node)
    description = node.get("description") or resolved.get("description", "")
    inner = resolved
    while "items" in inner or "additionalProperties" in inner:
        inner = _resolve(schemas, inner.get("items") or inner["additionalProperties"])
    required = tuple(inner.get("required", ()))
    fields = tuple((n, _type_name(schemas, p), n in required) for n, p in sorted((inner.get("properties") or {}).items()))
    return Explanation(_type_name(schemas, node), description, fields, required)


def _resolve(schemas: Obj, node: Obj) -> Obj:
    while True:
        if "$ref" in node:
            node = schemas[node["$ref"][len(REF):]]
        elif "allOf" in node and len(node["allOf"]) == 1:
            node = {**node["allOf"][0], **{k: v for k, v in node.items() if k != "allOf"}}
        else:
            return node


def _type_name(schemas: Obj, node: Obj) -> str:
    ref = node.get("$ref") or (node.get("allOf") or [{}])[0].get("$ref")
    if ref:
        return str(ref).rsplit(".", 1)[-1]
    if node.get("type") == "array":
        return "[]" + _type_name(schemas, node.get("items") or {})
    if node.get("type") == "object" and "additionalProperties" in node:
        return "map[string]" + _type_name(schemas, node["additionalProperties"])
    return {"object": "Object", None: "Object"}.get(node.get("type"), str(node.get("type")))
