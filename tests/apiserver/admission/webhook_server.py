"""A webhook as a developer runs one: a small aiohttp HTTPS server, in a thread of the test process.

`WebhookServer(handler)` serves every path; `handler(path, review) -> response` gets the decoded
AdmissionReview and returns its `response` (uid filled in when missing), or None to hang (a slow
webhook). Every review received is kept in `reviews`.
"""

from __future__ import annotations

import asyncio
import base64
import json
import ssl
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from kwok.apiserver.certs import generate

Handler = Callable[[str, dict[str, Any]], dict[str, Any] | None]


class WebhookServer:
    def __init__(self, directory: Path, handler: Handler) -> None:
        # the names a Service-referenced webhook is verified as, besides the loopback address
        ca, cert, key = generate(directory, ["127.0.0.1", "localhost", "hook.default.svc"])
        self.ca_bundle = base64.b64encode(ca.read_bytes()).decode()
        self.handler = handler
        self.reviews: list[dict[str, Any]] = []
        self._tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._tls.load_cert_chain(cert, key)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner: web.AppRunner | None = None
        self.port = 0

    def __enter__(self) -> WebhookServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    async def _stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        current = asyncio.current_task()
        pending = [t for t in asyncio.all_tasks() if t is not current]
        for task in pending:            # a /slow answer still waiting
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    def url(self, path: str = "/") -> str:
        return f"https://127.0.0.1:{self.port}{path}"

    async def _start(self) -> None:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._serve)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=self._tls)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def _serve(self, request: web.Request) -> web.Response:
        review = await request.json()
        self.reviews.append(review)
        response = self.handler(request.path, review)
        if response is None:
            await asyncio.sleep(60)          # a webhook that never answers in time
            response = {"allowed": True}
        response.setdefault("uid", review["request"]["uid"])
        body = {"apiVersion": review["apiVersion"], "kind": "AdmissionReview", "response": response}
        return web.Response(body=json.dumps(body), content_type="application/json")


def json_patch(*operations: dict[str, Any]) -> dict[str, str]:
    """The patch fields of a mutating response."""
    return {"patchType": "JSONPatch", "patch": base64.b64encode(json.dumps(list(operations)).encode()).decode()}
