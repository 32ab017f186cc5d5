"""`kwok` entry point.

`kwok [FLAGS]` runs the kwok controller (fake kubelets), exactly like upstream KWOK. The other
components of this package are subcommands, loaded lazily so that start-up stays fast:
`kwok apiserver`, `kwok scheduler`, `kwok controller-manager`, `kwok stage test`.
"""

from __future__ import annotations

import functools
import importlib
import os
import sys
import time
from collections.abc import Callable
from typing import Any

import click

# Set by kwokctl on the components it starts together with the API server: the path of the API
# server's Unix socket. The component parses its flags at once (a bad flag still fails while
# kwokctl watches) but starts its real work, and its heavy imports, only once the socket exists:
# on two cores the API server's start-up is what `kwokctl create cluster` waits for.
START_AFTER_SOCKET = "KWOK_START_AFTER_SOCKET"   # = kwok.ctl.components.START_AFTER_SOCKET_ENV
START_AFTER_TIMEOUT = 60.0

# subcommand -> "module:attribute" of a click command; imported only when used.
SUBCOMMANDS = {
    "apiserver": "kwok.cli.apiserver:apiserver",
    "stage": "kwok.cli.stage:stage",
    "scheduler": "kwok.cli.controlplane:scheduler",
    "controller-manager": "kwok.cli.controlplane:controller_manager",
    "control-plane": "kwok.cli.controlplane:control_plane",
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(SUBCOMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return _load(name) if name in SUBCOMMANDS else None


def _load(name: str) -> click.Command:
    module, attr = SUBCOMMANDS[name].split(":")
    command: click.Command = getattr(importlib.import_module(module), attr)
    return _gated(command)


def _gated(command: click.Command) -> click.Command:
    """`command` with its callback run only after the API server's socket exists (when asked to)."""
    if os.environ.get(START_AFTER_SOCKET) and command.callback is not None:
        command.callback = _after_socket(command.callback)
    return command


def _after_socket(callback: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(callback)
    def gated(*args: Any, **kwargs: Any) -> Any:
        if click.get_current_context().invoked_subcommand is None:
            wait_for_socket(os.environ.pop(START_AFTER_SOCKET, ""), START_AFTER_TIMEOUT)
        return callback(*args, **kwargs)

    return gated


def wait_for_socket(path: str, timeout: float) -> None:
    """Until `path` exists; past `timeout` the component starts anyway (its client retries)."""
    deadline = time.monotonic() + timeout
    while path and not os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.01)


def _controller_command() -> click.Command:
    from kwok.cli.controller import build_root_command

    return _gated(build_root_command(LazyGroup))


def main() -> None:
    from kwok.cli.goflags import main_args

    argv, prog = sys.argv[1:], "kwok"
    if argv and argv[0] in SUBCOMMANDS:
        # `kwok apiserver …` runs the subcommand directly: building the controller's flags first
        # would only delay the API server's start.
        command, prog = _load(argv[0]), f"kwok {argv[0]}"
        argv = argv[1:]
    else:
        command = _controller_command()
    try:
        command(main_args(command, argv), prog_name=prog, help_option_names=["-h", "--help"])
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
