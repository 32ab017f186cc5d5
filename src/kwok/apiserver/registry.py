"""Resource strategies: the per-kind rules the request handlers apply around storage.

CONTRACT between the request flow (handlers.py, storage) and the per-kind semantics
(strategies/, admission/, crd.py). The handlers never special-case a kind: they call these hooks.

Create:  strategy.prepare_for_create(obj, ctx) -> admission (mutating, validating) ->
         strategy.validate_create(obj) -> store
Update:  strategy.prepare_for_update(new, old, ctx) -> admission -> strategy.validate_update(new, old)
Status:  strategy.prepare_for_status_update(new, old) (only .status of new is kept)
Delete:  strategy.delete_decision(obj, options) tells whether to set deletionTimestamp (graceful or
         finalizers) or remove now. When the object is kept, strategy.prepare_for_delete(obj, options)
         runs before it is stored (a Namespace turns Terminating, a CRD gets its Terminating condition);
         a kept object goes away only once strategy.finalized(obj) is true (no metadata.finalizers, and
         for a Namespace no spec.finalizers either) and its grace period is over — check it when marking
         and after every write to an object that has a deletionTimestamp.
CRDs:    kwok.apiserver.crd.ensure_started(flow, catalog) once the store is loaded serves every stored
         CRD and follows CRD writes (until then the first admitted request starts it).
Start:   besides the system namespaces and PriorityClasses, a real server keeps the `default/kubernetes`
         Service: kwok.apiserver.strategies.services.kubernetes_service(secure_port) builds it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from kwok.api.schema import ResourceInfo

Obj = dict[str, Any]


@dataclass
class Cause:
    """One field error; rendered into a 422 Invalid Status."""

    reason: str          # FieldValueRequired, FieldValueInvalid, FieldValueNotSupported, ...
    message: str         # "Required value: name or generateName is required"
    field: str           # "metadata.name"


@dataclass
class RequestContext:
    user: str = "system:anonymous"
    groups: tuple[str, ...] = ()
    namespace: str | None = None
    dry_run: bool = False
    field_manager: str | None = None
    now: str = ""                      # RFC 3339 time of the request, set by the handler
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class DeleteDecision:
    remove_now: bool                   # False: mark with deletionTimestamp and keep
    grace_period_seconds: int | None = None
    add_finalizers: tuple[str, ...] = ()   # e.g. ("foregroundDeletion",) or ("orphan",)


class Strategy:
    """Defaults shared by every kind; strategies/ subclasses refine them per kind."""

    # Stores that answer DELETE with the object rather than a Status (pods, serviceaccounts, CRDs, CRs).
    returns_deleted_object = False
    # A spec change bumps metadata.generation (true for most kinds with a spec).
    bumps_generation = True

    def __init__(self, info: ResourceInfo) -> None:
        self.info = info

    @property
    def has_status(self) -> bool:
        return "status" in self.info.subresources

    def prepare_for_create(self, obj: Obj, ctx: RequestContext) -> None:
        """Fill server defaults; drop what a client may not set."""

    def validate_create(self, obj: Obj) -> list[Cause]:
        return []

    def prepare_for_update(self, new: Obj, old: Obj, ctx: RequestContext) -> None:
        """Keep the stored status when the kind has a status subresource; bump generation on spec change."""
        if self.has_status and "status" in old:
            new["status"] = old["status"]
        elif self.has_status:
            new.pop("status", None)

    def validate_update(self, new: Obj, old: Obj) -> list[Cause]:
        return []

    def prepare_for_status_update(self, new: Obj, old: Obj) -> None:
        """A status write changes only .status (and nothing in metadata but what the handler sets)."""
        status = new.get("status")
        new.clear()
        new.update({k: v for k, v in old.items() if k != "status"})
        if status is not None:
            new["status"] = status

    def field_values(self, obj: Obj) -> dict[str, str]:
        """Values of the field-selector fields this kind supports (metadata.name/namespace always)."""
        meta = obj.get("metadata") or {}
        out = {"metadata.name": meta.get("name", "")}
        if self.info.namespaced:
            out["metadata.namespace"] = meta.get("namespace", "")
        return out

    def delete_decision(self, obj: Obj, options: Obj) -> DeleteDecision:
        return DeleteDecision(remove_now=not (obj.get("metadata") or {}).get("finalizers"))

    def finalized(self, obj: Obj) -> bool:
        """Whether an object marked for deletion may now go away (checked after each write to it):
        no finalizers left (a Namespace also waits for its spec.finalizers)."""
        return not (obj.get("metadata") or {}).get("finalizers")

    def prepare_for_delete(self, obj: Obj, options: Obj) -> None:
        """Changes a DELETE makes to an object it keeps (remove_now False), besides deletionTimestamp,
        deletionGracePeriodSeconds and the added finalizers: e.g. a Namespace turns Terminating."""


# ---------------------------------------------------------------------------------------------
# Registration (added by the per-kind semantics side; the handlers only look things up here).
#
#   strategy_for(info) -> Strategy            the strategy of a built-in or custom resource
#   STRATEGIES[(group, plural)] = cls         filled by kwok.apiserver.strategies on import
#   admission_chain() -> list[AdmissionPlugin] default plugins in the real kube-apiserver order
#
# Admission runs after prepare_for_* and before validate_*: the handler builds an
# AdmissionRequest, awaits plugin.admit(req, lookup) for every plugin (mutating phase), then
# plugin.validate(req, lookup) (validating phase). A plugin refuses by raising
# kwok.api.errors.ApiError (403 Forbidden, 404 NotFound, ...), rendered as its Status.
# ---------------------------------------------------------------------------------------------

STRATEGIES: dict[tuple[str, str], type[Strategy]] = {}


def register(group: str, *plurals: str) -> Any:
    """Class decorator: `@register("apps", "deployments")` makes the class the kind's strategy."""

    def wrap(cls: type[Strategy]) -> type[Strategy]:
        for plural in plurals:
            STRATEGIES[(group, plural)] = cls
        return cls

    return wrap


