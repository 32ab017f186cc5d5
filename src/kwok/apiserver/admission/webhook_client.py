"""Calling an admission webhook: where it is, TLS with its caBundle, a bounded POST.

`clientConfig.url` is called as given. `clientConfig.service` is resolved through the store, because
on a simulated cluster nothing routes a Service's ClusterIP: an ExternalName Service goes to its
external name; otherwise the first ready endpoint of the Service's EndpointSlices (a developer
points them at the webhook process on their machine); otherwise the ClusterIP. The TLS server name
stays `<service>.<namespace>.svc`, as kube-apiserver verifies it, so the same serving certificate
works here and on a real cluster.

Every call has a deadline (the webhook's timeoutSeconds, 1..30 s) and runs on the event loop
without blocking it: a slow webhook delays only the request it admits. Failures are worded as
Go's net/http words them, since users match on them in logs and tests.
"""

from __future__ import annotations

import asyncio
import base64
import errno
import functools
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp
import orjson

from kwok.apiserver.registry import Lookup

Obj = dict[str, Any]
MAX_RESPONSE = 3 * 1024 * 1024 + 1024


class CallError(Exception):
    """The webhook could not be called or answered unusably (subject to failurePolicy)."""


class ClientError(CallError):
    """No client could be made for the webhook (a bad caBundle): nothing was sent."""


@dataclass(frozen=True)
class Endpoint:
    url: str                       # where to connect, without the timeout parameter
    server_name: str | None        # TLS name to verify when it differs from the URL's host
    ca_bundle: str
    shown: str = ""                # the URL errors name (a Service's DNS name, as Go's client shows it)


async def call(client_config: Obj, lookup: Lookup, body: Obj, timeout: int) -> Any:
    """Resolve the webhook and POST the review to it (CallError when either fails)."""
    endpoint = await resolve(client_config, lookup, timeout)
    return await post(endpoint, body, timeout)


async def resolve(client_config: Obj, lookup: Lookup, timeout: int = 10) -> Endpoint:
    ca = client_config.get("caBundle") or ""
    if client_config.get("url"):
        return Endpoint(client_config["url"], None, ca, client_config["url"])
    service = client_config.get("service") or {}
    namespace, name = service.get("namespace", ""), service.get("name", "")
    port, path = int(service.get("port") or 443), service.get("path") or "/"
    server_name = f"{name}.{namespace}.svc"
    shown = f"https://{server_name}:{port}{path}"
    try:
        host, host_port = await _service_address(lookup, namespace, name, port)
    except CallError as err:
        raise CallError(f'Post "{_with_timeout(shown, timeout)}": {err}') from None
    return Endpoint(f"https://{_bracket(host)}:{host_port}{path}", server_name, ca, shown)


async def _service_address(lookup: Lookup, namespace: str, name: str, port: int) -> tuple[str, int]:
    svc = await lookup.get("", "services", namespace, name)
    if svc is None:
        raise CallError(f'service "{name}" not found')
    spec = svc.get("spec") or {}
    if spec.get("type") == "ExternalName":
        return spec.get("externalName", ""), port
    target = _target_port(spec, port)
    for address, slice_port in await _ready_endpoints(lookup, namespace, name, target):
        return address, slice_port
    if spec.get("clusterIP") in (None, "", "None"):
        raise CallError(f'no endpoints available for service "{name}"')
    return spec["clusterIP"], port


def _target_port(spec: Obj, port: int) -> tuple[str, int | str]:
    for p in spec.get("ports") or ():
        if p.get("port") == port:
            return p.get("name", ""), p.get("targetPort", port)
    return "", port


async def _ready_endpoints(lookup: Lookup, namespace: str, service: str,
                           target: tuple[str, int | str]) -> list[tuple[str, int]]:
    found = []
    for eps in await lookup.list("discovery.k8s.io", "endpointslices", namespace):
        if ((eps.get("metadata") or {}).get("labels") or {}).get("kubernetes.io/service-name") != service:
            continue
        port = next((p.get("port") for p in eps.get("ports") or () if p.get("name", "") == target[0]), None)
        port = port or (target[1] if isinstance(target[1], int) else None)
        for ep in eps.get("endpoints") or ():
            if (ep.get("conditions") or {}).get("ready", True) is not False and ep.get("addresses") and port:
                found.append((ep["addresses"][0], int(port)))
    return found


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def tls_context(ca_bundle: str) -> ssl.SSLContext:
    """A client TLS context trusting the caBundle (system roots when it is empty)."""
    try:
        return _tls_context(ca_bundle)
    except (ValueError, ssl.SSLError):
        raise ClientError("could not get REST client: unable to load root certificates: "
                        "unable to parse bytes as PEM block") from None


