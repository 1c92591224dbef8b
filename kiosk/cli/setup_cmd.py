"""``kiosk setup [--config FILE] [--lang en]``: the first-run wizard (kiosk/setup/app.py). Run again, it edits
the existing set-up."""

from __future__ import annotations

import argparse

ORDER = 1


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("setup", help="设置向导：新电脑首次设置 / the set-up wizard for a new kiosk laptop")
    p.add_argument(
        "--config",
        metavar="FILE",
        help="配置文件 / the config file to write (default: the user config dir, see README)",
    )
    p.add_argument(
        "--lang", choices=("zh", "en"), default=None, help="语言 / language (default zh; F4 switches)"
    )
    p.set_defaults(func=cmd_setup)


def cmd_setup(args: argparse.Namespace) -> int:
    from pathlib import Path

    from kiosk.config import default_config_path
    from kiosk.setup.app import run_setup

    path = Path(args.config).expanduser() if args.config else default_config_path()
    return run_setup(path, lang=args.lang)
