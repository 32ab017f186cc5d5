"""The kubelet-facing HTTP server (KWOK's pkg/kwok/server): health, metrics, service discovery,
and the debugging endpoints (kwok.kubelet.debug) that `kubectl logs/exec/attach/port-forward`
reach through the API server (the node's daemonEndpoints port).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

import kwok
from kwok.kubelet.metrics import Metrics

SERVER_HEADER = f"kwok/v{kwok.__version__}"
DEBUG_DISABLED = ("/run/", "/runningpods/", "/logs/")
STREAMING = ("/containerLogs/", "/exec/", "/attach/", "/portForward/")


def build_app(metrics: Metrics, controller: Any = None) -> web.Application:
    """The server's routes; with a controller, also the Metric, debugging and discovery endpoints."""
    app = web.Application(middlewares=[_server_header])
    for path in ("/healthz", "/readyz", "/livez"):
        app.router.add_route("*", path, _ok)
    app.router.add_get("/metrics", lambda req: _metrics(metrics))
    if controller is not None:
        from kwok.kubelet.usage import mount_kubelet_endpoints  # logs/exec/attach/port-forward, Metric

        mount_kubelet_endpoints(app, controller, controller.objects)
    else:
        app.router.add_route("*", "/discovery/prometheus", _no_targets)
    app.router.add_route("*", "/{tail:.*}", _other)
    return app


@web.middleware
async def _server_header(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        response: web.StreamResponse = await handler(request)
    except web.HTTPException as exc:
        exc.headers["Server"] = SERVER_HEADER
        raise
    response.headers["Server"] = SERVER_HEADER
    return response


async def _ok(request: web.Request) -> web.Response:
    return web.Response(text="ok")


async def _metrics(metrics: Metrics) -> web.Response:
    return web.Response(body=metrics.exposition(), content_type="text/plain", charset="utf-8",
                        headers={"X-Content-Type-Options": "nosniff"})


async def _no_targets(request: web.Request) -> web.Response:
    return web.json_response([])


async def _other(request: web.Request) -> web.Response:
    path = request.path
    if any(path.startswith(p) for p in DEBUG_DISABLED):
        return web.Response(status=405, text="Debug endpoints are disabled.")
    if any(path.startswith(p) for p in STREAMING):  # debugging handlers disabled
        return web.Response(status=405, text="Debug endpoints are disabled.")
    return web.Response(status=404, text="404 page not found")
