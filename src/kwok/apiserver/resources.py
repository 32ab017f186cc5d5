"""HTTP handlers of resource URLs: every verb on collections, objects and subresources.

The handlers translate HTTP into calls on Flow (writes) and the store (reads), and pick the reply
encoding (JSON object, Table). They never special-case a kind.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from aiohttp import web

from kwok.api import errors
from kwok.apiserver import bodies, patching
from kwok.apiserver.auth import ANONYMOUS, IDENTITY
from kwok.apiserver.catalog import Served
from kwok.apiserver.flow import Flow, now_text, now_utc, reset_fields
from kwok.apiserver.listing import encode_list, list_page, list_pieces, parse_filter
from kwok.apiserver.metadataonly import partial, partial_list, wants_metadata
from kwok.apiserver.metadataonly import watch_encoder as metadata_watch_encoder
from kwok.apiserver.registry import RequestContext, SubresourceCall, subresource_handler
from kwok.apiserver.routing import Target
from kwok.apiserver.strict import unknown_fields
from kwok.apiserver.tables import to_table, wants_table
from kwok.apiserver.versions import Rewrite, as_served, rewriter
from kwok.apiserver.watch import serve_watch, table_encoder

Obj = dict[str, Any]
_PATCH_ATTEMPTS = 5


class _Retry(Exception):
    """A patch met a concurrent write: apply it again to the fresh object."""


WARNINGS = web.RequestKey("warnings", list)   # texts of `Warning: 299 - "..."` reply headers
JSON_HEADERS = {"Content-Type": "application/json", "Cache-Control": "no-cache, private"}


def json_response(data: bytes, status: int = 200) -> web.Response:
    return web.Response(body=data, status=status, headers=JSON_HEADERS)


_SUBRESOURCE_VERBS = {"GET": "get", "POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}
_PROXY_VERBS = {**_SUBRESOURCE_VERBS, "HEAD": "get", "OPTIONS": "get"}   # a proxy passes any method on


class ResourceHandlers:
    def __init__(self, flow: Flow, on_watch: Any = None) -> None:
        self.flow = flow
        self.store = flow.store
        self.catalog = flow.catalog
        self.on_watch = on_watch

    # ---------------------------------------------------------------- dispatch
    async def handle(self, request: web.Request, target: Target) -> web.StreamResponse:
        served = self.catalog.get(target.group, target.version, target.plural)
        if served is None:
            raise errors.not_found_path()
        if target.namespace is not None and not served.info.namespaced:
            raise errors.not_found_path()
        method = request.method
        if method == "GET" and not target.subresource:
            # reads need no request context: the hot path of informers and kubectl get
            if not target.name:
                return await self._list_or_watch(request, served, target)
            if target.legacy_watch or request.query.get("watch") in ("true", "1", "True"):
                # a watch of one object by its URL: the collection's watch narrowed to that name
                return await self._list_or_watch(request, served, target, name=target.name)
            return self._get(request, served, target)
        ctx = self._context(request, target)
        if target.subresource:
            return await self._subresource(request, served, target, ctx)
        if not target.name:
            if method == "POST":
                return await self._create(request, served, target, ctx)
            if method == "DELETE":
                return await self._delete_collection(request, served, target, ctx)
            raise errors.method_not_allowed()
        if method == "PUT":
            return await self._update(request, served, target, ctx)
        if method == "PATCH":
            return await self._patch(request, served, target, ctx)
        if method == "DELETE":
            return await self._delete(request, served, target, ctx)
        raise errors.method_not_allowed()

    def _context(self, request: web.Request, target: Target) -> RequestContext:
        identity = request.get(IDENTITY) or ANONYMOUS
        query = request.query
        dry_run = query.getall("dryRun", [])
        for value in dry_run:
            if value != "All":
                raise errors.bad_request(f'Invalid dry run value: "{value}": supported values: "All"')
        return RequestContext(user=identity[0], groups=tuple(identity[1]), namespace=target.namespace,
                              dry_run=bool(dry_run), field_manager=query.get("fieldManager"),
                              now=now_text(),
                              extra={"fieldValidation": query.get("fieldValidation", ""),
                                     "userAgent": request.headers.get("User-Agent", ""),
                                     # admission webhooks and policies add to the reply's Warning headers
                                     "warnings": request.setdefault(WARNINGS, [])})

    def _verb_allowed(self, served: Served, verb: str) -> None:
        if verb not in served.info.verbs:
            raise errors.method_not_allowed()

    # ------------------------------------------------------------------- reads
    def _get(self, request: web.Request, served: Served, target: Target) -> web.StreamResponse:
        self._verb_allowed(served, "get")
        entry = self.flow.entry(served, target.namespace or "", target.name)
        accept = request.headers.get("Accept", "")
        if wants_metadata(accept):
            return json_response(orjson.dumps(partial(entry.data)))
        if wants_table(accept):
            obj = orjson.loads(entry.data)
            table = to_table(served, [obj], now_utc(), request.query.get("includeObject"),
                             {"resourceVersion": str(entry.rv)})
            return json_response(orjson.dumps(table))
        rewrite = self._version_rewrite(served)
        return json_response(rewrite(entry.data) if rewrite else entry.data)

    def _version_rewrite(self, served: Served) -> Rewrite | None:
        if self.catalog.versions_of(served.key) < 2:
            return None
        return rewriter(served.info.group_version)

    async def _list_or_watch(self, request: web.Request, served: Served, target: Target,
                             name: str = "") -> web.StreamResponse:
        query = request.query
        flt = parse_filter(served, target.namespace, query, name)
        accept = request.headers.get("Accept", "")
        include = query.get("includeObject")
        if name or target.legacy_watch or query.get("watch") in ("true", "1", "True"):
            self._verb_allowed(served, "watch")
            encoder = table_encoder(served, include, to_table) if wants_table(accept) else None
            if wants_metadata(accept):
                encoder = metadata_watch_encoder
            rewrite = self._version_rewrite(served)
            if encoder is None and rewrite is not None:
                encoder = _rewriting_encoder(rewrite)
            return await serve_watch(request, self.store, served, flt, encoder, self.on_watch)
        self._verb_allowed(served, "list")
        page = list_page(self.store, served, flt, query)
        meta: Obj = {"resourceVersion": str(page.rv)}
        if page.continue_token:
            meta["continue"] = page.continue_token
        if page.remaining is not None:
            meta["remainingItemCount"] = page.remaining
        if wants_metadata(accept):
            return json_response(partial_list([e.data for e in page.items], meta))
        if wants_table(accept):
            objs = [orjson.loads(e.data) for e in page.items]
            return json_response(orjson.dumps(to_table(served, objs, now_utc(), include, meta)))
        rewrite = self._version_rewrite(served)
        if rewrite is not None:
            return json_response(encode_list(served, page, [rewrite(e.data) for e in page.items]))
        if len(page.items) < 256:
            return json_response(encode_list(served, page))
        return await _write_pieces(request, *list_pieces(served, page))

    # ------------------------------------------------------------------ writes
    async def _object_body(self, request: web.Request, served: Served, target: Target,
                           sub_kind: tuple[str, str, str] | None = None) -> Obj:
        data = await bodies.read_body(request)
        obj = bodies.decode_object(data, bodies.media_type(request))
        group, version, kind = sub_kind or (served.info.group, served.info.version, served.info.kind)
        bodies.check_type(obj, group, version, kind)
        bodies.check_namespace(obj, target.namespace, served.info.namespaced)
        _check_fields(request, served, obj)
        return obj

    async def _create(self, request: web.Request, served: Served, target: Target,
                      ctx: RequestContext) -> web.StreamResponse:
        self._verb_allowed(served, "create")
        obj = await self._object_body(request, served, target)
        _result, data = await self.flow.create_encoded(served, obj, ctx)
        return json_response(data, 201)

    async def _update(self, request: web.Request, served: Served, target: Target,
                      ctx: RequestContext, subresource: str = "") -> web.StreamResponse:
        self._verb_allowed(served, "update")
        obj = await self._object_body(request, served, target)
        name = obj["metadata"].get("name")
        if name and name != target.name:
            raise errors.bad_request(f"the name of the object ({name}) does not match the name on the URL "
                                     f"({target.name})")
        obj["metadata"]["name"] = target.name
        _result, created, data = await self.flow.update_encoded(served, target.namespace or "", target.name, obj,
                                                                ctx, subresource=subresource)
        return json_response(data, 201 if created else 200)

    async def _patch(self, request: web.Request, served: Served, target: Target,
                     ctx: RequestContext, subresource: str = "") -> web.StreamResponse:
        self._verb_allowed(served, "patch")
        content_type = bodies.media_type(request)
        patching.check_type(content_type, served.custom)
        patch = patching.parse(content_type, await bodies.read_body(request))
        if content_type == patching.APPLY:
            self._check_apply(request, served, target, ctx, patch)
        for attempt in range(_PATCH_ATTEMPTS):
            # as GuaranteedUpdate does: a patch that names no resourceVersion is re-applied to the fresh
            # object when a concurrent write got in between (only a stale pinned version is a conflict)
            try:
                return await self._patch_once(request, served, target, ctx, subresource, content_type, patch)
            except _Retry:
                if attempt == _PATCH_ATTEMPTS - 1:
                    raise errors.conflict(served.info.plural, target.name, served.info.group) from None
        raise AssertionError("unreachable")

    async def _patch_once(self, request: web.Request, served: Served, target: Target, ctx: RequestContext,
                          subresource: str, content_type: str, patch: Any) -> web.StreamResponse:
        namespace = target.namespace or ""
        entry = self.store.get(served.key, namespace, target.name)
        stored = as_served(self.catalog, served, entry.data) if entry else b""
        current = orjson.loads(stored) if entry else None
        if content_type == patching.APPLY:
            force = request.query.get("force") in ("true", "1")
            assert ctx.field_manager is not None
            patched = patching.apply_configuration(current, patch, ctx.field_manager, force, served.info, ctx.now,
                                                   subresource, reset_fields(served, subresource))
            ctx.extra["applied"] = True
        elif current is None:
            raise errors.not_found(served.info.plural, target.name, served.info.group)
        else:
            # the patch goes into a decoding of its own: cheaper than copying `current`
            patched = patching.apply_patch(content_type, patch, orjson.loads(stored), served.info, owned=True)
            if not isinstance(patched, dict):
                raise errors.bad_request("patched object is not a JSON object")
            bodies.check_type(patched, served.info.group, served.info.version, served.info.kind)
            if _patch_has_unknown_fields(served, content_type, patch):
                _check_fields(request, served, patched)
        patched.setdefault("metadata", {})["name"] = target.name
        if current is None:
            return json_response((await self.flow.create_encoded(served, patched, ctx))[1], 201)
        pinned = patched["metadata"].get("resourceVersion") not in (None, current["metadata"]["resourceVersion"])
        try:
            _result, _created, data = await self.flow.update_encoded(served, namespace, target.name, patched, ctx,
                                                                     subresource=subresource, old=current)
        except errors.ApiError as exc:
            if exc.code == 409 and exc.reason == "Conflict" and not pinned and self._changed(served, entry):
                raise _Retry from None
            raise
        return json_response(data)

    def _changed(self, served: Served, entry: Any) -> bool:
        """Whether the object moved on since `entry` was read (then a conflict is ours, not the client's)."""
        now = self.store.get(served.key, entry.namespace, entry.name)
        return now is None or now.rv != entry.rv

    def _check_apply(self, request: web.Request, served: Served, target: Target, ctx: RequestContext,
                     patch: Any) -> None:
        if not ctx.field_manager:
            raise errors.bad_request("PATCH, application/apply-patch+yaml requires fieldManager to be set")
        if not isinstance(patch, dict):
            raise errors.bad_request("error decoding YAML: the apply patch must be an object")
        bodies.check_type(patch, served.info.group, served.info.version, served.info.kind)
        name = (patch.get("metadata") or {}).get("name")
        if name and name != target.name:
            raise errors.bad_request(f"the name of the object ({name}) does not match the name on the URL "
                                     f"({target.name})")
        _check_fields(request, served, patch)

    async def _delete(self, request: web.Request, served: Served, target: Target,
                      ctx: RequestContext) -> web.StreamResponse:
        self._verb_allowed(served, "delete")
        options = await _delete_options(request)
        if options.get("dryRun"):
            ctx.dry_run = True
        obj, removed, data = await self.flow.delete_encoded(served, target.namespace or "", target.name, options,
                                                            ctx)
        if removed and not served.strategy.returns_deleted_object:
            info = served.info
            details = {"name": target.name, "group": info.group, "kind": info.plural,
                       "uid": obj["metadata"].get("uid", "")}
            body = errors.status_success({k: v for k, v in details.items() if v})
            return json_response(orjson.dumps(body))
        return json_response(data)

    async def _delete_collection(self, request: web.Request, served: Served, target: Target,
                                 ctx: RequestContext) -> web.StreamResponse:
        self._verb_allowed(served, "deletecollection")
        options = await _delete_options(request)
        if options.get("dryRun"):
            ctx.dry_run = True
        flt = parse_filter(served, target.namespace, request.query)
        _rv, entries = self.store.list_entries(served.key, target.namespace)
        deleted = []
        for entry in [e for e in entries if flt.matches(e)]:
            try:
                obj, _removed = await self.flow.delete(served, entry.namespace, entry.name, options, ctx)
            except errors.ApiError as exc:
                if exc.code == 404:
                    continue
                raise
            deleted.append(obj)
        info = served.info
        body = {"kind": info.list_kind, "apiVersion": info.group_version,
                "metadata": {"resourceVersion": str(self.store.rv)}, "items": deleted}
        return json_response(orjson.dumps(body))

    # ------------------------------------------------------------ subresources
    async def _subresource(self, request: web.Request, served: Served, target: Target,
                           ctx: RequestContext) -> web.StreamResponse:
        if target.subresource not in served.info.subresources:
            raise errors.not_found_path()
        if target.subresource == "status":
            return await self._status(request, served, target, ctx)
        handler = subresource_handler(target.subresource)
        if handler is None:
            raise errors.method_not_allowed()
        if target.subresource == "proxy":
            # the request goes on as it came: body, method and path are the backend's business
            verb = _PROXY_VERBS.get(request.method, "")
            proxied: web.StreamResponse = await handler(SubresourceCall(
                verb=verb, served=served, namespace=target.namespace or "", name=target.name, subresource="proxy",
                body=None, query=request.query, ctx=ctx, flow=self.flow, request=request,
                proxy_path=target.proxy_path))
            return proxied
        body = None
        method = request.method
        verb = _SUBRESOURCE_VERBS.get(method, "")
        patch_type = ""
        if method in ("POST", "PUT", "PATCH") and not request.headers.get("Upgrade"):
            data = await bodies.read_body(request)
            if method == "PATCH":
                patch_type = bodies.media_type(request)
                body = patching.parse(patch_type, data)
            elif data:
                body = bodies.decode_object(data, bodies.media_type(request))
        call = SubresourceCall(verb=verb, served=served, namespace=target.namespace or "", name=target.name,
                               subresource=target.subresource, body=body, query=request.query, ctx=ctx,
                               flow=self.flow, request=request, patch_type=patch_type)
        result = await handler(call)
        if isinstance(result, web.StreamResponse):
            return result
        code, obj = result
        return json_response(orjson.dumps(obj), code)

    async def _status(self, request: web.Request, served: Served, target: Target,
                      ctx: RequestContext) -> web.StreamResponse:
        method = request.method
        if method == "GET":
            return self._get(request, served, target)
        if method == "PUT":
            return await self._update(request, served, target, ctx, subresource="status")
        if method == "PATCH":
            return await self._patch(request, served, target, ctx, subresource="status")
        raise errors.method_not_allowed()


def _rewriting_encoder(rewrite: Rewrite) -> Callable[[str, bytes], bytes]:
    def encode(event_type: str, data: bytes) -> bytes:
        return b'{"type":"' + event_type.encode() + b'","object":' + rewrite(data) + b"}\n"

    return encode


async def _write_pieces(request: web.Request, total: int, pieces: list[bytes]) -> web.StreamResponse:
    """A big body from many buffers: the head goes through aiohttp (with the headers), the rest
    straight to the transport in one writev, as a bare server writes one prepared body."""
    response = web.StreamResponse(headers=JSON_HEADERS)
    response.content_length = total
    await response.prepare(request)
    await response.write(pieces[0])
    transport = request.transport
    if transport is None or transport.is_closing():
        raise ConnectionResetError("the client went away")
    transport.writelines(pieces[1:])
    await response.write_eof()
    return response


async def _delete_options(request: web.Request) -> Obj:
    """DeleteOptions from the body (kubectl) or the query (the Python client)."""
    data = await bodies.read_body(request)
    options: Obj = {}
    if data.strip():
        options = bodies.decode_object(data, bodies.media_type(request))
    query = request.query
    if "gracePeriodSeconds" in query:
        try:
            options["gracePeriodSeconds"] = int(query["gracePeriodSeconds"])
        except ValueError:
            raise errors.bad_request(f'strconv.ParseInt: parsing "{query["gracePeriodSeconds"]}": '
                                     "invalid syntax") from None
    if "propagationPolicy" in query:
        options["propagationPolicy"] = query["propagationPolicy"]
    if "orphanDependents" in query:
        options["orphanDependents"] = query["orphanDependents"] == "true"
    if query.getall("dryRun", []):
        options["dryRun"] = query.getall("dryRun")
    policy = options.get("propagationPolicy")
    if policy is not None and policy not in ("Orphan", "Background", "Foreground"):
        raise errors.invalid("DeleteOptions", "", [{
            "reason": "FieldValueNotSupported", "field": "propagationPolicy",
            "message": f'Unsupported value: "{policy}": supported values: "Foreground", "Background", "Orphan"'}],
            "meta.k8s.io")
    return options


def _check_fields(request: web.Request, served: Served, obj: Obj) -> None:
    """Field validation of built-in kinds: Strict refuses unknown fields (400), Warn (the default)
    answers with a `Warning` header per field, Ignore says nothing; but for Strict the unknown
    fields are dropped, as the real server's decoder drops them."""
    validation = request.query.get("fieldValidation", "Warn")
    if served.custom or not served.info.message:
        return
    unknown = unknown_fields(obj, served.info.message, prune=validation != "Strict")
    if not unknown:
        return
    if validation == "Strict":
        raise errors.bad_request("strict decoding error: " + ", ".join(f'unknown field "{u}"' for u in unknown))
    if validation != "Ignore":
        request.setdefault(WARNINGS, []).extend(f'unknown field "{u}"' for u in unknown)


def _patch_has_unknown_fields(served: Served, content_type: str, patch: Any) -> bool:
    """Whether a merge or strategic-merge patch names a field the type does not have (or a patch
    directive, or is of another type): only then can the patched object have one, since what is
    stored has none. The patch is much smaller than the object it patches."""
    if served.custom or not served.info.message:
        return False
    if content_type not in (patching.MERGE_PATCH, patching.STRATEGIC) or not isinstance(patch, dict):
        return True
    return bool(unknown_fields(patch, served.info.message))
