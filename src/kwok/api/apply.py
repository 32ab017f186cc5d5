"""Server-side apply (`PATCH` with `application/apply-patch+yaml`), as structured-merge-diff does it.

An apply sends the manager's whole *intent*. The server:
1. merges it into the live object by structure: objects field by field, `listType=map` lists by
   key, `listType=set` lists by value, atomic lists and structs replaced whole;
2. prunes what this manager applied last time but omits now, unless another manager owns it;
3. checks ownership: changing (or adding) a field another manager owns is a conflict, answered
   with 409 unless `force=true`, which takes the field over; applying the same value shares it;
4. records the applied field set as this manager's `Apply` entry in `metadata.managedFields`.

Custom resources use deduced types (lists atomic) unless the caller passes
`resolver=OpenAPITypes(<the CRD version's openAPIV3Schema>)`. kubectl's client-side to
server-side migration is honoured: a `kubectl` apply may take over fields that the object's
`kubectl.kubernetes.io/last-applied-configuration` says were applied client-side, and keeps that
annotation in sync.

PUBLIC NAMES (the API server calls these):

    apply(live, applied, manager, force, api_version, time, message=None, *, kind=None,
          subresource="", resolver=None, ignored=()) -> dict
        # live=None creates. `message` optionally names the schema message of the kind (else it
        # is looked up from api_version + kind; unknown kinds use deduced types). Raises
        # ApplyConflict, ApiError 400 for an applied object of the wrong kind/version or one that
        # carries managedFields, ApiError 500 (no reason, as upstream) for a keyed list item
        # without its key. `api_version` may be the served ResourceInfo instead of a string.
        # `ignored`: field paths the endpoint resets, e.g. [("status",)]. The result shares
        # nothing with the inputs. The caller checks that fieldManager is given.
    ApplyConflict(ApiError): .conflicts [(manager, field path)], .status (the 409 body)
    merge(live, config, root_type, resolver) -> Any
    remove_items(value, field_set, root_type, resolver) -> Any
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from kwok.api import errors
from kwok.api import managedfields as mf
from kwok.api.managedfields import MEMBER, FieldSet, ManagedEntry, ManagerKey, Type, TypeResolver

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
BEFORE_FIRST_APPLY = "before-first-apply"
_ABSENT = object()


class ApplyConflict(errors.ApiError):
    """409 Conflict with one FieldManagerConflict cause per conflicting field.

    `conflicts` lists (manager, field path); `described` names each conflict's manager the way
    the API server prints it (`"kubectl-client-side-apply" using apps/v1` for an Update entry,
    `"kubectl"` for an Apply entry, `... with subresource "status"`).
    """

    def __init__(self, conflicts: list[tuple[str, str]], described: list[str] | None = None) -> None:
        self.conflicts = conflicts
        who = described if described is not None else [orjson.dumps(m).decode() for m, _ in conflicts]
        pairs = [(name, path) for name, (_, path) in zip(who, conflicts, strict=True)]
        causes = [{"reason": "FieldManagerConflict", "message": f"conflict with {name}", "field": path}
                  for name, path in pairs]
        status = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                  "message": conflict_message(pairs), "reason": "Conflict",
                  "details": {"causes": causes}, "code": 409}
        super().__init__(status)


def conflict_message(conflicts: list[tuple[str, str]]) -> str:
    """getConflictMessage, from (described manager, path) pairs grouped by manager."""
    if len(conflicts) == 1:
        who, path = conflicts[0]
        return f"Apply failed with 1 conflict: conflict with {who}: {path}"
    lines: list[str] = []
    for who in dict.fromkeys(who for who, _ in conflicts):
        lines.append(f"conflicts with {who}:")
        lines.extend(f"- {path}" for manager, path in conflicts if manager == who)
    return f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)


# --- merging ---------------------------------------------------------------------------------------


def merge(live: Any, config: Any, t: Type, resolver: TypeResolver) -> Any:
    """The applied configuration merged into the live value (the configuration wins)."""
    if live is _ABSENT or live is None:
        return config
    if isinstance(live, dict) and isinstance(config, dict) and not mf.is_atomic(config, t):
        merged = dict(live)
        for name, value in config.items():
            if value is None:  # null in an apply configuration leaves the field unset
                merged.pop(name, None)
                continue
            child_type, _ = resolver.field(t, name)
            merged[name] = merge(live.get(name, _ABSENT), value, child_type, resolver)
        return merged
    if isinstance(live, list) and isinstance(config, list) and not mf.is_atomic(config, t):
        return _merge_items(live, config, t, resolver)
    return config


def _merge_items(live: list[Any], config: list[Any], t: Type, resolver: TypeResolver) -> list[Any]:
    """Merge list items by key the way structured-merge-diff orders them.

    Items both sides have take the configuration's relative order; live-only items stay where
    they were; configuration-only items come after the live items that precede them.
    """
    element = t.element or mf.DEDUCED
    live_keys = [mf.list_item_element(item, i, t) for i, item in enumerate(live)]
    config_keys = [mf.list_item_element(item, i, t) for i, item in enumerate(config)]
    live_by_key = dict(zip(reversed(live_keys), reversed(live), strict=True))  # first one wins
    config_by_key = dict(zip(reversed(config_keys), reversed(config), strict=True))
    shared = [key for key in config_keys if key in live_by_key]
    out: list[Any] = []
    done: set[str] = set()

    def take(key: str) -> None:
        done.add(key)
        out.append(merge(live_by_key.get(key, _ABSENT), config_by_key[key], element, resolver))

    li = ri = 0
    while li < len(live_keys) or ri < len(config_keys):
        if li < len(live_keys) and ri < len(config_keys) and live_keys[li] == config_keys[ri]:
            if live_keys[li] not in done:
                take(live_keys[li])
            li, ri = li + 1, ri + 1
            _advance(shared, done)
            continue
        if li < len(live_keys):
            key = live_keys[li]
            if key not in config_by_key:
                out.append(live[li])
                li += 1
                continue
            if key in done or (shared and shared[0] != key):
                li += 1
                continue
        if ri < len(config_keys):
            if config_keys[ri] not in done:
                take(config_keys[ri])
            ri += 1
            _advance(shared, done)
    return out


def _advance(shared: list[str], done: set[str]) -> None:
    while shared and shared[0] in done:
        shared.pop(0)


def remove_items(value: Any, fields: FieldSet, t: Type, resolver: TypeResolver) -> Any:
    """The value without the paths in `fields` (a member goes with everything below it)."""
    if isinstance(value, dict):
        result = dict(value)
        for element, child in fields.items():
            name = element[2:]
            if not element.startswith("f:") or name not in result:
                continue
            if MEMBER in child:
                del result[name]
            else:
                child_type, _ = resolver.field(t, name)
                result[name] = remove_items(result[name], child, child_type, resolver)
        return result
    if isinstance(value, list) and not mf.is_atomic(value, t):
        element_type = t.element or mf.DEDUCED
        kept = []
        for index, item in enumerate(value):
            child = fields.get(mf.list_item_element(item, index, t))
            if child is None:
                kept.append(item)
            elif MEMBER not in child:
                kept.append(remove_items(item, child, element_type, resolver))
        return kept
    return value


def ensure_named_fields(fields: FieldSet, t: Type, resolver: TypeResolver) -> FieldSet:
    """EnsureNamedFieldsAreMembers: a struct field with owned contents counts as owned itself."""
    result: FieldSet = {}
    for element, child in fields.items():
        if element == MEMBER:
            result[MEMBER] = {}
            continue
        if element.startswith("f:"):
            child_type, declared = resolver.field(t, element[2:])
        else:
            child_type, declared = (t.element or mf.DEDUCED), False
        node = ensure_named_fields(child, child_type, resolver)
        if declared:
            node[MEMBER] = {}
        result[element] = node
    return result


# --- apply ----------------------------------------------------------------------------------------


def _group_version_kind(api_version: str, kind: str) -> str:
    group, _, version = api_version.rpartition("/")
    return f"{group}/{version}, Kind={kind}"


def _validate(applied: dict[str, Any], api_version: str, kind: str | None) -> None:
    sent_version, sent_kind = str(applied.get("apiVersion", "")), str(applied.get("kind", ""))
    if sent_version != api_version or (kind is not None and sent_kind != kind):
        raise errors.bad_request(f"invalid object type: {_group_version_kind(sent_version, sent_kind)}")
    if (applied.get("metadata") or {}).get("managedFields") is not None:
        raise errors.bad_request("metadata.managedFields must be nil")


def _check_keys(applied: dict[str, Any], api_version: str, root: Type, types: TypeResolver) -> None:
    """A keyed list item without its key cannot be owned: upstream answers 500, without reason."""
    problems = mf.missing_key_errors(applied, root, types)
    if problems:
        gvk = _group_version_kind(api_version, str(applied.get("kind", "")))
        raise errors.failure(500, "", f"failed to create typed patch object ({gvk}): " + "\n".join(problems))


def _types(api_version: str, kind: str, message: str | None, resolver: TypeResolver | None
           ) -> tuple[Type, TypeResolver]:
    if message is not None:
        chosen = resolver or mf.schema_types()
        return Type("struct", message=message), chosen
    return mf.resolver_for(api_version, kind, resolver)


def apply(live: dict[str, Any] | None, applied: dict[str, Any], manager: str, force: bool,
          api_version: str | Any, time: str, message: str | None = None, *, kind: str | None = None,
          subresource: str = "", resolver: TypeResolver | None = None,
          ignored: Iterable[tuple[str, ...]] = ()) -> dict[str, Any]:
    """Apply `applied` as `manager`; returns the new object with its managedFields.

    `ignored` lists the field paths this endpoint resets, e.g. [("status",)] on a resource with
    a status subresource: they are neither merged nor owned.

    `api_version` may also be the served resource's `ResourceInfo` (anything with
    `group_version`, `kind` and `message`), which then gives the kind and schema message too.
    """
    if not isinstance(api_version, str):
        info = api_version
        api_version = str(info.group_version)
        kind = kind if kind is not None else getattr(info, "kind", None)
        message = message if message is not None else getattr(info, "message", None)
    kind = kind if kind is not None else (live or {}).get("kind")
    _validate(applied, api_version, kind)
    root, types = _types(api_version, str(applied.get("kind", "")), message, resolver)
    _check_keys(applied, api_version, root, types)
    run = _Apply(live, _without_paths(applied, tuple(ignored)), root, types)
    result = run.execute(ManagedEntry(manager, "Apply", api_version, time, {}, subresource), force, tuple(ignored))
    # the merge shares subtrees with `live` and `applied`; hand back an object of its own
    return orjson.loads(orjson.dumps(_sync_last_applied(result, live, applied, manager)))  # type: ignore[no-any-return]


class _Apply:
    """One apply: the live object, the configuration and the types to walk them with."""

    def __init__(self, live: dict[str, Any] | None, applied: dict[str, Any], root: Type, types: TypeResolver):
        self.live, self.applied, self.root, self.types = live, applied, root, types
        self.entries = mf.decode_managed(live)
        self.live_plain: Any = (mf.without_managed_fields(live) if live is not None
                                else mf.create_baseline(applied, root, types))

    def execute(self, me: ManagedEntry, force: bool, ignored: tuple[tuple[str, ...], ...]) -> dict[str, Any]:
        if self.live is not None and not self.entries:
            self.entries = _before_first_apply(self.live_plain, me.api_version, me.time or "", self.root, self.types)
        me.fields = mf.recursive_difference(mf.field_set(self.applied, self.root, self.types), ignored)
        last = self.entries.get(me.key)
        self.entries[me.key] = me
        merged = merge(self.live_plain if self.live is not None else _ABSENT, self.applied, self.root, self.types)
        merged = _prune(merged, last, self.entries, self.root, self.types)
        self._take_ownership(me, merged, force)
        me.fields = mf.strip_meta(me.fields)
        if last is not None and last.time and merged == self.live_plain:
            me.time = last.time  # a no-op apply keeps the entry's time
        entries = {key: entry for key, entry in self.entries.items() if entry.fields}
        mf.cap_update_managers(entries)
        return mf.with_managed_fields(merged, entries)

    def _take_ownership(self, me: ManagedEntry, merged: Any, force: bool) -> None:
        """Raise on conflicts (unless forced or migrating); move taken and removed fields away."""
        diff = mf.compare(self.live_plain, merged, self.root, self.types)
        others = [entry for key, entry in self.entries.items() if key != me.key]
        conflicts = _conflicts(others, mf.union(diff.added, diff.modified))
        if conflicts and not force:
            allowed = _client_side_apply_fields(self.live, me.manager, self.root, self.types)
            refused = [(entry, path) for entry, path in conflicts if not _covered(path, allowed)]
            if refused:
                raise ApplyConflict([(entry.manager, mf.path_string(path)) for entry, path in refused],
                                    [entry.describe() for entry, _ in refused])
        for entry in others:
            taken = _single_paths([path for owner, path in conflicts if owner is entry])
            entry.fields = mf.difference(mf.difference(entry.fields, taken), diff.removed)


def _without_paths(obj: dict[str, Any], paths: tuple[tuple[str, ...], ...]) -> dict[str, Any]:
    for path in paths:
        obj = _drop(obj, path)
    return obj


def _drop(obj: Any, path: tuple[str, ...]) -> Any:
    if not isinstance(obj, dict) or path[0] not in obj:
        return obj
    copy = dict(obj)
    if len(path) == 1:
        del copy[path[0]]
    else:
        copy[path[0]] = _drop(copy[path[0]], path[1:])
    return copy


def _before_first_apply(live_plain: dict[str, Any], api_version: str, time: str, root: Type,
                        types: TypeResolver) -> dict[ManagerKey, ManagedEntry]:
    """Ownership of an object written before anyone tracked it goes to `before-first-apply`."""
    baseline = mf.create_baseline(live_plain, root, types)
    diff = mf.compare(baseline, live_plain, root, types)
    owned = mf.strip_meta(mf.union(diff.added, diff.modified))
    if not owned:
        return {}
    entry = ManagedEntry(BEFORE_FIRST_APPLY, "Update", api_version, time, owned)
    return {entry.key: entry}


def _prune(merged: Any, last: ManagedEntry | None, entries: dict[ManagerKey, ManagedEntry], root: Type,
           types: TypeResolver) -> Any:
    if last is None or not last.fields:
        return merged
    owned: FieldSet = {}
    for entry in entries.values():
        owned = mf.union(owned, entry.fields)
    dropped = mf.difference(ensure_named_fields(last.fields, root, types), ensure_named_fields(owned, root, types))
    return remove_items(merged, dropped, root, types) if dropped else merged


def _conflicts(others: list[ManagedEntry], changed: FieldSet) -> list[tuple[ManagedEntry, tuple[str, ...]]]:
    found: list[tuple[ManagedEntry, tuple[str, ...]]] = []
    for entry in sorted(others, key=lambda e: (e.manager, e.operation, e.api_version, e.subresource)):
        found.extend((entry, path) for path in mf.members(mf.intersection(entry.fields, changed)))
    return found


def _single_paths(paths: list[tuple[str, ...]]) -> FieldSet:
    fields: FieldSet = {}
    for path in paths:
        mf.insert(fields, path)
    return fields


def _covered(path: tuple[str, ...], allowed: FieldSet) -> bool:
    node = allowed
    for element in path:
        if element not in node:
            return False
        node = node[element]
    return MEMBER in node


def _last_applied(obj: dict[str, Any] | None) -> str:
    return str(((obj or {}).get("metadata") or {}).get("annotations", {}).get(LAST_APPLIED) or "")


def _client_side_apply_fields(live: dict[str, Any] | None, manager: str, root: Type,
                              types: TypeResolver) -> FieldSet:
    """Fields `kubectl apply --server-side` may take over from an earlier client-side apply.

    Those the last-applied annotation lists with the value the live object still has.
    """
    text = _last_applied(live)
    if manager != "kubectl" or live is None or not text:
        return {}
    try:
        last_applied = orjson.loads(text)
    except orjson.JSONDecodeError:
        return {}
    applied_set = mf.field_set(last_applied, root, types)
    diff = mf.compare(last_applied, mf.without_managed_fields(live), root, types)
    return mf.difference(mf.difference(mf.difference(applied_set, diff.modified), diff.added), diff.removed)


def _sync_last_applied(result: dict[str, Any], live: dict[str, Any] | None, applied: dict[str, Any],
                       manager: str) -> dict[str, Any]:
    """A `kubectl` server-side apply rewrites an existing client-side apply annotation."""
    if manager != "kubectl" or not _last_applied(live):
        return result
    config = dict(applied)
    meta = dict(config.get("metadata") or {})
    annotations = {k: v for k, v in (meta.get("annotations") or {}).items() if k != LAST_APPLIED}
    if annotations:
        meta["annotations"] = annotations
    else:
        meta.pop("annotations", None)
    config["metadata"] = meta
    text = orjson.dumps(config, option=orjson.OPT_SORT_KEYS).decode() + "\n"
    meta_out = dict(result.get("metadata") or {})
    meta_out["annotations"] = {**(meta_out.get("annotations") or {}), LAST_APPLIED: text}
    return {**result, "metadata": meta_out}
