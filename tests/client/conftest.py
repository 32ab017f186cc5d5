from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from tests.client.fakeapi import FakeAPI


def run(coro: Awaitable[Any], timeout: float = 20) -> Any:
    async def bounded() -> Any:
        return await asyncio.wait_for(coro, timeout)

    return asyncio.run(bounded())


@contextlib.asynccontextmanager
async def serve(api: FakeAPI, unix: Path | None = None, tls: ssl.SSLContext | None = None) -> AsyncIterator[str]:
    """Serve `api`; yields the server URL (unix:///... or http(s)://127.0.0.1:port)."""
    runner = web.AppRunner(api.app(), shutdown_timeout=0.1)
    await runner.setup()
    site: web.BaseSite
    if unix is not None:
        site = web.UnixSite(runner, str(unix))
    else:
        site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=tls)
    await site.start()
    try:
        if unix is not None:
            yield f"unix://{unix}"
        else:
            port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
            yield f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


@pytest.fixture
def sock(tmp_path: Path) -> Path:
    return tmp_path / "api.sock"


Runner = Callable[[Awaitable[Any]], Any]
