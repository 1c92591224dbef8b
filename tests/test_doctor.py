"""``kiosk doctor``: a kiosk set up right is all ✓; each thing a support call finds wrong is a ✗ with what
to do (a dead shared database, a damaged or old local store, a fast clock, no camera, no keys, a full disk)."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from kiosk.camera.simulate import write_folder
from kiosk.cli import main
from kiosk.demo import make_demo
from kiosk.setup.doctor import run_checks
from store.db.engine import make_engine
from store.db.migrate import upgrade_engine
from store.db.schema import head
from store.timeutil import utcnow

pytestmark = pytest.mark.timeout(120)


def write_config(tmp_path: Path, local: Path, shared: str, camera: str) -> Path:
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        f'[store]\nlocal_url = "sqlite:///{local}"\nshared_url = "{shared}"\n[camera]\nsource = "{camera}"\n',
        encoding="utf-8",
    )
    return cfg


@pytest.fixture
def site(tmp_path: Path, pg_url: str) -> tuple[Path, Path, str]:
    """A kiosk set up right: its store (with the demo's keys), the shared PostgreSQL, a camera folder."""
    demo = make_demo(tmp_path, workers=20)
    demo.engine.dispose()
    frames = tmp_path / "camera"
    write_folder([None, None, None, None, None], frames)
    local = tmp_path / "demo.db"
    return write_config(tmp_path, local, pg_url, str(frames)), local, pg_url


def by_name(checks: list) -> dict:  # type: ignore[type-arg]
    return {c.name: c for c in checks}


def test_a_kiosk_set_up_right_is_all_good(
    site: tuple[Path, Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    cfg, _, _ = site
    assert main(["doctor", "--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert out.count("✓") == 8 and "✗" not in out and "全部正常" in out
    assert "1280×720" in out and f"结构版本 {head()}" in out
    assert main(["doctor", "--config", str(cfg), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is True
    assert [c["check"] for c in data["checks"]] == [
        "config",
        "local_store",
        "shared_db",
        "clock",
        "camera",
        "zbar",
        "trust",
        "disk",
    ]
    camera = next(c for c in data["checks"] if c["check"] == "camera")
    assert camera["data"]["width"] == 1280 and camera["data"]["height"] == 720
    assert abs(next(c for c in data["checks"] if c["check"] == "clock")["data"]["drift_s"]) < 5


def test_each_problem_is_a_cross_with_what_to_do(
    site: tuple[Path, Path, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import kiosk.setup.doctor as doctor

    cfg, local, _pg = site
    # a clock five minutes fast
    checks = by_name(run_checks(str(cfg), clock=lambda: utcnow() + timedelta(minutes=5)))
    assert (
        not checks["clock"].ok
        and "快 5 分" in checks["clock"].zh
        and "automatic time" in checks["clock"].fix_en
    )
    # the shared database out of reach; no camera; a full disk
    cfg2 = write_config(
        tmp_path, local, "postgresql://postgres@127.0.0.1:1/nowhere", str(tmp_path / "no-camera")
    )
    monkeypatch.setattr(doctor, "MIN_FREE_BYTES", 1 << 60)
    checks = by_name(run_checks(str(cfg2)))
    assert not checks["shared_db"].ok and "cannot be reached" in checks["shared_db"].en
    assert "shared_url" in checks["shared_db"].fix_zh
    assert not checks["clock"].ok and "never" in checks["clock"].en  # no sync ever measured it
    assert not checks["camera"].ok and "scanner" in checks["camera"].fix_en
    assert not checks["disk"].ok and "retention purge" in checks["disk"].fix_en
    assert checks["local_store"].ok and checks["trust"].ok
    assert main(["doctor", "--config", str(cfg2), "--no-camera"]) == 1


def test_store_and_keys_problems(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shared = tmp_path / "shared.db"
    e = make_engine(f"sqlite:///{shared}")
    upgrade_engine(e)
    e.dispose()
    old = tmp_path / "old.db"
    e = make_engine(f"sqlite:///{old}")
    upgrade_engine(e, "0003")
    e.dispose()
    cfg = write_config(tmp_path, old, f"sqlite:///{shared}", "0")
    checks = by_name(run_checks(str(cfg), camera=False))
    assert not checks["local_store"].ok and "kiosk db upgrade" in checks["local_store"].fix_en
    assert checks["shared_db"].ok and "SQLite" in checks["clock"].en and checks["clock"].ok
    assert not checks["trust"].ok and "empty" in checks["trust"].en
    damaged = tmp_path / "damaged.db"
    shutil.copy(shared, damaged)
    with damaged.open("r+b") as f:
        f.seek(4096)
        f.write(b"\x00\xff" * 4096)
    checks = by_name(
        run_checks(str(write_config(tmp_path, damaged, f"sqlite:///{shared}", "0")), camera=False)
    )
    assert not checks["local_store"].ok and "kiosk db restore" in checks["local_store"].fix_en
    missing = tmp_path / "nothing" / "kiosk.db"
    checks = by_name(
        run_checks(str(write_config(tmp_path, missing, f"sqlite:///{tmp_path}/none.db", "0")), camera=False)
    )
    assert not checks["local_store"].ok and not checks["shared_db"].ok
    assert not missing.exists() and not (tmp_path / "none.db").exists()  # looking made nothing
    # a bad config: the one check that names it
    bad = tmp_path / "bad.toml"
    bad.write_text("[kiosk]\nlock_idle_s = -1\n", encoding="utf-8")
    assert main(["doctor", "--config", str(bad), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert [c["check"] for c in data["checks"]] == ["config"] and "lock_idle_s" in data["checks"][0]["detail"]
