"""Transports: how request bytes reach an API server.

`HTTPTransport` speaks HTTP/1.1 through aiohttp over TCP (optionally TLS) or a Unix socket.
`Client` only needs `request` (whole body) and `stream` (body as chunks, for watches), so tests
can substitute an in-memory twin (see `_memory.MemoryTransport`).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Protocol

import aiohttp

from kwok.client._config import ClientConfig, Credentials
from kwok.client._errors import ApiError


@dataclass
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
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: float | None
    ) -> Response: ...

    async def stream(self, url: str, headers: Mapping[str, str], timeout: float | None) -> StreamResponse: ...

    async def set_credentials(self, creds: Credentials) -> None: ...

    async def close(self) -> None: ...


class _AiohttpStream:
    def __init__(self, resp: aiohttp.ClientResponse) -> None:
        self._resp = resp
        self.status = resp.status

    async def read(self) -> bytes:
        try:
            return await self._resp.read()
        finally:
            self._resp.release()

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._resp.content.iter_any():
                yield chunk
        except (aiohttp.ClientError, OSError) as err:
            raise connection_error(err) from err
        except TimeoutError as err:
            raise ApiError(0, "Timeout", f"watch idle too long: {err}") from err

    async def close(self) -> None:
        self._resp.close()


class HTTPTransport:
    """aiohttp session bound to one server; a Unix-socket server gets a UnixConnector."""

    def __init__(self, config: ClientConfig, max_connections: int = 100) -> None:
        self._config = config
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None
        self._ssl: object = None
        self._server_hostname: str | None = None
        sock = config.unix_socket
        self._base = "http://localhost" if sock is not None else config.server

    async def set_credentials(self, creds: Credentials) -> None:
        """Install a TLS context; a changed context (rotated client cert) means a new session."""
        if self._session is not None and creds.ssl_context is self._ssl:
            return
        await self.close()
        self._ssl = creds.ssl_context
        self._server_hostname = creds.server_hostname

    def _ensure_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            sock = self._config.unix_socket
            connector: aiohttp.BaseConnector
            if sock is not None:
                connector = aiohttp.UnixConnector(path=sock, limit=self._max_connections)
            else:
                ssl_arg = self._ssl if self._ssl is not None else True
                connector = aiohttp.TCPConnector(limit=self._max_connections, ssl=ssl_arg)  # type: ignore[arg-type]
            self._session = aiohttp.ClientSession(
                connector=connector,
                auto_decompress=True,
                skip_auto_headers=("User-Agent",),
                timeout=aiohttp.ClientTimeout(total=None),
            )
        return self._session

    def _kwargs(self, timeout: float | None, sock_read: float | None = None) -> dict[str, object]:
        kwargs: dict[str, object] = {
            "timeout": aiohttp.ClientTimeout(total=timeout, sock_connect=10, sock_read=sock_read)
        }
        if self._server_hostname:
            kwargs["server_hostname"] = self._server_hostname
        return kwargs

    async def request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, timeout: float | None
    ) -> Response:
        session = self._ensure_session()
        try:
            async with session.request(
                method, self._base + url, headers=dict(headers), data=body, **self._kwargs(timeout)  # type: ignore[arg-type]
            ) as resp:
                data = await resp.read()
                return Response(resp.status, resp.content_type, data, _retry_after(resp.headers.get("Retry-After")))
        except (aiohttp.ClientError, OSError) as err:
            raise connection_error(err) from err
        except TimeoutError as err:
            raise ApiError(0, "Timeout", f"{method} {url}: no reply within {timeout}s") from err

    async def stream(self, url: str, headers: Mapping[str, str], timeout: float | None) -> StreamResponse:
        session = self._ensure_session()
        try:
            resp = await session.get(self._base + url, headers=dict(headers), **self._kwargs(None, timeout))  # type: ignore[arg-type]
        except (aiohttp.ClientError, OSError) as err:
            raise connection_error(err) from err
        except TimeoutError as err:
            raise ApiError(0, "Timeout", f"GET {url}: no reply within {timeout}s") from err
        return _AiohttpStream(resp)

    async def close(self) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()
            await asyncio.sleep(0)  # let aiohttp's transports finish closing


def connection_error(err: BaseException) -> ApiError:
    return ApiError(0, "ConnectionError", f"{type(err).__name__}: {err}")


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
