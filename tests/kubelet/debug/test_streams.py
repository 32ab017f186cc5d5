"""exec, attach and port-forward over the kubelet's WebSocket channel protocol, as kubectl speaks it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
import orjson
import pytest
import uvloop
from aiohttp import web

from kwok.kubelet.debug import ConfigObjects, add_routes

V5 = ["v5.channel.k8s.io"]
Run = Callable[[aiohttp.ClientSession, str], Awaitable[Any]]


def query(*command: str, **flags: str) -> str:
    return urlencode([("command", c) for c in command] + list(flags.items()))


def exec_objects(**local: Any) -> list[dict[str, Any]]:
    return [
        {"kind": "Exec", "metadata": {"name": "no-local", "namespace": "default"}, "spec": {"execs": [{}]}},
        {"kind": "ClusterExec", "metadata": {"name": "all"},
         "spec": {"execs": [{"local": local}], "selector": {"matchNamespaces": ["default"]}}},
    ]


def serve(documents: list[dict[str, Any]], run: Run) -> Any:
    async def main() -> Any:
        app = web.Application()
        add_routes(app, ConfigObjects(documents))
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        try:
            async with aiohttp.ClientSession() as session:
                return await asyncio.wait_for(run(session, f"http://127.0.0.1:{port}"), 20)
        finally:
            await runner.cleanup()

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:  # the kwok process's loop
        return runner.run(main())


async def frames(ws: aiohttp.ClientWebSocketResponse) -> AsyncIterator[tuple[int, bytes]]:
    async for message in ws:
        if message.type == aiohttp.WSMsgType.BINARY:
            yield message.data[0], message.data[1:]


async def exec_output(session: aiohttp.ClientSession, url: str, stdin: bytes | None = None) -> dict[int, bytes]:
    out: dict[int, bytes] = {}
    async with session.ws_connect(url, protocols=V5) as ws:
        assert ws.protocol == "v5.channel.k8s.io"
        if stdin is not None:
            await ws.send_bytes(b"\x00" + stdin)
            await ws.send_bytes(b"\xff\x00")  # v5: close stdin
        async for channel, data in frames(ws):
            out[channel] = out.get(channel, b"") + data
    return out


def test_exec_streams_stdout_stderr_stdin_and_the_exit_status() -> None:
    async def run(session: aiohttp.ClientSession, base: str) -> dict[int, bytes]:
        q = query("sh", "-c", "cat; echo $X >&2; exit 7", stdin="true", stdout="true", stderr="true")
        return await exec_output(session, f"{base}/exec/default/web/app?{q}", stdin=b"typed\n")

    out = serve(exec_objects(envs=[{"name": "X", "value": "configured"}]), run)
    assert out[1] == b"typed\n"
    assert out[2] == b"configured\n"
    status = orjson.loads(out[3])
    assert status["reason"] == "NonZeroExitCode"
    assert status["details"]["causes"] == [{"reason": "ExitCode", "message": "7"}]


def test_exec_with_tty_merges_output_and_applies_resize() -> None:
    async def run(session: aiohttp.ClientSession, base: str) -> bytes:
        q = query("sh", "-c", "read x; stty size; echo err >&2", stdin="1", stdout="1", stderr="1", tty="1")
        url = f"{base}/exec/default/web/app?{q}"
        out = b""
        async with session.ws_connect(url, protocols=V5) as ws:
            await ws.send_bytes(b"\x04" + orjson.dumps({"Width": 123, "Height": 45}))
            await ws.send_bytes(b"\x00go\n")
            async for channel, data in frames(ws):
                assert channel in (1, 3)
                out += data if channel == 1 else b""
        return out

    out = serve(exec_objects(), run)
    assert b"45 123\r\n" in out and b"err\r\n" in out


def test_exec_errors_arrive_as_status_as_the_kubelet_sends_them(tmp_path: Path) -> None:
    async def run(session: aiohttp.ClientSession, base: str) -> list[dict[str, Any]]:
        statuses = []
        for path, command in (("default/no-local/app", ["true"]), ("other/web/app", ["true"]),
                              ("default/web/app", ["no-such-command-kwok"]), ("default/web/app", ["sh", "-c", "kill -9 $$"])):
            out = await exec_output(session, f"{base}/exec/{path}?{query(*command, stdout='1')}")
            statuses.append(orjson.loads(out[3]))
        return statuses

    not_local, no_target, not_found, killed = serve(exec_objects(workDir=str(tmp_path)), run)
    assert not_local["message"] == "Internal error occurred: error executing command in container: not set local exec"
    assert no_target["message"] == (
        'Internal error occurred: error executing command in container: no exec found for container "app" in pod "other/web"'
    )
    assert no_target["code"] == 500 and no_target["reason"] == "InternalError"
    assert 'exec: "no-such-command-kwok": executable file not found in $PATH' in not_found["message"]
    assert killed["message"].endswith("signal: killed")


def test_requests_the_kubelet_rejects_before_upgrading() -> None:
    async def run(session: aiohttp.ClientSession, base: str) -> list[tuple[int, str]]:
        out = []
        for path, headers in (
            ("/exec/default/web/app?command=true", {}),  # no stream requested
            ("/exec/default/web/app?command=true&stdout=1", {"Connection": "Upgrade", "Upgrade": "websocket",
             "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
             "Sec-WebSocket-Protocol": "v3.channel.k8s.io"}),
            ("/portForward/default/web", {}),
        ):
            async with session.get(base + path, headers=headers) as response:
                out.append((response.status, await response.text()))
        return out

    no_stream, old_protocol, no_port = serve(exec_objects(), run)
    assert no_stream == (400, "you must specify at least 1 of stdin, stdout, stderr")
    assert old_protocol[0] == 400 and "v5.channel.k8s.io" in old_protocol[1]
    assert no_port == (400, 'query parameter "port" is required')


def test_attach_follows_the_file_from_its_end(tmp_path: Path) -> None:
    log = tmp_path / "attach.log"
    log.write_text("2026-01-01T00:00:00Z stdout F before attach\n")
    objects = [{"kind": "ClusterAttach", "metadata": {"name": "a"}, "spec": {"attaches": [{"logsFile": str(log)}]}}]

    async def run(session: aiohttp.ClientSession, base: str) -> bytes:
        async with session.ws_connect(f"{base}/attach/default/web/app?stdout=1&stdin=1", protocols=V5) as ws:
            channel, data = await anext(frames(ws))
            assert (channel, data) == (1, b"")  # the kubelet's "stream ready" frame
            with open(log, "a") as f:
                f.write("2026-01-01T00:00:01Z stdout F after attach\n")
            channel, data = await anext(frames(ws))
            return data

    assert serve(objects, run) == b"after attach\n"


async def _echo_server() -> tuple[asyncio.Server, int]:
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"echo:" + await reader.read(100))
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def test_port_forward_tunnels_to_the_target_and_runs_commands() -> None:
    objects: list[dict[str, Any]] = [{"kind": "ClusterPortForward", "metadata": {"name": "f"}, "spec": {"forwards": [
        {"ports": [8080], "command": ["sed", "-u", "s/^/cmd:/"]},
        {"target": {"address": "127.0.0.1", "port": 0}},  # port filled in once the echo server listens
    ]}}]

    async def run(session: aiohttp.ClientSession, base: str) -> dict[int, bytes]:
        server, port = await _echo_server()
        objects[0]["spec"]["forwards"][1]["target"]["port"] = port
        out: dict[int, bytes] = {}
        try:
            async with session.ws_connect(f"{base}/portForward/default/web?port=80,8080&port=9",
                                          protocols=["v4.channel.k8s.io"]) as ws:
                await ws.send_bytes(b"\x00hi")
                await ws.send_bytes(b"\x02line\n")
                async for channel, data in frames(ws):
                    out[channel] = out.get(channel, b"") + data
                    if out.get(0, b"").endswith(b"hi") and out.get(2, b"").endswith(b"\n"):
                        break
        finally:
            server.close()
            with contextlib.suppress(Exception):
                await server.wait_closed()
        return out

    out = serve(objects, run)
    prefix = {i: struct.pack("<H", p) for i, p in enumerate((80, 8080, 9))}
    assert out[0] == prefix[0] + b"echo:hi"
    assert out[1] == prefix[0]
    assert out[2] == prefix[1] + b"cmd:line\n"
    assert out[4] == prefix[2]  # port 9 goes to the default target too


@pytest.mark.skipif(os.geteuid() != 0, reason="switching user needs root, as for KWOK")
def test_exec_runs_as_the_configured_user_and_group() -> None:
    async def run(session: aiohttp.ClientSession, base: str) -> dict[int, bytes]:
        return await exec_output(session, f"{base}/exec/default/web/app?{query('id', '-u', stdout='1')}")

    out = serve(exec_objects(workDir="/", securityContext={"runAsUser": 65534, "runAsGroup": 65534}), run)
    assert out[1] == b"65534\n", out
    assert orjson.loads(out[3])["status"] == "Success"
