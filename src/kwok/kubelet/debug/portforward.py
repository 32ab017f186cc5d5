"""/portForward/{namespace}/{pod}: the kubelet's WebSocket port-forward over PortForward objects.

Protocol v4.channel.k8s.io: for the i-th `port` query value, channel 2i carries data both ways
and channel 2i+1 errors (server to client); the server opens each channel with the port as two
little-endian bytes. Each forward either dials `target.address:target.port` or runs `command`
with the stream as its stdin and stdout. The socket closes when every forward has ended.
kubectl itself tunnels SPDY through the WebSocket instead (see `spdyforward`).
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from kwok.kubelet.debug.channels import PORTFORWARD_PROTOCOLS, ChannelSocket, is_websocket
from kwok.kubelet.debug.objects import ObjectSource
from kwok.kubelet.debug.selection import PORT_FORWARD, TargetNotFound, select

READ = 65536
SPDY_TUNNEL_PROTOCOL = "SPDY/3.1+portforward.k8s.io"  # kubectl 1.31+: SPDY inside a WebSocket


class PortsError(ValueError):
    """A port query the kubelet rejects with 400."""


def parse_ports(query: Any) -> list[int]:
    """portforward.NewV4Options: one or more `port` values, each possibly comma-separated."""
    values = list(query.getall("port", ())) + list(query.getall("ports", ()))
    if not values:
        raise PortsError('query parameter "port" is required')
    ports = []
    for value in values:
        if not value:
            raise PortsError('query parameter "port" cannot be empty')
        for part in value.split(","):
            if not part.isdigit() or int(part) > 65535:
                raise PortsError(f'unable to parse "{value}" as a port')
            if int(part) < 1:
                raise PortsError(f'port "{value}" must be > 0')
            ports.append(int(part))
    return ports


async def port_forward_handler(request: web.Request, source: ObjectSource) -> web.StreamResponse:
    if _offered(request, SPDY_TUNNEL_PROTOCOL):
        from kwok.kubelet.debug.spdyforward import serve_spdy_tunnel

        return await serve_spdy_tunnel(request, source)
    try:
        ports = parse_ports(request.query)
    except PortsError as err:
        return web.Response(status=400, text=str(err))
    if not is_websocket(request):
        return web.Response(status=400, text="SPDY port-forward is not supported by kwok; use a WebSocket client")
    sock = await ChannelSocket.accept(request, PORTFORWARD_PROTOCOLS)
    if isinstance(sock, web.Response):
        return sock
    namespace, pod = request.match_info["namespace"], request.match_info["pod"]
    inboxes: list[asyncio.Queue[bytes | None]] = [asyncio.Queue() for _ in ports]
    for i, port in enumerate(ports):
        prefix = struct.pack("<H", port)
        await sock.send(2 * i, prefix)
        await sock.send(2 * i + 1, prefix)
    forwards = [
        asyncio.create_task(_forward(sock, source, namespace, pod, port, i, inboxes[i])) for i, port in enumerate(ports)
    ]
    router = asyncio.create_task(_route(sock, inboxes))
    all_ended = asyncio.ensure_future(asyncio.gather(*forwards))
    waiting: set[asyncio.Future[Any]] = {router, all_ended}
    await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
    for task in [router, *forwards]:
        task.cancel()
    await asyncio.gather(router, *forwards, return_exceptions=True)
    with contextlib.suppress(ConnectionError):
        await sock.close()
    return sock.ws


def _offered(request: web.Request, protocol: str) -> bool:
    offered = {p.strip() for p in request.headers.get("Sec-WebSocket-Protocol", "").split(",")}
    return is_websocket(request) and protocol in offered


async def _route(sock: ChannelSocket, inboxes: list[asyncio.Queue[bytes | None]]) -> None:
    """Client data frames to the forward of their channel; None to all when the client leaves."""
    async for channel, data in sock.frames():
        if channel % 2 == 0 and channel // 2 < len(inboxes):
            inboxes[channel // 2].put_nowait(data)
    for inbox in inboxes:
        inbox.put_nowait(None)


async def _forward(
    sock: ChannelSocket, source: ObjectSource, namespace: str, pod: str, port: int, index: int,
    inbox: asyncio.Queue[bytes | None],
) -> None:
    try:
        reader, writer, proc = await open_forward(source, namespace, pod, port)
    except (TargetNotFound, OSError) as err:
        await sock.send(2 * index + 1, f"error forwarding port {port} to pod {namespace}/{pod}: {err}".encode())
        return
    try:
        await _tunnel(sock, 2 * index, reader, writer, inbox)
    finally:
        await close_forward(writer, proc)


Forward = tuple[asyncio.StreamReader, asyncio.StreamWriter, asyncio.subprocess.Process | None]


async def open_forward(source: ObjectSource, namespace: str, pod: str, port: int) -> Forward:
    """The connection (or command) behind a pod port; raises TargetNotFound or OSError."""
    forward = select(PORT_FORWARD, source.objects(PORT_FORWARD.kind),
                     source.objects(PORT_FORWARD.cluster_kind), namespace, pod, port)
    return await _connect(forward)


async def close_forward(writer: asyncio.StreamWriter, proc: asyncio.subprocess.Process | None) -> None:
    writer.close()
    if proc is not None and proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()


async def _connect(forward: Mapping[str, Any]) -> Forward:
    command = [str(c) for c in forward.get("command") or []]
    if command:
        pipe = asyncio.subprocess.PIPE
        proc = await asyncio.create_subprocess_exec(*command, stdin=pipe, stdout=pipe)
        assert proc.stdout is not None and proc.stdin is not None
        return proc.stdout, proc.stdin, proc
    target = forward.get("target")
    if not target:
        raise OSError("no target or command")
    address, target_port = str(target.get("address") or "localhost"), int(target.get("port") or 0)
    try:
        reader, writer = await asyncio.open_connection(address, target_port)
    except OSError as err:
        raise OSError(f"failed to dial {address}:{target_port}: {err.strerror or err}") from None
    return reader, writer, None


async def _tunnel(
    sock: ChannelSocket, channel: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
    inbox: asyncio.Queue[bytes | None],
) -> None:
    async def upstream() -> None:
        while (data := await inbox.get()) is not None:
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()

    sender = asyncio.create_task(upstream())
    try:
        while data := await reader.read(READ):
            await sock.send(channel, data)
    except ConnectionError:
        pass
    finally:
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await sender
