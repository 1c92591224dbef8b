"""Helpers shared by the command modules: config and database options, JSON output, progress."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.progress import Progress

    from kiosk.config import Config


def add_config_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", metavar="FILE", help="配置文件 / config file (default: the user config dir)")


def add_db_arg(p: argparse.ArgumentParser, *, help_: str | None = None) -> None:
    p.add_argument(
        "--db",
        metavar="URL",
        help=help_ or "数据库地址 / database URL (sqlite:///file.db, a file path, or postgresql://…); "
        "default: the local store of the config",
    )


def config_of(args: argparse.Namespace) -> Config:
    from kiosk.config import load_config

    return load_config(getattr(args, "config", None))


def db_url(args: argparse.Namespace, *, shared: bool = False) -> str:
    """``--db`` when given, else the config's local (or shared) store."""
    if getattr(args, "db", None):
        return str(args.db)
    cfg = config_of(args)
    return cfg.store.shared() if shared else cfg.store.local()


def print_json(obj: Any) -> None:
    print(json.dumps(obj, ensure_ascii=False, default=str), flush=True)


def interactive() -> bool:
    """Whether to show progress bars: only when a person watches a terminal."""
    return sys.stderr.isatty() and sys.stdout.isatty()


@contextmanager
def progress(enabled: bool | None = None) -> Iterator[Progress | None]:
    """A rich progress display on a terminal; None when piped or ``--json`` is asked for."""
    if enabled is None:
        enabled = interactive()
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), transient=True
    ) as prog:
        yield prog
