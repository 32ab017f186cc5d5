"""HTTP/1.1 framing, byte by byte (no sockets): what the client makes of what servers send."""

from __future__ import annotations

import gzip

import pytest

from kwok.client._http11 import ProtocolError, ResponseParser, encode_request, parse_head


def parse(data: bytes, pieces: int = 1, no_body: bool = False) -> tuple[ResponseParser, bytes]:
    """Feed `data` in `pieces` roughly equal parts (1: at once; len(data): byte by byte)."""
    parser = ResponseParser()
    parser.start(no_body)
    size = max(1, -(-len(data) // pieces))
    body = b""
    for i in range(0, len(data), size):
        parser.feed(data[i : i + size])
        body += parser.take_body()
    return parser, body


CHUNKED = (
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n"
    b"7\r\n{\"a\":1}\r\n"
    b"1;ext=1\r\n\n\r\n"
    b"0\r\nX-Trailer: t\r\n\r\n"
)


@pytest.mark.parametrize("pieces", [1, 3, len(CHUNKED)])
def test_chunked_body_in_any_split(pieces: int) -> None:
    parser, body = parse(CHUNKED, pieces)
    assert parser.complete and parser.reusable
    assert body == b'{"a":1}\n'
    assert parser.head is not None and parser.head.content_type == "application/json"


def test_content_length_body_and_keep_alive() -> None:
    reply = b"HTTP/1.1 201 Created\r\nContent-Length: 5\r\nContent-Type: application/json; charset=utf-8\r\n\r\nhello"
    parser, body = parse(reply, len(reply))
    assert parser.complete and parser.reusable and body == b"hello"
    assert parser.head is not None and parser.head.status == 201
    assert parser.head.content_type == "application/json"


def test_incomplete_body_is_not_complete_and_eof_cuts_it() -> None:
    parser, body = parse(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf")
    assert not parser.complete and body == b"half"
    with pytest.raises(ProtocolError, match="before the reply was complete"):
        parser.eof()


def test_body_until_close_when_there_is_no_length() -> None:
    parser, body = parse(b"HTTP/1.0 200 OK\r\n\r\nall of it")
    assert not parser.complete
    parser.eof()
    assert parser.complete and not parser.reusable and body == b"all of it"


def test_connection_close_and_http10_are_not_reused() -> None:
    parser, _ = parse(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n")
    assert parser.complete and not parser.reusable
    parser, _ = parse(b"HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n")
    assert parser.complete and not parser.reusable
    parser, _ = parse(b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n")
    assert parser.reusable


def test_no_body_for_head_204_304_and_interim_replies_are_skipped() -> None:
    parser, _ = parse(b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", no_body=True)
    assert parser.complete and parser.reusable
    parser, _ = parse(b"HTTP/1.1 204 No Content\r\n\r\n")
    assert parser.complete and parser.head is not None and parser.head.status == 204
    parser, body = parse(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    assert parser.head is not None and parser.head.status == 200 and body == b"ok"


def test_gzip_body_is_decoded() -> None:
    payload = b'{"kind":"PodList"}' * 100
    packed = gzip.compress(payload)
    reply = b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n%s" % (len(packed), packed)
    parser, body = parse(reply, 7)
    assert parser.complete and body == payload


def test_repeated_headers_are_joined_and_names_lower_cased() -> None:
    head = parse_head(b"HTTP/1.1 429 Too Many Requests\r\nWarning: a\r\nwarning: b\r\nRetry-After:  3 ")
    assert head.status == 429 and head.headers == {"warning": "a, b", "retry-after": "3"}


@pytest.mark.parametrize(
    "raw",
    [
        b"SSH-2.0-OpenSSH\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nName : space before colon\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nA: b\r\n folded: line\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXY",
        b"HTTP/1.1 200 OK\r\nContent-Encoding: br\r\nContent-Length: 0\r\n\r\n",
    ],
)
def test_malformed_replies_are_protocol_errors(raw: bytes) -> None:
    with pytest.raises(ProtocolError):
        parse(raw)


def test_a_second_reply_on_the_same_parser() -> None:
    parser, body = parse(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na")
    parser.start()
    parser.feed(b"HTTP/1.1 404 Not Found\r\nContent-Length: 1\r\n\r\nb")
    assert parser.head is not None and parser.head.status == 404 and parser.take_body() == b"b"


def test_request_encoding_and_header_injection() -> None:
    data = encode_request("PATCH", "/api/v1/nodes/n/status", "localhost", {"Content-Type": "a/b"}, b"{}")
    assert data == (
        b"PATCH /api/v1/nodes/n/status HTTP/1.1\r\nHost: localhost\r\nContent-Type: a/b\r\n"
        b"Content-Length: 2\r\n\r\n{}"
    )
    assert b"Content-Length" not in encode_request("GET", "/version", "h", {}, None)
    assert b"Content-Length: 0\r\n" in encode_request("POST", "/x", "h", {}, None)
    with pytest.raises(ValueError, match="newline"):
        encode_request("GET", "/x", "h", {"Impersonate-User": "a\r\nX-Evil: 1"}, None)
    with pytest.raises(ValueError, match="newline"):
        encode_request("GET", "/x HTTP/1.1\r\nX: y", "h", {}, None)


def test_a_header_with_several_values_is_sent_as_several_lines() -> None:
    data = encode_request("GET", "/api", "h", {"Impersonate-Group": ("dev", "ops")}, None)
    assert b"Impersonate-Group: dev\r\nImpersonate-Group: ops\r\n" in data
    with pytest.raises(ValueError, match="newline"):
        encode_request("GET", "/x", "h", {"Impersonate-Group": ("a", "b\r\nX-Evil: 1")}, None)
