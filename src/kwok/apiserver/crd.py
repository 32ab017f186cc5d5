"""CustomResourceDefinitions: their own strategy, the strategy of the resources they define, and
the controller that serves and retires those resources.

A CRD is answered Established at once (the naming and establishing controllers of the real server
finish within the create here: nothing else can claim the names in between), and its resources are
served as soon as the create is stored: CrdController watches the CRD resource in the store and
adds every served version to the Catalog, with its printer columns, so discovery, OpenAPI and
Tables follow. Deleting a CRD marks it Terminating with the cleanup finalizer; the controller then
deletes every object of the resource and lifts the finalizer, which removes the CRD.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson

from kwok.api import errors
from kwok.api.schema import ResourceInfo
from kwok.apiserver.registry import Cause, DeleteDecision, Obj, RequestContext, register
from kwok.apiserver.strategies.base import KindStrategy, get_path, spec_changed
from kwok.apiserver.strategies.fielderrors import invalid, not_supported, required
from kwok.apiserver.strategies.objectmeta import dns1035_label, dns1123_label, dns1123_subdomain
from kwok.apiserver.strategies.structural import apply_defaults, prune, validate

log = logging.getLogger("kwok.apiserver.crd")

GROUP = "apiextensions.k8s.io"
PLURAL = "customresourcedefinitions"
CLEANUP_FINALIZER = "customresourcecleanup.apiextensions.k8s.io"
_VERBS = ("delete", "deletecollection", "get", "list", "patch", "create", "update", "watch")
_ROOT_FIELDS = ("apiVersion", "kind", "metadata")
_METADATA_ONLY = frozenset(_ROOT_FIELDS)


# ------------------------------------------------------------------------------------------------
# The CustomResourceDefinition kind itself
# ------------------------------------------------------------------------------------------------

def _condition(kind: str, reason: str, message: str, now: str, status: str = "True") -> Obj:
    return {"type": kind, "status": status, "lastTransitionTime": now, "reason": reason, "message": message}


def storage_version(crd: Obj) -> str:
    return next((v.get("name", "") for v in get_path(crd, "spec", "versions") or [] if v.get("storage")), "")


def accepted_names(spec: Obj) -> Obj:
    names = dict(spec.get("names") or {})
    kind = names.get("kind", "")
    names.setdefault("singular", kind.lower())
    names.setdefault("listKind", f"{kind}List")
    return names


@register(GROUP, PLURAL)
class CustomResourceDefinitionStrategy(KindStrategy):
    returns_deleted_object = True

    def default(self, obj: Obj) -> None:
        spec = obj.setdefault("spec", {})
        spec.setdefault("conversion", {"strategy": "None"})
        names = spec.setdefault("names", {})
        if names.get("kind"):
            names.setdefault("singular", names["kind"].lower())
            names.setdefault("listKind", names["kind"] + "List")

    def prepare_create(self, obj: Obj, ctx: RequestContext) -> None:
        spec = obj.get("spec") or {}
        now = ctx.now
        obj["status"] = {
            "acceptedNames": accepted_names(spec),
            "conditions": [
                _condition("NamesAccepted", "NoConflicts", "no conflicts found", now),
                _condition("Established", "InitialNamesAccepted", "the initial names have been accepted", now),
            ],
            "storedVersions": [storage_version(obj)] if storage_version(obj) else [],
        }

    def _prepare_for_update(self, new: Obj, old: Obj, ctx: RequestContext) -> None:
        super()._prepare_for_update(new, old, ctx)
        status = new.setdefault("status", {})
        status["acceptedNames"] = accepted_names(new.get("spec") or {})
        stored = list(status.get("storedVersions") or [])
        if (version := storage_version(new)) and version not in stored:
            stored.append(version)
        status["storedVersions"] = stored

    def _validate_create(self, obj: Obj) -> list[Cause]:
        return super()._validate_create(obj) + _validate_crd_name(obj)

    def validate_spec(self, obj: Obj) -> list[Cause]:
        spec = obj.get("spec") or {}
        causes = _validate_group(spec.get("group", ""))
        causes += _validate_names(spec.get("names") or {})
        if spec.get("scope") not in ("Cluster", "Namespaced"):
            causes.append(not_supported("spec.scope", spec.get("scope", ""), ["Cluster", "Namespaced"])
                          if spec.get("scope") else required("spec.scope"))
        return causes + _validate_versions(spec.get("versions") or [])

    def validate_spec_update(self, new: Obj, old: Obj) -> list[Cause]:
        causes: list[Cause] = []
        for key in ("group", "scope"):
            if get_path(new, "spec", key) != get_path(old, "spec", key):
                causes.append(invalid(f"spec.{key}", get_path(new, "spec", key), "field is immutable"))
        return causes

    def delete_decision(self, obj: Obj, options: Obj) -> DeleteDecision:
        return DeleteDecision(remove_now=False, add_finalizers=(CLEANUP_FINALIZER,))

    def prepare_for_delete(self, obj: Obj, options: Obj) -> None:
        conditions = [c for c in get_path(obj, "status", "conditions") or [] if c.get("type") != "Terminating"]
        now = (obj.get("metadata") or {}).get("deletionTimestamp", "")
        conditions.append(_condition("Terminating", "InstanceDeletionInProgress",
                                     "CustomResource deletion is in progress", now))
        obj.setdefault("status", {})["conditions"] = conditions


def _validate_crd_name(obj: Obj) -> list[Cause]:
    spec = obj.get("spec") or {}
    name = (obj.get("metadata") or {}).get("name", "")
    expected = f"{get_path(spec, 'names', 'plural') or ''}.{spec.get('group', '')}"
    if name and name != expected:
        return [invalid("metadata.name", name, 'must be spec.names.plural+"."+spec.group')]
    return []


def _validate_group(group: str) -> list[Cause]:
    if not group:
        return [required("spec.group")]
    causes = [invalid("spec.group", group, m) for m in dns1123_subdomain(group)]
    if "." not in group:
        causes.append(invalid("spec.group", group, "should be a domain with at least one dot"))
    return causes


def _validate_names(names: Obj) -> list[Cause]:
    causes: list[Cause] = []
    for key in ("plural", "singular"):
        value = names.get(key, "")
        if not value and key == "plural":
            causes.append(required("spec.names.plural"))
        elif value:
            causes += [invalid(f"spec.names.{key}", value, m) for m in dns1123_label(value)]
    for key in ("kind", "listKind"):
        value = names.get(key, "")
        if not value and key == "kind":
            causes.append(required("spec.names.kind"))
        elif value:
            causes += [invalid(f"spec.names.{key}", value, m) for m in dns1035_label(value.lower())]
    return causes


def _validate_versions(versions: list[Obj]) -> list[Cause]:
    if not versions:
        return [required("spec.versions")]
    causes: list[Cause] = []
    storage = [v for v in versions if v.get("storage")]
    if len(storage) != 1:
        causes.append(invalid("spec.versions", _version_names(versions),
                              "must have exactly one version marked as storage version"))
    seen: set[str] = set()
    for i, version in enumerate(versions):
        name = version.get("name", "")
        if not name:
            causes.append(required(f"spec.versions[{i}].name"))
        elif name in seen:
            causes.append(invalid(f"spec.versions[{i}].name", name, "must be unique"))
        seen.add(name)
        if not get_path(version, "schema", "openAPIV3Schema"):
            causes.append(required(f"spec.versions[{i}].schema.openAPIV3Schema", "schemas are required"))
    if not any(v.get("served") for v in versions):
        causes.append(invalid("spec.versions", _version_names(versions), "must have at least one version served"))
    return causes


def _version_names(versions: list[Obj]) -> list[str]:
    return [v.get("name", "") for v in versions]


# ------------------------------------------------------------------------------------------------
# The custom resources
# ------------------------------------------------------------------------------------------------

def resource_info(crd: Obj, version: Obj) -> ResourceInfo:
    spec = crd.get("spec") or {}
    names = accepted_names(spec)
    subresources = tuple(k for k in ("status", "scale") if k in (version.get("subresources") or {}))
    return ResourceInfo(
        group=spec.get("group", ""), version=version.get("name", ""), kind=names.get("kind", ""),
        plural=names.get("plural", ""), singular=names.get("singular", ""),
        namespaced=spec.get("scope") == "Namespaced", list_kind=names.get("listKind", ""), verbs=_VERBS,
        short_names=tuple(names.get("shortNames") or ()), categories=tuple(names.get("categories") or ()),
        subresources=subresources)


class CustomResourceStrategy(KindStrategy):
    """Custom resources: schema pruning, defaulting and validation; generation on any non-metadata
    change (status excluded when it is a subresource); merge patches only (the core sees `custom`)."""

    returns_deleted_object = True

    def __init__(self, info: ResourceInfo, version: Obj | None = None) -> None:
        super().__init__(info)
        self.version = version or {}
        self.schema: Obj | None = get_path(self.version, "schema", "openAPIV3Schema")
        self.scale: Obj = get_path(self.version, "subresources", "scale") or {}
        self.selectable = [f.get("jsonPath", "") for f in self.version.get("selectableFields") or []]
        self.body_schema = _without_root_fields(self.schema) if self.schema is not None else None

    def prepare_create(self, obj: Obj, ctx: RequestContext) -> None:
        if self.has_status:
            obj.pop("status", None)   # unstructured: no zero status, unlike built-in kinds

    def default(self, obj: Obj) -> None:
        if self.schema is None:
            return
        pruned = prune(obj, self.schema, root=True)
        obj.clear()
        obj.update(apply_defaults(pruned, self.schema))

    @property
    def not_spec(self) -> frozenset[str]:
        # Without a status subresource, a status change is a change like any other.
        return super().not_spec if self.has_status else _METADATA_ONLY

    def prepare_for_status_update(self, new: Obj, old: Obj) -> None:
        super().prepare_for_status_update(new, old)
        if self.schema is not None and "status" in new:
            status_schema = get_path(self.schema, "properties", "status")
            new["status"] = apply_defaults(prune(new["status"], status_schema), status_schema)

    def validate_spec(self, obj: Obj) -> list[Cause]:
        if self.body_schema is None:
            return []
        return validate({k: v for k, v in obj.items() if k not in _ROOT_FIELDS}, self.body_schema)

    def _validate_update(self, new: Obj, old: Obj) -> list[Cause]:
        causes = super()._validate_update(new, old)
        if self.has_status and new.get("status") != old.get("status") and not spec_changed(new, old):
            causes += self.validate_spec(new)   # a status write is checked against the schema too
        return causes

    def field_values(self, obj: Obj) -> dict[str, str]:
        out = super().field_values(obj)
        for path in self.selectable:
            value = get_path(obj, *path.lstrip(".").split("."))
            out[path.lstrip(".")] = "" if value is None else str(value).lower() if isinstance(value, bool) \
                else str(value)
        return out


def _without_root_fields(schema: Obj) -> Obj:
    """The schema of everything but apiVersion/kind/metadata (validated as ObjectMeta instead)."""
    body = dict(schema)
    body["required"] = [r for r in schema.get("required") or [] if r not in _ROOT_FIELDS]
    body["properties"] = {k: v for k, v in (schema.get("properties") or {}).items() if k not in _ROOT_FIELDS}
    return body


def _split(json_path: str) -> list[str]:
    return [p for p in json_path.lstrip(".").split(".") if p]


def read_path(obj: Obj, json_path: str) -> Any:
    return get_path(obj, *_split(json_path))


def write_path(obj: Obj, json_path: str, value: Any) -> None:
    parts = _split(json_path)
    for part in parts[:-1]:
        obj = obj.setdefault(part, {})
    obj[parts[-1]] = value


# ------------------------------------------------------------------------------------------------
# Serving: CRD objects in the store -> resources in the catalog
# ------------------------------------------------------------------------------------------------

class CrdController:
    """Keeps the Catalog in step with the stored CRDs and cleans up deleted ones.

    `start()` serves the CRDs already stored (so their objects are reachable right after a
    restart) and watches the CRD resource; each stored change is applied synchronously as the
    store publishes it, so a CRD is served by the time its create is answered.
    """

    def __init__(self, flow: Any, catalog: Any) -> None:
        self.flow = flow
        self.catalog = catalog
        self.start_rv = 0
        self.served: dict[str, list[tuple[str, str, str]]] = {}   # CRD name -> served (group, version, plural)
        self._tasks: set[asyncio.Task[None]] = set()
        self._cleaning: set[str] = set()   # CRDs whose objects are being deleted

    @property
    def key(self) -> str:
        return f"{GROUP}/{PLURAL}"

    def start(self) -> None:
        rv, entries = self.flow.store.list_entries(self.key)
        for entry in entries:
            self.sync(orjson.loads(entry.data))
        self.flow.store.watch(self.key, rv, self)

    def stop(self) -> None:
        self.flow.store.unwatch(self.key, self)
        for task in self._tasks:
            task.cancel()

    def deliver(self, event: Any) -> None:
        crd = orjson.loads(event.entry.data)
        if event.type == "DELETED":
            self.unserve(crd["metadata"]["name"])
            return
        self.sync(crd)

    def sync(self, crd: Obj) -> None:
        name = crd["metadata"]["name"]
        wanted = []
        for version in get_path(crd, "spec", "versions") or []:
            if not version.get("served"):
                continue
            info = resource_info(crd, version)
            columns = version.get("additionalPrinterColumns")
            self.catalog.add(info, CustomResourceStrategy(info, version), custom=True, printer_columns=columns)
            wanted.append((info.group, info.version, info.plural))
        for gone in set(self.served.get(name, [])) - set(wanted):
            self.catalog.remove(*gone)
        self.served[name] = wanted
        deleting = (crd.get("metadata") or {}).get("deletionTimestamp")
        if deleting and CLEANUP_FINALIZER in (crd["metadata"].get("finalizers") or []) \
                and name not in self._cleaning:
            self._cleaning.add(name)
            task = asyncio.get_running_loop().create_task(self.cleanup(crd))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def unserve(self, name: str) -> None:
        for key in self.served.pop(name, []):
            self.catalog.remove(*key)

    async def cleanup(self, crd: Obj) -> None:
        """Delete every custom resource of a deleted CRD, then lift the cleanup finalizer."""
        group, plural = get_path(crd, "spec", "group"), get_path(crd, "spec", "names", "plural")
        ctx = RequestContext(user="system:apiserver", groups=("system:masters",), now=_now())
        try:
            served = next((self.catalog.get(*k) for k in self.served.get(crd["metadata"]["name"], [])), None)
            _rv, entries = self.flow.store.list_entries(f"{group}/{plural}")
            for entry in entries:
                if served is not None:
                    await self._delete_quietly(served, entry, ctx)
                else:
                    await self.flow.store.delete(f"{group}/{plural}", entry.namespace, entry.name, None)
            await self._lift_finalizer(crd["metadata"]["name"], ctx)
        except Exception:   # noqa: BLE001  retried on the CRD's next change; never kill the loop
            log.exception("cleaning up CRD %s", crd["metadata"]["name"])
        finally:
            self._cleaning.discard(crd["metadata"]["name"])

    async def _delete_quietly(self, served: Any, entry: Any, ctx: RequestContext) -> None:
        try:
            await self.flow.delete(served, entry.namespace, entry.name, {"propagationPolicy": "Background"}, ctx)
        except errors.ApiError as err:
            if err.code != 404:
                raise

    async def _lift_finalizer(self, name: str, ctx: RequestContext) -> None:
        served = self.catalog.get(GROUP, "v1", PLURAL)
        entry = self.flow.store.get(served.key, "", name)
        if entry is None:
            return      # gone already (its finalizers lifted by an earlier round): nothing to lift
        current = orjson.loads(entry.data)
        finalizers = [f for f in current["metadata"].get("finalizers") or [] if f != CLEANUP_FINALIZER]
        current["metadata"]["finalizers"] = finalizers
        await self.flow.update(served, "", name, current, ctx)


def ensure_started(flow: Any, catalog: Any) -> CrdController:
    """The catalog's CrdController, started on first use (idempotent: one per catalog)."""
    controller: CrdController | None = getattr(catalog, "_crd_controller", None)
    if controller is None:
        controller = CrdController(flow, catalog)
        catalog._crd_controller = controller
        controller.start()
    return controller


def _now() -> str:
    import datetime as dt

    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
