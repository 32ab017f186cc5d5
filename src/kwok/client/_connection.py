"""Keep-alive HTTP/1.1 connections to one server, and the pool that shares them.

A `Connection` is an asyncio protocol carrying one request at a time: the request is written
in one call, and the reply is read through `_http11.ResponseParser` as bytes arrive, so a
typical API reply (one read) costs one parse and one wake-up of the waiting task. This is most
of why the client does not use aiohttp's client: its per-request machinery (URL objects,
header multidicts, tracing, payload objects, timer contexts) cost ~100 us of CPU per request,
about three times the work of the request itself, at thousands of requests a second.

`ConnectionPool` hands out idle connections most-recently-used first (so load spreads over as
few warm connections as it needs), opens new ones up to `limit` (watches hold theirs for their
whole life, as with aiohttp's connector), closes connections idle for longer than
`idle_timeout` (before the server would: a request must not race the server's close) and
forgets connections the server closed while they were idle.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable

from kwok.client._http11 import ProtocolError, ResponseHead, ResponseParser

_HIGH_WATER = 4 * 1024 * 1024  # body bytes buffered for a slow reader before reading pauses
# Idle connections are closed after this, before servers close theirs (aiohttp's and nginx's
# 75 s, kube-apiserver's 90 s), so that a request never races the server's close.
IDLE_TIMEOUT = 45.0


class Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = ResponseParser()
        self.closed = False
        self.received = False  # a byte of the current reply arrived
        self.used = 0  # requests sent so far: a used connection may have gone stale
        self.idle_since = 0.0
        self.on_lost: Callable[[Connection], None] | None = None
        self._error: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._paused = False
        self._whole_body = False   # read_body() wants everything: never pause for it
        self._idle_limit = 0.0
        self._last_read = 0.0

    # -- asyncio protocol ---------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.received = True
        if self._idle_limit:
            self._last_read = asyncio.get_running_loop().time()
        try:
            self.parser.feed(data)
        except ProtocolError as err:
            self._fail(err)
            return
        if (self.parser.buffered > _HIGH_WATER and not self._paused and not self._whole_body
                and self.transport is not None):
            self._paused = True
            self.transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool | None:
        return None  # close our side too: no half-open connections

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._cancel_timer()
        if self._error is None:
            try:
                self.parser.eof()
            except ProtocolError as err:
                self._error = ConnectionResetError(str(err)) if exc is None else exc
        self._wake()
        if self.on_lost is not None:
            self.on_lost(self)

    # -- one exchange -------------------------------------------------------------------------

    def send(self, data: bytes, no_body: bool, timeout: float | None, idle_timeout: float | None = None) -> None:
        """Write one request; the reply must then be read with read_head and read_body/read_some.

        `timeout` bounds the whole exchange, `idle_timeout` the silence between two reads.
        """
        assert self.transport is not None and not self.closed
        self.used += 1
        self.received = False
        self._whole_body = False
        self.parser.start(no_body)
        loop = asyncio.get_running_loop()
        if timeout is not None:
            self._timer = loop.call_later(timeout, self._time_out, timeout)
        elif idle_timeout:
            self._idle_limit = idle_timeout
            self._last_read = loop.time()
            self._timer = loop.call_later(idle_timeout, self._check_idle)
        self.transport.write(data)

    async def read_head(self) -> ResponseHead:
        while self.parser.head is None:
            self._raise_if_failed()
            await self._wait()
        return self.parser.head

    async def read_body(self) -> bytes:
        """The whole body; the exchange is over after it."""
        self._whole_body = True
        if self._paused and self.transport is not None:
            self._paused = False
            self.transport.resume_reading()
        while not self.parser.complete:
            self._raise_if_failed()
            await self._wait()
        self._cancel_timer()
        return self.parser.take_body()

    async def read_some(self) -> bytes:
        """The next piece of the body, b"" at its end."""
        while True:
            data = self.parser.take_body()
            if self._paused and self.transport is not None:
                self._paused = False
                self.transport.resume_reading()
            if data or self.parser.complete:
                if self.parser.complete:
                    self._cancel_timer()
                return data
            self._raise_if_failed()
            await self._wait()

    @property
    def reusable(self) -> bool:
        return not self.closed and self._error is None and self.parser.reusable

    def close(self) -> None:
        self._cancel_timer()
        if self.transport is not None and not self.closed:
            self.transport.close()

    def abort(self) -> None:
        """Drop the connection now (its exchange was abandoned half-way)."""
        self._cancel_timer()
        if self.transport is not None and not self.closed:
            self.transport.abort()
        self.closed = True

    # -- internals ----------------------------------------------------------------------------

    async def _wait(self) -> None:
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise self._error
        if self.closed:
            raise ConnectionResetError("connection closed")

    def _fail(self, err: BaseException) -> None:
        if self._error is None:
            self._error = err
        self.abort()
        self._wake()

    def _time_out(self, seconds: float) -> None:
        self._timer = None
        self._fail(TimeoutError(f"no complete reply within {seconds}s"))

    def _check_idle(self) -> None:
        loop = asyncio.get_running_loop()
        quiet = loop.time() - self._last_read
        if quiet >= self._idle_limit:
            self._timer = None
            self._fail(TimeoutError(f"nothing received for {self._idle_limit}s"))
        else:
            self._timer = loop.call_later(self._idle_limit - quiet, self._check_idle)

    def _cancel_timer(self) -> None:
        self._idle_limit = 0.0
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


Connect = Callable[[], Awaitable[Connection]]


class ConnectionPool:
    def __init__(self, connect: Connect, limit: int = 100, idle_timeout: float = IDLE_TIMEOUT) -> None:
        self._connect = connect
        self._limit = limit
        self._idle_timeout = idle_timeout
        self._idle: list[Connection] = []  # most recently used last
        self._all: set[Connection] = set()  # idle and in use
        # Connections carrying a stream (a watch) for as long as it lasts: they do not count
        # against the limit, or a process with many informers would have no connection left
        # for its ordinary requests (client-go's HTTP/2 multiplexes watches for the same reason).
        self._streaming: set[Connection] = set()
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._closed = False

    @property
    def open_connections(self) -> int:
        return len(self._all)

    async def acquire(self, stream: bool = False) -> Connection:
        """An idle connection, else a new one, else wait until one is released. A stream never
        waits: it takes an idle connection or opens its own beyond the limit."""
        if stream:
            conn = await self._acquire(unlimited=True)
            self._streaming.add(conn)
            return conn
        return await self._acquire(unlimited=False)

    async def _acquire(self, unlimited: bool) -> Connection:
        while True:
            if self._closed:
                raise ConnectionResetError("client closed")
            now = asyncio.get_running_loop().time()
            while self._idle:
                conn = self._idle.pop()
                if not conn.closed and now - conn.idle_since < self._idle_timeout:
                    return conn
                self._drop(conn)
            if unlimited or len(self._all) - len(self._streaming) < self._limit:
                return await self._new()
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self._wake_one()  # pass the turn on
                raise

    async def _new(self) -> Connection:
        placeholder = Connection()  # holds the slot while connecting
        self._all.add(placeholder)
        try:
            conn = await self._connect()
        except BaseException:
            self._all.discard(placeholder)
            self._wake_one()
            raise
        self._all.discard(placeholder)
        if self._closed:
            conn.abort()
            raise ConnectionResetError("client closed")
        self._all.add(conn)
        conn.on_lost = self._lost
        return conn

    def release(self, conn: Connection) -> None:
        """Give the connection back after its exchange; one that cannot carry another is closed."""
        self._streaming.discard(conn)
        if conn.reusable and not self._closed:
            now = asyncio.get_running_loop().time()
            conn.idle_since = now
            self._idle.append(conn)
            oldest = self._idle[0]
            if now - oldest.idle_since >= self._idle_timeout:
                self._idle.pop(0)
                self._drop(oldest)
        else:
            self._drop(conn)
        self._wake_one()

    def _drop(self, conn: Connection) -> None:
        self._streaming.discard(conn)
        conn.on_lost = None
        if conn.parser.complete:
            conn.close()
        else:
            conn.abort()  # mid-reply: what is left of it must not be read as the next reply
        self._all.discard(conn)

    def _lost(self, conn: Connection) -> None:
        """The server closed a connection: forget it at once if it was idle."""
        if conn in self._idle:
            self._idle.remove(conn)
            self._drop(conn)
            self._wake_one()

    def _wake_one(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    async def close(self) -> None:
        """Close every connection, those in use too (their requests and watches fail)."""
        self._closed = True
        self._idle = []
        for conn in list(self._all):
            self._drop(conn)
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)  # they find the pool closed
