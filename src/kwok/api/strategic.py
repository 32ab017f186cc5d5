"""Strategic merge patch (`application/strategic-merge-patch+json`) for built-in kinds.

Public names:

    apply_strategic(original, patch, message, schema=None) -> new document
        `message` is the proto message of the kind ("k8s.io.api.apps.v1.Deployment"); `schema` is
        anything with `.message(name)` returning an object whose `.fields` maps JSON names to
        FieldInfo-like objects (default: kwok.api.schema.get_schema()). Inputs are left untouched
        and the result shares nothing with them.
    create_two_way_patch(original, modified, message, schema=None) -> the patch turning original into
        modified (deletions as null / `$patch: delete` / `$deleteFromPrimitiveList`)
    PatchError(ValueError)   .code (400, 422 or 500, as the API server answers) and .to_api_error()

This is apimachinery's strategicpatch.StrategicMergeMapPatch ported step by step, because its
results (including list order) are what kubectl and every controller expect. The merge strategy
and key of a list come from the `patchStrategy`/`patchMergeKey` struct tags (carried in the schema as
patch_strategy / patch_merge_key): that, not listType, is what the real server uses for SMP. Lists
without a strategy are replaced. Directives: `$patch: replace|delete` (maps and list items),
`$setElementOrder/<list>`, `$deleteFromPrimitiveList/<list>`, `$retainKeys`, and null deletes.
The real server decodes the merged map into Go structs, which silently drops directive keys that
the merge left in place (e.g. in a value added where the original had nothing); this port drops
them where Go's decoding would. Go details that show in results are kept: integers and floats are
different values (80 is not 80.0), new list items go before the live ones unless an order says
otherwise, the order comes from Go's stable sort with its lopsided comparator, and `$setElementOrder`
sees the live list through Go's shared slice array (_GoBacking). Only what Go leaves to its random
map order (an item both added and deleted in one patch) can differ. Tests compare with the real
kubectl, which runs the same Go code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from kwok.api.errors import ApiError, bad_request, failure
from kwok.api.merge_patch import json_copy
from kwok.api.schema import get_schema

__all__ = ["PatchError", "apply_strategic", "create_two_way_patch"]

DIRECTIVE = "$patch"
RETAIN_KEYS = "$retainKeys"
SET_ELEMENT_ORDER = "$setElementOrder"
DELETE_FROM_PRIMITIVE_LIST = "$deleteFromPrimitiveList"

ERR_PRIMITIVE_LIST = "invalid patch format of primitive list"
ERR_RETAIN_KEYS = "invalid patch format of retainKeys"
ERR_SET_ELEMENT_ORDER = "invalid patch format of setElementOrder list"
ERR_LIST_OF_LISTS = "lists of lists are not supported"

_BAD_REQUEST = frozenset({ERR_PRIMITIVE_LIST, ERR_RETAIN_KEYS, ERR_SET_ELEMENT_ORDER})


class PatchError(ValueError):
    """A patch the real API server rejects; `code` is the HTTP status it answers with."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        if code is None:
            code = 400 if message in _BAD_REQUEST else 422 if message == ERR_LIST_OF_LISTS else 500
        self.code = code

    def to_api_error(self) -> ApiError:
        message = str(self)
        if self.code == 400:
            return bad_request(message)
        if self.code == 422:
            return failure(422, "Invalid", "the server rejected our request due to an error in our request",
                           {"causes": [{"reason": "UnexpectedServerResponse", "message": message}]})
        # Errors the server does not classify become a 500 with no reason (kubectl: "Error from server: ...").
        return failure(500, "", message)


# ---------------------------------------------------------------------------------------------
# type information


class _FieldLike(Protocol):
    @property
    def type(self) -> str: ...
    @property
    def ref(self) -> str | None: ...
    @property
    def map_value(self) -> str | None: ...
    @property
    def patch_strategy(self) -> str | None: ...
    @property
    def patch_merge_key(self) -> str | None: ...


