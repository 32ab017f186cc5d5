"""A tiny API server for client tests: just enough of the REST + watch protocol, with fault hooks.

It is deliberately not the project's API server (that one is tested on its own); it lets the
client tests provoke what a real server rarely does on demand: 410 Gone, 429, dropped watches,
expired tokens.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web


def status(code: int, reason: str, message: str, **details: Any) -> dict[str, Any]:
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}
    if details:
        body["details"] = details
    return body


def merge(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge(out.get(k), v)
    return out


@dataclass
class FakeAPI:
    token: str | None = None            # required bearer token, if set
    fail: list[tuple[int, dict[str, str]]] = field(default_factory=list)  # next replies to fail with
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    objects: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    events: list[tuple[int, str, str, dict[str, Any]]] = field(default_factory=list)
    rv: int = 100
    compacted: int = 0
    watch_limit: int | None = None       # end each watch after this many events
    lists: int = 0
    watches: int = 0
    _changed: asyncio.Condition | None = None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_route("*", "/api/v1/{tail:.*}", self.handle)
        app.router.add_route("*", "/apis/{group}/{version}/{tail:.*}", self.handle)
        return app

    def cond(self) -> asyncio.Condition:
        if self._changed is None:
            self._changed = asyncio.Condition()
        return self._changed

    async def put(self, plural: str, obj: dict[str, Any], kind: str = "ADDED") -> dict[str, Any]:
        self.rv += 1
        meta = obj.setdefault("metadata", {})
        meta["resourceVersion"] = str(self.rv)
        key = (plural, meta.get("namespace", ""), meta["name"])
        if kind == "DELETED":
            self.objects.pop(key, None)
        else:
            self.objects[key] = obj
        self.events.append((self.rv, plural, kind, obj))
        async with self.cond():
            self.cond().notify_all()
        return obj

    def compact(self) -> None:
        self.compacted = self.rv

    async def handle(self, req: web.Request) -> web.StreamResponse:
        self.requests.append((req.method, req.path_qs, dict(req.headers)))
        if self.token and req.headers.get("Authorization") != f"Bearer {self.token}":
            return web.json_response(status(401, "Unauthorized", "Unauthorized"), status=401)
        if self.fail:
            code, headers = self.fail.pop(0)
            return web.json_response(status(code, "Injected", f"injected {code}"), status=code, headers=headers)
        parts = req.match_info["tail"].split("/")
        ns = ""
        if parts[0] == "namespaces" and len(parts) > 2:
            ns, parts = parts[1], parts[2:]
        plural, name = parts[0], (parts[1] if len(parts) > 1 else None)
        if req.method == "GET" and name is None:
            if req.query.get("watch") == "true":
                return await self.watch(req, plural, ns)
            return self.list(req, plural, ns)
        return await self.item(req, plural, ns, name)

    def list(self, req: web.Request, plural: str, ns: str) -> web.Response:
        self.lists += 1
        items = sorted((o for (p, n, _), o in self.objects.items() if p == plural and (not ns or n == ns)),
                       key=lambda o: o["metadata"]["name"])
        start = int(req.query.get("continue") or 0)
        limit = int(req.query.get("limit") or 0) or len(items)
        page = items[start:start + limit]
        meta: dict[str, Any] = {"resourceVersion": str(self.rv)}
        if start + limit < len(items):
            meta["continue"] = str(start + limit)
        return web.json_response({"kind": "List", "apiVersion": "v1", "metadata": meta, "items": page},
                                 dumps=lambda o: orjson.dumps(o).decode())

    async def watch(self, req: web.Request, plural: str, ns: str) -> web.StreamResponse:
        self.watches += 1
        since = int(req.query.get("resourceVersion") or self.rv)
        resp = web.StreamResponse(headers={"Content-Type": "application/json"})
        await resp.prepare(req)
        if since < self.compacted:
            gone = status(410, "Expired", f"too old resource version: {since} ({self.compacted})")
            await resp.write(orjson.dumps({"type": "ERROR", "object": gone}) + b"\n")
            return resp
        sent = 0
        while self.watch_limit is None or sent < self.watch_limit:
            pending = [e for e in self.events if e[0] > since and e[1] == plural]
            for rv, _, kind, obj in pending:
                # Split each event across two writes: clients must reassemble lines.
                data = orjson.dumps({"type": kind, "object": obj}) + b"\n"
                await resp.write(data[:7])
                await resp.write(data[7:])
                since, sent = rv, sent + 1
                if sent == self.watch_limit:
                    break
            if self.watch_limit is not None and sent >= self.watch_limit:
                break
            async with self.cond():
                try:
                    await asyncio.wait_for(self.cond().wait(), 5)
                except TimeoutError:
                    break
        return resp

    async def item(self, req: web.Request, plural: str, ns: str, name: str | None) -> web.Response:
        body: Any = orjson.loads(await req.read()) if req.can_read_body else None
        if req.method == "POST":
            name = body["metadata"]["name"]
            if (plural, ns, name) in self.objects:
                return web.json_response(status(409, "AlreadyExists", f'{plural} "{name}" already exists'), status=409)
            if ns:
                body["metadata"]["namespace"] = ns
            return web.json_response(await self.put(plural, body), status=201)
        obj = self.objects.get((plural, ns, name or ""))
        if obj is None:
            return web.json_response(status(404, "NotFound", f'{plural} "{name}" not found'), status=404)
        if req.method == "GET":
            return web.json_response(obj)
        if req.method == "PATCH":
            if req.content_type != "application/merge-patch+json":
                return web.json_response(status(415, "UnsupportedMediaType", req.content_type), status=415)
            return web.json_response(await self.put(plural, merge(obj, body), "MODIFIED"))
        if req.method == "DELETE":
            await self.put(plural, obj, "DELETED")
            return web.json_response(obj)
        return web.json_response(status(405, "MethodNotAllowed", req.method), status=405)
