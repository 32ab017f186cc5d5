"""Running an Exec object's `local` command on the kwok host, wired to a channel WebSocket.

KWOK runs the requested argv as a plain local process with the configured working directory,
extra environment (appended to kwok's own, later names winning) and, when kwok runs as root, the
configured uid/gid. With a TTY the process gets a pseudo-terminal as its controlling terminal,
stdout and stderr merged, and resize messages applied to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import functools
import os
import pty
import signal
import struct
import subprocess
import termios
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from kwok.kubelet.debug.channels import (
    CLOSE,
    RESIZE,
    STDERR,
    STDIN,
    STDOUT,
    ChannelSocket,
    StreamOptions,
    internal_error,
    non_zero_exit,
    success,
)

READ = 65536


@dataclass(frozen=True)
class LocalExec:
    """Exec `spec.execs[].local`."""

    work_dir: str
    env: dict[str, str]
    user: int | None
    group: int | None

    @classmethod
    def from_target(cls, local: Mapping[str, Any]) -> LocalExec:
        env = dict(os.environ)
        env.update({str(e.get("name")): str(e.get("value") or "") for e in local.get("envs") or []})
        security = local.get("securityContext") or {}
        root = os.geteuid() == 0  # only root may switch user; otherwise run as kwok's own user
        return cls(
            work_dir=str(local.get("workDir") or ""),
            env=env,
            user=security.get("runAsUser") if root else None,
            group=security.get("runAsGroup") if root else None,
        )


class StartError(OSError):
    """The command could not be started (Go's exec wording)."""


def start_error(argv: Sequence[str], err: OSError) -> StartError:
    name = argv[0]
    if isinstance(err, FileNotFoundError) and "/" not in name:
        return StartError(f'exec: "{name}": executable file not found in $PATH')
    return StartError(f"fork/exec {name}: {(err.strerror or str(err)).lower()}")


async def run_exec(sock: ChannelSocket, options: StreamOptions, local: LocalExec) -> dict[str, Any]:
    """Run the command with its streams on `sock`; the final Status for the error channel."""
    if not options.command:
        return internal_error("error executing command in container: no command given")
    try:
        code = await (_run_tty(sock, options, local) if options.tty else _run_pipes(sock, options, local))
    except StartError as err:
        return internal_error(f"error executing command in container: {err}")
    if code == 0:
        return success()
    if code > 0:
        return non_zero_exit(code)
    name = signal.strsignal(-code) or f"signal {-code}"
    return internal_error(f"error executing command in container: signal: {name[0].lower()}{name[1:]}")


async def _spawn(
    argv: Sequence[str], local: LocalExec, tty: str | None = None, **streams: Any
) -> asyncio.subprocess.Process:
    # user/group/start_new_session are applied in preexec_fn: uvloop accepts none of them. Without
    # any, no preexec_fn, so that the faster spawn paths stay available.
    needed = tty is not None or local.user is not None or local.group is not None
    setup = functools.partial(_child_setup, tty, local.user, local.group) if needed else None
    try:
        return await asyncio.create_subprocess_exec(
            argv[0], *argv[1:], **streams, env=local.env, cwd=local.work_dir or None, preexec_fn=setup
        )
    except OSError as err:
        raise start_error(argv, err) from None
    except subprocess.SubprocessError as err:
        raise StartError(f"fork/exec {argv[0]}: {err}") from None


async def _run_pipes(sock: ChannelSocket, options: StreamOptions, local: LocalExec) -> int:
    pipe, null = asyncio.subprocess.PIPE, asyncio.subprocess.DEVNULL
    proc = await _spawn(
        options.command,
        local,
        stdin=pipe if options.stdin else null,
        stdout=pipe if options.stdout else null,
        stderr=pipe if options.stderr else null,
    )
    pumps = [asyncio.create_task(_pump(stream, sock, ch)) for stream, ch in ((proc.stdout, STDOUT), (proc.stderr, STDERR)) if stream]
    feeder = asyncio.create_task(_feed_pipe(sock, proc))
    return await _finish(proc, pumps, feeder)


async def _finish(proc: asyncio.subprocess.Process, pumps: list[asyncio.Task[None]], feeder: asyncio.Task[None]) -> int:
    """Wait for the process and its output; the client leaving kills it (as KWOK's cancelled context)."""
    waiter = asyncio.create_task(proc.wait())
    done, _ = await asyncio.wait({waiter, feeder}, return_when=asyncio.FIRST_COMPLETED)
    if waiter not in done:  # the client closed the socket first
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
    code = await waiter
    await asyncio.gather(*pumps, return_exceptions=True)
    feeder.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await feeder
    return code


async def _pump(stream: asyncio.StreamReader, sock: ChannelSocket, channel: int) -> None:
    while data := await stream.read(READ):
        await sock.send(channel, data)


async def _feed_pipe(sock: ChannelSocket, proc: asyncio.subprocess.Process) -> None:
    """Client frames -> the process's stdin; returns when the client closes the socket."""
    async for channel, data in sock.frames():
        stdin = proc.stdin
        if channel == STDIN and stdin is not None and not stdin.is_closing():
            stdin.write(data)
            with contextlib.suppress(ConnectionError):
                await stdin.drain()
        elif channel == CLOSE and data[:1] == bytes((STDIN,)) and stdin is not None:
            stdin.close()


async def _run_tty(sock: ChannelSocket, options: StreamOptions, local: LocalExec) -> int:
    master, slave = pty.openpty()
    try:
        proc = await _spawn(
            options.command, local, tty=os.ttyname(slave), stdin=slave, stdout=slave, stderr=slave
        )
    except StartError:
        os.close(master)
        raise
    finally:
        os.close(slave)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    transport, _ = await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(master, "rb", buffering=0)
    )
    pumps = [asyncio.create_task(_pump_tty(reader, sock))]
    feeder = asyncio.create_task(_feed_tty(sock, os.dup(master)))
    try:
        return await _finish(proc, pumps, feeder)
    finally:
        transport.close()