class _MessageLike(Protocol):
    @property
    def fields(self) -> Any: ...          # Mapping[str, _FieldLike]


class SchemaLike(Protocol):
    def message(self, name: str) -> Any: ...   # _MessageLike | None


@dataclass(frozen=True)
class _Struct:
    """Where we are in the type tree: a message, the values of a proto map, or untyped JSON."""

    schema: SchemaLike | None
    message: str | None = None
    map_field: _FieldLike | None = None

    def lookup(self, key: str) -> tuple[_Struct, str, str]:
        """(type of the value, patch strategy without retainKeys, merge key) of a field."""
        if self.map_field is not None:
            return self._child_of(self.map_field, value=True), "", ""
        info = self.schema.message(self.message) if self.schema and self.message else None
        field = info.fields.get(key) if info is not None else None
        if field is None:
            return _Struct(self.schema), "", ""       # unknown: merged as plain JSON
        return self._child_of(field, value=False), _strategy(field.patch_strategy), field.patch_merge_key or ""

    def _child_of(self, field: _FieldLike, value: bool) -> _Struct:
        if not value and field.map_value is not None:
            return _Struct(self.schema, map_field=field)
        is_message = field.map_value == "message" if value else field.type == "message"
        return _Struct(self.schema, message=field.ref if is_message else None)


def _strategy(tag: str | None) -> str:
    """extractRetainKeysPatchStrategy: the strategy besides retainKeys ("merge", "replace" or "")."""
    parts = [p for p in (tag or "").split(",") if p]
    others = [p for p in parts if p != "retainKeys"]
    if len(parts) > 2 or len(others) > 1:
        raise PatchError(f"unexpected patch strategy: [{' '.join(parts)}]")
    return others[0] if others else ""


def _default_schema() -> SchemaLike:
    return get_schema()


# ---------------------------------------------------------------------------------------------
# applying a patch


def apply_strategic(original: dict[str, Any], patch: dict[str, Any], message: str | None,
                    schema: SchemaLike | None = None, *, owned: bool = False) -> dict[str, Any]:
    """The patched object. `owned`: `original` is the caller's private copy, merged into as it is."""
    struct = _Struct(schema if schema is not None else _default_schema(), message)
    # The Go code mutates both inputs; it runs here on private copies.
    return _merge_map(original if owned else json_copy(original), json_copy(patch), struct)


def _merge_map(original: dict[str, Any] | None, patch: dict[str, Any], struct: _Struct) -> dict[str, Any]:
    if DIRECTIVE in patch:
        return _map_directive(patch)
    if original is None:
        original = {}
    _apply_retain_keys(original, patch)
    _merge_set_element_orders(original, patch, struct)
    for key, value in list(patch.items()):
        is_delete_list = key.startswith(DELETE_FROM_PRIMITIVE_LIST)
        if is_delete_list:
            key = _extract_key(key, DELETE_FROM_PRIMITIVE_LIST)
        if value is None:
            original.pop(key, None)
            continue
        if key not in original or _kind(original[key]) != _kind(value):
            if not is_delete_list:
                _set_fresh(original, key, value)
            continue
        current = original[key]
        if isinstance(current, dict):
            sub, strategy, _ = struct.lookup(key)
            original[key] = _as_decoded(value) if strategy == "replace" else _merge_map(current, value, sub)
        elif isinstance(current, list):
            sub, strategy, merge_key = struct.lookup(key)
            original[key] = _merge_slice_handler(current, value, sub, strategy, merge_key, is_delete_list)
        else:
            original[key] = value
    return original


def _map_directive(patch: dict[str, Any]) -> dict[str, Any]:
    directive = patch[DIRECTIVE]
    if directive == "replace":
        del patch[DIRECTIVE]
        replaced: dict[str, Any] = _as_decoded(patch)
        return replaced
    if directive == "delete":
        return {}
    raise PatchError(f"unknown patch type: {_go_s(directive)} in map: {go_format(patch)}")


