"""Scraping nodes' resource metrics on demand, as metrics-server does on a timer.

metrics-server scrapes every kubelet each resolution period and keeps the last two points of
every series. Here a request scrapes only the nodes it needs, and only when their last scrape is
older than `ttl`: listing pods in one namespace touches the nodes those pods run on. A node seen
for the first time, or not for longer than `max_window`, is scraped twice `min_window` apart so
that the first `kubectl top` answers at once with a fresh rate instead of "metrics not available yet".

The endpoint of a node is its kubelet port on its preferred address (see ADDRESS_TYPES), at the
path of its `metrics.k8s.io/resource-metrics-path` annotation (what KWOK's default node carries
and metrics-server >= 0.7 reads), else the kubelet's `/metrics/resource`, falling back to KWOK's
`/metrics/nodes/<node>/metrics/resource`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from kwok.apiserver.metricsapi.resource import Scrape, decode

log = logging.getLogger("kwok.apiserver.metrics")
Obj = dict[str, Any]
PATH_ANNOTATION = "metrics.k8s.io/resource-metrics-path"
KUBELET_PATH = "/metrics/resource"
KWOK_PATH = "/metrics/nodes/{nodeName}/metrics/resource"
# kwokctl's metrics-server flags (--kubelet-preferred-address-types, --kubelet-use-node-status-port):
# kwok reports its own host as the Hostname address, while scaled nodes carry documentation-range IPs
ADDRESS_TYPES = ("Hostname", "InternalIP", "ExternalIP")
DEFAULT_KUBELET_PORT = 10250
Fetch = Callable[[str], Awaitable[tuple[int, str]]]     # url -> (HTTP status, body)


class Scraper:
    def __init__(self, fetch: Fetch, *, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep, ttl: float = 2.0,
                 min_window: float = 1.0, max_window: float = 60.0, concurrency: int = 32) -> None:
        self.fetch = fetch
        self.clock = clock
        self.sleep = sleep
        self.ttl, self.min_window, self.max_window = ttl, min_window, max_window
        self.prev: dict[str, Scrape] = {}
        self.last: dict[str, Scrape] = {}
        self._paths: dict[str, str] = {}          # the path that answered, per node
        self._failed: dict[str, float] = {}       # when a node last could not be scraped
        self._lock = asyncio.Lock()
        self._slots = asyncio.Semaphore(concurrency)

    async def refresh(self, nodes: Iterable[Obj]) -> None:
        """Bring the points of these nodes up to date (scrapes only the stale ones)."""
        wanted = {n["metadata"]["name"]: n for n in nodes}
        if not self._stale(wanted):
            return
        async with self._lock:         # concurrent requests share one round of scrapes
            stale = self._stale(wanted)
            if not stale:
                return
            baseline = []
            for name, scrape in zip(stale, await self._scrape_all([wanted[n] for n in stale]), strict=True):
                baseline += self._record(name, scrape)
            if baseline:
                await self.sleep(self.min_window)
                for name, scrape in zip(baseline, await self._scrape_all([wanted[n] for n in baseline]), strict=True):
                    self._record(name, scrape)

    def forget_except(self, names: set[str]) -> None:
        """Drop what is kept about nodes that are gone."""
        for kept in (self.prev, self.last, self._paths, self._failed):
            for name in [n for n in kept if n not in names]:
                del kept[name]

    def _stale(self, nodes: dict[str, Obj]) -> list[str]:
        now = self.clock()
        stale = []
        for name in nodes:
            last = self.last.get(name)
            seen = last.time if last is not None else self._failed.get(name)
            if seen is None or now - seen >= self.ttl:
                stale.append(name)
        return stale

    def _record(self, name: str, scrape: Scrape | None) -> list[str]:
        """Keep a scrape; the node's name when it needs a second one to make a rate."""
        if scrape is None:              # unreachable: its metrics disappear, as with metrics-server
            self._failed[name] = self.clock()
            self.prev.pop(name, None)
            self.last.pop(name, None)
            return []
        before = self.last.get(name)
        if before is None or scrape.time - before.time > self.max_window:
            self.prev[name] = self.last[name] = scrape
            return [name]
        self.prev[name], self.last[name] = before, scrape
        return []

    async def _scrape_all(self, nodes: list[Obj]) -> list[Scrape | None]:
        return list(await asyncio.gather(*(self._scrape(node) for node in nodes)))

    async def _scrape(self, node: Obj) -> Scrape | None:
        name = node["metadata"]["name"]
        base = kubelet_base(node)
        if base is None:
            return None
        async with self._slots:
            for path in self._candidates(node):
                sent = self.clock()
                try:
                    status, body = await self.fetch(base + path)
                except Exception as exc:  # noqa: BLE001 - one unreachable node must not fail the list
                    log.debug("scraping %s: %s", name, exc)
                    return None
                if status == 200:
                    self._paths[name] = path
                    # samples without timestamps (kwok's) were taken while the request was served
                    return decode(body, (sent + self.clock()) / 2)
                if status != 404:
                    log.debug("scraping %s%s: HTTP %d", name, path, status)
                    return None
        return None

    def _candidates(self, node: Obj) -> list[str]:
        meta = node["metadata"]
        annotated = (meta.get("annotations") or {}).get(PATH_ANNOTATION)
        if annotated:
            return [annotated]
        known = self._paths.get(meta["name"])
        if known:
            return [known]
        return [KUBELET_PATH, KWOK_PATH.replace("{nodeName}", meta["name"])]


def kubelet_base(node: Obj) -> str | None:
    """https://<address>:<port> of a node's kubelet; None when the node reports no usable address."""
    status = node.get("status") or {}
    addresses = status.get("addresses") or []
    host = next((a.get("address") for kind in ADDRESS_TYPES for a in addresses
                 if a.get("type") == kind and a.get("address")), None)
    if host is None:
        return None
    port = ((status.get("daemonEndpoints") or {}).get("kubeletEndpoint") or {}).get("Port") or DEFAULT_KUBELET_PORT
    return f"https://[{host}]:{port}" if ":" in host else f"https://{host}:{port}"
