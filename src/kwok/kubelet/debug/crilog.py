"""The CRI container log format and the kubelet's log options (k8s.io/cri-client/pkg/logs).

Each line of a log file is `<RFC3339Nano timestamp> <stdout|stderr> <F|P>[:more tags] <content>`;
`P` marks a partial line whose content continues in the next record without a newline. This
module is pure: parsing records, turning a `/containerLogs` query into options, and formatting a
record as `kubectl logs` shows it. Reading files (tail, follow) is in `logfile`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from kwok.engine.durations import parse_rfc3339

NANOS = 1_000_000_000


class QueryError(ValueError):
    """A query the kubelet cannot decode into PodLogOptions."""


@dataclass(frozen=True)
class LogOptions:
    """crilogs.LogOptions: -1 means unlimited for tail and limit_bytes."""

    tail: int = -1
    limit_bytes: int = -1
    since_ns: int = 0  # records stamped before this are skipped; 0: no bound
    follow: bool = False
    timestamps: bool = False
    previous: bool = False

    @classmethod
    def from_query(cls, query: Mapping[str, str], now_ns: int) -> LogOptions:
        """PodLogOptions from the kubelet's query (first value of each key), as the kubelet reads it."""
        values = dict(query)
        tail = values.pop("tail", None)
        if tail:  # the older `tail` spelling; "all" means no limit
            values.pop("tailLines", None)
            if tail != "all":
                values["tailLines"] = tail
        since_ns = 0
        since_seconds = _int(values, "sinceSeconds")
        if since_seconds is not None:
            since_ns = now_ns - since_seconds * NANOS
        since_time = _time(values, "sinceTime")
        if since_time is not None and since_time > since_ns:
            since_ns = since_time
        tail_lines, limit = _int(values, "tailLines"), _int(values, "limitBytes")
        return cls(
            tail=-1 if tail_lines is None else tail_lines,
            limit_bytes=-1 if limit is None else limit,
            since_ns=since_ns,
            follow=_bool(values, "follow"),
            timestamps=_bool(values, "timestamps"),
            previous=_bool(values, "previous"),
        )


def _bool(values: Mapping[str, str], key: str) -> bool:
    # apimachinery's query conversion: only "0" and "false" (any case) are false once present.
    if key not in values:
        return False
    return not (values[key] == "0" or values[key].lower() == "false")


def _int(values: Mapping[str, str], key: str) -> int | None:
    text = values.get(key)
    if not text:
        return None
    try:
        return int(text, 10)
    except ValueError:
        raise QueryError(f"{key}: invalid integer {text!r}") from None


def _time(values: Mapping[str, str], key: str) -> int | None:
    text = values.get(key)
    if not text or text == "null":
        return None
    try:
        return parse_rfc3339(text)
    except ValueError:
        raise QueryError(f"{key}: invalid time {text!r}") from None


_STAMP = re.compile(rb"\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(?:\.\d+)?(?:[Zz]|[+-]\d\d:\d\d)")
_FRACTION = re.compile(r"\.(\d+)")


class Record:
    """One parsed log line; its time is decoded only when asked for (since filters, timestamps)."""

    __slots__ = ("stamp", "stream", "content")

    def __init__(self, stamp: bytes, stream: str, content: bytes) -> None:
        self.stamp = stamp
        self.stream = stream
        self.content = content  # with its newline for a full line, without for a partial one

    @property
    def time_ns(self) -> int:
        return parse_rfc3339(self.stamp.decode())

    @property
    def timestamp(self) -> str:
        """As Go's RFC3339Nano prints it."""
        return _normalise(self.stamp.decode())


class RecordError(ValueError):
    """A line that is not in CRI format (the kubelet logs it and skips it)."""


def parse_record(line: bytes) -> Record:
    """A line as read from the file, with its trailing newline if it has one."""
    parts = line.split(b" ", 3)
    if len(parts) < 4:
        raise RecordError(f"invalid CRI log format: {line[:80]!r}")
    stamp, stream, tags, content = parts
    if _STAMP.fullmatch(stamp) is None:
        raise RecordError(f"unexpected timestamp format {stamp[:40]!r}")
    if stream != b"stdout" and stream != b"stderr":
        raise RecordError(f"unexpected stream type {stream[:20]!r}")
    if tags[:1] == b"P" and (len(tags) == 1 or tags[1:2] == b":") and content.endswith(b"\n"):
        content = content[:-1]
    return Record(stamp, "stdout" if stream == b"stdout" else "stderr", content)


def _normalise(stamp: str) -> str:
    """Go prints RFC3339Nano without trailing zeros in the fraction (and no '.' if it is 0)."""
    def trim(match: re.Match[str]) -> str:
        digits = match.group(1).rstrip("0")
        return f".{digits}" if digits else ""

    stamp = _FRACTION.sub(trim, stamp, count=1)
    for utc in ("z", "+00:00", "-00:00"):
        if stamp.endswith(utc):
            return stamp[: -len(utc)] + "Z"
    return stamp.replace("t", "T", 1)


def render(record: Record, options: LogOptions) -> bytes:
    """What `kubectl logs` receives for this record."""
    if options.timestamps:
        return record.timestamp.encode() + b" " + record.content
    return record.content
