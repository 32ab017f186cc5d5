"""GET /containerLogs as the API server calls it: errors, options, and a followed stream."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import aiohttp

from tests.kubelet.debug.test_streams import serve

NOW = "2026-01-01T00:00:00Z"


def open_fds(path: Path) -> list[str]:
    fds = Path("/proc/self/fd")
    out = []
    for fd in fds.iterdir():
        try:
            if os.readlink(fd) == str(path):
                out.append(fd.name)
        except OSError:
            continue
    return out


def logs_objects(log: Path) -> list[dict[str, Any]]:
    return [{"kind": "Logs", "metadata": {"name": "web", "namespace": "default"},
             "spec": {"logs": [{"containers": ["app"], "logsFile": str(log), "previousLogsFile": str(log) + ".1"}]}}]


def test_errors_are_400_with_the_kubelet_message(tmp_path: Path) -> None:
    async def run(session: aiohttp.ClientSession, base: str) -> list[tuple[int, str]]:
        out = []
        for path in ("/containerLogs/default/web/app", "/containerLogs/default/web/sidecar",
                     "/containerLogs/default/web/app?previous=true", "/containerLogs/default/web/app?tailLines=x"):
            async with session.get(base + path) as response:
                out.append((response.status, await response.text()))
        return out

    missing, no_container, no_previous, bad_query = serve(logs_objects(tmp_path / "none.log"), run)
    assert missing == (400, f'failed to open log file "{tmp_path}/none.log": open {tmp_path}/none.log: no such file or directory')
    assert no_container == (400, 'log target not found for container "sidecar" in pod "default/web"')
    assert no_previous[0] == 400 and "none.log.1" in no_previous[1]
    assert bad_query == (400, '{"message": "Unable to decode query."}')


def test_follow_is_chunked_and_stops_when_the_client_leaves(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text(f"{NOW} stdout F old\n")

    async def run(session: aiohttp.ClientSession, base: str) -> list[bytes]:
        got = []
        async with session.get(f"{base}/containerLogs/default/web/app?follow=true&timestamps=1") as response:
            assert response.headers["Transfer-Encoding"] == "chunked"
            got.append(await response.content.readline())
            with open(log, "a") as f:
                f.write(f"{NOW} stderr F new\n")
            got.append(await asyncio.wait_for(response.content.readline(), 5))
        for _ in range(50):  # the server notices the disconnect at its next poll and closes the file
            if not open_fds(log):
                break
            await asyncio.sleep(0.1)
        assert not open_fds(log)
        return got

    assert serve(logs_objects(log), run) == [f"{NOW} old\n".encode(), f"{NOW} new\n".encode()]
