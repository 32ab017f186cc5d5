"""`kwokctl` entry point (see kwok.cli.ctl_commands for the commands)."""

from __future__ import annotations

import sys


def main() -> None:
    from kwok.cli.ctl_commands import kwokctl
    from kwok.cli.goflags import main_args

    try:
        kwokctl(main_args(kwokctl, sys.argv[1:]), prog_name="kwokctl")
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
