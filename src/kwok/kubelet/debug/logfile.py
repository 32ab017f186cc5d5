"""Reading a CRI log file as the kubelet does: from the tail, filtered, limited, and followed.

Following polls the file (a few times a second) instead of using inotify: it needs no extra
dependency, also works on files other processes append to over NFS or bind mounts, and a kubelet
log stream tolerates that latency. A truncated or replaced (rotated) file is reopened from its
start. The stream ends when the client goes away (`alive()` turns false).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncGenerator, Callable
from typing import BinaryIO

from kwok.kubelet.debug.crilog import LogOptions, RecordError, parse_record, render

BLOCK = 4096
READ = 65536
POLL_SECONDS = 0.2


class LogFileError(OSError):
    """The log file cannot be opened (KWOK's wording, from Go's os.Open)."""


def open_log(path: str) -> BinaryIO:
    try:
        return open(path, "rb")  # noqa: SIM115 - the caller's stream closes it
    except OSError as err:
        reason = (err.strerror or str(err)).lower()
        raise LogFileError(f'failed to open log file "{path}": open {path}: {reason}') from None


def tail_start(f: BinaryIO, lines: int) -> int:
    """Offset where the last `lines` newline-terminated lines (plus any unterminated rest) begin."""
    if lines < 0:
        return 0
    size = f.seek(0, os.SEEK_END)
    right, count, block, left = size, 0, b"", size
    while right > 0 and count <= lines:
        left = max(0, right - BLOCK)
        f.seek(left)
        block = f.read(right - left)
        count += block.count(b"\n")
        right = left
    while count > lines:
        cut = block.index(b"\n") + 1
        block, left, count = block[cut:], left + cut, count - 1
    return left


class _Limit:
    """limitBytes: how much may still be written; -1 for no limit."""

    def __init__(self, limit: int) -> None:
        self.remaining = limit

    def take(self, data: bytes) -> bytes:
        if self.remaining < 0:
            return data
        data = data[: self.remaining]
        self.remaining -= len(data)
        return data

    @property
    def exhausted(self) -> bool:
        return self.remaining == 0


async def stream_log(
    f: BinaryIO,
    path: str,
    options: LogOptions,
    alive: Callable[[], bool] = lambda: True,
    poll: float = POLL_SECONDS,
) -> AsyncGenerator[bytes, None]:
    """Chunks of what `kubectl logs` shows from `f` (opened by `open_log(path)`, closed here)."""
    try:
        f.seek(tail_start(f, options.tail))
        limit = _Limit(options.limit_bytes)
        pending = b""
        while not limit.exhausted:
            data = f.read(READ)
            if data:
                pending += data
                *lines, pending = pending.split(b"\n")
                chunk = limit.take(_render_lines([line + b"\n" for line in lines], options))
                if chunk:
                    yield chunk
                continue
            if not options.follow:
                chunk = limit.take(_render_lines([pending] if pending else [], options))
                if chunk:
                    yield chunk
                return
            if not alive():
                return
            await asyncio.sleep(poll)
            f, pending = _reopen_if_replaced(path, f, pending)
    finally:
        f.close()


def _render_lines(lines: list[bytes], options: LogOptions) -> bytes:
    out = []
    for line in lines:
        try:
            record = parse_record(line)
            if options.since_ns and record.time_ns < options.since_ns:
                continue
        except (RecordError, ValueError):
            continue  # as the kubelet: a malformed line is skipped
        out.append(render(record, options))
    return b"".join(out)


def _reopen_if_replaced(path: str, f: BinaryIO, pending: bytes) -> tuple[BinaryIO, bytes]:
    """After a rotation (new inode) or a truncation, continue from the start of the file."""
    try:
        current = os.stat(path)
    except OSError:
        return f, pending  # being rotated: keep reading the old one
    mine = os.fstat(f.fileno())
    if (current.st_ino, current.st_dev) != (mine.st_ino, mine.st_dev):
        f.close()
        return open_log(path), b""
    if current.st_size < f.tell():
        f.seek(0)
        return f, b""
    return f, pending
