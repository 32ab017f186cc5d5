"""Lists: selectors, limit/continue pagination and resourceVersion semantics over the store index.

A paginated list is one snapshot, as an etcd-backed server serves it: every page after the first
shows the objects as of the first page's resourceVersion (the store rebuilds that state from its
event window), and a continue token whose revision has left the window is 410 Expired.
"""

from __future__ import annotations

import base64
import bisect
from dataclasses import dataclass
from typing import Any

import orjson
from multidict import MultiMapping

from kwok.api import errors
from kwok.api.selectors import (
    FieldSelector,
    LabelSelector,
    SelectorError,
    escape_field_value,
    parse_field_selector,
    parse_label_selector,
)
from kwok.apiserver.catalog import Served
from kwok.apiserver.storage import Entry, Expired, Store

Obj = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Filter:
    """Which objects a list or watch wants: a namespace and the two selectors."""

    namespace: str | None
    labels: LabelSelector | None
    fields: FieldSelector | None

    def matches(self, entry: Entry) -> bool:
        if self.namespace is not None and entry.namespace != self.namespace:
            return False
        if self.labels is not None and not self.labels.matches(entry.labels):
            return False
        return self.fields is None or self.fields.matches(entry.fields)

    @property
    def selects(self) -> bool:
        return self.labels is not None or self.fields is not None


def supported_fields(served: Served) -> set[str]:
    try:
        names = set(served.strategy.field_values({"metadata": {}}))
    except Exception:  # noqa: BLE001 - a strategy that needs a full object still supports the basics
        names = set()
    return names | {"metadata.name"} | ({"metadata.namespace"} if served.info.namespaced else set())


def parse_filter(served: Served, namespace: str | None, query: MultiMapping[str], name: str = "") -> Filter:
    """The namespace and selectors of a list or watch (`name`: a watch of one object by its URL)."""
    labels = fields = None
    field_text = query.get("fieldSelector", "")
    if name:
        field_text = ",".join(t for t in (field_text, f"metadata.name={escape_field_value(name)}") if t)
    try:
        if query.get("labelSelector"):
            labels = parse_label_selector(query["labelSelector"])
            labels = None if labels.empty else labels
        if field_text:
            fields = parse_field_selector(field_text)
            fields.check_supported(supported_fields(served))
            fields = None if fields.empty else fields
    except SelectorError as exc:
        raise errors.bad_request(str(exc)) from None
    return Filter(namespace, labels, fields)


def parse_rv(text: str | None) -> int | None:
    if not text:
        return None
    try:
        value = int(text)
    except ValueError:
        raise errors.bad_request(f'invalid resource version: strconv.ParseUint: parsing "{text}": '
                                 "invalid syntax") from None
    if value < 0:
        raise errors.bad_request(f"invalid resource version: {text}")
    return value


def parse_limit(text: str | None) -> int:
    if not text:
        return 0
    try:
        return max(0, int(text))
    except ValueError:
        raise errors.bad_request(f'strconv.ParseInt: parsing "{text}": invalid syntax') from None


# ----------------------------------------------------------------------------- continue tokens
def encode_continue(rv: int, last: Entry) -> str:
    start = f"{last.namespace}/{last.name}" if last.namespace else last.name
    raw = orjson.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": start + "\x00"})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_continue(token: str) -> tuple[int, tuple[str, str]]:
    try:
        raw = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        rv, start = int(raw["rv"]), str(raw["start"]).rstrip("\x00")
        if raw.get("v") != "meta.k8s.io/v1" or rv <= 0:
            raise ValueError
    except (ValueError, KeyError, TypeError, orjson.JSONDecodeError):
        raise errors.bad_request("continue key is not valid: incorrect encoded start resourceVersion "
                                 "(version meta.k8s.io/v1)") from None
    ns, _, name = start.rpartition("/")
    return rv, (ns, name)


