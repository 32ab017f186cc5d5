"""/exec and /attach: the kubelet's remotecommand endpoints over Exec and Attach objects.

Like the kubelet, the WebSocket is upgraded first and any failure to find or run the target is
then reported as the Status on the error channel, so kubectl prints it as `error: ...`.
"""

from __future__ import annotations

import asyncio
import contextlib

from aiohttp import web

from kwok.kubelet.debug.channels import (
    REMOTECOMMAND_PROTOCOLS,
    STDERR,
    STDOUT,
    ChannelSocket,
    StreamOptions,
    StreamOptionsError,
    internal_error,
    is_websocket,
    success,
)
from kwok.kubelet.debug.crilog import LogOptions
from kwok.kubelet.debug.localexec import LocalExec, run_exec
from kwok.kubelet.debug.logfile import LogFileError, open_log, stream_log
from kwok.kubelet.debug.objects import ObjectSource
from kwok.kubelet.debug.selection import ATTACH, EXEC, TargetNotFound, select

SPDY_UNSUPPORTED = "SPDY streams are not supported by kwok; use a WebSocket client (kubectl 1.30 or later)"


async def _open(request: web.Request) -> tuple[ChannelSocket, StreamOptions] | web.Response:
    try:
        options = StreamOptions.from_query(request.query)
    except StreamOptionsError as err:
        return web.Response(status=400, text=str(err))
    if not is_websocket(request):
        return web.Response(status=400, text=SPDY_UNSUPPORTED)
    sock = await ChannelSocket.accept(request, REMOTECOMMAND_PROTOCOLS)
    if isinstance(sock, web.Response):
        return sock
    # The kubelet announces the stream with an empty frame on the lowest channel it writes.
    await sock.send(STDOUT if options.stdout else STDERR if options.stderr else 3)
    return sock, options


async def exec_handler(request: web.Request, source: ObjectSource) -> web.StreamResponse:
    opened = await _open(request)
    if isinstance(opened, web.Response):
        return opened
    sock, options = opened
    match = request.match_info
    try:
        target = select(EXEC, source.objects(EXEC.kind), source.objects(EXEC.cluster_kind),
                        match["namespace"], match["pod"], match["container"])
        local = target.get("local")
        if local is None:  # an empty `local: {}` is valid: run with kwok's own environment
            raise TargetNotFound("not set local exec")
        status = await run_exec(sock, options, LocalExec.from_target(local))
    except TargetNotFound as err:
        status = internal_error(f"error executing command in container: {err}")
    await _end(sock, status)
    return sock.ws


async def attach_handler(request: web.Request, source: ObjectSource) -> web.StreamResponse:
    opened = await _open(request)
    if isinstance(opened, web.Response):
        return opened
    sock, options = opened
    match = request.match_info
    try:
        target = select(ATTACH, source.objects(ATTACH.kind), source.objects(ATTACH.cluster_kind),
                        match["namespace"], match["pod"], match["container"])
        path = str(target.get("logsFile") or "")
        await _follow(sock, path, STDOUT if options.stdout else STDERR)
        status = success()
    except (TargetNotFound, LogFileError) as err:
        status = internal_error(f"error attaching to container: {err}")
    await _end(sock, status)
    return sock.ws


async def _follow(sock: ChannelSocket, path: str, channel: int) -> None:
    """New lines of the attach file until the client detaches (closes the socket)."""
    f = open_log(path)
    chunks = stream_log(f, path, LogOptions(tail=0, follow=True), alive=lambda: not sock.closed)
    reader = asyncio.create_task(_drain(sock))
    try:
        async for chunk in chunks:
            await sock.send(channel, chunk)
    finally:
        await chunks.aclose()
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader


async def _drain(sock: ChannelSocket) -> None:
    """Read (and drop) what the client sends: stdin is not attached to anything in kwok."""
    async for _ in sock.frames():
        pass


async def _end(sock: ChannelSocket, status: dict[str, object]) -> None:
    with contextlib.suppress(ConnectionError):
        await sock.send_status(status)
        await sock.close()
