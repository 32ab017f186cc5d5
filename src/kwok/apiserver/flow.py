"""The request flow of every write, independent of HTTP: create, update, patch result, delete.

Each write runs the same steps for every kind (the kind-specific rules live in the strategy and in
admission, never here): server-owned metadata -> strategy.prepare_for_* -> admission (mutating,
then validating) -> strategy.validate_* -> managedFields -> storage with a resourceVersion
precondition. Nothing is stored unless every step passed, and `dry_run` stops just before storage.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import time
from typing import Any

import orjson

from kwok.api import errors
from kwok.api.managedfields import update_managed_fields
from kwok.apiserver.authorization import answer_review
from kwok.apiserver.catalog import Catalog, Served, storage_key
from kwok.apiserver.registry import (
    AdmissionPlugin,
    AdmissionRequest,
    DeleteDecision,
    Lookup,
    RequestContext,
    RequestRejected,
)
from kwok.apiserver.storage import Entry, PreconditionFailed, Store
from kwok.apiserver.versions import as_served

Obj = dict[str, Any]
_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"   # apimachinery's SimpleNameGenerator alphabet
_GENERATE_ATTEMPTS = 8


def rfc3339(now: dt.datetime) -> str:
    return now.strftime("%Y-%m-%dT%H:%M:%SZ")


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


_clock_text: tuple[int, str] = (0, "")


def now_text() -> str:
    """rfc3339(now_utc()), formatted once per second: every write stamps it, often thousands a second."""
    global _clock_text
    second = int(time.time())
    if second != _clock_text[0]:
        _clock_text = (second, rfc3339(dt.datetime.fromtimestamp(second, dt.UTC)))
    return _clock_text[1]


_random_pool = bytearray()


def new_uid() -> str:
    """A random (version 4) UUID as text, as uuid.uuid4() but from a pooled read of the OS's
    randomness: one system call per 256 uids instead of one each."""
    global _random_pool
    if not _random_pool:
        _random_pool = bytearray(os.urandom(16 * 256))
    raw = _random_pool[-16:]
    del _random_pool[-16:]
    raw[6] = (raw[6] & 0x0F) | 0x40     # version 4
    raw[8] = (raw[8] & 0x3F) | 0x80     # RFC 4122 variant
    text = raw.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def _meta(obj: Obj) -> Obj:
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        meta = obj["metadata"] = {}
    return meta


class Flow:
    def __init__(self, store: Store, catalog: Catalog, admission: list[AdmissionPlugin] | None = None) -> None:
        self.store = store
        self.catalog = catalog
        self.admission = admission or []
        # plugins by phase: most take part in one only, and an await of a no-op is not free
        self._mutating = [p for p in self.admission if type(p).admit is not AdmissionPlugin.admit]
        self._validating = [p for p in self.admission if type(p).validate is not AdmissionPlugin.validate]
        self.lookup = StoreLookup(self)

    # ------------------------------------------------------------------ reads
    def entry(self, served: Served, namespace: str, name: str) -> Entry:
        entry = self.store.get(served.key, namespace, name)
        if entry is None:
            raise errors.not_found(served.info.plural, name, served.info.group)
        return entry

    def get(self, served: Served, namespace: str, name: str) -> Obj:
        return orjson.loads(self.entry(served, namespace, name).data)  # type: ignore[no-any-return]

    # ----------------------------------------------------------------- create
    async def create(self, served: Served, obj: Obj, ctx: RequestContext, *, subresource: str = "") -> Obj:
        return (await self.create_encoded(served, obj, ctx, subresource=subresource))[0]

    async def create_encoded(self, served: Served, obj: Obj, ctx: RequestContext, *,
                             subresource: str = "") -> tuple[Obj, bytes]:
        """create(), with the stored object's JSON (what the reply sends, encoded once)."""
        info = served.info
        meta = _meta(obj)
        generated = not meta.get("name") and bool(meta.get("generateName"))
        self._server_fields_for_create(served, meta, ctx)
        served.strategy.prepare_for_create(obj, ctx)
        await self._admit("CREATE", served, obj, None, ctx, subresource)
        self._validate(served, served.strategy.validate_create(obj), obj)
        if not served.stored:
            result = self._virtual_create(served, obj, ctx)
            return result, orjson.dumps(result)
        obj = self._record_manager(served, None, obj, ctx, subresource)
        meta = obj["metadata"]
        fields = served.strategy.field_values(obj)
        for attempt in range(_GENERATE_ATTEMPTS if generated else 1):
            if attempt:
                meta["name"] = _generate_name(meta["generateName"])
            try:
                entry = await self.store.create(served.key, obj, fields, dry_run=ctx.dry_run)
                return obj, entry.data
            except FileExistsError:
                continue
        if generated:
            raise errors.generate_name_conflict(info.plural, meta["name"], info.group)
        raise errors.already_exists(info.plural, meta["name"], info.group)

    def _server_fields_for_create(self, served: Served, meta: Obj, ctx: RequestContext) -> None:
        if not meta.get("name") and meta.get("generateName"):
            meta["name"] = _generate_name(meta["generateName"])
        if served.info.namespaced:
            meta["namespace"] = ctx.namespace or meta.get("namespace") or "default"
        else:
            meta.pop("namespace", None)
        meta["uid"] = new_uid()
        meta["creationTimestamp"] = ctx.now
        for key in ("resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"):
            meta.pop(key, None)

    def _virtual_create(self, served: Served, obj: Obj, ctx: RequestContext) -> Obj:
        hook = getattr(served.strategy, "create_virtual", None)
        return hook(obj, ctx) if hook else answer_review(obj, ctx)

    # ----------------------------------------------------------------- update
    async def update(self, served: Served, namespace: str, name: str, obj: Obj, ctx: RequestContext, *,
                     subresource: str = "", old: Obj | None = None) -> tuple[Obj, bool]:
        """Replace an object; returns (stored object, created). A no-op update writes nothing."""
        result, created, _data = await self.update_encoded(served, namespace, name, obj, ctx,
                                                           subresource=subresource, old=old)
        return result, created

    async def update_encoded(self, served: Served, namespace: str, name: str, obj: Obj, ctx: RequestContext, *,
                             subresource: str = "", old: Obj | None = None) -> tuple[Obj, bool, bytes]:
        """update(), with the stored object's JSON (what the reply sends, encoded once)."""
        info = served.info
        entry = self.store.get(served.key, namespace, name)
        if entry is None:
            if getattr(served.strategy, "allow_create_on_update", False) and not subresource:
                created, data = await self.create_encoded(served, obj, ctx)
                return created, True, data
            raise errors.not_found(info.plural, name, info.group)
        if old is None:
            old = orjson.loads(as_served(self.catalog, served, entry.data))   # in the version of this request
        assert old is not None
        expected = self._expected_rv(served, obj, entry)
        self._keep_server_fields(_meta(obj), old["metadata"], served, name)
        if subresource == "status":
            applied = _meta(obj).get("managedFields") if ctx.extra.get("applied") else None
            served.strategy.prepare_for_status_update(obj, old)
            # the strategy keeps the old metadata: take a copy of its own, with the ownership an
            # apply through this endpoint recorded
            meta = obj["metadata"] = dict(_meta(obj))
            meta["resourceVersion"] = old["metadata"].get("resourceVersion")
            if applied is not None:
                meta["managedFields"] = applied
        else:
            served.strategy.prepare_for_update(obj, old, ctx)
        await self._admit("UPDATE", served, obj, old, ctx, subresource)
        self._validate(served, served.strategy.validate_update(obj, old), obj)
        obj = self._record_manager(served, old, obj, ctx, subresource)
        _meta(obj)["resourceVersion"] = old["metadata"].get("resourceVersion")
        if obj == old:
            return old, False, orjson.dumps(old)
        obj, data = await self._write_update(served, obj, expected, ctx)
        return obj, False, data

    def _expected_rv(self, served: Served, obj: Obj, entry: Entry) -> int | None:
        text = _meta(obj).get("resourceVersion")
        if not text:
            return None
        try:
            expected = int(text)
        except (TypeError, ValueError):
            raise errors.bad_request(f'invalid resource version: strconv.ParseUint: parsing "{text}": '
                                     "invalid syntax") from None
        if expected != entry.rv:
            raise errors.conflict(served.info.plural, entry.name, served.info.group)
        return expected

    def _keep_server_fields(self, meta: Obj, old_meta: Obj, served: Served, url_name: str) -> None:
        info = served.info
        if meta.get("uid") and meta["uid"] != old_meta.get("uid"):
            raise errors.conflict_message(
                info.plural, url_name,
                f"Precondition failed: UID in precondition: {meta['uid']}, UID in object meta: {old_meta.get('uid')}",
                info.group)
        for key in ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "namespace"):
            if key in old_meta:
                meta[key] = old_meta[key]
            else:
                meta.pop(key, None)
        meta["name"] = url_name
        if "generation" in old_meta:
            meta["generation"] = old_meta["generation"]

    async def _write_update(self, served: Served, obj: Obj, expected: int | None,
                            ctx: RequestContext) -> tuple[Obj, bytes]:
        meta = obj["metadata"]
        fields = served.strategy.field_values(obj)
        try:
            if meta.get("deletionTimestamp") and not meta.get("deletionGracePeriodSeconds") \
                    and served.strategy.finalized(obj):
                # the last finalizer is gone: the object goes away with this very write
                entry = await self.store.delete(served.key, meta.get("namespace", ""), meta["name"], expected,
                                                dry_run=ctx.dry_run, final=obj)
            else:
                entry = await self.store.update(served.key, obj, fields, expected, dry_run=ctx.dry_run)
        except PreconditionFailed:
            raise errors.conflict(served.info.plural, meta["name"], served.info.group) from None
        except KeyError:
            raise errors.not_found(served.info.plural, meta["name"], served.info.group) from None
        return obj, entry.data

    # ----------------------------------------------------------------- delete
    async def delete(self, served: Served, namespace: str, name: str, options: Obj,
                     ctx: RequestContext) -> tuple[Obj, bool]:
        """Delete or mark for deletion; returns (object, removed now)."""
        obj, removed, _data = await self.delete_encoded(served, namespace, name, options, ctx)
        return obj, removed

    async def delete_encoded(self, served: Served, namespace: str, name: str, options: Obj,
                             ctx: RequestContext) -> tuple[Obj, bool, bytes]:
        """delete(), with the object's JSON as the reply sends it: the last stored state when it was
        removed now (as the real server answers from etcd's previous value), else the kept one."""
        info = served.info
        entry = self.entry(served, namespace, name)
        obj: Obj = orjson.loads(entry.data)
        meta = obj["metadata"]
        self._check_preconditions(served, name, meta, options.get("preconditions") or {})
        await self._admit("DELETE", served, None, obj, ctx, "", options)
        decision = served.strategy.delete_decision(obj, options)
        try:
            if decision.remove_now and not decision.add_finalizers and served.strategy.finalized(obj):
                # the DELETED event carries this state with the deletion's revision; the reply the last one
                await self.store.delete(served.key, namespace, name, entry.rv, dry_run=ctx.dry_run, final=obj)
                meta["resourceVersion"] = str(entry.rv)
                return obj, True, entry.data
            return await self._mark_deleted(served, obj, entry, decision, options, ctx)
        except (KeyError, PreconditionFailed):
            raise errors.conflict(info.plural, name, info.group) from None

    def _check_preconditions(self, served: Served, name: str, meta: Obj, pre: Obj) -> None:
        info = served.info
        if pre.get("uid") and pre["uid"] != meta.get("uid"):
            why = f"Precondition failed: UID in precondition: {pre['uid']}, UID in object meta: {meta.get('uid')}"
            raise errors.conflict_message(info.plural, name, why, info.group)
        if pre.get("resourceVersion") and pre["resourceVersion"] != meta.get("resourceVersion"):
            why = (f"Precondition failed: ResourceVersion in precondition: {pre['resourceVersion']}, "
                   f"ResourceVersion in object meta: {meta.get('resourceVersion')}")
            raise errors.conflict_message(info.plural, name, why, info.group)

    async def _mark_deleted(self, served: Served, obj: Obj, entry: Entry, decision: DeleteDecision,
                            options: Obj, ctx: RequestContext) -> tuple[Obj, bool, bytes]:
        """Keep the object marked for deletion (deletionTimestamp, finalizers); (object, removed now, JSON)."""
        meta = obj["metadata"]
        finalizers = list(meta.get("finalizers") or [])
        finalizers += [f for f in decision.add_finalizers if f not in finalizers]
        if finalizers:
            meta["finalizers"] = finalizers
        grace = decision.grace_period_seconds or 0
        current = meta.get("deletionGracePeriodSeconds")
        if not meta.get("deletionTimestamp") or (current is not None and grace < current):
            # a second DELETE may shorten the grace period, never lengthen it
            when = dt.datetime.fromisoformat(ctx.now)
            meta["deletionTimestamp"] = rfc3339(when + dt.timedelta(seconds=grace))
            meta["deletionGracePeriodSeconds"] = grace
        served.strategy.prepare_for_delete(obj, options)
        # obj was decoded from these bytes: it encodes to them again unless something changed
        if orjson.dumps(obj) == entry.data:
            return obj, False, entry.data
        if not grace and served.strategy.finalized(obj):
            await self.store.delete(served.key, entry.namespace, entry.name, entry.rv, dry_run=ctx.dry_run,
                                    final=obj)
            return obj, True, orjson.dumps(obj)
        stored = await self.store.update(served.key, obj, served.strategy.field_values(obj), entry.rv,
                                         dry_run=ctx.dry_run)
        return obj, False, stored.data

    def _record_manager(self, served: Served, old: Obj | None, obj: Obj, ctx: RequestContext,
                        subresource: str) -> Obj:
        """managedFields: what this write's field manager now owns (an apply records its own)."""
        if ctx.extra.get("applied"):
            return obj
        manager = ctx.field_manager or manager_from_user_agent(ctx.extra.get("userAgent", ""))
        return update_managed_fields(old, obj, manager, "Update", served.info.group_version, ctx.now, subresource,
                                     ignored=reset_fields(served, subresource))

    # -------------------------------------------------------------- admission
    async def _admit(self, operation: str, served: Served, obj: Obj | None, old: Obj | None,
                     ctx: RequestContext, subresource: str, options: Obj | None = None) -> None:
        if not self.admission:
            return
        source = obj if obj is not None else old or {}
        req = AdmissionRequest(operation=operation, info=served.info, namespace=ctx.namespace,
                               name=(source.get("metadata") or {}).get("name", ""), obj=obj, old=old,
                               subresource=subresource, options=options or {}, ctx=ctx)
        try:
            for plugin in self._mutating:
                if plugin.handles(req):
                    await plugin.admit(req, self.lookup)
            for plugin in self._validating:
                if plugin.handles(req):
                    await plugin.validate(req, self.lookup)
        except RequestRejected as rejected:
            raise errors.ApiError(rejected.status) from None

    def _validate(self, served: Served, causes: list[Any], obj: Obj) -> None:
        if causes:
            name = (obj.get("metadata") or {}).get("name", "")
            raise errors.invalid(served.info.kind, name, causes, served.info.group)


