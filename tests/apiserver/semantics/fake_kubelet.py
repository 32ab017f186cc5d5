"""A stand-in kubelet for proxy tests: HTTPS on a free port, container logs, a v5 exec stream and an
/echo/ endpoint that describes the request it got."""

from __future__ import annotations

import asyncio
import ssl
import threading
from pathlib import Path
from typing import Any

from aiohttp import web

from kwok.apiserver.certs import generate

EXEC_STATUS = b'{"metadata":{},"status":"Success"}'


async def _logs(request: web.Request) -> web.Response:
    info = request.match_info
    lines = [f"{info['ns']}/{info['pod']}/{info['container']} line {i}" for i in range(1, 4)]
    tail = request.query.get("tailLines")
    if tail is not None:
        lines = lines[-int(tail):]
    return web.Response(text="".join(line + "\n" for line in lines), content_type="text/plain")


async def _exec(request: web.Request) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(protocols=("v5.channel.k8s.io",))
    await ws.prepare(request)
    command = " ".join(request.query.getall("command", []))
    await ws.send_bytes(b"\x01")
    await ws.send_bytes(b"\x01" + f"ran: {command}\n".encode())
    await ws.send_bytes(b"\x03" + EXEC_STATUS)
    await ws.close()
    return ws


async def _echo(request: web.Request) -> web.Response:
    """What a proxied request looked like when it arrived: method, path, query, body, a header."""
    body = await request.text()
    return web.json_response({"method": request.method, "path": request.path, "query": dict(request.query),
                              "body": body, "header": request.headers.get("X-Test", "")},
                             headers={"X-Kubelet": "fake"})


class FakeKubelet:
    def __init__(self, workdir: Path) -> None:
        _ca, cert, key = generate(workdir / "kubelet-pki", ["127.0.0.1"])
        self.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.context.load_cert_chain(str(cert), str(key))
        self.port = 0
        self.loop = asyncio.new_event_loop()
        self.runner: Any = None
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def start(self) -> FakeKubelet:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._serve(), self.loop).result(timeout=10)
        return self

    async def _serve(self) -> None:
        app = web.Application()
        app.router.add_get("/containerLogs/{ns}/{pod}/{container}", _logs)
        app.router.add_get("/exec/{ns}/{pod}/{container}", _exec)
        app.router.add_route("*", "/echo/{tail:.*}", _echo)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0, ssl_context=self.context)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
