"""SPDY/3.1 framing, server side, as Kubernetes streams speak it (sans I/O).

kubectl 1.31+ runs `port-forward` as SPDY inside a WebSocket (subprotocol
`SPDY/3.1+portforward.k8s.io`): every binary message carries a piece of the SPDY byte stream.
This module turns received bytes into events and builds the frames a server sends; the caller
moves the bytes. Header blocks are zlib streams primed with SPDY/3's fixed dictionary, one
stream per direction for the whole session. Flow control is not enforced, as in the Go
implementation Kubernetes uses.
"""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass

VERSION = 3
SYN_STREAM, SYN_REPLY, RST_STREAM, SETTINGS, PING, GOAWAY, HEADERS, WINDOW_UPDATE = 1, 2, 3, 4, 6, 7, 8, 9
FLAG_FIN = 0x01
RST_CANCEL = 5


class ProtocolError(ValueError):
    """Bytes that are not SPDY/3."""


@dataclass(frozen=True)
class SynStream:
    stream_id: int
    headers: dict[str, str]
    fin: bool


@dataclass(frozen=True)
class Data:
    stream_id: int
    data: bytes
    fin: bool


@dataclass(frozen=True)
class Reset:
    stream_id: int
    status: int


@dataclass(frozen=True)
class Ping:
    ping_id: int


@dataclass(frozen=True)
class GoAway:
    last_stream_id: int


Event = SynStream | Data | Reset | Ping | GoAway


def _dictionary() -> bytes:
    from spdy.dictionary import zdict  # SPDY/3's header dictionary (spec §2.6.10.1)

    return bytes(zdict)


class Session:
    """One SPDY session: feed it received bytes, ask it for frames to send."""

    def __init__(self) -> None:
        dictionary = _dictionary()
        self._inflate = zlib.decompressobj(zdict=dictionary)
        self._deflate = zlib.compressobj(zlib.Z_BEST_COMPRESSION, zlib.DEFLATED, 15, zdict=dictionary)
        self._buffer = b""

    def receive(self, data: bytes) -> list[Event]:
        self._buffer += data
        events: list[Event] = []
        while len(self._buffer) >= 8:
            length = int.from_bytes(self._buffer[5:8], "big")
            if len(self._buffer) < 8 + length:
                break
            head, payload = self._buffer[:8], self._buffer[8 : 8 + length]
            self._buffer = self._buffer[8 + length :]
            event = self._frame(head, payload)
            if event is not None:
                events.append(event)
        return events

    def _frame(self, head: bytes, payload: bytes) -> Event | None:
        word, flags = struct.unpack(">I", head[:4])[0], head[4]
        if not word & 0x80000000:
            return Data(word & 0x7FFFFFFF, payload, bool(flags & FLAG_FIN))
        version, kind = (word >> 16) & 0x7FFF, word & 0xFFFF
        if version != VERSION:
            raise ProtocolError(f"unsupported SPDY version {version}")
        if kind == SYN_STREAM:
            stream_id = struct.unpack(">I", payload[:4])[0] & 0x7FFFFFFF
            return SynStream(stream_id, self._headers(payload[10:]), bool(flags & FLAG_FIN))
        if kind == HEADERS:
            self._headers(payload[4:])  # keep the shared zlib stream in step; nothing to act on
        elif kind == RST_STREAM:
            stream_id, status = struct.unpack(">II", payload[:8])
            return Reset(stream_id & 0x7FFFFFFF, status)
        elif kind == PING:
            return Ping(struct.unpack(">I", payload[:4])[0])
        elif kind == GOAWAY:
            return GoAway(struct.unpack(">I", payload[:4])[0] & 0x7FFFFFFF)
        return None  # SETTINGS, WINDOW_UPDATE, SYN_REPLY (servers get none): nothing to do

    def _headers(self, block: bytes) -> dict[str, str]:
        raw = self._inflate.decompress(block)
        count, pos, out = struct.unpack(">I", raw[:4])[0], 4, {}
        for _ in range(count):
            name_len = struct.unpack(">I", raw[pos : pos + 4])[0]
            name = raw[pos + 4 : pos + 4 + name_len].decode()
            pos += 4 + name_len
            value_len = struct.unpack(">I", raw[pos : pos + 4])[0]
            out[name.lower()] = raw[pos + 4 : pos + 4 + value_len].decode().split("\0")[0]
            pos += 4 + value_len
        return out

    def _control(self, kind: int, flags: int, payload: bytes) -> bytes:
        return struct.pack(">HHI", 0x8000 | VERSION, kind, (flags << 24) | len(payload)) + payload

    def _header_block(self, headers: dict[str, str]) -> bytes:
        raw = struct.pack(">I", len(headers))
        for name, value in headers.items():
            raw += struct.pack(">I", len(name)) + name.encode() + struct.pack(">I", len(value)) + value.encode()
        return self._deflate.compress(raw) + self._deflate.flush(zlib.Z_SYNC_FLUSH)

    def syn_reply(self, stream_id: int, fin: bool = False) -> bytes:
        payload = struct.pack(">I", stream_id) + self._header_block({})
        return self._control(SYN_REPLY, FLAG_FIN if fin else 0, payload)

    def data(self, stream_id: int, data: bytes, fin: bool = False) -> bytes:
        return struct.pack(">II", stream_id, ((FLAG_FIN if fin else 0) << 24) | len(data)) + data

    def reset(self, stream_id: int, status: int = RST_CANCEL) -> bytes:
        return self._control(RST_STREAM, 0, struct.pack(">II", stream_id, status))

    def ping(self, ping_id: int) -> bytes:
        return self._control(PING, 0, struct.pack(">I", ping_id))

    def goaway(self, last_stream_id: int) -> bytes:
        return self._control(GOAWAY, 0, struct.pack(">II", last_stream_id, 0))
