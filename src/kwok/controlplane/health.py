"""The health and metrics endpoint of the scheduler and controller manager.

`/healthz`, `/livez` and `/readyz` answer `ok` (readyz only once the informers have synced, as the
real components' informer-sync check does); `/metrics` serves the Prometheus registry.

Four GET routes do not need a web framework: this is a small HTTP/1.1 server on asyncio streams
(keep-alive, HEAD, TLS when given a context). Importing aiohttp's server would cost the process
about 11 MB of resident memory, a fifth of an idle controller manager, for nothing these routes use.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Callable

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

TEXT = "text/plain; charset=utf-8"
MAX_HEAD = 64 * 1024          # request line and headers
MAX_BODY = 1024 * 1024        # a body is read and dropped (no route takes one)
IDLE_TIMEOUT = 90.0           # an idle keep-alive connection is closed after this (as Go's server)
REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
           413: "Request Entity Too Large", 431: "Request Header Fields Too Large",
           500: "Internal Server Error"}


class HealthServer:
    def __init__(self, bind_address: str, port: int, ready: Callable[[], bool],
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self.bind_address = bind_address
        self.port = port
        self.ssl_context = ssl_context
        self.ready = ready
        self._server: asyncio.Server | None = None
        self._connections: dict[asyncio.Task[None], asyncio.StreamWriter] = {}

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._connection, self.bind_address, self.port,
                                                  ssl=self.ssl_context, limit=MAX_HEAD)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self.port

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.close()
        # Closing the transports ends each connection's read (not a cancellation: asyncio's stream
        # protocol would log a cancelled handler as an error).
        for writer in list(self._connections.values()):
            writer.transport.abort()
        if self._connections:
            await asyncio.wait(list(self._connections), timeout=0.5)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._server.wait_closed(), 0.5)

    def route(self, method: str, path: str) -> tuple[int, str, bytes]:
        """(status, content type, body) for a request."""
        path = path.split("?", 1)[0]
        if path in ("/healthz", "/livez", "/readyz", "/metrics") and method not in ("GET", "HEAD"):
            return 405, TEXT, b"405 method not allowed\n"
        if path in ("/healthz", "/livez"):
            return 200, TEXT, b"ok"
        if path == "/readyz":
            if self.ready():
                return 200, TEXT, b"ok"
            return 500, TEXT, b"[-]informer-sync failed: not synced\nreadyz check failed\n"
        if path == "/metrics":
            return 200, CONTENT_TYPE_LATEST, generate_latest(REGISTRY)
        return 404, TEXT, b"404 page not found\n"

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections[task] = writer
        try:
            while await self._exchange(reader, writer):
                pass
        except (TimeoutError, ConnectionError, asyncio.IncompleteReadError, ssl.SSLError):
            pass
        finally:
            self._connections.pop(task, None)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Serve one request; False once the connection is to be closed."""
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), IDLE_TIMEOUT)
        except asyncio.LimitOverrunError:
            await _respond(writer, 431, TEXT, b"431 request header fields too large\n", close=True)
            return False
        except asyncio.IncompleteReadError:
            return False
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            await _respond(writer, 400, TEXT, b"400 bad request\n", close=True)
            return False
        method, target, version = parts
        headers = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        connection = headers.get("connection", "").lower()
        keep = "close" not in connection if version == "HTTP/1.1" else "keep-alive" in connection
        if "chunked" in headers.get("transfer-encoding", "").lower():
            await _respond(writer, 400, TEXT, b"400 bad request: chunked bodies are not accepted\n", close=True)
            return False
        length = headers.get("content-length", "0")
        if not length.isdigit() or int(length) > MAX_BODY:
            await _respond(writer, 413 if length.isdigit() else 400, TEXT, b"bad request body\n", close=True)
            return False
        if int(length):
            await reader.readexactly(int(length))
        status, content_type, body = self.route(method, target)
        await _respond(writer, status, content_type, b"" if method == "HEAD" else body,
                       close=not keep, length=len(body))
        return keep


async def _respond(writer: asyncio.StreamWriter, status: int, content_type: str, body: bytes, *,
                   close: bool, length: int | None = None) -> None:
    head = (f"HTTP/1.1 {status} {REASONS.get(status, '')}\r\n"
            f"Content-Type: {content_type}\r\n"
            "X-Content-Type-Options: nosniff\r\n"
            f"Content-Length: {len(body) if length is None else length}\r\n"
            + ("Connection: close\r\n" if close else "")
            + "\r\n")
    writer.write(head.encode("latin-1") + body)
    await writer.drain()