def strategy_for(info: ResourceInfo) -> Strategy:
    import kwok.apiserver.crd  # noqa: F401  (the CustomResourceDefinition strategy)
    import kwok.apiserver.strategies  # noqa: F401  (fills STRATEGIES)

    return STRATEGIES.get((info.group, info.plural), Strategy)(info)


class RequestRejected(Exception):
    """A refusal carrying the exact Status to answer with (kwok.api.errors.ApiError works as well)."""

    def __init__(self, status: Obj) -> None:
        super().__init__(status.get("message", ""))
        self.status = status

    @property
    def code(self) -> int:
        return int(self.status.get("code", 500))


@dataclass
class AdmissionRequest:
    operation: str                     # CREATE, UPDATE, DELETE, CONNECT
    info: ResourceInfo
    namespace: str | None
    name: str
    obj: Obj | None                    # the incoming object (mutable in admit); None for DELETE
    old: Obj | None = None             # the stored object on UPDATE/DELETE
    subresource: str = ""              # "status", "scale", "binding", "eviction", "exec", ...
    options: Obj = field(default_factory=dict)   # Create/Update/DeleteOptions as sent
    ctx: RequestContext = field(default_factory=RequestContext)


class Lookup:
    """Storage reads (and the one write ResourceQuota needs) that the core gives admission plugins."""

    async def get(self, group: str, plural: str, namespace: str | None, name: str) -> Obj | None:
        raise NotImplementedError

    async def list(self, group: str, plural: str, namespace: str | None) -> list[Obj]:
        raise NotImplementedError

    async def update_status(self, group: str, plural: str, obj: Obj) -> Obj:
        """Write obj's .status (resourceVersion precondition from obj); raise on conflict."""
        raise NotImplementedError

    def follow(self, group: str, plural: str, on_change: Any) -> bool:
        """Call `on_change()` after every stored write of the resource (caches of configuration
        objects invalidate themselves with it); False when this lookup cannot follow writes."""
        return False


class AdmissionPlugin:
    name = ""

    def handles(self, req: AdmissionRequest) -> bool:
        return True

    async def admit(self, req: AdmissionRequest, lookup: Lookup) -> None:
        """Mutating phase: may change req.obj; raise kwok.api.errors.ApiError to refuse."""

    async def validate(self, req: AdmissionRequest, lookup: Lookup) -> None:
        """Validating phase: raise kwok.api.errors.ApiError to refuse."""

    async def close(self) -> None:
        """Release what the plugin holds (connections to webhooks) when the server shuts down."""


def admission_chain() -> list[AdmissionPlugin]:
    from kwok.apiserver.admission import default_plugins

    plugins: list[AdmissionPlugin] = default_plugins()
    return plugins


# ---------------------------------------------------------------------------------------------
# Subresources other than status (added by the request-flow side).
#
# `@register_subresource("scale")` registers `async def handler(call: SubresourceCall)` for every
# resource that lists that subresource (strategies may refine per kind by looking at call.served).
# A handler returns `(http_code, body_dict)` or an aiohttp StreamResponse (log follow, exec); it
# raises kwok.api.errors.ApiError for failures. Writes go through `call.flow` (kwok.apiserver.flow.Flow:
# get/create/update/delete with the whole request flow), so admission and validation still run.
#
# Virtual kinds that store nothing (SelfSubjectAccessReview, TokenReview, ...) are answered by
# `strategy.create_virtual(obj, ctx) -> Obj` when the strategy defines it (default: echo the object).
# ---------------------------------------------------------------------------------------------


@dataclass
class SubresourceCall:
    verb: str                          # get, create, update, patch, delete, connect
    served: Any                        # kwok.apiserver.catalog.Served (info + strategy)
    namespace: str
    name: str
    subresource: str
    body: Obj | None                   # decoded request body (None for GET/connect)
    query: Any                         # multidict of query parameters
    ctx: RequestContext
    flow: Any                          # kwok.apiserver.flow.Flow
    request: Any = None                # the aiohttp request (for streaming / WebSocket upgrades)
    patch_type: str = ""               # Content-Type of a PATCH body
    proxy_path: str = ""               # pods|services|nodes/<name>/proxy/<this>


SUBRESOURCE_HANDLERS: dict[str, Any] = {}


def register_subresource(name: str) -> Any:
    def wrap(fn: Any) -> Any:
        SUBRESOURCE_HANDLERS[name] = fn
        return fn

    return wrap


def subresource_handler(name: str) -> Any:
    try:
        import kwok.apiserver.subresources  # noqa: F401  (fills SUBRESOURCE_HANDLERS)
    except ImportError:
        pass
    return SUBRESOURCE_HANDLERS.get(name)
