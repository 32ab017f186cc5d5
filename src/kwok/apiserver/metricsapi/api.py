"""The metrics.k8s.io request handlers: NodeMetrics and PodMetrics from the scraped endpoints."""

from __future__ import annotations

import time
from typing import Any

import orjson
from aiohttp import web

from kwok.api import errors
from kwok.api.selectors import SelectorError, parse_field_selector, parse_label_selector
from kwok.apiserver.metricsapi import GROUP, RESOURCES
from kwok.apiserver.metricsapi.kubeletclient import KubeletClient
from kwok.apiserver.metricsapi.objects import (
    metrics_list,
    node_metrics,
    pod_metrics,
    table,
    typed,
)
from kwok.apiserver.metricsapi.resource import pod_usage, usage_between
from kwok.apiserver.metricsapi.scraper import Scraper
from kwok.apiserver.routing import Target
from kwok.apiserver.storage import Entry, Store

Obj = dict[str, Any]
_JSON = {"Content-Type": "application/json", "Cache-Control": "no-cache, private"}


class MetricsAPI:
    def __init__(self, store: Store, scraper: Scraper | None = None) -> None:
        self.store = store
        self.client = KubeletClient()
        self.scraper = scraper or Scraper(self.client.get)

    async def close(self) -> None:
        await self.client.close()

    async def handle(self, request: web.Request, target: Target) -> web.StreamResponse:
        info = next((r for r in RESOURCES if r.version == target.version and r.plural == target.plural), None)
        if info is None or target.subresource or (target.namespace is not None and not info.namespaced):
            raise errors.not_found_path()
        if request.method != "GET":     # only get and list are registered
            raise errors.method_not_allowed()
        if target.legacy_watch or request.query.get("watch") in ("true", "1", "True"):
            raise errors.method_not_supported(info.plural, "watch", GROUP)
        if info.plural == "nodes":
            body = await (self._node(target.name) if target.name else self._nodes(request))
        else:
            body = await (self._pod(target.namespace or "", target.name) if target.name
                          else self._pods(request, target.namespace))
        if "as=Table" in request.headers.get("Accept", ""):
            items = body["items"] if "items" in body else [body]
            body = table(items, request.query.get("includeObject", "Metadata"))
        return web.Response(body=orjson.dumps(body), headers=_JSON)

    # ------------------------------------------------------------------ nodes
    async def _nodes(self, request: web.Request) -> Obj:
        every = self.store.list_entries("/nodes")[1]
        self.scraper.forget_except({e.name for e in every})
        entries = _select(every, request, namespaced=False)
        nodes = [orjson.loads(e.data) for e in entries]
        await self.scraper.refresh(nodes)
        items = [m for m in (self._node_metrics(n) for n in nodes) if m is not None]
        return metrics_list("NodeMetrics", sorted(items, key=lambda m: m["metadata"]["name"]))

    async def _node(self, name: str) -> Obj:
        entry = self.store.get("/nodes", "", name)
        if entry is None:
            raise errors.not_found("node", name)     # metrics-server's node lister answers this
        node = orjson.loads(entry.data)
        await self.scraper.refresh([node])
        found = self._node_metrics(node)
        if found is None:
            raise errors.not_found("nodemetrics", name, GROUP)
        return typed("NodeMetrics", found)

    def _node_metrics(self, node: Obj) -> Obj | None:
        name = node["metadata"]["name"]
        prev, last = self.scraper.prev.get(name), self.scraper.last.get(name)
        usage = usage_between(prev.node, last.node) if prev is not None and last is not None else None
        if usage is None:
            return None
        return node_metrics(name, node["metadata"].get("labels"), usage, time.time())

    # ------------------------------------------------------------------- pods
    async def _pods(self, request: web.Request, namespace: str | None) -> Obj:
        entries = _select(self.store.list_entries("/pods", namespace)[1], request, namespaced=True)
        running = [e for e in entries if e.fields.get("status.phase") == "Running"]
        await self._refresh_nodes_of(running)
        items = [m for m in (self._pod_metrics(e) for e in running) if m is not None]
        items.sort(key=lambda m: (m["metadata"]["namespace"], m["metadata"]["name"]))
        return metrics_list("PodMetrics", items)

    async def _pod(self, namespace: str, name: str) -> Obj:
        entry = self.store.get("/pods", namespace, name)
        if entry is None:
            raise errors.not_found("pods", name)      # metrics-server's pod lister answers this
        found = None
        if entry.fields.get("status.phase") == "Running":
            await self._refresh_nodes_of([entry])
            found = self._pod_metrics(entry)
        if found is None:
            raise errors.not_found("podmetrics", f"{namespace}/{name}", GROUP)
        return typed("PodMetrics", found)

    async def _refresh_nodes_of(self, pods: list[Entry]) -> None:
        names = {e.fields.get("spec.nodeName", "") for e in pods} - {""}
        nodes = [orjson.loads(entry.data) for name in sorted(names)
                 if (entry := self.store.get("/nodes", "", name)) is not None]
        await self.scraper.refresh(nodes)

    def _pod_metrics(self, entry: Entry) -> Obj | None:
        node = entry.fields.get("spec.nodeName", "")
        prev, last = self.scraper.prev.get(node), self.scraper.last.get(node)
        if prev is None or last is None:
            return None
        key = (entry.namespace, entry.name)
        containers = pod_usage(prev.pods.get(key), last.pods.get(key))
        if containers is None:
            return None
        return pod_metrics(entry.namespace, entry.name, entry.labels, containers, time.time())


def _select(entries: list[Entry], request: web.Request, namespaced: bool) -> list[Entry]:
    """Entries matching the request's label selector and metadata field selector."""
    query = request.query
    try:
        labels = parse_label_selector(query["labelSelector"]) if query.get("labelSelector") else None
        fields = parse_field_selector(query["fieldSelector"]) if query.get("fieldSelector") else None
        if fields is not None:
            fields.check_supported({"metadata.name", "metadata.namespace"} if namespaced else {"metadata.name"})
    except SelectorError as exc:
        raise errors.bad_request(str(exc)) from None
    out = []
    for entry in entries:
        if labels is not None and not labels.matches(entry.labels):
            continue
        meta = {"metadata.name": entry.name, "metadata.namespace": entry.namespace}
        if fields is not None and not fields.matches(meta):
            continue
        out.append(entry)
    return out

