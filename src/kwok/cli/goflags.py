"""Go-style boolean flags (`--manage-all-nodes=true`, `--secure-port=false`) for click commands.

KWOK's users write booleans the Go `flag`/`pflag` way; click's flags take no value. Before click
parses argv, `--name=true` becomes `--name`, and `--name=false` becomes the flag's negative form
(`--no-name`) when it has one, or disappears (off is the default) when it has none. A short
option written `-v=4` becomes `-v 4`.
"""

from __future__ import annotations

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