def _merge_slice_handler(original: list[Any], patch: list[Any], struct: _Struct, strategy: str,
                         merge_key: str, is_delete_list: bool, backing: list[Any] | None = None) -> list[Any]:
    # A deletion list works the same whatever the field's strategy.
    if strategy == "merge" or is_delete_list:
        return _merge_slice(original, patch, struct, merge_key, is_delete_list, backing)
    replaced: list[Any] = _as_decoded(patch)
    return replaced


def _merge_slice(original: list[Any], patch: list[Any], struct: _Struct, merge_key: str,
                 is_delete_list: bool, backing: list[Any] | None = None) -> list[Any]:
    """Merge two lists. `backing`, when given, starts as a copy of `original` and ends as Go's view of
    the original slice after the merge wrote through it (see _GoBacking)."""
    if not original and not patch:
        return original
    kind = _slice_element_kind(original, patch)
    if kind != "map":
        if is_delete_list:
            return _delete_from_slice(original, patch)
        merged = _deduplicate_scalars(original + patch)
    else:
        if not merge_key:
            raise PatchError("cannot merge lists without merge key for struct")
        go = _GoBacking(backing if backing is not None else list(original))
        patch, replacement = _merge_special_elements(go, patch, merge_key)
        original = replacement if replacement is not None else go.view()
        merged = _merge_plain_elements(original, patch, merge_key, struct, go if replacement is None else None)
    if merge_key:
        in_patch, server_only = _partition_maps(merged, patch, merge_key)
    else:
        in_patch, server_only = _partition_scalars(merged, patch)
    return _normalize_element_order(in_patch, server_only, patch, original, merge_key, kind)


class _GoBacking:
    """The array behind a Go slice, as the merge writes through it.

    Go deletes list items with `append(s[:i], s[i+1:]...)`, which shifts the later items left in the
    same array, and appends new items into the slots freed at the end. Another variable that still
    holds the original slice (full length) then sees that shuffled array, and `$setElementOrder`
    uses exactly such a variable as the live order; results (the order of containers after
    `kubectl apply`) depend on it.
    """

    def __init__(self, items: list[Any]) -> None:
        self.items = items          # mutated in place: the caller may hold it as the aliased view
        self.length = len(items)

    def view(self) -> list[Any]:
        return self.items[: self.length]

    def delete(self, index: int) -> None:
        self.items[index: self.length - 1] = self.items[index + 1: self.length]
        self.length -= 1

    def append(self, item: Any) -> None:
        if self.length < len(self.items):
            self.items[self.length] = item
            self.length += 1


def _merge_special_elements(go: _GoBacking, patch: list[Any], merge_key: str) -> tuple[list[Any], list[Any] | None]:
    """Handle list items carrying `$patch`: delete removes by key, replace drops the original.

    Returns the patch without those items, and the list replacing the original for `replace`."""
    plain: list[Any] = []
    replace = False
    for item in patch:
        if DIRECTIVE not in item:
            plain.append(item)
            continue
        directive = item[DIRECTIVE]
        if directive == "delete":
            if merge_key not in item:
                raise _no_merge_key(item, merge_key)
            while (index := _find_by_key(go.view(), merge_key, item[merge_key])) is not None:
                go.delete(index)
        elif directive == "replace":
            replace = True
        elif directive == "merge":
            raise PatchError("merging lists cannot yet be specified in the patch")
        else:
            raise PatchError(f"unknown patch type: {_go_s(directive)} in map: {go_format(item)}")
    return ([], plain) if replace else (plain, None)


