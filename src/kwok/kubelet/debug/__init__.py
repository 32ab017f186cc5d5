"""The kwok controller's kubelet debugging endpoints: logs, exec, attach and port-forward.

    add_routes(app, source)

mounts on an aiohttp application (before any catch-all route):
    GET       /containerLogs/{namespace}/{pod}/{container}         Logs / ClusterLogs
    GET|POST  /exec/{namespace}/{pod}[/{uid}]/{container}          Exec / ClusterExec (WebSocket)
    GET|POST  /attach/{namespace}/{pod}[/{uid}]/{container}        Attach / ClusterAttach (WebSocket)
    GET|POST  /portForward/{namespace}/{pod}[/{uid}]               PortForward / ClusterPortForward
              (WebSocket: v4.channel.k8s.io, or SPDY/3.1+portforward.k8s.io as kubectl 1.31+ sends)

`source` answers `objects(kind)` with the current objects of a kwok.x-k8s.io kind
(`ConfigObjects(documents)` for --config files, `.watch(client, kinds)` for --enable-crds). The
endpoints need nothing else: like KWOK, they select by the pod's namespace and name only.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from kwok.kubelet.debug.logs import container_logs
from kwok.kubelet.debug.objects import ConfigObjects, ObjectSource
from kwok.kubelet.debug.portforward import port_forward_handler
from kwok.kubelet.debug.remotecommand import attach_handler, exec_handler

__all__ = ["ConfigObjects", "ObjectSource", "add_routes"]

Handler = Callable[[web.Request, ObjectSource], Awaitable[web.StreamResponse]]


def add_routes(app: web.Application, source: ObjectSource) -> None:
    def bind(handler: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handle(request: web.Request) -> web.StreamResponse:
            return await handler(request, source)

        return handle

    router = app.router
    router.add_get("/containerLogs/{namespace}/{pod}/{container}", bind(container_logs))
    for kind, handler in (("exec", exec_handler), ("attach", attach_handler)):
        for path in (f"/{kind}/{{namespace}}/{{pod}}/{{container}}", f"/{kind}/{{namespace}}/{{pod}}/{{uid}}/{{container}}"):
            router.add_route("GET", path, bind(handler))
            router.add_route("POST", path, bind(handler))
    for path in ("/portForward/{namespace}/{pod}", "/portForward/{namespace}/{pod}/{uid}"):
        router.add_route("GET", path, bind(port_forward_handler))
        router.add_route("POST", path, bind(port_forward_handler))
