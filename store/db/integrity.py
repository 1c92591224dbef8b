"""A quick look at a SQLite store's pages before a kiosk works on it (``kiosk run``, ``kiosk sync``).

A store whose pages were overwritten (a bad disk, a copy made while it was written, a program that wrote
into it) can still open and answer most queries; left unnoticed it loses sign-ins or pushes garbage.
``check_store`` runs ``PRAGMA quick_check`` (the pages and their structure, not the indexes' contents)
bounded in time: a healthy store of normal size is read whole in well under the bound; a huge one on a
slow disk stops at the bound and is let through (``Checked.finished`` False) rather than hold the gate.
A damaged store raises ``StoreDamaged`` saying what to do: restore from a backup (``kiosk db restore``).
PostgreSQL and in-memory stores are not checked here (the server looks after its own pages).
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from store.errors import DatabaseUnavailable

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

#: how long the check may take before it gives up and lets a (large, slow) store through
BUDGET_S = 3.0
#: SQLite calls the progress handler every this many virtual-machine steps
_STEPS = 10_000


class StoreDamaged(DatabaseUnavailable):
    """The store's pages are damaged (``PRAGMA quick_check`` found faults): restore it from a backup."""


@dataclass(frozen=True)
class Checked:
    """What the check did: ``finished`` False when it stopped at its time bound (the store was let
    through unchecked); ``skipped`` True for a store it does not check (PostgreSQL, in memory)."""

    finished: bool
    skipped: bool = False


def damaged(where: str, detail: str) -> StoreDamaged:
    """The message for a damaged store at ``where``: what is wrong and what to do."""
    first = detail.splitlines()[0] if detail else "?"
    return StoreDamaged(
        f"本机数据库已损坏：{where}（{first}）。请先退出签到终端并停止同步，再从备份恢复："
        "kiosk db restore 备份文件（备份由 kiosk db backup 生成，默认在数据文件夹的 backups 里；"
        "见 README「Backups」）；恢复后同步会补传共享数据库缺少的记录",
        f"This kiosk's store is damaged: {where} ({first}). Quit the kiosk and stop the sync, then "
        "restore it from a backup: kiosk db restore FILE (the files kiosk db backup made, by default in "
        'the data folder\'s backups; see the README, "Backups"); the sync then resends whatever the '
        "shared database lacks",
    )


def check_store(engine: Engine, *, budget_s: float = BUDGET_S) -> Checked:
    """``PRAGMA quick_check`` on a SQLite ``engine``, stopped after ``budget_s`` seconds. Raises
    ``StoreDamaged`` when SQLite finds a fault (or cannot read the file as a database)."""
    from store.db.engine import sqlite_path

    path = sqlite_path(engine)
    if engine.dialect.name != "sqlite" or not path or path == ":memory:":
        return Checked(finished=True, skipped=True)
    deadline = time.monotonic() + budget_s
    stopped = False

    def progress() -> int:
        nonlocal stopped
        if time.monotonic() > deadline:
            stopped = True
            return 1  # SQLite interrupts the statement
        return 0

    raw = engine.raw_connection()
    try:
        conn = raw.driver_connection
        assert isinstance(conn, sqlite3.Connection)
        conn.set_progress_handler(progress, _STEPS)
        try:
            rows = conn.execute("PRAGMA quick_check").fetchall()
        except sqlite3.DatabaseError as exc:
            if stopped:
                return Checked(finished=False)
            raise damaged(path, str(exc)) from exc
        finally:
            conn.set_progress_handler(None, 0)
    finally:
        raw.close()
    answer = "\n".join(str(r[0]) for r in rows) if rows else "no answer"
    if answer != "ok":
        raise damaged(path, answer)
    return Checked(finished=True)
