"""The skeleton every kind strategy shares: metadata rules, generation, status, deletion policy.

Subclasses fill four small hooks (`default`, `prepare_create`, `validate_spec`, `validate_spec_update`)
and a few class attributes; the Strategy contract methods the handlers call live here once.
"""

from __future__ import annotations

from typing import Any

from kwok.api import errors, quantityfields
from kwok.apiserver.registry import Cause, DeleteDecision, Obj, RequestContext, Strategy
from kwok.apiserver.strategies.objectmeta import (
    NameValidator,
    dns1123_subdomain,
    validate_object_meta,
    validate_object_meta_update,
)

FOREGROUND = "foregroundDeletion"
ORPHAN = "orphan"


_NOT_SPEC = frozenset({"metadata", "status", "apiVersion", "kind"})


def spec_changed(new: Obj, old: Obj, ignored: frozenset[str] = _NOT_SPEC) -> bool:
    """Anything but metadata and status differs: what bumps metadata.generation."""
    keys = (set(new) | set(old)) - ignored
    return any(new.get(k) != old.get(k) for k in keys)


def set_generation(new: Obj, old: Obj, ignored: frozenset[str] = _NOT_SPEC) -> None:
    """Idempotent: the result depends only on old and new, so a second call changes nothing."""
    meta = new.setdefault("metadata", {})
    previous = int((old.get("metadata") or {}).get("generation") or 1)
    meta["generation"] = previous + 1 if spec_changed(new, old, ignored) else previous


def propagation_finalizer(options: Obj, default_policy: str) -> str | None:
    """The finalizer a DELETE's propagation policy asks for (orphanDependents is the old spelling)."""
    policy = options.get("propagationPolicy")
    if policy is None and options.get("orphanDependents") is not None:
        policy = "Orphan" if options["orphanDependents"] else "Background"
    policy = policy or default_policy
    return {"Foreground": FOREGROUND, "Orphan": ORPHAN}.get(policy)


class KindStrategy(Strategy):
    name_validator: NameValidator = staticmethod(dns1123_subdomain)
    # The policy when a DELETE names none (DefaultGarbageCollectionPolicy); kubectl always sends one.
    default_propagation = "Background"
    # False for kinds that never carry metadata.generation (ConfigMap, Namespace, Node, ...).
    bumps_generation = True
    # Status is reset on create for kinds with a status subresource (controllers write it).
    clear_status_on_create = True

    @property
    def not_spec(self) -> frozenset[str]:
        """Top-level fields that are not spec: changing them neither bumps generation nor re-validates."""
        return _NOT_SPEC

    # --- hooks for subclasses -----------------------------------------------------------------
    def default(self, obj: Obj) -> None:
        """Scheme defaults: applied to every object the server decodes (create and update)."""

    def prepare_create(self, obj: Obj, ctx: RequestContext) -> None:
        """Create-only server-side fields (status.phase, generated selectors, ...)."""

    def validate_spec(self, obj: Obj) -> list[Cause]:
        return []

    def validate_spec_update(self, new: Obj, old: Obj) -> list[Cause]:
        """Immutable-field rules; validate_spec(new) runs as well."""
        return []

    # --- the contract -------------------------------------------------------------------------
    def _undecodable(self, err: Exception) -> errors.ApiError:
        """A body whose fields have the wrong JSON types: what the real decoder answers with 400."""
        kind = self.info.kind
        return errors.bad_request(f'{kind} in version "{self.info.version}" cannot be handled as a {kind}: '
                                  f"a field has the wrong type ({err})")

    def prepare_for_create(self, obj: Obj, ctx: RequestContext) -> None:
        try:
            self._prepare_for_create(obj, ctx)
        except (AttributeError, TypeError) as err:
            raise self._undecodable(err) from None

    def validate_create(self, obj: Obj) -> list[Cause]:
        try:
            return self._validate_create(obj)
        except (AttributeError, TypeError) as err:
            raise self._undecodable(err) from None

    def prepare_for_update(self, new: Obj, old: Obj, ctx: RequestContext) -> None:
        try:
            self._prepare_for_update(new, old, ctx)
        except (AttributeError, TypeError) as err:
            raise self._undecodable(err) from None

    def validate_update(self, new: Obj, old: Obj) -> list[Cause]:
        try:
            return self._validate_update(new, old)
        except (AttributeError, TypeError) as err:
            raise self._undecodable(err) from None

    def _prepare_for_create(self, obj: Obj, ctx: RequestContext) -> None:
        if self.has_status and self.clear_status_on_create:
            # The zero status of a typed kind: `status: {}` until a controller writes it.
            obj["status"] = {}
        meta = obj.setdefault("metadata", {})
        if self.bumps_generation:
            meta["generation"] = 1
        else:
            meta.pop("generation", None)
        self.default(obj)
        quantityfields.canonicalize(self.info.message, obj)
        self.prepare_create(obj, ctx)

    def _validate_create(self, obj: Obj) -> list[Cause]:
        causes = validate_object_meta(obj, self.info.namespaced, self.name_validator)
        return causes + self.validate_spec(obj)

    def _prepare_for_update(self, new: Obj, old: Obj, ctx: RequestContext) -> None:
        super().prepare_for_update(new, old, ctx)
        self.default(new)
        quantityfields.canonicalize(self.info.message, new)
        if self.bumps_generation:
            set_generation(new, old, self.not_spec)
        else:
            new.setdefault("metadata", {}).pop("generation", None)

    def _validate_update(self, new: Obj, old: Obj) -> list[Cause]:
        causes = validate_object_meta_update(new, old)
        if not spec_changed(new, old, self.not_spec):
            # The stored spec passed validation already: status and metadata writes (most writes of a
            # running cluster: kubelet heartbeats, controller status) skip re-checking it.
            return causes
        return causes + self.validate_spec(new) + self.validate_spec_update(new, old)

    def delete_decision(self, obj: Obj, options: Obj) -> DeleteDecision:
        meta = obj.get("metadata") or {}
        finalizer = propagation_finalizer(options, self.default_propagation)
        add = (finalizer,) if finalizer and finalizer not in (meta.get("finalizers") or []) else ()
        keep = bool(meta.get("finalizers")) or finalizer is not None
        return DeleteDecision(remove_now=not keep, add_finalizers=add)


def get_path(obj: Any, *keys: str) -> Any:
    """obj[k1][k2]... or None when any step is missing or not a mapping."""
    for key in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj
