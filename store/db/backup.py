"""Backups of a kiosk's local store, and putting one back.

``backup(path, out_dir, keep=N)`` copies the store with SQLite's online backup API (``sqlite3.Connection
.backup``) in one step: the copy is one consistent snapshot, taken while the kiosk keeps signing in (in
WAL mode a reader never blocks the writer). The copy is written under a temporary name, switched to the
rollback journal (one self-contained file), checked (``PRAGMA integrity_check``), made readable by its
owner only and renamed ``<store>-YYYYMMDD-HHMMSS.db``; then all but the newest ``keep`` backups of that
store in the folder are removed.

``restore(file, target)`` checks the file first — it opens as SQLite, passes the integrity check, is a
kiosk store (it has the sync tables) and its schema revision is one this program knows (a backup made
by a newer version is refused) — then copies the store as it is now beside the backups
(``<store>-before-restore-….db``), copies the backup in with the same API (which takes the store's
write lock: a running kiosk makes it wait, then fail with a clear message) and migrates it when it is
older than this program. Sync then resends what the shared database may lack (pushes are idempotent).
"""

from __future__ import annotations

import os
import re
import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from store.errors import StoreError
from store.timeutil import DEFAULT_ZONE, as_utc, utcnow, zone

BUSY_TIMEOUT_S = 10.0
SQLITE_BUSY, SQLITE_LOCKED = 5, 6
_STAMP = "%Y%m%d-%H%M%S"


class BackupError(StoreError):
    """A backup could not be made, or a file cannot be restored (with the reason)."""


@dataclass(frozen=True, slots=True)
class BackupResult:
    path: Path
    bytes: int
    kept: list[Path]
    removed: list[Path]

    def as_dict(self) -> dict[str, object]:
        return {
            "backup": str(self.path),
            "bytes": self.bytes,
            "kept": [str(p) for p in self.kept],
            "removed": [str(p) for p in self.removed],
        }


def _connect(path: Path, *, readonly: bool = False) -> sqlite3.Connection:
    if readonly:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S)
    else:
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S)
    conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
    return conn


class _Busy(Exception):
    pass