def _merge_plain_elements(original: list[Any], patch: list[Any], merge_key: str, struct: _Struct,
                          go: _GoBacking | None) -> list[Any]:
    # A new list: the caller's `original` must not see the appended items (only Go's backing does).
    merged = list(original)
    for item in patch:
        if merge_key not in item:
            raise _no_merge_key(item, merge_key)
        index = _find_by_key(merged, merge_key, item[merge_key])
        if index is None:
            added = _as_decoded(item)
            merged.append(added)
            if go is not None:
                go.append(added)
        else:
            merged[index] = _merge_map(merged[index], item, struct)
    return merged


def _find_by_key(items: list[Any], merge_key: str, value: Any) -> int | None:
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise PatchError(f"value for key {i} is not a map.")
        if merge_key in item and _go_equal(item[merge_key], value):
            return i
    return None


def _delete_from_slice(current: list[Any], to_delete: list[Any]) -> list[Any]:
    doomed = {_scalar_key(v) for v in to_delete}
    return [v for v in current if _scalar_key(v) not in doomed]


def _deduplicate_scalars(items: list[Any]) -> list[Any]:
    """Go's in-place deduplication: a duplicate is overwritten by the last element (order changes)."""
    s = list(items)
    length = len(s) - 1
    i = 0
    while i < length:
        j = i + 1
        while j <= length:
            if _go_equal(s[i], s[j]):
                s[j] = s[length]
                s = s[:length]
                length -= 1
                j -= 1
            j += 1
        i += 1
    return s


def _apply_retain_keys(original: dict[str, Any], patch: dict[str, Any]) -> None:
    """`$retainKeys`: drop every original key not listed (e.g. switching a volume's source)."""
    if RETAIN_KEYS not in patch:
        return
    retain = patch.pop(RETAIN_KEYS)
    if not isinstance(retain, list):
        raise PatchError(ERR_RETAIN_KEYS)
    keep = {_scalar_key(k) for k in retain}
    for key, value in patch.items():
        if value is None or key.startswith((DELETE_FROM_PRIMITIVE_LIST, SET_ELEMENT_ORDER)):
            continue
        if _scalar_key(key) not in keep:
            raise PatchError(ERR_RETAIN_KEYS)
    for key in [k for k in original if _scalar_key(k) not in keep]:
        del original[key]


def _merge_set_element_orders(original: dict[str, Any], patch: dict[str, Any], struct: _Struct) -> None:
    """`$setElementOrder/<list>`: merge that list now and order it as the directive says."""
    for key in [k for k in patch if k.startswith(SET_ELEMENT_ORDER)]:
        order = patch.pop(key)
        if not isinstance(order, list):
            raise PatchError(f"expected a []interface {{}}, but received a {_go_type(order)}")
        list_key = _extract_key(key, SET_ELEMENT_ORDER)
        _merge_ordered_list(original, patch, struct, list_key, order)
        patch.pop(list_key, None)


def _merge_ordered_list(original: dict[str, Any], patch: dict[str, Any], struct: _Struct, list_key: str,
                        order: list[Any]) -> None:
    found_original, found_patch = list_key in original, list_key in patch
    original_list = _expect_list(original.get(list_key)) if found_original else []
    patch_list = _expect_list(patch.get(list_key)) if found_patch else []
    sub, strategy, merge_key = struct.lookup(list_key)
    _validate_order(patch_list, order, merge_key)
    if not found_original and not found_patch:
        return
    live = original_list
    if found_original and found_patch:
        live = list(original_list)    # Go's originalFieldValue: it sees the merge's writes
        merged = _merge_slice_handler(original_list, patch_list, sub, strategy, merge_key, False, live)
    else:
        merged = original_list if found_original else patch_list
    if merge_key:
        in_order, server_only = _partition_maps(merged, order, merge_key)
    else:
        in_order, server_only = _partition_scalars(merged, order)
    kind = _slice_element_kind(live, patch_list)
    ordered = _normalize_element_order(in_order, server_only, order, live, merge_key, kind)
    original[list_key] = ordered if found_original else _fresh(ordered)


def _expect_list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise PatchError(f"expected a []interface {{}}, but received a {_go_type(value)}")
    return value