def reset_fields(served: Served, subresource: str) -> tuple[tuple[str, ...], ...]:
    """The fields a write through this endpoint resets, so nobody owns them through it (the
    strategies' GetResetFields): status on a resource that has a status subresource, spec on
    that subresource. A pod's creator owns its spec, never the status the server filled in."""
    if subresource == "status":
        return (("spec",),)
    if not subresource and "status" in served.info.subresources:
        return (("status",),)
    return ()


def manager_from_user_agent(user_agent: str) -> str:
    """The manager of a write without fieldManager: the User-Agent up to its first "/" (as upstream)."""
    return user_agent.split("/", 1)[0][:128] or "unknown"


def _generate_name(prefix: str) -> str:
    # apimachinery trims the prefix so that the name stays within 63 characters
    prefix = prefix[:58]
    return prefix + "".join(secrets.choice(_NAME_CHARS) for _ in range(5))


class StoreLookup(Lookup):
    """What admission plugins may read (and the status write ResourceQuota needs)."""

    def __init__(self, flow: Flow) -> None:
        self.flow = flow

    async def get(self, group: str, plural: str, namespace: str | None, name: str) -> Obj | None:
        entry = self.flow.store.get(storage_key(group, plural), namespace or "", name)
        return orjson.loads(entry.data) if entry else None

    async def list(self, group: str, plural: str, namespace: str | None) -> list[Obj]:
        _rv, entries = self.flow.store.list_entries(storage_key(group, plural), namespace)
        return [orjson.loads(e.data) for e in entries]

    def follow(self, group: str, plural: str, on_change: Any) -> bool:
        store = self.flow.store
        store.watch(storage_key(group, plural), store.published_rv, _Follower(on_change))
        return True

    async def update_status(self, group: str, plural: str, obj: Obj) -> Obj:
        served = next((s for s in self.flow.catalog if s.info.group == group and s.info.plural == plural), None)
        if served is None:
            raise errors.not_found(plural, obj["metadata"]["name"], group)
        meta = obj["metadata"]
        result, _ = await self.flow.update(served, meta.get("namespace", ""), meta["name"], obj,
                                           RequestContext(user="system:apiserver", now=rfc3339(now_utc())),
                                           subresource="status")
        return result


class _Follower:
    """A store watcher that only reports that something changed."""

    def __init__(self, on_change: Any) -> None:
        self.start_rv = 0
        self.on_change = on_change

    def deliver(self, event: Any) -> None:
        self.on_change()
