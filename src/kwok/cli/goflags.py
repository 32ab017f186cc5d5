"""Go-style flags (pflag/cobra) for click commands.

Booleans: KWOK's users write them the Go `flag`/`pflag` way (`--manage-all-nodes=true`,
`--secure-port=false`); click's flags take no value. Before click parses argv, `--name=true`
becomes `--name`, and `--name=false` becomes the flag's negative form (`--no-name`) when it has
one, or disappears (off is the default) when it has none. A short option written `-v=4` becomes
`-v 4`.

Persistent flags: cobra lets a flag of a parent command be given after any subcommand
(`kwokctl create cluster --name x`). click has no such thing, so `make_persistent` copies every
`PersistentOption` of a group onto each command below it. The copies have no default and run
the parent option's callback only when given, so the callback sees the root's value (or its
default) first and then every later occurrence, in command-line order: the last one wins, and
`multiple` options accumulate, as with pflag.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import click

_TRUE = {"true", "t", "1", "yes"}
_FALSE = {"false", "f", "0", "no"}


def _own_flags(command: click.Command) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for param in command.params:
        if isinstance(param, click.Option) and param.is_flag:
            negatives = [o for o in param.secondary_opts if o.startswith("--")]
            for opt in param.opts:
                if opt.startswith("--"):
                    out[opt] = negatives[0] if negatives else None
    return out


def bool_flags(command: click.Command, argv: list[str]) -> dict[str, str | None]:
    """Boolean flags of `command` and of the subcommands named in argv (loaded only if named)."""
    out = _own_flags(command)
    ctx = click.Context(command)
    for token in argv:
        if not isinstance(command, click.Group) or token.startswith("-"):
            continue
        sub = command.get_command(ctx, token) if token in command.list_commands(ctx) else None
        if sub is not None:
            command = sub
            ctx = click.Context(sub)
            out.update(_own_flags(sub))
    return out


def normalize(argv: list[str], flags: dict[str, str | None]) -> list[str]:
    out: list[str] = []
    for i, arg in enumerate(argv):
        if arg == "--":
            out.extend(argv[i:])
            break
        name, sep, value = arg.partition("=")
        if sep and len(name) == 2 and name[0] == "-" and name[1] != "-":
            out += [name, value]   # pflag's `-v=4`; click would read the value as "=4"
            continue
        if sep and name in flags and value.lower() in _TRUE | _FALSE:
            negative = flags[name]
            if value.lower() in _TRUE:
                out.append(name)
            elif negative:
                out.append(negative)
            continue
        out.append(arg)
    return out


def main_args(command: click.Command, argv: list[str]) -> list[str]:
    return normalize(argv, bool_flags(command, argv))


class PersistentOption(click.Option):
    """An option of a group that every command below it accepts too (see `make_persistent`)."""


class _InheritedOption(click.Option):
    """The copy of a PersistentOption on a subcommand; its callback runs only when given."""

    def __init__(self, origin: PersistentOption) -> None:
        self.origin = origin
        super().__init__(
            # Own parameter name: `scale [name]` has an argument called `name` already.
            [f"inherited_{origin.name}", *origin.opts, *origin.secondary_opts], multiple=origin.multiple,
            is_flag=origin.is_flag, flag_value=origin.flag_value if origin.is_flag else None,
            default=None, expose_value=False, help=origin.help, callback=self._given,
        )

    def _given(self, ctx: click.Context, param: click.Parameter, value: Any) -> None:
        if value is not None and value != () and self.origin.callback is not None:
            self.origin.callback(ctx, param, value)


def make_persistent(group: click.Group, skip: Collection[str] = ()) -> None:
    """Give every command under `group` (except those named in `skip`) its PersistentOptions."""
    _inherit(group, [p for p in group.params if isinstance(p, PersistentOption)], skip)


def _inherit(group: click.Group, persistent: list[PersistentOption], skip: Collection[str]) -> None:
    for name, command in group.commands.items():
        if name in skip:
            continue
        command.params.extend(_InheritedOption(p) for p in persistent)
        if isinstance(command, click.Group):
            _inherit(command, persistent, skip)


def format_options(command: click.Command, ctx: click.Context, formatter: click.HelpFormatter) -> None:
    """Own options, then the inherited ones under "Global Flags" (cobra's help layout)."""
    own: list[tuple[str, str]] = []
    inherited: list[tuple[str, str]] = []
    for param in command.get_params(ctx):
        record = param.get_help_record(ctx)
        if record is not None:
            (inherited if isinstance(param, _InheritedOption) else own).append(record)
    for title, records in (("Options", own), ("Global Flags", inherited)):
        if records:
            with formatter.section(title):
                formatter.write_dl(records)


class Command(click.Command):
    """A click command whose help lists inherited persistent flags apart."""

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        format_options(self, ctx, formatter)
