"""``kiosk``: the command line. Each command group is a module here with a ``register(subparsers)``.

Modules must stay light to import (heavy libraries are imported inside the command functions), so that
``kiosk`` starts fast. A command function takes the parsed arguments and returns the exit status.
Errors a user can act on (``StoreError`` and its kin) are printed in Chinese and English without a
traceback, exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

#: the command modules, in the order ``kiosk --help`` lists them
COMMAND_MODULES: tuple[str, ...] = (
    "kiosk.cli.db_cmd",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kiosk",
        description="工地班前签到终端 / Construction-site sign-in kiosk",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from store.errors import StoreError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except StoreError as exc:
        print(exc.both(), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("已中断 / interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
