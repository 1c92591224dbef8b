"""Every command against every way its database or config can be wrong: one clear message in Chinese and
English, exit status 2, no traceback, nothing lost, no file made on a read path.

The cases: a missing file, a file that is not a database, a damaged store, a URL with a non-numeric
port, a server that is down, a store stamped with a schema revision this program does not know, a
store locked by another program (write commands), a read-only folder and a full disk (tiny tmpfs
mounts: root only, skipped otherwise), a malformed config and a config with an unknown key.
"""

from __future__ import annotations

import io
import os
import shutil
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.headless import fill_disk

from kiosk.cli import main
from kiosk.wiring import Services
from store.db.engine import make_engine
from store.people.seed import seed_demo

P = str(uuid.UUID(int=7))


def commands(db: str, tmp: Path) -> dict[str, list[str]]:
    """Every command that opens a database, by name (``writes``: those that write to it)."""
    (tmp / "w.csv").write_text("身份证号码,姓名\n", encoding="utf-8")
    out = str(tmp / "o.csv")
    return {
        "db current": ["db", "current", "--db", db],
        "db upgrade": ["db", "upgrade", "--db", db],
        "seed-demo": ["seed-demo", "--db", db, "--workers", "3", "--projects", "1", "--json", "--seed", "5"],
        "run --headless": ["run", "--headless", "--source", "-", "--db", db, "--project", P],
        "sync --status": ["sync", "--status", "--local", db],
        "sync --once": ["sync", "--once", "--local", db, "--shared", db, "--json"],
        "import workers": ["import", "workers", str(tmp / "w.csv"), "--db", db],
        "export daily": ["export", "daily", "--db", db, "--project", P, "--out", out, "--date", "2026-01-01"],
        "export monthly": [
            "export",
            "monthly",
            "--db",
            db,
            "--project",
            P,
            "--out",
            out,
            "--month",
            "2026-01",
        ],
        "export refused": [
            "export",
            "refused",
            "--db",
            db,
            "--project",
            P,
            "--out",
            out,
            "--from",
            "2026-01-01",
            "--to",
            "2026-01-02",
        ],
        "keys list": ["keys", "list", "--db", db],
        "kiosk list": ["kiosk", "list", "--db", db],
        "keys export": ["keys", "export", "--db", db, "--out", str(tmp / "t.json")],
        "keys revoke": ["keys", "revoke", "--db", db, "abcd1234"],
        "code verify": ["code", "verify", "x", "--db", db],
        "phone confirm": ["phone", "confirm", "--worker-code", "x", "--employment", P, "--db", db],
        "phone signin": [
            "phone",
            "signin",
            "--worker-code",
            "x",
            "--scan",
            "y",
            "--at",
            "31.2,121.4",
            "--db",
            db,
        ],
        "roster": ["roster", "--db", db, "--project", P],
        "admin": ["admin", "--db", db],
    }


#: the commands that write to the store (given a real project and a row to import)
WRITES = ("seed-demo", "run --headless", "sync --once", "keys revoke", "import workers")
#: those that make the file (the others never do)
MAKES = ("db upgrade", "seed-demo")


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("seeded") / "good.db"
    engine = make_engine(str(path))
    from store.db.migrate import upgrade_engine

    upgrade_engine(engine)
    seed_demo(engine, workers=20, projects=1, seed=1)
    engine.dispose()
    return path


def run(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str]:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"")))
    rc = main(argv)
    return rc, capsys.readouterr().err


def check(name: str, rc: int, err: str, *words: str) -> None:
    assert rc == 2, (name, rc, err)
    assert "Traceback" not in err, (name, err)
    lines = [x for x in err.splitlines() if x.strip()]
    assert any(any("\u4e00" <= ch <= "\u9fff" for ch in x) for x in lines), (name, err)  # Chinese
    for w in words:
        assert w in err, (name, w, err)


def cases(tmp: Path, seeded: Path) -> dict[str, tuple[str, tuple[str, ...]]]:
    junk = tmp / "junk.db"
    junk.write_bytes(b"this is not a database " * 200)
    corrupt = tmp / "corrupt.db"
    shutil.copy(seeded, corrupt)
    with corrupt.open("r+b") as f:
        f.seek(4096)
        f.write(os.urandom(corrupt.stat().st_size - 4096))
    unknown = tmp / "unknown.db"
    shutil.copy(seeded, unknown)
    with sqlite3.connect(unknown) as c:
        c.execute("UPDATE alembic_version SET version_num = '9999abc'")
    return {
        "missing file": (str(tmp / "missing.db"), ("does not exist", "kiosk db upgrade --db")),
        "not a database": (str(junk), ("Not a database file",)),
        "damaged store": (str(corrupt), ("damaged",)),
        "non-numeric port": ("postgresql://u:secret@127.0.0.1:abc/x", ("port must be a number",)),
        "server down": ("postgresql://postgres@127.0.0.1:1/x", ("Cannot reach",)),
        "unknown revision": (str(unknown), ("9999abc", "does not know")),
    }


