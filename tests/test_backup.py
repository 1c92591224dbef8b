"""Backups of the local store while the kiosk writes to it, keeping the last N, and restoring one only
after checking it (integrity, a kiosk store, a schema revision this program knows)."""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kiosk.cli import main
from store.db.backup import BackupError, backup, backups_of, check_backup, integrity, restore
from store.db.engine import make_engine, session
from store.db.migrate import upgrade_engine
from store.db.models import KioskEvent
from store.db.schema import head

pytestmark = pytest.mark.timeout(120)


def store_at(path: Path, target: str = "head") -> Path:
    e = make_engine(f"sqlite:///{path}")
    upgrade_engine(e, target)
    e.dispose()
    return path


def events_in(path: Path) -> int:
    e = make_engine(f"sqlite:///{path}")
    try:
        with e.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(KioskEvent.__table__)).scalar_one())  # type: ignore[attr-defined]
    finally:
        e.dispose()


def test_backup_while_the_kiosk_writes_is_consistent(tmp_path: Path) -> None:
    db = store_at(tmp_path / "kiosk.db")
    engine = make_engine(f"sqlite:///{db}")
    stop = threading.Event()
    written = [0]

    def kiosk_writes() -> None:
        while not stop.is_set():
            with session(engine) as s:
                for _ in range(20):
                    s.add(KioskEvent(kind="unlock", detail="x" * 50))
                s.commit()  # one transaction of 20: a consistent copy holds a multiple of 20
            written[0] += 20

    writer = threading.Thread(target=kiosk_writes)
    writer.start()
    try:
        results = []
        for i in range(4):
            results.append(
                backup(db, tmp_path / "bk", keep=3, now=datetime(2026, 12, 1, 6, 0, i, tzinfo=UTC))
            )
    finally:
        stop.set()
        writer.join()
        engine.dispose()
    assert written[0] > 0
    kept = backups_of("kiosk", tmp_path / "bk")
    # named by the site's time: 06:00 UTC is 14:00 in Shanghai
    assert [p.name for p in kept] == [
        "kiosk-20261201-140001.db",
        "kiosk-20261201-140002.db",
        "kiosk-20261201-140003.db",
    ]
    assert [p.name for p in results[-1].removed] == ["kiosk-20261201-140000.db"] and results[3].kept == kept
    assert results[2].removed == [] and len(results[2].kept) == 3
    assert (tmp_path / "bk" / "kiosk-20261201-140000.db").exists() is False
    for p in kept:
        assert integrity(p) == "ok" and oct(p.stat().st_mode & 0o777) == "0o600"
        assert not Path(str(p) + "-wal").exists()  # one self-contained file
        assert events_in(p) % 20 == 0
    assert events_in(kept[-1]) <= written[0]


def test_restore_checks_the_file_first(tmp_path: Path) -> None:
    target = store_at(tmp_path / "kiosk.db")
    bk = tmp_path / "bk"
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"SQLite format 3\x00" + b"\x13" * 5000)
    with pytest.raises(BackupError) as err:
        restore(garbage, target, safety_dir=bk)
    assert "已损坏" in err.value.zh and "damaged" in err.value.en
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.commit()
    with pytest.raises(BackupError) as err:
        restore(other, target, safety_dir=bk)
    assert "not a backup of a kiosk" in err.value.en
    newer = store_at(tmp_path / "newer.db")
    with sqlite3.connect(newer) as c:
        c.execute("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(BackupError) as err:
        restore(newer, target, safety_dir=bk)
    assert "newer version" in err.value.en and "9999" in err.value.zh
    with pytest.raises(BackupError):
        check_backup(tmp_path / "missing.db")
    assert not bk.exists()  # nothing touched


def test_restore_puts_the_backup_back_and_keeps_the_current_store(tmp_path: Path) -> None:
    target = store_at(tmp_path / "kiosk.db")
    engine = make_engine(f"sqlite:///{target}")
    with session(engine) as s:
        s.add(KioskEvent(kind="unlock", id=uuid.uuid4()))
        s.commit()
    result = backup(target, tmp_path / "bk")
    with session(engine) as s:
        s.add(KioskEvent(kind="lock"))
        s.commit()
    engine.dispose()
    assert events_in(target) == 2
    done = restore(result.path, target, safety_dir=tmp_path / "bk")
    assert done.revision == head() and done.migrated_to is None
    assert events_in(target) == 1 and integrity(target) == "ok"
    before = list((tmp_path / "bk").glob("kiosk-before-restore-*.db"))
    assert len(before) == 1 and events_in(before[0]) == 2  # the store as it was, kept
    assert backups_of("kiosk", tmp_path / "bk") == [result.path]  # the safety copy is not pruned with them


def test_an_older_backup_is_migrated_after_restore(tmp_path: Path) -> None:
    old = store_at(tmp_path / "old.db", "0003")
    target = store_at(tmp_path / "kiosk.db")
    done = restore(old, target, safety_dir=tmp_path / "bk")
    assert done.revision == "0003" and done.migrated_to == head()
    assert events_in(target) == 0  # the new table is there


def test_restore_refuses_while_the_store_is_locked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import store.db.backup as b

    target = store_at(tmp_path / "kiosk.db")
    good = backup(target, tmp_path / "bk").path
    monkeypatch.setattr(b, "BUSY_TIMEOUT_S", 0.2)
    holder = sqlite3.connect(target, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # the kiosk mid-write
    try:
        with pytest.raises(BackupError) as err:
            restore(good, target, safety_dir=tmp_path / "bk2")
        assert "in use" in err.value.en
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_cli_backup_and_restore(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = store_at(tmp_path / "kiosk.db")
    out = tmp_path / "backups"
    for _ in range(3):
        assert main(["db", "backup", "--db", str(target), "--out", str(out), "--keep", "2"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert len(lines) == 3 and len(lines[-1]["kept"]) == 2
    assert len(backups_of("kiosk", out)) == 2
    latest = lines[-1]["backup"]
    assert main(["db", "restore", latest, "--db", str(target)]) == 2  # not a terminal: --yes needed
    assert "--yes" in capsys.readouterr().err
    assert main(["db", "restore", latest, "--db", str(target), "--yes"]) == 0
    assert json.loads(capsys.readouterr().out)["revision"] == head()
    assert main(["db", "restore", str(tmp_path / "nope.db"), "--db", str(target), "--yes"]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["db", "backup", "--db", "postgresql://x@127.0.0.1/y", "--out", str(out)]) == 2
    assert "pg_dump" in capsys.readouterr().err