def _copy(src: sqlite3.Connection, dst: sqlite3.Connection) -> None:
    """The online backup API in one step. Python retries a busy destination for ever: give up after
    ``BUSY_TIMEOUT_S`` instead (a running kiosk holds the store's write lock)."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S

    def progress(status: int, remaining: int, total: int) -> None:
        if status in (SQLITE_BUSY, SQLITE_LOCKED) and time.monotonic() > deadline:
            raise _Busy

    try:
        src.backup(dst, progress=progress)
    except _Busy as exc:
        raise sqlite3.OperationalError("database is locked") from exc


def integrity(path: Path) -> str:
    """'ok', or what SQLite found wrong (its first line)."""
    try:
        conn = _connect(path, readonly=True)
        try:
            rows = conn.execute("PRAGMA integrity_check").fetchall()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return str(exc)
    first = str(rows[0][0]) if rows else "no answer"
    return first


def _pattern(stem: str) -> re.Pattern[str]:
    return re.compile(rf"^{re.escape(stem)}-\d{{8}}-\d{{6}}(-\d+)?\.db$")


def backups_of(stem: str, folder: Path) -> list[Path]:
    """The backups of a store in a folder, oldest first (by the time in their names)."""
    if not folder.is_dir():
        return []
    pat = _pattern(stem)
    return sorted(p for p in folder.iterdir() if pat.match(p.name))


def backup(
    source: Path,
    out_dir: Path,
    *,
    keep: int = 7,
    now: datetime | None = None,
    stem: str | None = None,
    prune: bool = True,
    tz: str = DEFAULT_ZONE,
) -> BackupResult:
    """A consistent copy of ``source`` in ``out_dir``; keeps the newest ``keep`` (see the module's text).
    The file is named by the site's local time (``tz``): the time a person on site reads."""
    source, out_dir = Path(source), Path(out_dir)
    if not source.is_file():
        raise BackupError(f"找不到本机数据库：{source}", f"The local store does not exist: {source}")
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BackupError(
            f"无法创建备份文件夹：{out_dir}（{exc.strerror}）",
            f"Cannot make the backup folder {out_dir}: {exc}",
        ) from exc
    stem = stem or source.stem
    stamp = as_utc(now or utcnow()).astimezone(zone(tz)).strftime(_STAMP)
    final = out_dir / f"{stem}-{stamp}.db"
    i = 1
    while final.exists():
        final = out_dir / f"{stem}-{stamp}-{i}.db"
        i += 1
    tmp = out_dir / f".{final.name}.tmp"
    try:
        src = _connect(source, readonly=True)
        dst = sqlite3.connect(tmp)
        try:
            _copy(src, dst)  # one step: one consistent snapshot
            dst.execute("PRAGMA journal_mode=DELETE")  # one file, no -wal beside it
            dst.commit()
        finally:
            dst.close()
            src.close()
        os.chmod(tmp, 0o600)  # personal data: the owner only
        check = integrity(tmp)
        if check != "ok":
            raise BackupError(f"备份文件校验失败：{check}", f"The backup failed its integrity check: {check}")
        tmp.replace(final)
    # The write-to-temp, replace, unlink shape of store/files.write_atomically: a backup's own errors.
    except sqlite3.OperationalError as exc:
        raise BackupError(f"备份失败：{exc}", f"The backup failed: {exc}") from exc
    except OSError as exc:
        raise BackupError(
            f"无法写入备份：{final}（{exc.strerror}）", f"Cannot write the backup {final}: {exc}"
        ) from exc
    finally:
        tmp.unlink(missing_ok=True)
    removed: list[Path] = []
    all_ = backups_of(stem, out_dir)
    if prune and len(all_) > keep:
        for old in all_[: len(all_) - keep]:
            old.unlink(missing_ok=True)
            removed.append(old)
    return BackupResult(final, final.stat().st_size, backups_of(stem, out_dir), removed)


@dataclass(frozen=True, slots=True)
class Checked:
    revision: str
    migrated_to: str | None  # set when the backup was older than this program


def check_backup(path: Path) -> str:
    """Raise BackupError unless ``path`` is a sound kiosk store this program can open; its revision."""
    from store.db.schema import REVISIONS

    path = Path(path)
    if not path.is_file():
        raise BackupError(f"找不到备份文件：{path}", f"The backup file does not exist: {path}")
    check = integrity(path)
    if check != "ok":
        raise BackupError(
            f"备份文件已损坏，不能恢复：{check}",
            f"The backup file is damaged and cannot be restored: {check}",
        )
    conn = _connect(path, readonly=True)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not {"alembic_version", "syncstate", "signinattempt"} <= tables:
            raise BackupError(
                f"这不是签到终端的数据库备份：{path}", f"This is not a backup of a kiosk's store: {path}"
            )
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    finally:
        conn.close()
    revision = str(row[0]) if row else ""
    if revision not in REVISIONS:
        raise BackupError(
            f"备份的数据库结构版本（{revision or '无'}）不为本程序所知：它来自更新的版本，请先升级本程序",
            f"The backup's schema revision ({revision or 'none'}) is unknown to this program: it comes from a "
            "newer version; upgrade the kiosk first",
        )
    return revision


def restore(backup_file: Path, target: Path, *, safety_dir: Path, now: datetime | None = None) -> Checked:
    """Put a checked backup in place of the store at ``target`` (see the module's text)."""
    from store.db.engine import make_engine
    from store.db.migrate import upgrade_engine
    from store.db.schema import head

    backup_file, target = Path(backup_file), Path(target)
    revision = check_backup(backup_file)
    if target.exists():
        backup(target, safety_dir, now=now, stem=f"{target.stem}-before-restore", prune=False)
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
    try:
        src = _connect(backup_file, readonly=True)
        dst = _connect(target)
        try:
            _copy(src, dst)
        finally:
            dst.close()
            src.close()
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise BackupError(
                "本机数据库正被签到程序使用：请先退出签到程序并停止后台同步（kiosk service uninstall 或 systemctl --user "
                "stop kiosk-sync），再恢复",
                "The local store is in use: quit the kiosk and stop the background sync (systemctl --user stop "
                "kiosk-sync) before restoring",
            ) from exc
        raise BackupError(f"恢复失败：{exc}", f"The restore failed: {exc}") from exc
    os.chmod(target, 0o600)
    migrated = None
    if revision != head():
        engine = make_engine(f"sqlite:///{target}")
        try:
            migrated = upgrade_engine(engine)
        finally:
            engine.dispose()
    check = integrity(target)
    if check != "ok":  # pragma: no cover - the copy of a sound file
        raise BackupError(
            f"恢复后的数据库校验失败：{check}", f"The restored store failed its integrity check: {check}"
        )
    return Checked(revision, migrated)
