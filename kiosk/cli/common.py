"""Helpers shared by the command modules: config and database options, opening a store, the one place
errors become a message, JSON output, progress.

- ``store_at(url)``: the one context in which a command works on a database: opened (never created: a
  missing file is an error naming the command that makes it), its schema checked (an old one: "run
  ``kiosk db upgrade``"; ``require_schema=False`` for ``kiosk db current``, which reports it), every
  driver error on it turned into one clear message (locked, full disk, read-only, damaged file, server
  down), disposed at the end. Not through it: the commands that make a store (``db upgrade``,
  ``seed-demo``, ``db roles``), ``kiosk sync`` (two databases, the message says which one failed),
  ``kiosk service status`` (a store that may not exist yet), and ``kiosk run`` (``kiosk.wiring``).
- ``user_error(exc)``: what ``kiosk`` prints for an exception a user can act on (a StoreError, a file
  that cannot be written, a database error not caught closer) — Chinese and English, exit status 2, no
  traceback (``KIOSK_DEBUG=1`` shows it). Called once, by ``kiosk.cli.main``.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.progress import Progress
    from sqlalchemy.engine import Engine

    from kiosk.config import Config
    from store.errors import StoreError


def add_config_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", metavar="FILE", help="配置文件 / config file (default: the user config dir)")


def add_db_arg(p: argparse._ActionsContainer, *, help_: str | None = None) -> None:
    p.add_argument(
        "--db",
        metavar="URL",
        help=help_
        or "数据库地址 / database URL (sqlite:///file.db, a file path, or postgresql://…); "
        "default: the local store of the config",
    )


def add_store_args(p: argparse.ArgumentParser, *, help_: str | None = None) -> None:
    """The arguments of a command over one store: ``--db`` (``help_``: its help) then ``--config``."""
    add_db_arg(p, help_=help_)
    add_config_arg(p)


def id_arg(text: str, field: str, zh: str, en: str) -> uuid.UUID:
    """``text`` (an id given on the command line, blanks around it dropped) as a UUID; else a
    ``ValidationError`` on ``field`` with the command's own words ``zh`` and ``en``."""
    from store.errors import ValidationError

    try:
        return uuid.UUID(text.strip())
    except ValueError as exc:
        raise ValidationError(field, zh, en) from exc


def config_of(args: argparse.Namespace) -> Config:
    from kiosk.config import load_config

    return load_config(getattr(args, "config", None))


def db_url(args: argparse.Namespace, *, shared: bool = False, make_folder: bool = False) -> str:
    """``--db`` when given, else the config's local (or shared) store. The config is read either way, so
    a malformed ``--config`` is reported even beside ``--db``. ``make_folder``: the config's data folder
    is made when missing (for the commands that create a store; never for an explicit ``--db``)."""
    cfg = config_of(args)
    if getattr(args, "db", None):
        return str(args.db)
    url = cfg.store.shared() if shared else cfg.store.local()
    if make_folder:
        from kiosk.wiring import ensure_folder

        ensure_folder(url)
    return url


@contextmanager
def store_at(url: str, *, synchronous: str = "FULL", require_schema: bool = True) -> Iterator[Engine]:
    """A migrated database for the duration of a command (see the module docstring)."""
    from store.db.engine import open_store, translate_errors

    engine = open_store(url, synchronous=synchronous, require_schema=require_schema)
    try:
        with translate_errors(url):
            yield engine
    finally:
        engine.dispose()


def user_error(exc: BaseException) -> StoreError | None:
    """The message for an exception a user can act on, or None for a bug (its traceback is shown)."""
    from sqlalchemy.exc import DatabaseError

    from store.errors import StoreError

    if isinstance(exc, StoreError):
        return exc
    if isinstance(exc, OSError):
        where = f"：{exc.filename}" if exc.filename else ""
        en_where = f": {exc.filename}" if exc.filename else ""
        why = exc.strerror or type(exc).__name__
        import errno

        if exc.errno == errno.ENOSPC:
            return StoreError(
                f"磁盘已满{where}：请腾出空间后重试", f"The disk is full{en_where}: free some space and retry"
            )
        if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            return StoreError(
                f"没有写入权限或磁盘只读{where}", f"Not allowed to write, or a read-only disk{en_where}"
            )
        return StoreError(f"文件操作失败{where}（{why}）", f"File operation failed{en_where} ({why})")
    if isinstance(exc, DatabaseError):  # not caught where the database was used: still one message
        from store.db.engine import translate_errors

        try:
            with translate_errors(""):
                raise exc
        except StoreError as translated:
            return translated
        except DatabaseError:
            pass
        first = str(exc.orig or exc).splitlines()[0]
        return StoreError(f"数据库错误：{first}", f"Database error: {first}")
    try:
        from alembic.util import CommandError
    except ImportError:  # pragma: no cover
        return None
    if isinstance(exc, CommandError):
        return StoreError(f"数据库结构迁移失败：{exc}", f"The schema migration failed: {exc}")
    return None


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
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        transient=True,
    ) as prog:
        yield prog


@contextmanager
def counting_progress(label: str, enabled: bool | None = None) -> Iterator[Callable[[str, int], None]]:
    """A progress display of a count without a total (``progress``), and the ``on_progress(what, n)``
    callback that advances it by ``n`` and names ``what`` beside ``label``; the callback does nothing
    when no display is shown."""
    with progress(enabled) as prog:
        task = prog.add_task(label, total=None) if prog else None

        def advance(what: str, n: int) -> None:
            if prog is not None and task is not None:
                prog.update(task, advance=n, description=f"{label}: {what}")

        yield advance