def _child_setup(tty: str | None, user: int | None, group: int | None) -> None:
    """In the child, before exec: the terminal, then the identity (as Go's SysProcAttr)."""
    if tty is not None:
        # A new session whose controlling terminal is the pty: opening it by name makes it so,
        # whatever the event loop (uvloop runs preexec_fn before wiring stdin).
        os.setsid()
        os.close(os.open(tty, os.O_RDWR))
    if user is not None or group is not None:
        os.setgroups([])
        if group is not None:
            os.setgid(group)
        if user is not None:
            os.setuid(user)


async def _pump_tty(reader: asyncio.StreamReader, sock: ChannelSocket) -> None:
    with contextlib.suppress(OSError):  # EIO: the terminal's last writer exited
        await _pump(reader, sock, STDOUT)


async def _feed_tty(sock: ChannelSocket, fd: int) -> None:
    try:
        async for channel, data in sock.frames():
            if channel == STDIN:
                await _write_all(fd, data)
            elif channel == RESIZE:
                _resize(fd, data)
    finally:
        os.close(fd)


async def _write_all(fd: int, data: bytes) -> None:
    while data:
        try:
            data = data[os.write(fd, data):]
        except BlockingIOError:
            await asyncio.sleep(0.01)
        except OSError:
            return


def _resize(fd: int, data: bytes) -> None:
    try:
        size = orjson.loads(data)
        winsize = struct.pack("HHHH", int(size.get("Height", 0)), int(size.get("Width", 0)), 0, 0)
        fcntl.ioctl(fd, termios.TIOCSWINSZ, winsize)
    except (ValueError, TypeError, AttributeError, OSError, struct.error):
        pass  # as the kubelet: a bad resize message is ignored
