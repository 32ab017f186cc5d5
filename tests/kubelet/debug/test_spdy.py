"""SPDY/3 framing for port-forward: what a client-go peer sends is understood, what we send decodes."""

from __future__ import annotations

import struct
import zlib

from spdy.dictionary import zdict

from kwok.kubelet.debug.spdy import Data, GoAway, Ping, Reset, Session, SynStream


class Peer:
    """The client side, written from the SPDY/3 frame layout."""

    def __init__(self) -> None:
        self.deflate = zlib.compressobj(zlib.Z_BEST_COMPRESSION, zlib.DEFLATED, 15, zdict=bytes(zdict))
        self.inflate = zlib.decompressobj(zdict=bytes(zdict))

    def control(self, kind: int, flags: int, payload: bytes) -> bytes:
        return struct.pack(">HHI", 0x8003, kind, (flags << 24) | len(payload)) + payload

    def syn_stream(self, stream_id: int, headers: dict[str, str]) -> bytes:
        raw = struct.pack(">I", len(headers))
        for name, value in headers.items():
            raw += struct.pack(">I", len(name)) + name.encode() + struct.pack(">I", len(value)) + value.encode()
        block = self.deflate.compress(raw) + self.deflate.flush(zlib.Z_SYNC_FLUSH)
        return self.control(1, 0, struct.pack(">IIH", stream_id, 0, 0) + block)


def test_client_frames_split_anywhere_become_events() -> None:
    peer, session = Peer(), Session()
    stream = (
        peer.syn_stream(1, {"streamtype": "error", "port": "80", "requestid": "0"})
        + peer.syn_stream(3, {"streamtype": "data", "port": "80", "requestid": "0"})
        + struct.pack(">II", 3, (1 << 24) | 5) + b"hello"  # DATA with FIN
        + peer.control(6, 0, struct.pack(">I", 7))  # PING
        + peer.control(3, 0, struct.pack(">II", 3, 5))  # RST_STREAM cancel
        + peer.control(9, 0, struct.pack(">II", 3, 100))  # WINDOW_UPDATE: ignored
        + peer.control(7, 0, struct.pack(">II", 3, 0))  # GOAWAY
    )
    events = []
    for i in range(0, len(stream), 7):  # WebSocket messages cut the byte stream arbitrarily
        events += session.receive(stream[i : i + 7])
    assert events == [
        SynStream(1, {"streamtype": "error", "port": "80", "requestid": "0"}, False),
        SynStream(3, {"streamtype": "data", "port": "80", "requestid": "0"}, False),
        Data(3, b"hello", True),
        Ping(7),
        Reset(3, 5),
        GoAway(3),
    ]


def test_server_frames_decode_with_the_shared_header_stream() -> None:
    peer, session = Peer(), Session()
    for stream_id in (1, 3):  # the second reply's header block continues the first one's zlib stream
        reply = session.syn_reply(stream_id, fin=stream_id == 3)
        kind, flags_length = struct.unpack(">HI", reply[2:8])
        assert (reply[:2], kind, flags_length >> 24) == (b"\x80\x03", 2, 1 if stream_id == 3 else 0)
        assert struct.unpack(">I", reply[8:12])[0] == stream_id
        assert peer.inflate.decompress(reply[12:]) == b"\x00\x00\x00\x00"  # no headers
    assert session.data(3, b"abc", fin=True) == b"\x00\x00\x00\x03\x01\x00\x00\x03abc"
    assert session.ping(7) == b"\x80\x03\x00\x06\x00\x00\x00\x04\x00\x00\x00\x07"
