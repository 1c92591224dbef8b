"""A damaged local store (pages overwritten) is refused by ``kiosk run`` and ``kiosk sync`` at start,
saying what to do (restore a backup); a healthy one passes the quick check."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from kiosk.cli import main
from store.db.engine import make_engine
from store.db.integrity import StoreDamaged, check_store
from store.db.migrate import upgrade_engine
from store.people.seed import seed_demo

pytestmark = pytest.mark.timeout(120)


def seeded_store(path: Path) -> tuple[str, str]:
    """A migrated store with demo data (many pages), checkpointed into its main file: (url, project)."""
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    upgrade_engine(engine)
    summary = seed_demo(engine, workers=60, projects=1, examples=10, seed=9)
    engine.dispose()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return url, str(summary["examples_project"])


def overwrite_pages(path: Path) -> None:
    """What a bad disk or a stray writer does: three pages in the middle of the file become garbage (the
    header and the schema are intact, so the store still opens and most queries still answer)."""
    conn = sqlite3.connect(path)
    size = int(conn.execute("PRAGMA page_size").fetchone()[0])
    count = int(conn.execute("PRAGMA page_count").fetchone()[0])
    conn.close()
    with path.open("r+b") as f:
        for page in range(count // 2, count // 2 + 3):
            f.seek(page * size)
            f.write(b"\xab" * size)


def test_a_healthy_store_passes_and_a_damaged_one_is_named(tmp_path: Path) -> None:
    url, _ = seeded_store(tmp_path / "kiosk.db")
    engine = make_engine(url)
    try:
        assert check_store(engine).finished
    finally:
        engine.dispose()
    overwrite_pages(tmp_path / "kiosk.db")
    engine = make_engine(url)
    try:
        with engine.connect() as conn:  # it still opens and answers: nothing else would notice
            assert conn.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar_one() > 0
        with pytest.raises(StoreDamaged) as caught:
            check_store(engine)
    finally:
        engine.dispose()
    assert "kiosk db restore" in caught.value.zh and "kiosk db restore FILE" in caught.value.en
    assert "本机数据库已损坏" in caught.value.zh and str(tmp_path / "kiosk.db") in caught.value.en


def test_the_check_is_bounded_and_lets_a_store_through_at_its_bound(tmp_path: Path) -> None:
    url, _ = seeded_store(tmp_path / "kiosk.db")
    engine = make_engine(url)
    try:
        checked = check_store(engine, budget_s=-1.0)  # already past its bound at the first progress call
        assert not checked.finished and not checked.skipped
        with engine.connect() as conn:  # the connection is usable afterwards (handler removed)
            assert conn.exec_driver_sql("PRAGMA quick_check").scalar_one() == "ok"
    finally:
        engine.dispose()


def test_kiosk_run_headless_refuses_a_damaged_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, project = seeded_store(tmp_path / "kiosk.db")
    overwrite_pages(tmp_path / "kiosk.db")
    folder = tmp_path / "frames"
    folder.mkdir()
    status = main(["run", "--headless", "--db", url, "--project", project, "--source", str(folder)])
    captured = capsys.readouterr()
    assert status == 2 and captured.out == ""  # not one attempt made on it
    assert "本机数据库已损坏" in captured.err and "kiosk db restore" in captured.err
    assert "README" in captured.err and "Traceback" not in captured.err


@pytest.mark.parametrize("what", ["--once", "--status"])
def test_kiosk_sync_refuses_a_damaged_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], what: str
) -> None:
    url, _ = seeded_store(tmp_path / "kiosk.db")
    shared, _ = seeded_store(tmp_path / "shared.db")
    overwrite_pages(tmp_path / "kiosk.db")
    status = main(["sync", what, "--local", url, "--shared", shared])
    err = capsys.readouterr().err
    assert status == 2
    assert "本机数据库已损坏" in err and "This kiosk's store is damaged" in err and "Traceback" not in err
