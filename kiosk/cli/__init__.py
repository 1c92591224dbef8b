"""``kiosk``: the command line. Each command group is a module ``kiosk/cli/*_cmd.py`` with a
``register(subparsers)`` function and an ``ORDER`` number (its place in ``kiosk --help``); they are
found by name, so adding a command touches no shared list.

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


def command_modules() -> list[str]:
    """The ``*_cmd`` modules of this package, in their ORDER."""
    import pkgutil

    names = [f"{__name__}.{m.name}" for m in pkgutil.iter_modules(__path__) if m.name.endswith("_cmd")]
    mods = [importlib.import_module(n) for n in names]
    return [m.__name__ for m in sorted(mods, key=lambda m: (getattr(m, "ORDER", 100), m.__name__))]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kiosk",
        description="工地班前签到终端 / Construction-site sign-in kiosk",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in command_modules():
        importlib.import_module(name).register(sub)
    return parser


def _what(args: argparse.Namespace) -> str:
    """The command and its action (``db backup``), never its arguments (they may hold a code)."""
    parts = [str(args.command)]
    parts += [
        str(v) for k, v in vars(args).items() if k.endswith(("_command", "_kind")) and isinstance(v, str)
    ]
    return " ".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    import logging
    import os

    from kiosk.cli.common import user_error
    from kiosk.logs import setup_logging

    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging()
    log = logging.getLogger("kiosk.cli")
    what = _what(args)
    log.info("kiosk %s: start", what)
    try:
        code = int(args.func(args) or 0)
    except KeyboardInterrupt:
        log.info("kiosk %s: interrupted", what)
        print("已中断 / interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # the one place an error becomes a message (kiosk.cli.common.user_error)
        err = user_error(exc)
        if err is None or os.environ.get("KIOSK_DEBUG"):
            log.error("kiosk %s: %s", what, type(exc).__name__)
            raise
        log.warning("kiosk %s: %s: %s", what, type(err).__name__, err.en)
        print(err.both(), file=sys.stderr)
        return 2
    log.info("kiosk %s: exit %d", what, code)
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
