"""The kiosk's clock against the shared database's, at every sync: measured on PostgreSQL (``now()``),
kept, said in plain words by ``kiosk sync --status`` and the officer's screen, and logged when it
crosses ``[policy] clock_skew_s``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from support.async_tests import run_async
from support.event_log import events, kinds
from support.officer_app import FROZEN, SIZE, frozen, has
from support.waiting import until

from kiosk.cli import main
from kiosk.demo import Demo, make_demo
from kiosk.officer.app import build_app
from store.db.engine import make_engine
from store.db.migrate import upgrade_engine
from store.sync.clock import drift_message, measure_drift, spoken
from store.sync.rounds import sync_once
from store.sync.state import SyncStatus, status
from store.timeutil import utcnow

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def kiosk(tmp_path: Path) -> Iterator[Engine]:
    e = make_engine(f"sqlite:///{tmp_path / 'kiosk.db'}")
    upgrade_engine(e)
    yield e
    e.dispose()


def ahead(seconds: float):  # type: ignore[no-untyped-def]
    return lambda: utcnow() + timedelta(seconds=seconds)


def test_words() -> None:
    assert spoken(312.4) == "5 分 12 秒" and spoken(-312.4, "en") == "5 min 12 s" and spoken(3600) == "1 小时"
    fast = drift_message(312, 30, "zh")
    assert "快 5 分 12 秒" in fast and "尚未生效" in fast and "30 秒" in fast
    slow = drift_message(-90, 30, "en")
    assert "1 min 30 s behind" in slow and "expired" in slow
    assert "一致" in drift_message(4, 30) and "In step" in drift_message(-4, 30, "en")
    assert "SQLite" in drift_message(None, 30, "en")


def test_drift_on_postgresql_is_measured_kept_and_logged(
    kiosk: Engine, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    shared = make_engine(pg_url)
    try:
        assert abs(measure_drift(shared) or 0.0) < 5  # the same machine: in step
        report = sync_once(kiosk, shared, clock_skew_s=30, clock=ahead(300))
        assert report.ok and report.clock_drift_s is not None and 295 < report.clock_drift_s < 305
        st = status(kiosk, clock_skew_s=30)
        assert st.clock_drifting and st.clock_checked_at is not None
        assert "快 5 分" in (st.clock_message("zh") or "") and "ahead" in (st.clock_message("en") or "")
        assert "⚠ 时钟快 5 分" in st.message("zh")
        assert kinds(kiosk) == ["clock_drift"]
        assert events(kiosk)[0].reason == "ahead" and (events(kiosk)[0].detail or "").startswith("+300 s")
        # still fast: no second event; the event went to the shared database with the push
        assert sync_once(kiosk, shared, clock_skew_s=30, clock=ahead(290)).ok
        assert kinds(kiosk) == ["clock_drift"] and kinds(shared) == ["clock_drift"]
        # `kiosk sync --status`: JSON, and the plain words on standard error
        db = str(kiosk.url.database)
        assert main(["sync", "--status", "--local", db]) == 0
        out, err = capsys.readouterr()
        data = json.loads(out)
        assert data["clock_ok"] is False and data["clock_drift_s"] > 280 and "ahead" in data["clock"]
        assert "本机时钟比共享数据库快" in err and "ahead of the shared database" in err
        # set right: back in step, logged once
        assert sync_once(kiosk, shared, clock_skew_s=30).ok
        assert kinds(kiosk) == ["clock_drift", "clock_ok"]
        assert not status(kiosk).clock_drifting
        assert main(["sync", "--status", "--local", db]) == 0
        out, err = capsys.readouterr()
        assert json.loads(out)["clock_ok"] is True and "本机时钟" not in err
        # slow beyond the tolerance
        assert sync_once(kiosk, shared, clock_skew_s=30, clock=ahead(-120)).ok
        assert kinds(kiosk)[-1] == "clock_drift" and events(kiosk)[-1].reason == "behind"
    finally:
        shared.dispose()


def test_a_sqlite_shared_file_has_no_clock_to_compare(kiosk: Engine, tmp_path: Path) -> None:
    shared = make_engine(f"sqlite:///{tmp_path / 'shared.db'}")
    upgrade_engine(shared)
    report = sync_once(kiosk, shared, clock=ahead(3600))
    assert report.ok and report.clock_drift_s is None
    st = status(kiosk)
    assert not st.clock_drifting and "SQLite" in (st.clock_message("en") or "")
    assert st.as_dict()["clock_ok"] is None and kinds(kiosk) == []
    shared.dispose()


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    d = make_demo(tmp_path, workers=60, clock=frozen)
    yield d
    d.engine.dispose()


@run_async
async def test_the_officer_screen_says_the_clock_is_off(demo: Demo) -> None:
    checked: datetime = FROZEN - timedelta(seconds=5)
    state = {
        "now": SyncStatus(
            state="synced",
            last_success_at=checked,
            clock_drift_s=-312.0,
            clock_checked_at=checked,
            clock_skew_s=30,
        )
    }
    app = build_app(demo.services(clock=frozen, sync_status=lambda: state["now"]), None)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.sync_view.clock_drift_s is not None, what="the drift")
        await until(pilot, lambda: has(app, "⚠时钟慢5分12秒"), what="the drift on screen")
        notes = [n.message for n in app._notifications]
        assert any("本机时钟比共享数据库慢 5 分 12 秒" in m for m in notes)
        await pilot.press("f4")
        await pilot.pause()
        assert has(app, "⚠clock5min12sslow")
        state["now"] = SyncStatus(
            state="synced",
            last_success_at=checked,
            clock_drift_s=1.0,
            clock_checked_at=checked,
            clock_skew_s=30,
        )
        app.refresh_sync()
        await until(pilot, lambda: app.sync_view.clock_drift_s is None, what="the drift to clear")
        await until(pilot, lambda: not has(app, "⚠clock"), what="the drift's warning to go")
