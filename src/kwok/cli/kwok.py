"""`kwok` entry point.

`kwok [FLAGS]` runs the kwok controller (fake kubelets), exactly like upstream KWOK. The other
components of this package are subcommands, loaded lazily so that start-up stays fast:
`kwok apiserver`, `kwok scheduler`, `kwok controller-manager`, `kwok stage test`.
"""

from __future__ import annotations

import importlib
import sys

import click

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
        target = SUBCOMMANDS.get(name)
        if target is None:
            return None
        module, attr = target.split(":")
        return getattr(importlib.import_module(module), attr)  # type: ignore[no-any-return]


def _controller_command() -> click.Command:
    from kwok.cli.controller import build_root_command

    return build_root_command(LazyGroup)


def main() -> None:
    from kwok.cli.goflags import main_args

    command = _controller_command()
    try:
        command(main_args(command, sys.argv[1:]), prog_name="kwok")
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