def _validate_order(patch_list: list[Any], order: list[Any], merge_key: str) -> None:
    """The patch list must follow the relative order of `$setElementOrder` (deletions aside)."""
    if not order or not patch_list:
        return
    items = [i for i in patch_list if not _is_delete_item(i)] if merge_key else patch_list
    p = s = 0
    while p < len(items) and s < len(order):
        if isinstance(items[p], dict) and DIRECTIVE in items[p]:
            p += 1
            continue
        if _merge_key_equal(items[p], order[s], merge_key):
            p += 1
        s += 1
    if p < len(items) and s >= len(order):
        raise PatchError(f"The order in patch list:\n{go_format(patch_list)}\n doesn't match "
                         f"{SET_ELEMENT_ORDER} list:\n{go_format(order)}\n")


def _merge_key_equal(left: Any, right: Any, merge_key: str) -> bool:
    if not merge_key:
        return _go_equal(left, right)
    for item in (left, right):
        if not isinstance(item, dict):
            raise PatchError(f"expected a map[string]interface {{}}, but received a {_go_type(item)}")
        if merge_key not in item:
            raise _no_merge_key(item, merge_key)
    return _go_equal(left[merge_key], right[merge_key])


def _extract_key(key: str, prefix: str) -> str:
    parts = key.split("/", 1)
    if len(parts) <= 1 or parts[0] != prefix:
        raise PatchError(ERR_PRIMITIVE_LIST if prefix == DELETE_FROM_PRIMITIVE_LIST else ERR_SET_ELEMENT_ORDER)
    return parts[1]


# --- ordering ---------------------------------------------------------------------------------------


def _partition_scalars(items: list[Any], by: list[Any]) -> tuple[list[Any], list[Any]]:
    present = {_scalar_key(v) for v in by if not isinstance(v, dict | list)}
    in_by = [v for v in items if _scalar_key(v) in present]
    return in_by, [v for v in items if _scalar_key(v) not in present]


def _partition_maps(items: list[Any], by: list[Any], merge_key: str) -> tuple[list[Any], list[Any]]:
    in_by: list[Any] = []
    rest: list[Any] = []
    for item in items:
        if not isinstance(item, dict):
            raise PatchError(f"expected a map[string]interface {{}}, but received a {_go_type(item)}")
        if merge_key not in item:
            raise _no_merge_key(item, merge_key)
        (in_by if _find_by_key(by, merge_key, item[merge_key]) is not None else rest).append(item)
    return in_by, rest


def _normalize_element_order(patch_items: list[Any], server_only: list[Any], patch_order: list[Any],
                             server_order: list[Any], merge_key: str, kind: str) -> list[Any]:
    """Patch items in patch order, server-only items in live order, then interleaved (Go's algorithm)."""
    patch_items = _normalize_slice_order(patch_items, patch_order, merge_key, kind)
    server_only = _normalize_slice_order(server_only, server_order, merge_key, kind)
    return _merge_sorted(server_only, patch_items, server_order, merge_key, kind)


def _normalize_slice_order(items: list[Any], order: list[Any], merge_key: str, kind: str) -> list[Any]:
    deleted: list[Any] = []
    if kind == "map":
        for item in (*items, *order):
            if not isinstance(item, dict):
                raise PatchError(f"expected a map[string]interface {{}}, but received a {_go_type(item)}")
            if merge_key not in item:
                raise _no_merge_key(item, merge_key)
        deleted = [i for i in items if _is_delete_item(i)]
        items = [i for i in items if not _is_delete_item(i)]

    def less(a: Any, b: Any) -> bool:
        # Not a strict weak order: an item missing from `order` is "less" than anything.
        ia = _index(order, a, merge_key, kind)
        if ia >= 0:
            ib = _index(order, b, merge_key, kind)
            if ib >= 0:
                return ia < ib
        return True

    _go_stable_sort(items, less)
    return items + deleted