CASE_NAMES = [
    "missing file",
    "not a database",
    "damaged store",
    "non-numeric port",
    "server down",
    "unknown revision",
]


@pytest.mark.parametrize("case", CASE_NAMES)
def test_every_command_and_a_bad_database(
    case: str,
    seeded: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    db, words = cases(tmp_path, seeded)[case]
    for name, argv in commands(db, tmp_path).items():
        if case == "missing file" and name in MAKES:
            continue  # they make it (tested below)
        if case == "unknown revision" and name == "db current":
            rc, _ = run(argv, monkeypatch, capsys)
            assert rc == 1  # it reports the revision (up_to_date false)
            continue
        rc, err = run(argv, monkeypatch, capsys)
        check(name, rc, err, *words)
        if "secret" in db:
            assert "secret" not in err  # the password never shows
    if case == "missing file":
        assert not (tmp_path / "missing.db").exists()  # a read path made no file


def test_every_write_command_on_a_locked_store(
    seeded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "locked.db"
    shutil.copy(seeded, db)
    before = sqlite3.connect(db).execute("SELECT count(*) FROM worker").fetchone()[0]
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("UPDATE syncstate SET value = value")
    project = sqlite3.connect(db).execute("SELECT id FROM project LIMIT 1").fetchone()[0]
    try:
        for name, argv in commands(str(db), tmp_path).items():
            if name in WRITES:
                argv = [str(uuid.UUID(hex=project)) if a == P else a for a in argv]
                if name == "import workers":
                    (tmp_path / "w.csv").write_text(
                        "身份证号码,姓名\n11010519491231002X,测试\n", encoding="utf-8"
                    )
                rc, err = run(argv, monkeypatch, capsys)
                check(name, rc, err, "locked by another program", "占用")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert sqlite3.connect(db).execute("SELECT count(*) FROM worker").fetchone()[0] == before  # nothing lost


@pytest.mark.parametrize("kind", ["malformed", "unknown key"])
def test_every_command_and_a_bad_config(
    kind: str,
    seeded: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Even beside an explicit --db, a bad --config is reported (never silently ignored)."""
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(
        "[policy\nmin_age = 18\n" if kind == "malformed" else "[store]\nlocal_urll = 'x'\n", encoding="utf-8"
    )
    words = ("Malformed config",) if kind == "malformed" else ("unknown key", "local_urll")
    for name, argv in commands(str(seeded), tmp_path).items():
        rc, err = run([*argv, "--config", str(cfg)], monkeypatch, capsys)
        check(name, rc, err, *words)


# --- a read-only folder, a full disk (tiny tmpfs mounts) --------------------------------------------


def _mount(target: Path, size: str) -> None:
    target.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(target)], check=True, capture_output=True
    )


def _umount(target: Path) -> None:
    subprocess.run(["umount", "-l", str(target)], check=False, capture_output=True)


@pytest.fixture
def mounts(tmp_path: Path, seeded: Path) -> Iterator[tuple[Path, Path]]:
    """A read-only folder and a full disk, each holding a copy of the seeded store."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root: the read-only and full-disk cases are not run")
    ro, full = tmp_path / "ro", tmp_path / "full"
    try:
        _mount(ro, "8m")
        _mount(full, f"{seeded.stat().st_size + 200 * 1024}")
    except subprocess.CalledProcessError as exc:
        _umount(ro)
        pytest.skip(f"cannot mount a tmpfs here: {exc.stderr!r}")
    try:
        shutil.copy(seeded, ro / "ro.db")
        subprocess.run(["mount", "-o", "remount,ro", str(ro)], check=True, capture_output=True)
        shutil.copy(seeded, full / "full.db")
        fill_disk(full / "filler")
        yield ro, full
    finally:
        _umount(ro)
        _umount(full)


def test_every_command_on_a_read_only_folder_and_a_full_disk(
    mounts: tuple[Path, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ro, full = mounts
    for db, words in (
        (ro / "ro.db", ("read-only", "只读")),
        (full / "full.db", ("disk is full", "磁盘已满")),
    ):
        size = db.stat().st_size
        for name, argv in commands(str(db), tmp_path).items():
            rc, err = run(argv, monkeypatch, capsys)
            check(name, rc, err, *words)
        assert db.stat().st_size == size  # nothing lost (and nothing half-written)


# The same mounts as the test above: one checks the commands' words, this one the files they leave.
def test_files_written_to_a_read_only_folder_or_a_full_disk(
    mounts: tuple[Path, Path],
    seeded: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Exports, the import template and new keys: one message, no traceback (not even from openpyxl's zip
    being closed later), and no half-written file left under the name."""
    project = str(
        uuid.UUID(hex=sqlite3.connect(seeded).execute("SELECT id FROM project LIMIT 1").fetchone()[0])
    )
    for folder in mounts:
        for name, argv in {
            "export xlsx": [
                "export",
                "daily",
                "--db",
                str(seeded),
                "--project",
                project,
                "--date",
                "2026-01-01",
                "--out",
                str(folder / "d.xlsx"),
            ],
            "export csv": [
                "export",
                "monthly",
                "--db",
                str(seeded),
                "--project",
                project,
                "--month",
                "2026-01",
                "--out",
                str(folder / "m.csv"),
            ],
            "import template": ["import", "template", "--out", str(folder / "t.xlsx")],
            "keys new": ["keys", "new", "--out", str(folder / "keys")],
        }.items():
            rc, err = run(argv, monkeypatch, capsys)
            check(name, rc, err)
            assert "Exception ignored" not in err, err
        left = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
        assert left in (["ro.db"], ["filler", "full.db"]), left  # no half-written export, template or key


# --- the default config on a fresh machine ----------------------------------------------------------


def test_with_the_default_config_the_data_folder_is_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """db upgrade, seed-demo and the headless loop on a fresh machine (no data folder yet) work."""
    data = tmp_path / "fresh" / "data"
    monkeypatch.setenv("KIOSK_DATA_DIR", str(data))
    monkeypatch.delenv("KIOSK_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "no-config"))
    rc, err = run(["db", "upgrade"], monkeypatch, capsys)
    assert rc == 0, err
    assert (data / "kiosk.db").is_file() and oct(data.stat().st_mode & 0o777) == "0o700"
    (data / "kiosk.db").unlink()
    data.rmdir()
    rc, err = run(["seed-demo", "--workers", "5", "--projects", "1", "--json"], monkeypatch, capsys)
    assert rc == 0, err
    engine = make_engine(str(data / "kiosk.db"))
    with engine.connect() as c:
        project = c.exec_driver_sql("SELECT id FROM project LIMIT 1").scalar()
    engine.dispose()
    (data / "kiosk.db").rename(tmp_path / "keep.db")
    for extra in ("kiosk.db-wal", "kiosk.db-shm"):
        (data / extra).unlink(missing_ok=True)
    data.rmdir()
    rc, err = run(
        ["run", "--headless", "--source", "-", "--project", str(uuid.UUID(hex=str(project)))],
        monkeypatch,
        capsys,
    )
    assert (
        rc == 2 and "Unknown project" in err and "Traceback" not in err
    )  # made and migrated, then: no such project
    assert (data / "kiosk.db").is_file()


def test_sync_status_says_which_database_and_the_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    rc, err = run(["sync", "--status", "--local", str(empty)], monkeypatch, capsys)
    check("sync --status", rc, err, "local store (--local)", f"kiosk db upgrade --db {empty}")
    rc, err = run(["sync", "--status", "--local", str(tmp_path / "none.db")], monkeypatch, capsys)
    check("sync --status", rc, err, "local store (--local)", "does not exist")
    assert not (tmp_path / "none.db").exists()


def test_kiosk_run_with_no_config_makes_no_shared_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No [store] shared_url and no shared file: local only, said once; no empty shared.db appears."""
    import threading

    import kiosk.officer.app

    data = tmp_path / "data"
    monkeypatch.setenv("KIOSK_DATA_DIR", str(data))
    monkeypatch.delenv("KIOSK_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "no-config"))
    got: dict[str, object] = {}

    class NoScreen:
        camera_released = threading.Event()

        def run(self) -> None:
            pass

    def capture(services: Services, *args: object, **kw: object) -> NoScreen:
        got.update(sync=services.sync, shared=services.shared, notices=services.notices)
        NoScreen.camera_released.set()
        return NoScreen()

    monkeypatch.setattr(kiosk.officer.app, "build_app", capture)
    assert main(["run"]) == 0
    assert (data / "kiosk.db").is_file() and not (data / "shared.db").exists()
    assert got["sync"] is None and got["shared"] is None
    assert any("shared_url" in str(n) for n in got["notices"])  # type: ignore[attr-defined]
