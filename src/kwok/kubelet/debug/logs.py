"""GET /containerLogs/{namespace}/{pod}/{container}: the kubelet's log endpoint over Logs objects."""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator

from aiohttp import web

from kwok.kubelet.debug.crilog import LogOptions, QueryError
from kwok.kubelet.debug.logfile import LogFileError, open_log, stream_log
from kwok.kubelet.debug.objects import ObjectSource
from kwok.kubelet.debug.selection import LOGS, TargetNotFound, select


def log_file(source: ObjectSource, namespace: str, pod: str, container: str, previous: bool) -> str:
    entry = select(LOGS, source.objects(LOGS.kind), source.objects(LOGS.cluster_kind), namespace, pod, container)
    return str(entry.get("previousLogsFile" if previous else "logsFile") or "")


async def container_logs(request: web.Request, source: ObjectSource) -> web.StreamResponse:
    match = request.match_info
    try:
        options = LogOptions.from_query(request.query, time.time_ns())
    except QueryError:
        return web.Response(status=400, text='{"message": "Unable to decode query."}')
    try:
        path = log_file(source, match["namespace"], match["pod"], match["container"], options.previous)
        f = open_log(path)
    except (TargetNotFound, LogFileError) as err:
        return web.Response(status=400, text=str(err))
    with f:
        return await _stream(request, stream_log(f, path, options, alive=lambda: _connected(request)))


async def _stream(request: web.Request, chunks: AsyncGenerator[bytes, None]) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/plain; charset=utf-8"})
    response.enable_chunked_encoding()
    try:
        await response.prepare(request)
        async for chunk in chunks:
            await response.write(chunk)
        await response.write_eof()
    except ConnectionResetError:
        pass  # the client went away (`kubectl logs -f` interrupted)
    finally:
        await chunks.aclose()
    return response


def _connected(request: web.Request) -> bool:
    transport = request.transport
    return transport is not None and not transport.is_closing()
