"""The client's keep-alive connections against a raw socket server that misbehaves on purpose.

Each test's server is a coroutine reading requests off the connection and answering (or not)
as the case needs: closing a kept-alive connection, staying silent, streaming in pieces.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from kwok.client import ApiError, Client, ClientConfig
from tests.client.conftest import run

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, int], Awaitable[None]]

OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"ok\":true}"


async def read_request(reader: asyncio.StreamReader) -> bytes:
    """One request (head and Content-Length body); b"" when the client closed the connection."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return b""
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            head += await reader.readexactly(int(line.split(b":")[1]))
    return head


class Server:
    """Counts connections (and the most open at once) and runs `handler` on each."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.connections = 0
        self.open = 0
        self.most_open = 0
        self.requests: list[bytes] = []

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.open += 1
        self.most_open = max(self.most_open, self.open)
        try:
            await self.handler(reader, writer, self.connections)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self.open -= 1
            writer.close()


@contextlib.asynccontextmanager
async def serving(handler: Handler, sock: Path) -> AsyncIterator[tuple[Server, str]]:
    server = Server(handler)
    listener = await asyncio.start_unix_server(server._serve, str(sock))
    try:
        yield server, f"unix://{sock}"
    finally:
        listener.close()


def answer_all(reply: bytes, server_requests: list[bytes] | None = None) -> Handler:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int) -> None:
        while request := await read_request(reader):
            if server_requests is not None:
                server_requests.append(request)
            writer.write(reply)
            await writer.drain()

    return handler


def test_sequential_requests_share_one_connection(sock: Path) -> None:
    async def scenario() -> None:
        async with serving(answer_all(OK), sock) as (server, url), Client(ClientConfig(server=url)) as client:
            for _ in range(5):
                assert await client.request("GET", "/version") == {"ok": True}
        assert server.connections == 1

    run(scenario())


def test_a_kept_alive_connection_the_server_dropped_is_retried_only_for_idempotent_verbs(sock: Path) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int) -> None:
        # Answers one request, then drops the connection when the next arrives (as a server
        # closing an idle connection at the moment the client reuses it).
        await read_request(reader)
        writer.write(OK)
        await writer.drain()
        await read_request(reader)

    async def scenario() -> None:
        async with serving(handler, sock) as (server, url), Client(ClientConfig(server=url)) as client:
            await client.request("GET", "/a")
            assert await client.request("GET", "/b") == {"ok": True}  # resent on a new connection
            assert server.connections == 2
            with pytest.raises(ApiError) as err:  # a PATCH may have been applied: not resent
                await client.request("PATCH", "/c", {"x": 1}, content_type="application/merge-patch+json")
            assert err.value.reason == "ConnectionError" and err.value.is_retryable
            assert server.connections == 2

    run(scenario())


def test_an_idle_connection_closed_by_the_server_is_not_used_again(sock: Path) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int) -> None:
        await read_request(reader)
        writer.write(OK)
        await writer.drain()  # then close, while the client holds it idle

    async def scenario() -> None:
        async with serving(handler, sock) as (server, url), Client(ClientConfig(server=url)) as client:
            await client.request("POST", "/a", {})
            await asyncio.sleep(0.05)
            assert await client.request("POST", "/b", {}) == {"ok": True}  # no error, a new connection
            assert server.connections == 2

    run(scenario())


def test_a_silent_server_times_out_and_the_connection_is_not_reused(sock: Path) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, number: int) -> None:
        while await read_request(reader):
            if number > 1:
                writer.write(OK)
            # the first connection never answers

    async def scenario() -> None:
        async with serving(handler, sock) as (server, url), Client(ClientConfig(server=url)) as client:
            with pytest.raises(ApiError) as err:
                await client.request("GET", "/slow", timeout=0.2)
            assert err.value.reason == "Timeout" and err.value.is_retryable
            assert await client.request("GET", "/fast") == {"ok": True}
            assert server.connections == 2

    run(scenario())


def test_a_cancelled_request_does_not_leave_its_reply_for_the_next(sock: Path) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, number: int) -> None:
        while request := await read_request(reader):
            await asyncio.sleep(0.3 if b"/slow" in request else 0)
            body = b'"%d"' % number
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                         % (len(body), body))

    async def scenario() -> None:
        async with serving(handler, sock) as (_, url), Client(ClientConfig(server=url)) as client:
            slow = asyncio.create_task(client.request("GET", "/slow"))
            await asyncio.sleep(0.05)
            slow.cancel()
            with pytest.raises(asyncio.CancelledError):
                await slow
            assert await client.request("GET", "/fast") == "2"  # a fresh connection answered

    run(scenario())


def test_connections_never_exceed_the_limit(sock: Path) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int) -> None:
        while await read_request(reader):
            await asyncio.sleep(0.02)
            writer.write(OK)

    async def scenario() -> None:
        async with serving(handler, sock) as (server, url):
            async with Client(ClientConfig(server=url), max_connections=3) as client:
                await asyncio.gather(*(client.request("GET", f"/{i}") for i in range(20)))
        assert server.most_open <= 3 and server.connections == 3

    run(scenario())


def test_a_stream_yields_pieces_as_they_arrive_and_times_out_when_silent(sock: Path) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for line in (b'{"type":"ADDED","object":{}}\n', b'{"type":"DELETED",', b'"object":{}}\n'):
            writer.write(b"%x\r\n%s\r\n" % (len(line), line))
            await writer.drain()
            await asyncio.sleep(0.02)
        await asyncio.sleep(5)  # then silence

    async def scenario() -> None:
        async with serving(handler, sock) as (_, url), Client(ClientConfig(server=url)) as client:
            lines = []
            with pytest.raises(ApiError) as err:
                async for line in client.stream_lines("/api/v1/pods", {"watch": "true"}, timeout=0.3):
                    lines.append(line)
            assert lines == [b'{"type":"ADDED","object":{}}', b'{"type":"DELETED","object":{}}']
            assert err.value.reason == "Timeout"

    run(scenario())


def test_a_finished_stream_returns_its_connection_and_an_abandoned_one_does_not(sock: Path) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int) -> None:
        while request := await read_request(reader):
            if b"watch" in request:
                writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\na\nb\r\n")
                if b"end" in request:
                    writer.write(b"0\r\n\r\n")
            else:
                writer.write(OK)

    async def scenario() -> None:
        async with serving(handler, sock) as (server, url), Client(ClientConfig(server=url)) as client:
            assert [x async for x in client.stream_lines("/w", {"watch": "end"}, 5)] == [b"a", b"b"]
            await client.request("GET", "/x")
            assert server.connections == 1
            async for _ in client.stream_lines("/w", {"watch": "open"}, 5):
                break  # abandoned mid-body: that connection cannot carry another request
            await client.request("GET", "/y")
            assert server.connections == 2

    run(scenario())


def test_server_url_path_and_odd_characters_reach_the_server_encoded(tmp_path: Path) -> None:
    requests: list[bytes] = []

    async def scenario() -> None:
        listener = await asyncio.start_server(Server(answer_all(OK, requests))._serve, "127.0.0.1", 0)
        port = listener.sockets[0].getsockname()[1]
        try:
            async with Client(ClientConfig(server=f"http://127.0.0.1:{port}/proxy/")) as client:
                await client.request("GET", "/api/v1/namespaces/a b/pods/é")
        finally:
            listener.close()
        assert requests[0].startswith(b"GET /proxy/api/v1/namespaces/a%20b/pods/%C3%A9 HTTP/1.1\r\n")
        assert f"\r\nHost: 127.0.0.1:{port}\r\n".encode() in requests[0]

    run(scenario())


def test_closing_the_client_ends_its_watches(sock: Path) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        await asyncio.sleep(10)

    async def scenario() -> None:
        async with serving(handler, sock) as (_, url):
            client = Client(ClientConfig(server=url))
            watching = asyncio.create_task(anext(aiter(client.stream_lines("/w", {"watch": "1"}, None))))
            await asyncio.sleep(0.1)
            await client.close()
            with pytest.raises(ApiError) as err:
                await asyncio.wait_for(watching, 2)
            assert err.value.reason == "ConnectionError"

    run(scenario())


def test_a_reply_larger_than_the_read_buffer_arrives_whole(sock: Path) -> None:
    # An unpaged LIST of 5,000 nodes is several MiB: more than the buffer at which a stream
    # pauses reading for a slow consumer. A whole-body read must never stall on that pause.
    items = [{"metadata": {"name": f"node-{i:06d}"}, "pad": "x" * 1000} for i in range(9000)]
    body = b'{"items":[' + b",".join(b'{"metadata":{"name":"node-%06d"},"pad":"%s"}' % (i, b"x" * 1000)
                                     for i in range(9000)) + b"]}"
    assert len(body) > 8 * 1024 * 1024
    reply = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)

    async def scenario() -> None:
        async with serving(answer_all(reply), sock) as (_server, url), Client(ClientConfig(server=url)) as client:
            result = await asyncio.wait_for(client.request("GET", "/api/v1/nodes", timeout=20), 30)
            assert [i["metadata"]["name"] for i in result["items"]] == [i["metadata"]["name"] for i in items]

    run(scenario())


def test_open_watches_never_starve_ordinary_requests(sock: Path) -> None:
    # A controller process holds a watch per informer for hours; the connection limit is for its
    # requests, so five open watches with a limit of three must leave requests free to go.
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, _: int) -> None:
        while request := await read_request(reader):
            if b"watch" in request:
                writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\na\nb\r\n")
                await writer.drain()
                await asyncio.sleep(30)  # the watch stays open
                return
            writer.write(OK)

    async def scenario() -> None:
        async with serving(handler, sock) as (_server, url):
            async with Client(ClientConfig(server=url), max_connections=3) as client:
                started = asyncio.Event()
                opened = 0

                async def watch() -> None:
                    nonlocal opened
                    async for _ in client.stream_lines("/w", {"watch": "true"}, 60):
                        opened += 1
                        if opened == 5:
                            started.set()
                        await asyncio.sleep(60)

                watches = [asyncio.create_task(watch()) for _ in range(5)]
                await asyncio.wait_for(started.wait(), 5)
                replies = await asyncio.wait_for(asyncio.gather(*(client.request("GET", f"/{i}") for i in range(6))), 5)
                assert replies == [{"ok": True}] * 6
                for task in watches:
                    task.cancel()
                await asyncio.gather(*watches, return_exceptions=True)

    run(scenario())