def _merge_sorted(left: list[Any], right: list[Any], server_order: list[Any], merge_key: str,
                  kind: str) -> list[Any]:
    out: list[Any] = []
    i = j = 0
    while i < len(left) or j < len(right):
        if i >= len(left):
            out.append(right[j])
            j += 1
        elif j >= len(right):
            out.append(left[i])
            i += 1
        else:
            li = _index(server_order, left[i], merge_key, kind)
            ri = _index(server_order, right[j], merge_key, kind)
            if li >= 0 and ri >= 0 and li < ri:
                out.append(left[i])
                i += 1
            else:
                out.append(right[j])
                j += 1
    return out


def _index(items: list[Any], value: Any, merge_key: str, kind: str) -> int:
    def key_of(item: Any) -> Any:
        if kind != "map":
            return item
        return item.get(merge_key) if isinstance(item, dict) else None

    wanted = key_of(value)
    for i, item in enumerate(items):
        if _go_equal(key_of(item), wanted):
            return i
    return -1


def _go_stable_sort(data: list[Any], less: Callable[[Any, Any], bool]) -> None:
    """Go's sort.SliceStable (insertion sort in blocks of 20, then SymMerge), step for step:
    with the comparator above, the result depends on the algorithm."""
    n = len(data)
    block = 20
    a, b = 0, block
    while b <= n:
        _insertion_sort(data, less, a, b)
        a, b = b, b + block
    _insertion_sort(data, less, a, n)
    while block < n:
        a, b = 0, 2 * block
        while b <= n:
            _sym_merge(data, less, a, a + block, b)
            a, b = b, b + 2 * block
        if a + block < n:
            _sym_merge(data, less, a, a + block, n)
        block *= 2


def _insertion_sort(data: list[Any], less: Callable[[Any, Any], bool], a: int, b: int) -> None:
    for i in range(a + 1, b):
        j = i
        while j > a and less(data[j], data[j - 1]):
            data[j], data[j - 1] = data[j - 1], data[j]
            j -= 1


def _sym_merge(data: list[Any], less: Callable[[Any, Any], bool], a: int, m: int, b: int) -> None:
    if m - a == 1:
        i, j = m, b
        while i < j:
            h = (i + j) // 2
            if less(data[h], data[a]):
                i = h + 1
            else:
                j = h
        for k in range(a, i - 1):
            data[k], data[k + 1] = data[k + 1], data[k]
        return
    if b - m == 1:
        i, j = a, m
        while i < j:
            h = (i + j) // 2
            if not less(data[m], data[h]):
                i = h + 1
            else:
                j = h
        for k in range(m, i, -1):
            data[k], data[k - 1] = data[k - 1], data[k]
        return
    mid = (a + b) // 2
    n = mid + m
    start, r = (n - b, mid) if m > mid else (a, m)
    p = n - 1
    while start < r:
        c = (start + r) // 2
        if not less(data[p - c], data[c]):
            start = c + 1
        else:
            r = c
    end = n - start
    if start < m < end:
        _rotate(data, start, m, end)
    if a < start < mid:
        _sym_merge(data, less, a, start, mid)
    if mid < end < b:
        _sym_merge(data, less, mid, end, b)


def _rotate(data: list[Any], a: int, m: int, b: int) -> None:
    i, j = m - a, b - m
    while i != j:
        if i > j:
            _swap_range(data, m - i, m, j)
            i -= j
        else:
            _swap_range(data, m - i, m + j - i, i)
            j -= i
    _swap_range(data, m - i, m, i)


def _swap_range(data: list[Any], a: int, b: int, n: int) -> None:
    for i in range(n):
        data[a + i], data[b + i] = data[b + i], data[a + i]


# --- Go value semantics ------------------------------------------------------------------------------


_KINDS = {dict: "map", list: "slice", str: "string", bool: "bool", int: "int64", float: "float64",
          type(None): "nil"}


