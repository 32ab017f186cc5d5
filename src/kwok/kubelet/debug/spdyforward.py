"""Port-forward as kubectl 1.31+ speaks it: SPDY streams tunnelled through a WebSocket.

The client opens, per forwarded connection, an error stream and a data stream whose headers
carry `streamtype`, `port` and `requestid`; once both of a request are open the server connects
to the forward's target and copies bytes between it and the data stream. A failure is written
to the error stream (which kubectl prints) and both streams are closed, as the kubelet does.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

from kwok.kubelet.debug.objects import ObjectSource
from kwok.kubelet.debug.portforward import READ, SPDY_TUNNEL_PROTOCOL, close_forward, open_forward
from kwok.kubelet.debug.selection import TargetNotFound
from kwok.kubelet.debug.spdy import Data, GoAway, Ping, Reset, Session, SynStream


@dataclass
class _Request:
    """One forwarded connection: its two streams and what the client sent on the data stream."""

    port: int
    error_id: int = 0
    data_id: int = 0
    inbox: asyncio.Queue[bytes | None] = field(default_factory=asyncio.Queue)
    task: asyncio.Task[None] | None = None


class _Tunnel:
    def __init__(self, ws: web.WebSocketResponse, source: ObjectSource, namespace: str, pod: str) -> None:
        self.ws, self.source, self.namespace, self.pod = ws, source, namespace, pod
        self.session = Session()
        self.requests: dict[str, _Request] = {}
        self.by_stream: dict[int, _Request] = {}
        self.lock = asyncio.Lock()  # the deflate stream and frame order are shared by all streams

    async def send(self, build: Callable[..., bytes], *args: object) -> None:
        async with self.lock:
            frame = build(*args)
            if not self.ws.closed:
                await self.ws.send_bytes(frame)

    async def run(self) -> None:
        async for message in self.ws:
            if message.type != aiohttp.WSMsgType.BINARY:
                continue
            for event in self.session.receive(message.data):
                if isinstance(event, GoAway):
                    return
                await self.handle(event)

    async def handle(self, event: SynStream | Data | Reset | Ping) -> None:
        if isinstance(event, Ping):
            await self.send(self.session.ping, event.ping_id)
        elif isinstance(event, SynStream):
            await self.open_stream(event)
        elif isinstance(event, Data):
            request = self.by_stream.get(event.stream_id)
            if request is not None and event.stream_id == request.data_id:
                if event.data:
                    request.inbox.put_nowait(event.data)
                if event.fin:
                    request.inbox.put_nowait(None)
        elif isinstance(event, Reset):
            request = self.by_stream.get(event.stream_id)
            if request is not None and request.task is not None:
                request.task.cancel()

    async def open_stream(self, event: SynStream) -> None:
        kind, key = event.headers.get("streamtype", ""), event.headers.get("requestid", "")
        try:
            port = int(event.headers.get("port", ""))
        except ValueError:
            port = 0
        if kind not in ("data", "error") or not 0 < port < 65536:
            await self.send(self.session.syn_reply, event.stream_id, True)  # rejected, as the kubelet
            return
        await self.send(self.session.syn_reply, event.stream_id, False)
        request = self.requests.setdefault(key or str(event.stream_id), _Request(port))
        setattr(request, f"{kind}_id", event.stream_id)
        self.by_stream[event.stream_id] = request
        if request.error_id and request.data_id:
            request.task = asyncio.create_task(self.forward(request))

    async def forward(self, request: _Request) -> None:
        try:
            reader, writer, proc = await open_forward(self.source, self.namespace, self.pod, request.port)
        except (TargetNotFound, OSError) as err:
            message = f"error forwarding port {request.port} to pod {self.namespace}/{self.pod}: {err}"
            await self.send(self.session.data, request.error_id, message.encode(), True)
            await self.send(self.session.data, request.data_id, b"", True)
            return
        try:
            await self.copy(request, reader, writer)
        finally:
            await close_forward(writer, proc)
            await self.send(self.session.data, request.data_id, b"", True)
            await self.send(self.session.data, request.error_id, b"", True)

    async def copy(self, request: _Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def upstream() -> None:
            while (data := await request.inbox.get()) is not None:
                writer.write(data)
                await writer.drain()
            if writer.can_write_eof():
                writer.write_eof()

        sender = asyncio.create_task(upstream())
        try:
            while data := await reader.read(READ):
                await self.send(self.session.data, request.data_id, data, False)
        except ConnectionError:
            pass
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError):
                await sender

    async def close(self) -> None:
        tasks = [r.task for r in self.requests.values() if r.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        with contextlib.suppress(ConnectionError):
            await self.ws.close()


async def serve_spdy_tunnel(request: web.Request, source: ObjectSource) -> web.StreamResponse:
    ws = web.WebSocketResponse(protocols=(SPDY_TUNNEL_PROTOCOL,), max_msg_size=0)
    await ws.prepare(request)
    tunnel = _Tunnel(ws, source, request.match_info["namespace"], request.match_info["pod"])
    try:
        await tunnel.run()
    finally:
        await tunnel.close()
    return ws
