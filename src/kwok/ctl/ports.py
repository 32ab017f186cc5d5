"""Free TCP ports for components, or KWOK's deterministic ones under --dry-run."""

from __future__ import annotations

import socket
from collections.abc import Iterator


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


def dry_run_ports() -> Iterator[int]:
    """KWOK's dry-run allocator counts down from 32766, so dry-run output is reproducible."""
    port = 32767
    while True:
        port -= 1
        yield port