def _kind(value: Any) -> str:
    """reflect.TypeOf of a JSON value as the server decodes it: integers stay int64 (the stored object
    via ToUnstructured, the patch with PreserveInts), so 80 and 80.0 are different values."""
    return _KINDS.get(type(value), "unknown")


def _slice_element_kind(*lists: list[Any]) -> str:
    previous: str | None = None
    for items in lists:
        for item in items:
            current = _kind(item)
            if previous is None:
                previous = current
                if current == "slice":
                    raise PatchError(ERR_LIST_OF_LISTS)
                if current == "nil":
                    raise PatchError("list element types are not identical: null element", 500)
            elif previous != current:
                raise PatchError(f"list element types are not identical: {go_format(list(lists))}")
    if previous is None:
        raise PatchError("no elements in any of the given slices")
    return previous


def _go_equal(a: Any, b: Any) -> bool:
    """Go interface equality of decoded JSON scalars: same dynamic type and value."""
    return a == b and _kind(a) == _kind(b)


def _scalar_key(value: Any) -> tuple[str, Any]:
    return (_kind(value), value if not isinstance(value, dict | list) else id(value))


def _is_delete_item(item: Any) -> bool:
    return isinstance(item, dict) and item.get(DIRECTIVE) == "delete"


def _no_merge_key(item: Any, merge_key: str) -> PatchError:
    return PatchError(f"map: {go_format(item)} does not contain declared merge key: {merge_key}")


def _as_decoded(value: Any) -> Any:
    """A patch value taken as is, as Go's typed decoding would see it: nulls and directive keys
    (unknown struct fields to Go) are dropped."""
    if isinstance(value, dict):
        return {k: _as_decoded(v) for k, v in value.items() if v is not None and not _is_directive_key(k)}
    if isinstance(value, list):
        return [_as_decoded(v) for v in value]
    return value


_REMOVED = object()


def _set_fresh(target: dict[str, Any], key: str, value: Any) -> None:
    """Set a value the original did not have (or had with another type).

    Go drops every map carrying `$patch` and every list item carrying it from such a value (there
    is nothing to delete or replace), and nulls in maps.
    """
    fresh = value if _nothing_to_drop(value) else _fresh(value)
    if fresh is _REMOVED:
        target.pop(key, None)
    else:
        target[key] = fresh


def _nothing_to_drop(value: Any) -> bool:
    """Whether _fresh would return the value as it is (no directive, no null), read off its JSON
    in C: a status patch sets whole new subtrees, and walking them to copy costs more. The value
    is the patch's private copy, so the result may keep it."""
    if not isinstance(value, dict | list):
        return True
    try:
        data = orjson.dumps(value)
    except TypeError:
        return False
    return b'"$' not in data and b"null" not in data


def _fresh(value: Any) -> Any:
    if isinstance(value, dict):
        if DIRECTIVE in value:
            return _REMOVED
        out = {}
        for k, v in value.items():
            if v is None or _is_directive_key(k):
                continue
            v = _fresh(v)
            if v is not _REMOVED:
                out[k] = v
        return out
    if isinstance(value, list):
        return [f for f in (_fresh(v) for v in value) if f is not _REMOVED]
    return value


def _is_directive_key(key: str) -> bool:
    return key in (DIRECTIVE, RETAIN_KEYS) or key.startswith((SET_ELEMENT_ORDER + "/", DELETE_FROM_PRIMITIVE_LIST + "/"))


def _go_type(value: Any) -> str:
    return {"map": "map[string]interface {}", "slice": "[]interface {}", "nil": "%!s(<nil>)"}.get(
        _kind(value), _kind(value))


def _go_s(value: Any) -> str:
    """fmt %s of an interface value."""
    return value if isinstance(value, str) else f"%!s({_go_type(value)}={go_format(value)})"


