"""Reading CRI log files with the kubelet's options: tail, limitBytes, since, timestamps, follow."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from kwok.engine.durations import parse_rfc3339
from kwok.kubelet.debug.crilog import NANOS, LogOptions, QueryError, RecordError, parse_record
from kwok.kubelet.debug.logfile import LogFileError, open_log, stream_log, tail_start

LINES = [
    "2026-01-01T00:00:01.500000000Z stdout F one\n",
    "2026-01-01T00:00:02Z stderr F two\n",
    "2026-01-01T00:00:03+00:00 stdout P thr\n",
    "2026-01-01T00:00:03.250Z stdout F ee\n",
    "not a cri line\n",
    "2026-01-01T00:00:04Z stdout F four\n",
]


def read(path: Path, options: LogOptions) -> bytes:
    async def collect() -> bytes:
        return b"".join([chunk async for chunk in stream_log(open_log(str(path)), str(path), options)])

    return asyncio.run(collect())


@pytest.fixture
def log(tmp_path: Path) -> Path:
    path = tmp_path / "c.log"
    path.write_text("".join(LINES))
    return path


def test_all_streams_in_order_partial_lines_joined_bad_lines_skipped(log: Path) -> None:
    assert read(log, LogOptions()) == b"one\ntwo\nthree\nfour\n"


def test_timestamps_are_printed_as_go_rfc3339nano(log: Path) -> None:
    out = read(log, LogOptions(timestamps=True)).decode().splitlines()
    assert out[0] == "2026-01-01T00:00:01.5Z one"
    assert out[1] == "2026-01-01T00:00:02Z two"
    assert out[2] == "2026-01-01T00:00:03Z thr2026-01-01T00:00:03.25Z ee"


def test_tail_counts_file_lines_from_the_end(log: Path) -> None:
    assert read(log, LogOptions(tail=1)) == b"four\n"
    assert read(log, LogOptions(tail=3)) == b"ee\nfour\n"  # the third-last line is the malformed one
    assert read(log, LogOptions(tail=0)) == b""
    assert read(log, LogOptions(tail=100)) == b"one\ntwo\nthree\nfour\n"


def test_tail_start_on_a_file_without_final_newline_and_across_blocks(tmp_path: Path) -> None:
    path = tmp_path / "big.log"
    path.write_bytes(b"x" * 5000 + b"\n" + b"y" * 5000 + b"\nz")
    with open(path, "rb") as f:
        # As the kubelet: `n` newline-terminated lines remain, plus the unterminated one being written.
        assert tail_start(f, 1) == 5001
        assert tail_start(f, 0) == 10002
        assert tail_start(f, 5) == 0


def test_limit_bytes_truncates_the_output(log: Path) -> None:
    assert read(log, LogOptions(limit_bytes=6)) == b"one\ntw"
    assert read(log, LogOptions(limit_bytes=0)) == b""


def test_since_skips_older_records(log: Path) -> None:
    since = parse_rfc3339("2026-01-01T00:00:03Z")
    assert read(log, LogOptions(since_ns=since)) == b"three\nfour\n"


def test_query_options_as_the_kubelet_decodes_them() -> None:
    now = parse_rfc3339("2026-01-01T00:01:00Z")
    opts = LogOptions.from_query({"tail": "5", "follow": "1", "timestamps": "false", "sinceSeconds": "60"}, now)
    assert (opts.tail, opts.follow, opts.timestamps, opts.since_ns) == (5, True, False, now - 60 * NANOS)
    assert LogOptions.from_query({"tail": "all", "tailLines": "3"}, now).tail == -1
    later = LogOptions.from_query({"sinceSeconds": "600", "sinceTime": "2026-01-01T00:00:30Z"}, now)
    assert later.since_ns == parse_rfc3339("2026-01-01T00:00:30Z")  # the later bound wins
    with pytest.raises(QueryError):
        LogOptions.from_query({"limitBytes": "ten"}, now)


def test_malformed_records_are_rejected() -> None:
    with pytest.raises(RecordError):
        parse_record(b"2026-01-01T00:00:00Z stdin F x\n")
    with pytest.raises(RecordError):
        parse_record(b"yesterday stdout F x\n")


def test_missing_file_reports_the_path() -> None:
    with pytest.raises(LogFileError, match='failed to open log file "/no/such.log"'):
        open_log("/no/such.log")


def test_follow_picks_up_appended_and_completed_lines(tmp_path: Path) -> None:
    path = tmp_path / "f.log"
    path.write_text(LINES[0] + "2026-01-01T00:00:02Z stdout F hal")

    async def follow() -> bytes:
        out = b""
        live = True
        stream = stream_log(open_log(str(path)), str(path), LogOptions(follow=True), alive=lambda: live, poll=0.01)
        out += await anext(stream)
        with open(path, "a") as f:
            f.write("f done\n")
        out += await asyncio.wait_for(anext(stream), 5)
        live = False
        await stream.aclose()
        return out

    assert asyncio.run(follow()) == b"one\nhalf done\n"
