"""The kubelet-facing HTTP server (KWOK's pkg/kwok/server): health, metrics, service discovery.

`kubectl logs/exec/attach/port-forward` reach it through the API server (the node's
daemonEndpoints port); those streaming endpoints answer 501 until Logs/Exec/Attach CRs are
supported here.
"""

from __future__ import annotations

import importlib.util
from typing import Any

from aiohttp import web

import kwok
from kwok.kubelet.metrics import Metrics

SERVER_HEADER = f"kwok/v{kwok.__version__}"
DEBUG_DISABLED = ("/run/", "/runningpods/", "/logs/")
STREAMING = ("/containerLogs/", "/exec/", "/attach/", "/portForward/")


def build_app(metrics: Metrics, controller: Any = None) -> web.Application:
    app = web.Application(middlewares=[_server_header])
    if controller is not None and importlib.util.find_spec("kwok.kubelet.usage") is not None:
        from kwok.kubelet.usage import mount_kubelet_endpoints  # logs/exec/attach/port-forward, Metric

        mount_kubelet_endpoints(app, controller, getattr(controller, "documents", ()))
    for path in ("/healthz", "/readyz", "/livez"):
        app.router.add_route("*", path, _ok)
    app.router.add_get("/metrics", lambda req: _metrics(metrics))
    app.router.add_route("*", "/discovery/prometheus", lambda req: _discovery(req, controller))
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


async def _discovery(request: web.Request, controller: Any) -> web.Response:
    """Prometheus HTTP service discovery: a target per Metric (none until Metrics are supported)."""
    return web.json_response([])


async def _other(request: web.Request) -> web.Response:
    path = request.path
    if any(path.startswith(p) for p in DEBUG_DISABLED):
        return web.Response(status=405, text="Debug endpoints are disabled.")
    if any(path.startswith(p) for p in STREAMING):
        return web.Response(status=501, text=f"{path.split('/')[1]} is not supported by this kwok yet.")
    return web.Response(status=404, text="404 page not found")
