"""The aiohttp application: non-resource endpoints, resource dispatch, errors, identity, metrics, logs."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import orjson
from aiohttp import web

from kwok.api import errors
from kwok.api.errors import go_quote as _go_quote
from kwok.apiserver import bodies, metricsapi
from kwok.apiserver.audit import Attributes, AuditLog, Record, long_running
from kwok.apiserver.auth import ANONYMOUS, IDENTITY, REQUESTER, Authenticator, impersonated
from kwok.apiserver.bodies import RAW_BODY
from kwok.apiserver.catalog import Catalog
from kwok.apiserver.discovery import Discovery, wants_aggregated
from kwok.apiserver.flow import Flow, new_uid
from kwok.apiserver.metrics import Metrics
from kwok.apiserver.openapi import OpenAPI
from kwok.apiserver.openapiv2 import OpenAPIV2
from kwok.apiserver.registry import AdmissionPlugin
from kwok.apiserver.resources import JSON_HEADERS, WARNINGS, ResourceHandlers, json_response
from kwok.apiserver.routing import Target, parse
from kwok.apiserver.storage import Store

if TYPE_CHECKING:
    from kwok.apiserver.metricsapi.api import MetricsAPI

log = logging.getLogger("kwok.apiserver")

VERSION = {"major": "1", "minor": "36", "emulationMajor": "1", "emulationMinor": "36",
           "minCompatibilityMajor": "1", "minCompatibilityMinor": "35", "gitVersion": "v1.36.3",
           "gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
           "buildDate": "2026-11-01T00:00:00Z", "goVersion": "go1.25.4", "compiler": "gc", "platform": "linux/amd64"}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
TARGET = web.RequestKey("target", object)      # the parsed resource URL (None for other paths)
AUDIT = web.RequestKey("audit", Record)        # the request's audit record, when the policy audits it


@dataclass
class Server:
    """Everything a request can reach; one per process."""

    store: Store
    catalog: Catalog
    admission: list[AdmissionPlugin] = field(default_factory=list)
    authenticator: Authenticator = field(default_factory=Authenticator)
    log_requests: bool = False
    audit: AuditLog | None = None

    def __post_init__(self) -> None:
        self.flow = Flow(self.store, self.catalog, self.admission)
        self.metrics = Metrics(self.store)
        self.resources = ResourceHandlers(self.flow, self.metrics.watch_delta())
        self.discovery = Discovery(self.catalog, metricsapi.RESOURCES)
        self.openapi = OpenAPI(self.catalog, self.store, {(metricsapi.GROUP, metricsapi.VERSION): _metrics_openapi})
        self.openapi_v2 = OpenAPIV2(self.openapi.all_documents, lambda: self.catalog.generation)
        self._metrics_api: MetricsAPI | None = None

    @property
    def metrics_api(self) -> MetricsAPI:
        """metrics.k8s.io handlers (kwok.apiserver.metricsapi.api.MetricsAPI), imported when first asked for."""
        if self._metrics_api is None:
            from kwok.apiserver.metricsapi.api import MetricsAPI

            self._metrics_api = MetricsAPI(self.store)
        return self._metrics_api


def _metrics_openapi() -> tuple[bytes, str]:
    from kwok.apiserver.metricsapi.openapidoc import document_bytes

    return document_bytes()


SERVER = web.AppKey("server", Server)


def build_app(server: Server) -> web.Application:
    app = web.Application(client_max_size=4 * 1024 * 1024, middlewares=[_middleware(server)])
    app[SERVER] = server
    app.router.add_route("*", "/{tail:.*}", _dispatch(server))
    if server.audit is not None:
        app.on_response_prepare.append(_audit_started)

    async def close_metrics_api(_app: web.Application) -> None:
        if server._metrics_api is not None:
            await server._metrics_api.close()

    app.on_cleanup.append(close_metrics_api)
    return app


def _middleware(server: Server) -> Callable[..., Awaitable[web.StreamResponse]]:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        target = request[TARGET] = parse(request.path)
        code = 500
        audit_id = new_uid()
        failure: dict[str, object] | None = None
        try:
            identity = server.authenticator.identify(request)
            other = impersonated(request)
            if other is not None:
                request[REQUESTER] = identity
                identity = other
            request[IDENTITY] = identity
            if server.audit is not None:
                _audit_begin(server.audit, request, target, audit_id)
            response = await handler(request)
            code = response.status
        except errors.ApiError as exc:
            code = exc.code
            failure = exc.status
            response = json_response(orjson.dumps(exc.status), exc.code)
        except web.HTTPException:
            raise
        except Exception as exc:  # noqa: BLE001 - the server answers 500 and keeps serving
            log.exception("internal error on %s %s", request.method, request.path_qs)
            err = errors.internal_error(str(exc) or type(exc).__name__)
            code = err.code
            failure = err.status
            response = json_response(orjson.dumps(err.status), err.code)
        record = request.get(AUDIT)
        if record is not None:
            _audit_complete(record, request, response, code, failure)
        elapsed = time.perf_counter() - started
        if target is not None and target.plural:
            server.metrics.observe(_verb(request, target), target.group, target.version, target.plural,
                                   target.subresource, code, elapsed)
        if server.log_requests:
            log.info("%s %s %d %.1fms %s", request.method, request.path_qs, code, elapsed * 1000,
                     request.headers.get("User-Agent", ""))
        if not response.prepared:
            response.headers.setdefault("Audit-Id", audit_id)
            for text in request.get(WARNINGS, ()):
                response.headers.add("Warning", f"299 - {_go_quote(text)}")
        return response

    return middleware


_AUDIT_VERBS = {"LIST": "list", "WATCH": "watch", "DELETECOLLECTION": "deletecollection", "APPLY": "patch",
                "GET": "get", "HEAD": "get", "POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}


def _audit_begin(audit: AuditLog, request: web.Request, target: Target | None, audit_id: str) -> None:
    """Decide the request's audit level and write its RequestReceived (kube-apiserver's RequestInfo
    verbs: lower-case resource verbs, the HTTP method for other paths)."""
    user, groups = request.get(IDENTITY) or ANONYMOUS     # the rules look at the impersonated user
    requester = request.get(REQUESTER)
    if target is not None and target.plural:
        verb = _AUDIT_VERBS.get(_verb(request, target), request.method.lower())
        attrs = Attributes(user, tuple(groups), verb, request.path, True, target.group, target.plural,
                           target.subresource, target.namespace or "", target.name)
        ref = {"resource": target.plural, "namespace": target.namespace or "", "name": target.name,
               "apiGroup": target.group, "apiVersion": target.version, "subresource": target.subresource}
        object_ref: dict[str, str] | None = {k: v for k, v in ref.items() if v}
    else:
        attrs = Attributes(user, tuple(groups), request.method.lower(), request.path, False)
        object_ref = None
    peer = request.transport.get_extra_info("peername") if request.transport else None
    source = peer[0] if isinstance(peer, tuple) and peer else "127.0.0.1"   # a Unix socket: local
    record = audit.begin(attrs, audit_id, request.path_qs, source, request.headers.get("User-Agent", ""),
                         object_ref, requester)
    if record is not None:
        record.long_running = long_running(attrs.verb, attrs.subresource)
        request[AUDIT] = record


async def _audit_started(request: web.Request, response: web.StreamResponse) -> None:
    record = request.get(AUDIT)
    if record is not None and record.long_running and record.response_status is None:
        record.started(response.status)


def _audit_complete(record: Record, request: web.Request, response: web.StreamResponse, code: int,
                    failure: dict[str, object] | None) -> None:
    status = failure
    body = response.body if isinstance(response, web.Response) and isinstance(response.body, bytes) else None
    if status is None and body is not None and body.startswith(b'{"kind":"Status"'):
        status = orjson.loads(body)
    raw = request.get(RAW_BODY)    # what the handler read, if it read one
    needs_request = record.level != "Metadata" or (record.object_ref is not None and "name" not in record.object_ref)
    request_object = _decoded(raw, bodies.media_type(request)) if raw and needs_request else None
    response_object = None
    if record.level == "RequestResponse" and body:
        response_object = _decoded(body, (response.content_type or bodies.JSON).lower())
    record.complete(code, status, request_object, response_object)


def _decoded(data: bytes, media_type: str) -> object:
    """A request or response body as the audit log shows it (JSON), whatever it came as: an
    object in JSON, YAML or protobuf, or a patch as sent (a JSON patch is a list)."""
    try:
        if media_type.endswith("+json"):
            return orjson.loads(data)
        if media_type == "application/apply-patch+yaml":
            return bodies.decode_yaml(data)
        return bodies.decode_object(data, media_type)
    except (errors.ApiError, orjson.JSONDecodeError):
        return None


def _verb(request: web.Request, target: Target) -> str:
    method = request.method
    if method == "GET" and not target.name:
        return "WATCH" if target.legacy_watch or request.query.get("watch") in ("true", "1") else "LIST"
    if method == "GET" and target.legacy_watch:
        return "WATCH"
    if method == "DELETE" and not target.name:
        return "DELETECOLLECTION"
    if method == "PATCH" and request.headers.get("Content-Type", "").startswith("application/apply-patch"):
        return "APPLY"
    return method


def _text(body: str) -> web.Response:
    return web.Response(text=body, content_type="text/plain", charset="utf-8",
                        headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache, private"})


def _dispatch(server: Server) -> Handler:
    async def dispatch(request: web.Request) -> web.StreamResponse:
        path = request.path.rstrip("/") or "/"
        fixed = _FIXED.get(path)
        if fixed is not None:
            return fixed(server, request)
        if path.startswith("/openapi/v3"):
            return _openapi(server, request, path)
        target = request.get(TARGET)
        if target is None:
            parts = path.split("/")
            if len(parts) == 3 and parts[1] == "apis":
                return _group(server, parts[2])
            raise errors.not_found_path()
        if not target.plural:
            return _discovery(server, request, target)
        if target.group == metricsapi.GROUP:
            return await server.metrics_api.handle(request, target)
        return await server.resources.handle(request, target)

    return dispatch


def _version(_server: Server, _request: web.Request) -> web.StreamResponse:
    return json_response(orjson.dumps(VERSION, option=orjson.OPT_INDENT_2))


def _ok(server: Server, _request: web.Request) -> web.StreamResponse:
    """healthz/livez/readyz: `ok`, or 500 with the failing check while storage writes fail."""
    if server.store.failure:
        log.warning("health check: storage failing: %s", server.store.failure)
        response = _text("[+]ping ok\n[-]etcd failed: reason withheld\nhealthz check failed\n")
        response.set_status(500)
        return response
    return _text("ok")


def _metrics(server: Server, _request: web.Request) -> web.StreamResponse:
    return web.Response(body=server.metrics.render(), headers={"Content-Type": "text/plain; version=0.0.4"})


def _openapi_v2(server: Server, request: web.Request) -> web.StreamResponse:
    return server.openapi_v2.respond(request)


def _api(server: Server, request: web.Request) -> web.StreamResponse:
    aggregated = wants_aggregated(request.headers.get("Accept", ""))
    if aggregated:
        return _aggregated(server.discovery.aggregated(True, aggregated), aggregated)
    return json_response(server.discovery.api_versions(request.host))


def _apis(server: Server, request: web.Request) -> web.StreamResponse:
    aggregated = wants_aggregated(request.headers.get("Accept", ""))
    if aggregated:
        return _aggregated(server.discovery.aggregated(False, aggregated), aggregated)
    return json_response(server.discovery.group_list())


def _aggregated(body: bytes, media_type: str) -> web.Response:
    headers = {"Content-Type": media_type, "Cache-Control": "no-cache, private", "Vary": "Accept"}
    return web.Response(body=body, headers=headers)


_FIXED: dict[str, Callable[[Server, web.Request], web.StreamResponse]] = {
    "/version": _version, "/healthz": _ok, "/livez": _ok, "/readyz": _ok, "/metrics": _metrics,
    "/api": _api, "/apis": _apis, "/openapi/v2": _openapi_v2,
}


def _discovery(server: Server, request: web.Request, target: Target) -> web.StreamResponse:
    body = server.discovery.resource_list(target.group, target.version)
    if body is None:
        raise errors.not_found_path()
    return json_response(body)


def _group(server: Server, name: str) -> web.StreamResponse:
    body = server.discovery.group(name)
    if body is None:
        raise errors.not_found_path()
    return json_response(body)


def _openapi(server: Server, request: web.Request, path: str) -> web.StreamResponse:
    if path == "/openapi/v3":
        return json_response(server.openapi.root())
    found = server.openapi.lookup_path(path[len("/openapi/v3"):])
    if found is None:
        raise errors.not_found_path()
    data, digest = found
    headers = dict(JSON_HEADERS)
    headers["Etag"] = f'"{digest}"'
    if request.query.get("hash") == digest:
        headers["Cache-Control"] = "public, immutable"
        headers["Expires"] = "Thu, 01 Jan 2099 00:00:00 GMT"
    else:
        headers["Cache-Control"] = "no-cache, private"
    if request.headers.get("If-None-Match") == headers["Etag"]:
        return web.Response(status=304, headers=headers)
    return web.Response(body=data, headers=headers)
