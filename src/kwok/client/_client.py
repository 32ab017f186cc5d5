"""Client and Resource: REST verbs on raw JSON dicts.

Objects are decoded with orjson and never converted to models (model conversion makes lists
5-20x slower). There is deliberately no client-side rate limiting: KWOK runs with client-go's
"fake always" limiter. Only replies that say "try later" (429 or 5xx with Retry-After) are
retried here, as client-go does; other transient errors surface as `ApiError.is_retryable`
so that the caller's queue decides.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any
from urllib.parse import quote, urlencode

import orjson

from kwok.client._config import ClientConfig, Credentials
from kwok.client._errors import ApiError
from kwok.client._http11 import Headers
from kwok.client._transport import HTTPTransport, Response, Transport

PATCH_CONTENT_TYPES = {
    "json": "application/json-patch+json",
    "merge": "application/merge-patch+json",
    "strategic": "application/strategic-merge-patch+json",
    "apply": "application/apply-patch+yaml",
}
_MAX_TRY_LATER = 5
_DEFAULT_TIMEOUT = 60.0


class Client:
    """One connection pool to one API server; cheap `Resource` handles share it."""

    def __init__(self, config: ClientConfig, transport: Transport | None = None, max_connections: int = 100) -> None:
        self.config = config
        self._transport: Transport = transport or HTTPTransport(config, max_connections)
        self._creds: Credentials | None = None
        self._creds_lock = asyncio.Lock()
        # Optional callback(method, status, seconds) after every reply (for request-latency metrics).
        self.on_request: Callable[[str, int, float], None] | None = None

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._transport.close()

    def resource(self, group_version: str, plural: str) -> Resource:
        return Resource(self, group_version, plural)

    async def _credentials(self, refresh: bool = False) -> Credentials:
        if self._creds is not None and not refresh:
            return self._creds
        async with self._creds_lock:
            if self._creds is None or refresh:
                creds = await self.config.credentials(refresh)
                await self._transport.set_credentials(creds)
                self._creds = creds
        return self._creds

    async def _headers(self, refresh: bool = False, extra: Headers | None = None) -> dict[str, str | tuple[str, ...]]:
        creds = self._creds if self._creds is not None and not refresh else await self._credentials(refresh)
        headers: dict[str, str | tuple[str, ...]] = {"Accept": "application/json", "User-Agent": self.config.user_agent}
        if creds.authorization:
            headers["Authorization"] = creds.authorization
        if extra:
            headers.update(extra)
        return headers

    async def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        params: Mapping[str, Any] | None = None,
        content_type: str | None = None,
        headers: Headers | None = None,
        timeout: float | None = _DEFAULT_TIMEOUT,
        decode: bool = True,
    ) -> Any:
        """Send one request; returns the decoded JSON reply (dict) or the raw bytes of any other reply.

        decode=False: a successful reply's body is not decoded and None is returned (for writes
        whose result arrives anyway through an informer; errors are still decoded and raised).
        """
        url = path + _query(params)
        data, content = _encode_body(body, content_type)
        extra: dict[str, str | tuple[str, ...]] = {**content, **headers} if headers else dict(content)
        resp = await self._send(method, url, data, extra, timeout)
        if resp.status >= 300:
            raise ApiError.from_status(resp.status, _decode(resp))
        return _decode(resp) if decode else None

    async def _send(self, method: str, url: str, data: bytes | None, extra: dict[str, str | tuple[str, ...]],
                    timeout: float | None) -> Response:
        refreshed = False
        for attempt in range(_MAX_TRY_LATER + 1):
            started = time.monotonic()
            resp = await self._transport.request(method, url, await self._headers(extra=extra), data, timeout)
            if self.on_request is not None:
                self.on_request(method, resp.status, time.monotonic() - started)
            if resp.status == 401 and not refreshed and self.config._loader is not None:
                refreshed = True  # expired token: re-run the exec plugin / re-read the token once
                await self._credentials(refresh=True)
                continue
            if not _try_later(resp) or attempt == _MAX_TRY_LATER:
                return resp
            await asyncio.sleep(min(resp.retry_after or 1.0, 10.0) * (1 + 0.1 * random.random()))
        return resp

    async def stream_lines(self, path: str, params: Mapping[str, Any], timeout: float | None) -> AsyncIterator[bytes]:
        """GET a streamed body and yield it line by line (watch events are newline-delimited JSON)."""
        url = path + _query(params)
        resp = await self._transport.stream(url, await self._headers(), timeout)
        if resp.status == 401 and self.config._loader is not None:
            await resp.close()
            resp = await self._transport.stream(url, await self._headers(refresh=True), timeout)
        if resp.status >= 300:
            body = await resp.read()
            raise ApiError.from_status(resp.status, _decode(Response(resp.status, "application/json", body)))
        try:
            buf = b""
            async for chunk in resp.chunks():
                buf += chunk
                if b"\n" not in chunk:
                    continue
                *lines, buf = buf.split(b"\n")
                for line in lines:
                    if line.strip():
                        yield line
            if buf.strip():
                yield buf
        finally:
            await resp.close()


class Resource:
    """REST verbs for one resource type (`group_version`, `plural`), namespaced or not."""

    def __init__(self, client: Client, group_version: str, plural: str) -> None:
        self.client = client
        self.group_version = group_version
        self.plural = plural
        self._prefix = "/api/v1" if group_version == "v1" else f"/apis/{group_version}"

    def __repr__(self) -> str:
        return f"Resource({self.group_version!r}, {self.plural!r})"

    def path(self, namespace: str | None = None, name: str | None = None, subresource: str | None = None) -> str:
        parts = [self._prefix]
        if namespace:
            parts.append(f"namespaces/{quote(namespace, safe='')}")
        parts.append(self.plural)
        if name is not None:
            parts.append(quote(name, safe=""))
            if subresource:
                parts.append(subresource)
        return "/".join(parts)

    async def get(self, name: str, namespace: str | None = None, subresource: str | None = None) -> dict[str, Any]:
        result: dict[str, Any] = await self.client.request("GET", self.path(namespace, name, subresource))
        return result

    async def list(
        self,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        limit: int | None = None,
        continue_: str | None = None,
        resource_version: str | None = None,
    ) -> dict[str, Any]:
        params = {
            "labelSelector": label_selector,
            "fieldSelector": field_selector,
            "limit": limit,
            "continue": continue_,
            "resourceVersion": resource_version,
        }
        result: dict[str, Any] = await self.client.request("GET", self.path(namespace), params=params, timeout=300)
        return result

    async def watch(
        self,
        namespace: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
        resource_version: str | None = None,
        timeout_seconds: int | None = None,
        allow_bookmarks: bool = True,
    ) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        """Yield (type, object) for ADDED/MODIFIED/DELETED/BOOKMARK; an ERROR event raises ApiError."""
        params = {
            "watch": "true",
            "labelSelector": label_selector,
            "fieldSelector": field_selector,
            "resourceVersion": resource_version,
            "timeoutSeconds": timeout_seconds,
            "allowWatchBookmarks": "true" if allow_bookmarks else None,
        }
        # The server ends the watch after timeoutSeconds; reading nothing for much longer than
        # that means the connection silently died.
        idle = (timeout_seconds + 60) if timeout_seconds else None
        async for line in self.client.stream_lines(self.path(namespace), params, idle):
            event = orjson.loads(line)
            kind, obj = event.get("type"), event.get("object") or {}
            if kind == "ERROR":
                raise ApiError.from_status(int(obj.get("code") or 500), obj)
            yield kind, obj

    async def create(
        self,
        obj: dict[str, Any],
        namespace: str | None = None,
        subresource: str | None = None,
        dry_run: bool = False,
        field_manager: str | None = None,
    ) -> dict[str, Any]:
        ns = namespace or _namespace_of(obj)
        name = obj.get("metadata", {}).get("name") if subresource else None
        params = {"dryRun": "All" if dry_run else None, "fieldManager": field_manager}
        result: dict[str, Any] = await self.client.request("POST", self.path(ns, name, subresource), obj, params)
        return result

    async def update(
        self,
        obj: dict[str, Any],
        namespace: str | None = None,
        subresource: str | None = None,
        field_manager: str | None = None,
    ) -> dict[str, Any]:
        ns = namespace or _namespace_of(obj)
        path = self.path(ns, obj["metadata"]["name"], subresource)
        result: dict[str, Any] = await self.client.request("PUT", path, obj, {"fieldManager": field_manager})
        return result

    async def patch(
        self,
        name: str,
        patch: Any,
        patch_type: str = "merge",
        namespace: str | None = None,
        subresource: str | None = None,
        field_manager: str | None = None,
        force: bool | None = None,
        impersonate: str | None = None,
        decode: bool = True,
    ) -> dict[str, Any]:
        """decode=False: the patched object is not decoded from the reply and {} is returned."""
        try:
            content_type = PATCH_CONTENT_TYPES[patch_type]
        except KeyError:
            raise ValueError(f"unknown patch type {patch_type!r}; want one of {sorted(PATCH_CONTENT_TYPES)}") from None
        params = {"fieldManager": field_manager, "force": _bool(force)}
        headers = {"Impersonate-User": impersonate} if impersonate else None
        path = self.path(namespace, name, subresource)
        result = await self.client.request("PATCH", path, patch, params, content_type, headers, decode=decode)
        return result if result is not None else {}

    async def delete(
        self,
        name: str,
        namespace: str | None = None,
        grace_period_seconds: int | None = None,
        propagation_policy: str | None = None,
        preconditions: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        options: dict[str, Any] = {"kind": "DeleteOptions", "apiVersion": "v1"}
        if grace_period_seconds is not None:
            options["gracePeriodSeconds"] = grace_period_seconds
        if propagation_policy:
            options["propagationPolicy"] = propagation_policy
        if preconditions:
            options["preconditions"] = preconditions
        result: dict[str, Any] = await self.client.request("DELETE", self.path(namespace, name), options)
        return result


def _namespace_of(obj: dict[str, Any]) -> str | None:
    ns = (obj.get("metadata") or {}).get("namespace")
    return str(ns) if ns else None


def _bool(value: bool | None) -> str | None:
    return None if value is None else ("true" if value else "false")


def _query(params: Mapping[str, Any] | None) -> str:
    if not params:
        return ""
    items = [(k, v) for k, v in params.items() if v is not None]
    return "?" + urlencode(items) if items else ""


def _encode_body(body: Any, content_type: str | None) -> tuple[bytes | None, dict[str, str]]:
    if body is None:
        return None, {}
    if isinstance(body, bytes | bytearray):
        data = bytes(body)
    elif isinstance(body, str):
        data = body.encode()
    else:
        data = orjson.dumps(body)
    return data, {"Content-Type": content_type or "application/json"}


def _decode(resp: Response) -> Any:
    if resp.content_type == "application/json" or resp.content_type.endswith("+json"):
        try:
            return orjson.loads(resp.body) if resp.body else {}
        except orjson.JSONDecodeError:
            return resp.body
    return resp.body


def _try_later(resp: Response) -> bool:
    """client-go's rule: a 429 or 5xx that says when to come back (Retry-After)."""
    return resp.retry_after is not None and (resp.status == 429 or resp.status >= 500)