# ----------------------------------------------------------------------------------- the list
@dataclass(slots=True)
class Page:
    rv: int
    items: list[Entry]
    continue_token: str = ""
    remaining: int | None = None


def list_page(store: Store, served: Served, flt: Filter, query: MultiMapping[str]) -> Page:
    limit = parse_limit(query.get("limit"))
    token = query.get("continue")
    rv_text = query.get("resourceVersion")
    match = query.get("resourceVersionMatch", "")
    if token:
        if rv_text:
            raise errors.bad_request("specifying resource version is not allowed when using continue")
        rv, after = decode_continue(token)
        entries = _continued(store, served, flt, rv, after)
    else:
        rv, entries = _entries_at(store, served, flt, parse_rv(rv_text), match)
    return _paginate(rv, [e for e in entries if flt.matches(e)] if flt.selects or flt.namespace else entries,
                     limit, flt)


def _continued(store: Store, served: Served, flt: Filter, rv: int, after: tuple[str, str]) -> list[Entry]:
    """The rest of a paginated list after `after`, as it was at the first page's revision (a
    snapshot, as etcd serves it), or 410 once that revision has left the event window."""
    if rv > store.rv:
        raise errors.expired_continue()
    try:
        entries = store.list_at(served.key, flt.namespace, rv)
    except Expired:
        raise errors.expired_continue() from None
    start = bisect.bisect_right(entries, after, key=lambda e: (e.namespace, e.name))
    return entries[start:]


def _entries_at(store: Store, served: Served, flt: Filter, rv: int | None, match: str) -> tuple[int, list[Entry]]:
    if match and match not in ("NotOlderThan", "Exact"):
        raise errors.bad_request(f'resourceVersionMatch: Unsupported value: "{match}": supported values: '
                                 '"Exact", "NotOlderThan"')
    if match and rv is None:
        raise errors.bad_request("resourceVersionMatch is forbidden unless resourceVersion is provided")
    if match == "Exact" and rv is not None and rv != store.rv:
        try:
            return rv, store.list_at(served.key, flt.namespace, rv)
        except Expired as exc:
            raise errors.expired(exc.requested, exc.oldest) from None
    if rv is not None and rv > store.rv:
        raise errors.timeout(f"Too large resource version: {rv}, current: {store.rv}", 1)
    return store.list_entries(served.key, flt.namespace)


def _paginate(rv: int, matched: list[Entry], limit: int, flt: Filter) -> Page:
    if not limit or len(matched) <= limit:
        return Page(rv, matched)
    page = matched[:limit]
    remaining = None if flt.selects else len(matched) - limit
    return Page(rv, page, encode_continue(rv, page[-1]), remaining)


def list_head(served: Served, page: Page) -> bytes:
    """The List up to its items: `{"kind":...,"metadata":{...},"items":[`."""
    info = served.info
    meta: Obj = {"resourceVersion": str(page.rv)}
    if page.continue_token:
        meta["continue"] = page.continue_token
    if page.remaining is not None:
        meta["remainingItemCount"] = page.remaining
    head = orjson.dumps({"kind": info.list_kind or info.kind + "List", "apiVersion": info.group_version,
                         "metadata": meta})
    return head[:-1] + b',"items":['


def encode_list(served: Served, page: Page, items: list[bytes] | None = None) -> bytes:
    """The List as bytes, stored items (or `items`) spliced in without decoding them."""
    datas = items if items is not None else [e.data for e in page.items]
    return list_head(served, page) + b",".join(datas) + b"]}"


def list_pieces(served: Served, page: Page) -> tuple[int, list[bytes]]:
    """The List as (total length, [head, item, ",", item, ..., tail]): written to the socket as they
    are (writev), a big list is never joined into one buffer, which costs more than the writing."""
    head = list_head(served, page)
    pieces = [head]
    for entry in page.items:
        pieces.append(entry.data)
        pieces.append(b",")
    if page.items:
        pieces.pop()
    pieces.append(b"]}")
    return sum(map(len, pieces)), pieces
