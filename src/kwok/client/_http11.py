"""HTTP/1.1 framing without I/O (RFC 9112): request heads out, response bytes in.

`encode_request` builds the bytes of one request; `ResponseParser` takes the bytes of replies as
they arrive, in pieces of any size, and says where each reply's head and body are. A body is
delimited by Content-Length, by the chunked transfer coding, or by the end of the connection;
replies to HEAD, 1xx, 204 and 304 have none. Interim 1xx replies are skipped.

The connection (`_connection`) feeds it; nothing here touches a socket, so the framing is
tested byte by byte. Only what an API server client needs is here: no pipelining (one request
at a time per connection), no upgrades, no trailers (they are read and dropped).
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass

MAX_HEAD = 64 * 1024  # a reply head larger than this is not from an API server
_MAX_CHUNK_LINE = 4096

_HEAD, _LENGTH, _CHUNK_SIZE, _CHUNK_DATA, _CHUNK_END, _TRAILERS, _UNTIL_CLOSE, _DONE = range(8)


class ProtocolError(Exception):
    """The peer sent something that is not an HTTP/1.x reply, or stopped in the middle of one."""


@dataclass(slots=True)
class ResponseHead:
    status: int
    headers: dict[str, str]  # lower-case names; repeated headers joined with ", "
    keep_alive: bool  # the connection may carry another request after this reply

    @property
    def content_type(self) -> str:
        """The media type without parameters (aiohttp's `content_type`), lower case."""
        value = self.headers.get("content-type")
        if not value:
            return "application/octet-stream"
        return value.partition(";")[0].strip().lower()


# Request headers: a tuple value is sent as that many header lines (Impersonate-Group, say).
Headers = Mapping[str, "str | tuple[str, ...]"]


def encode_request(method: str, target: str, host: str, headers: Headers, body: bytes | None) -> bytes:
    """The bytes of one request: request line, Host, the given headers, Content-Length, body."""
    lines = [f"{method} {target} HTTP/1.1\r\n", f"Host: {host}\r\n"]
    for name, value in headers.items():
        for one in (value,) if isinstance(value, str) else value:
            lines.append(f"{name}: {one}\r\n")
    if body is not None or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body) if body else 0}\r\n")
    text = "".join(lines)
    # One CR and one LF per line we wrote: any other is header (or request line) injection.
    if text.count("\n") != len(lines) or text.count("\r") != len(lines) or " " in target:
        raise ValueError(f"newline, carriage return or space in the request line or a header of {method} {target!r}")
    head = (text + "\r\n").encode()
    return head + body if body else head