def go_format(value: Any) -> str:
    """fmt %v of decoded JSON: map[a:1 b:[x y]] with sorted keys, <nil> for null."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{go_format(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(go_format(v) for v in value) + "]"
    if isinstance(value, int | float):
        return _go_float(float(value))
    return str(value)


def _go_float(number: float) -> str:
    """%v of a float64: shortest representation, exponent form from 1e21 (strconv 'g')."""
    if number == int(number) and abs(number) < 1e21:
        return str(int(number))
    text = repr(number)
    if "e" in text:
        mantissa, exponent = text.split("e")
        sign = "-" if exponent.startswith("-") else "+"
        return f"{mantissa}e{sign}{abs(int(exponent)):02d}"
    return text


# ---------------------------------------------------------------------------------------------
# creating a two-way patch


def create_two_way_patch(original: dict[str, Any], modified: dict[str, Any], message: str | None,
                         schema: SchemaLike | None = None) -> dict[str, Any]:
    """The strategic merge patch from original to modified ({} when nothing changed).

    Like CreateTwoWayMergePatch: merge lists get their changed items (by merge key) plus
    `$patch: delete` items; merge lists of scalars get the additions plus a
    `$deleteFromPrimitiveList/<name>` list; both get `$setElementOrder/<name>` when their content
    or order changed; other lists are replaced whole. Applying the result to `original` gives
    `modified`.
    """
    struct = _Struct(schema if schema is not None else _default_schema(), message)
    return _diff_maps(original, modified, struct)


def _diff_maps(original: dict[str, Any], modified: dict[str, Any], struct: _Struct) -> dict[str, Any]:
    patch: dict[str, Any] = {}
    for key in original:
        if key not in modified:
            patch[key] = None
    for key, new in modified.items():
        if key not in original:
            patch[key] = json_copy(new)
            continue
        old = original[key]
        if _kind(old) != _kind(new):
            patch[key] = json_copy(new)
        elif isinstance(new, dict):
            sub, strategy, _ = struct.lookup(key)
            if strategy == "replace":
                if old != new:
                    patch[key] = json_copy(new)
            else:
                diff = _diff_maps(old, new, sub)
                if diff:
                    patch[key] = diff
        elif isinstance(new, list):
            _diff_lists(patch, key, old, new, struct)
        elif not _go_equal(old, new):
            patch[key] = new
    return patch


def _diff_lists(patch: dict[str, Any], key: str, old: list[Any], new: list[Any], struct: _Struct) -> None:
    sub, strategy, merge_key = struct.lookup(key)
    if strategy != "merge" or not (old or new):
        if old != new:
            patch[key] = json_copy(new)
        return
    kind = _slice_element_kind(old, new)
    if kind != "map":
        old_keys = {_scalar_key(v) for v in old}
        new_keys = {_scalar_key(v) for v in new}
        added = [v for v in new if _scalar_key(v) not in old_keys]
        removed = [v for v in old if _scalar_key(v) not in new_keys]
        if added:
            patch[key] = added
        if removed:
            patch[f"{DELETE_FROM_PRIMITIVE_LIST}/{key}"] = removed
        if added or removed or old != new:
            patch[f"{SET_ELEMENT_ORDER}/{key}"] = list(new)
        return
    changes: list[Any] = []
    for item in new:
        index = _find_by_key(old, merge_key, item.get(merge_key))
        if index is None:
            changes.append(json_copy(item))
            continue
        diff = _diff_maps(old[index], item, sub)
        if diff:
            diff[merge_key] = item[merge_key]
            changes.append(diff)
    for item in old:
        if _find_by_key(new, merge_key, item.get(merge_key)) is None:
            changes.append({merge_key: item.get(merge_key), DIRECTIVE: "delete"})
    order = [{merge_key: item.get(merge_key)} for item in new]
    if changes:
        patch[key] = changes
    if changes or [o[merge_key] for o in order] != [item.get(merge_key) for item in old]:
        patch[f"{SET_ELEMENT_ORDER}/{key}"] = order
