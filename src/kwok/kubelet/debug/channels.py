"""The kubelet's WebSocket channel protocol (k8s.io/apimachinery wsstream, remotecommand v4/v5).

Every binary frame starts with one byte naming its channel: 0 stdin, 1 stdout, 2 stderr,
3 error (the final metav1.Status as JSON), 4 resize (`{"Width":w,"Height":h}`). v5 adds 255,
"close": `[255, n]` from the client half-closes its channel n (stdin), which v4 cannot say.
Port-forward uses the same framing with a data and an error channel per requested port.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import orjson
from aiohttp import web

STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255
REMOTECOMMAND_PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io")
PORTFORWARD_PROTOCOLS = ("v4.channel.k8s.io",)


class StreamOptionsError(ValueError):
    """A remotecommand query the kubelet rejects with 400."""


@dataclass(frozen=True)
class StreamOptions:
    """What an exec or attach request asks for (remotecommand.NewOptions)."""

    stdin: bool
    stdout: bool
    stderr: bool
    tty: bool
    command: tuple[str, ...]

    @classmethod
    def from_query(cls, query: Any) -> StreamOptions:
        stdin, stdout, stderr, tty = (_flag(query, k) for k in ("stdin", "stdout", "stderr", "tty"))
        if not (stdin or stdout or stderr):
            raise StreamOptionsError("you must specify at least 1 of stdin, stdout, stderr")
        if tty and stderr:
            stderr = False  # a terminal has one output stream: stderr goes into stdout
        return cls(stdin, stdout, stderr, tty, tuple(query.getall("command", ())))


def _flag(query: Mapping[str, str], key: str) -> bool:
    return query.get(key, "") in ("1", "true", "True", "TRUE", "t", "T")


def is_websocket(request: web.Request) -> bool:
    return request.headers.get("Upgrade", "").lower() == "websocket"


class ChannelSocket:
    """A negotiated channel WebSocket (server side)."""

    def __init__(self, ws: web.WebSocketResponse) -> None:
        self.ws = ws
        self.protocol = ws.ws_protocol or ""

    @classmethod
    async def accept(cls, request: web.Request, protocols: tuple[str, ...]) -> ChannelSocket | web.Response:
        """Upgrade, or the 400 the kubelet gives when no offered subprotocol is supported."""
        offered = {p.strip() for p in request.headers.get("Sec-WebSocket-Protocol", "").split(",")}
        if not offered & set(protocols):
            return web.Response(
                status=400,
                text=f"unable to upgrade: unable to negotiate a WebSocket protocol; supported: {', '.join(protocols)}",
            )
        ws = web.WebSocketResponse(protocols=protocols, autoping=True, heartbeat=None, max_msg_size=0)
        await ws.prepare(request)
        return cls(ws)

    @property
    def can_half_close(self) -> bool:
        return self.protocol.startswith("v5.")

    @property
    def closed(self) -> bool:
        return self.ws.closed

    async def send(self, channel: int, data: bytes = b"") -> None:
        if not self.ws.closed:
            await self.ws.send_bytes(bytes((channel,)) + data)

    async def send_status(self, status: Mapping[str, Any]) -> None:
        await self.send(ERROR, orjson.dumps(status))

    async def frames(self) -> AsyncIterator[tuple[int, bytes]]:
        """(channel, payload) of each binary frame from the client, until it closes."""
        async for message in self.ws:
            if message.type == aiohttp.WSMsgType.BINARY and message.data:
                yield message.data[0], message.data[1:]
            elif message.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.ERROR):
                return

    async def close(self) -> None:
        await self.ws.close(code=aiohttp.WSCloseCode.OK)


def success() -> dict[str, Any]:
    return {"metadata": {}, "status": "Success"}


def non_zero_exit(code: int) -> dict[str, Any]:
    """What kubectl turns into `command terminated with exit code N` and its own exit code N."""
    return {
        "metadata": {},
        "status": "Failure",
        "message": f"command terminated with non-zero exit code: exit status {code}",
        "reason": "NonZeroExitCode",
        "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]},
    }


def internal_error(message: str) -> dict[str, Any]:
    """apierrors.NewInternalError, as the kubelet writes any other streaming failure."""
    return {
        "metadata": {},
        "status": "Failure",
        "message": f"Internal error occurred: {message}",
        "reason": "InternalError",
        "details": {"causes": [{"message": message}]},
        "code": 500,
    }