def parse_head(raw: bytes) -> ResponseHead:
    """Status line and header fields (the bytes before the blank line)."""
    lines = raw.decode("latin-1").split("\r\n")
    version, _, rest = lines[0].partition(" ")
    if version not in ("HTTP/1.1", "HTTP/1.0") or not rest[:3].isdigit():
        raise ProtocolError(f"not an HTTP/1.x status line: {lines[0][:80]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        key = name.lower()
        if not sep or not key or key != key.strip(" \t"):  # incl. obsolete line folding
            raise ProtocolError(f"malformed header field: {line[:80]!r}")
        value = value.strip(" \t")
        if key in headers:
            headers[key] += ", " + value
        else:
            headers[key] = value
    connection = headers.get("connection", "").lower()
    if version == "HTTP/1.1":
        keep_alive = "close" not in connection
    else:
        keep_alive = "keep-alive" in connection
    return ResponseHead(int(rest[:3]), headers, keep_alive)


class ResponseParser:
    """Incremental parser for the replies on one connection, one reply at a time.

    `start(no_body)` before each request's reply (no_body for HEAD); `feed` what arrives and
    `eof` when the connection ends; `head`, then `take_body()` pieces, then `complete`.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self._decoder: zlib._Decompress | None = None
        self.start()

    def start(self, no_body: bool = False) -> None:
        self.head: ResponseHead | None = None
        self.complete = False
        self.buffered = 0  # body bytes parsed and not yet taken
        self._body: list[bytes] = []
        self._state = _HEAD
        self._remaining = 0
        self._no_body = no_body
        self._decoder = None

    @property
    def reusable(self) -> bool:
        """The reply is over, the server keeps the connection open and sent nothing more."""
        return self.complete and self.head is not None and self.head.keep_alive and not self._buf

    def feed(self, data: bytes) -> None:
        self._buf += data
        self._parse()

    def eof(self) -> None:
        """The connection ended: that completes a body read until close, else it cut the reply."""
        if self._state == _UNTIL_CLOSE:
            self._finish()
        elif self._state != _DONE:
            raise ProtocolError("the server closed the connection before the reply was complete")

    def take_body(self) -> bytes:
        """The body bytes parsed since the last call (decoded if the server compressed them)."""
        if not self._body:
            return b""
        data = self._body[0] if len(self._body) == 1 else b"".join(self._body)
        self._body.clear()
        self.buffered = 0
        if self._decoder is not None:
            data = self._decoder.decompress(data)
            if self.complete:
                data += self._decoder.flush()
        return data

    def _parse(self) -> None:
        steps = _STEPS
        while self._state != _DONE and steps[self._state](self):
            pass

    def _parse_head(self) -> bool:
        end = self._buf.find(b"\r\n\r\n")
        if end < 0:
            if len(self._buf) > MAX_HEAD:
                raise ProtocolError(f"reply head larger than {MAX_HEAD} bytes")
            return False
        head = parse_head(bytes(self._buf[:end]))
        del self._buf[: end + 4]
        if 100 <= head.status < 200 and head.status != 101:
            return True  # interim reply (100 Continue, 103 Early Hints): the real one follows
        self.head = head
        self._state = self._body_framing(head)
        if self._state == _DONE:
            self._finish()
        encoding = head.headers.get("content-encoding", "").lower()
        if encoding in ("gzip", "x-gzip", "deflate"):
            self._decoder = zlib.decompressobj(32 + zlib.MAX_WBITS)  # gzip or zlib, from the header
        elif encoding not in ("", "identity"):
            raise ProtocolError(f"unsupported Content-Encoding {encoding!r}")
        return True

    def _body_framing(self, head: ResponseHead) -> int:
        if self._no_body or head.status in (101, 204, 304):
            return _DONE
        coding = head.headers.get("transfer-encoding", "").lower()
        if coding:
            if coding.rsplit(",", 1)[-1].strip() != "chunked":
                head.keep_alive = False  # RFC 9112 §6.3: read until close
                return _UNTIL_CLOSE
            return _CHUNK_SIZE
        length = head.headers.get("content-length")
        if length is None:
            head.keep_alive = False
            return _UNTIL_CLOSE
        try:
            self._remaining = int(length)
        except ValueError:
            raise ProtocolError(f"invalid Content-Length {length!r}") from None
        if self._remaining < 0:
            raise ProtocolError(f"invalid Content-Length {length!r}")
        return _LENGTH if self._remaining else _DONE

    def _take(self, limit: int) -> int:
        n = min(limit, len(self._buf))
        if n:
            piece = bytes(self._buf[:n])
            del self._buf[:n]
            self._body.append(piece)
            self.buffered += n
        return n

    def _parse_length(self) -> bool:
        self._remaining -= self._take(self._remaining)
        if self._remaining:
            return False
        self._finish()
        return True

    def _parse_chunk_size(self) -> bool:
        end = self._buf.find(b"\r\n")
        if end < 0:
            if len(self._buf) > _MAX_CHUNK_LINE:
                raise ProtocolError("chunk size line too long")
            return False
        line = bytes(self._buf[:end]).partition(b";")[0].strip()
        del self._buf[: end + 2]
        try:
            size = int(line, 16)
        except ValueError:
            raise ProtocolError(f"invalid chunk size {line[:40]!r}") from None
        if size < 0:
            raise ProtocolError(f"invalid chunk size {line[:40]!r}")
        self._remaining = size
        self._state = _CHUNK_DATA if size else _TRAILERS
        return True

    def _parse_chunk_data(self) -> bool:
        self._remaining -= self._take(self._remaining)
        if self._remaining:
            return False
        self._state = _CHUNK_END
        return True

    def _parse_chunk_end(self) -> bool:
        if len(self._buf) < 2:
            return False
        if self._buf[:2] != b"\r\n":
            raise ProtocolError("chunk not followed by CRLF")
        del self._buf[:2]
        self._state = _CHUNK_SIZE
        return True

    def _parse_trailer(self) -> bool:
        end = self._buf.find(b"\r\n")
        if end < 0:
            if len(self._buf) > MAX_HEAD:
                raise ProtocolError(f"trailer larger than {MAX_HEAD} bytes")
            return False
        del self._buf[: end + 2]
        if end == 0:  # the blank line after the last trailer field
            self._finish()
        return True

    def _parse_until_close(self) -> bool:
        self._take(len(self._buf))
        return False

    def _finish(self) -> None:
        self._state = _DONE
        self.complete = True


# The parsing step for each state (_DONE has none), indexed by state.
_STEPS = (
    ResponseParser._parse_head,
    ResponseParser._parse_length,
    ResponseParser._parse_chunk_size,
    ResponseParser._parse_chunk_data,
    ResponseParser._parse_chunk_end,
    ResponseParser._parse_trailer,
    ResponseParser._parse_until_close,
)