@functools.lru_cache(maxsize=64)
def _tls_context(ca_bundle: str) -> ssl.SSLContext:
    if not ca_bundle:
        return ssl.create_default_context()
    return ssl.create_default_context(cadata=base64.b64decode(ca_bundle, validate=True).decode())


_pool: list[tuple[asyncio.AbstractEventLoop, aiohttp.ClientSession]] = []


def _session() -> aiohttp.ClientSession:
    """A pooled session of the running loop (connections to a webhook are reused, as by Go's
    client); the server runs one loop for its life, tests one per test."""
    loop = asyncio.get_running_loop()
    if not _pool or _pool[0][0] is not loop or _pool[0][1].closed:
        connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=10)
        _pool[:] = [(loop, aiohttp.ClientSession(connector=connector))]
    return _pool[0][1]


async def close() -> None:
    """Close the pooled connections (at shutdown)."""
    if _pool:
        await _pool.pop()[1].close()


def _with_timeout(url: str, timeout: int) -> str:
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}timeout={quote(str(timeout))}s"


async def post(endpoint: Endpoint, body: Obj, timeout: int) -> Any:
    """POST the review; the decoded answer, or CallError worded as Go's client words it."""
    context = tls_context(endpoint.ca_bundle) if endpoint.url.startswith("https:") else None
    try:
        return await _post(endpoint, body, timeout, context)
    except CallError as err:
        raise CallError(f'Post "{_with_timeout(endpoint.shown or endpoint.url, timeout)}": {err}') from None


async def _post(endpoint: Endpoint, body: Obj, timeout: int, context: ssl.SSLContext | None) -> Any:
    url = _with_timeout(endpoint.url, timeout)
    kwargs: dict[str, Any] = {}
    if context is not None:
        kwargs["ssl"] = context
        if endpoint.server_name:
            kwargs["server_hostname"] = endpoint.server_name
    try:
        async with asyncio.timeout(timeout):
            async with _session().post(url, data=orjson.dumps(body), headers=_HEADERS, **kwargs) as resp:
                raw = await resp.content.read(MAX_RESPONSE)
                status = resp.status
    except TimeoutError:
        raise CallError("context deadline exceeded") from None
    except aiohttp.ClientConnectorCertificateError as err:
        raise CallError(f"tls: failed to verify certificate: {_cert_reason(err)}") from None
    except aiohttp.ClientConnectorError as err:
        raise CallError(_dial_error(err)) from None
    except (aiohttp.ClientError, OSError, ValueError) as err:
        raise CallError(str(err) or type(err).__name__) from None
    return _decode(status, raw)


_HEADERS = {"Content-Type": "application/json", "Accept": "application/json, */*"}


def _decode(status: int, raw: bytes) -> Any:
    if not 200 <= status < 300:
        text = raw.decode(errors="replace").strip()
        raise CallError(f'an error on the server ("{text[:256]}") has prevented the request from succeeding')
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as err:
        raise CallError(f"decoding the webhook response: {err}") from None


def _cert_reason(err: aiohttp.ClientConnectorCertificateError) -> str:
    text = str(err.certificate_error)
    if "unable to get local issuer" in text or "self-signed" in text or "self signed" in text:
        return "x509: certificate signed by unknown authority"
    if "Hostname mismatch" in text or "IP address mismatch" in text:
        return f"x509: certificate is not valid for the requested name ({text})"
    return text


def _dial_error(err: aiohttp.ClientConnectorError) -> str:
    address = f"{err.host}:{err.port}"
    if err.os_error.errno == errno.ECONNREFUSED or "Connect call failed" in str(err.os_error):
        return f"dial tcp {address}: connect: connection refused"
    if isinstance(err.os_error, ssl.SSLError):
        return f"remote error: tls: {err.os_error.reason or err.os_error}"
    return f"dial tcp {address}: {err.os_error.strerror or err.os_error}"
