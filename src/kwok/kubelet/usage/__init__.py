"""The kwok controller's Metric endpoints: kubelet-like Prometheus metrics of fake nodes and pods.

    add_routes(app, source)        GET /metrics/<path of a Metric>, * /discovery/prometheus
    mount_kubelet_endpoints(app, controller, documents)
                                   these and kwok.kubelet.debug's, fed from a running controller

`source` is a `UsageSource`: the current Metric, ResourceUsage and ClusterResourceUsage objects,
the managed nodes and the pods on each. The defaults kwokctl can enable ship with the package:
`default_documents()` -> the Metric emulating the kubelet's /metrics/resource and the
ClusterResourceUsage that reads usage from pod annotations.
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Iterable, Mapping
from typing import Any

import yaml
from aiohttp import web

from kwok.kubelet.usage.controllersource import ControllerSource
from kwok.kubelet.usage.endpoints import MetricsEndpoint, discovery
from kwok.kubelet.usage.source import UsageSource

__all__ = ["ControllerSource", "MetricsEndpoint", "UsageSource", "add_routes", "default_documents",
           "mount_kubelet_endpoints"]

DEFAULTS = ("metrics-resource.yaml", "usage-from-annotation.yaml")


def add_routes(app: web.Application, source: UsageSource) -> MetricsEndpoint:
    endpoint = MetricsEndpoint(source)

    async def handle_discovery(request: web.Request) -> web.Response:
        return await discovery(request, source)

    app.router.add_get("/metrics/{path:.+}", endpoint.handle)
    app.router.add_route("*", "/discovery/prometheus", handle_discovery)
    return endpoint


def default_documents() -> list[dict[str, Any]]:
    """Our Metric `metrics-resource` and ClusterResourceUsage `usage-from-annotation`."""
    files = importlib.resources.files("kwok.kubelet.usage") / "defaults"
    return [yaml.load((files / name).read_text(), Loader=yaml.CSafeLoader) for name in DEFAULTS]


def mount_kubelet_endpoints(app: web.Application, controller: Any, documents: Iterable[Mapping[str, Any]] = ()) -> None:
    """Both packages' routes on the controller's server app; call before any catch-all route."""
    from kwok.kubelet import debug

    source = ControllerSource(controller, documents)
    app.on_startup.append(lambda _: source.config.start())
    app.on_cleanup.append(lambda _: source.config.stop())
    if getattr(controller.options, "enable_debugging_handlers", True):
        debug.add_routes(app, source)
    add_routes(app, source)
