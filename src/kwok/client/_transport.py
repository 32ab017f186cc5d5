"""Transports: how request bytes reach an API server.

`HTTPTransport` speaks HTTP/1.1 over TCP (optionally TLS) or a Unix socket through the
project's own keep-alive connections (`_connection`; see there why not aiohttp's client).
`Client` only needs `request` (whole body) and `stream` (body as chunks, for watches), so tests
can substitute an in-memory twin.

A request that fails on a reused connection before any byte of the reply arrived is sent again
once on a fresh connection if its method is idempotent (the server may have closed the idle
connection just as it was written), as aiohttp and Go's net/http do. Requests carry no
Accept-Encoding: compressing replies costs both sides CPU to save bandwidth a local API server
does not need (a server that compresses anyway is understood).
"""

from __future__ import annotations

import asyncio
import re
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import quote, urlsplit

from kwok.client._config import ClientConfig, Credentials
from kwok.client._connection import Connection, ConnectionPool
from kwok.client._errors import ApiError
from kwok.client._http11 import Headers, ProtocolError, ResponseHead, encode_request

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})
CONNECT_TIMEOUT = 10.0
# What may stand in a request target as it is; anything else is percent-encoded (as yarl did).
_PLAIN_TARGET = re.compile(r"[!-~]*")
_TARGET_SAFE = "/?&=%:@!$'()*+,;~-._[]#"


@dataclass(slots=True)
class Response:
    status: int
    content_type: str
    body: bytes
    retry_after: float | None = None


class StreamResponse(Protocol):
    status: int

    async def read(self) -> bytes: ...

    def chunks(self) -> AsyncIterator[bytes]: ...

    async def close(self) -> None: ...


class Transport(Protocol):
    async def request(
        self, method: str, url: str, headers: Headers, body: bytes | None, timeout: float | None
    ) -> Response: ...

    async def stream(self, url: str, headers: Headers, timeout: float | None) -> StreamResponse: ...

    async def set_credentials(self, creds: Credentials) -> None: ...

    async def close(self) -> None: ...


class _HTTPStream:
    """A reply whose body is read piece by piece; its connection goes back to the pool at the end."""

    def __init__(self, pool: ConnectionPool, conn: Connection, head: ResponseHead, url: str) -> None:
        self._pool: ConnectionPool | None = pool
        self._conn = conn
        self._url = url
        self.status = head.status

    async def read(self) -> bytes:
        try:
            return await self._conn.read_body()
        except (OSError, ProtocolError) as err:
            raise _no_reply("GET", self._url, err) from err
        finally:
            await self.close()

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            while data := await self._conn.read_some():
                yield data
        except TimeoutError as err:
            raise ApiError(0, "Timeout", f"watch idle too long: {err}") from err
        except (OSError, ProtocolError) as err:
            raise _no_reply("GET", self._url, err) from err
        finally:
            await self.close()

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.release(self._conn)  # closed unless the whole body was read


class HTTPTransport:
    """Keep-alive connections to one server: `unix:///path`, `http://host:port` or `https://...`."""

    def __init__(self, config: ClientConfig, max_connections: int = 100) -> None:
        self._max_connections = max_connections
        self._ssl: ssl.SSLContext | None = None
        self._server_hostname: str | None = None
        self._unix = config.unix_socket
        url = urlsplit("http://localhost" if self._unix is not None else config.server)
        self._tls = url.scheme == "https"
        self._host = url.hostname or "localhost"
        self._port = url.port or (443 if self._tls else 80)
        self._host_header = url.netloc.rpartition("@")[2]
        self._prefix = url.path.rstrip("/")  # a server URL may carry a path (an API proxy's)
        self._pool: ConnectionPool | None = None

    async def set_credentials(self, creds: Credentials) -> None:
        """Install a TLS context; a changed context (rotated client cert) means new connections."""
        if self._pool is not None and creds.ssl_context is self._ssl:
            return
        await self.close()
        self._ssl = creds.ssl_context
        self._server_hostname = creds.server_hostname

    def _ensure_pool(self) -> ConnectionPool:
        if self._pool is None:
            self._pool = ConnectionPool(self._connect, self._max_connections)
        return self._pool

    async def _connect(self) -> Connection:
        loop = asyncio.get_running_loop()
        if self._unix is not None:
            connecting = loop.create_unix_connection(Connection, self._unix)
        else:
            context = (self._ssl or ssl.create_default_context()) if self._tls else None
            hostname = (self._server_hostname or self._host) if context is not None else None
            connecting = loop.create_connection(
                Connection, self._host, self._port, ssl=context, server_hostname=hostname
            )
        try:
            _, conn = await asyncio.wait_for(connecting, CONNECT_TIMEOUT)
        except TimeoutError:
            raise ConnectionRefusedError(f"no connection within {CONNECT_TIMEOUT}s") from None
        return conn

    def _encode(self, method: str, url: str, headers: Headers, body: bytes | None) -> bytes:
        target = self._prefix + url
        if not _PLAIN_TARGET.fullmatch(target):
            target = quote(target, safe=_TARGET_SAFE)
        return encode_request(method, target, self._host_header, headers, body)

    async def request(
        self, method: str, url: str, headers: Headers, body: bytes | None, timeout: float | None
    ) -> Response:
        data = self._encode(method, url, headers, body)
        pool = self._ensure_pool()
        for retry in (False, True):
            try:
                conn = await pool.acquire()
            except OSError as err:
                raise _no_reply(method, url, err) from err
            stale = conn.used > 0
            try:
                conn.send(data, method == "HEAD", timeout)
                head = await conn.read_head()
                body_bytes = await conn.read_body()
            except TimeoutError as err:
                raise ApiError(0, "Timeout", f"{method} {url}: no reply within {timeout}s") from err
            except (OSError, ProtocolError) as err:
                if stale and not retry and not conn.received and method in IDEMPOTENT_METHODS:
                    continue
                raise _no_reply(method, url, err) from err
            finally:
                pool.release(conn)  # closed unless the reply is complete and the server keeps it open
            return Response(head.status, head.content_type, body_bytes, _retry_after(head.headers.get("retry-after")))
        raise AssertionError("unreachable")

    async def stream(self, url: str, headers: Headers, timeout: float | None) -> StreamResponse:
        """GET whose body is read as it arrives; `timeout` bounds the silence between two reads."""
        data = self._encode("GET", url, headers, None)
        pool = self._ensure_pool()
        for retry in (False, True):
            try:
                conn = await pool.acquire(stream=True)
            except OSError as err:
                raise _no_reply("GET", url, err) from err
            stale = conn.used > 0
            try:
                conn.send(data, False, None, timeout)
                head = await conn.read_head()
            except TimeoutError as err:
                pool.release(conn)
                raise ApiError(0, "Timeout", f"GET {url}: no reply within {timeout}s") from err
            except (OSError, ProtocolError) as err:
                pool.release(conn)
                if stale and not retry and not conn.received:
                    continue
                raise _no_reply("GET", url, err) from err
            except BaseException:
                pool.release(conn)
                raise
            return _HTTPStream(pool, conn, head, url)
        raise AssertionError("unreachable")

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()
            await asyncio.sleep(0)  # let the transports finish closing


def _no_reply(method: str, url: str, err: BaseException) -> ApiError:
    return ApiError(0, "ConnectionError", f"{method} {url}: {type(err).__name__}: {err}")


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
