"""Every report reads where the truth is: a kiosk's store holds two days, so a month (or an old day, or
every kiosk's refusals) read there is refused with a sentence naming the office database; every export
says its source and the time it was read."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from support.rosterdata import DAY, NOW, populated_site

from kiosk.cli import main
from store.db.engine import write_session
from store.db.models import SyncState
from store.projects import resolve_project
from store.roster.exports import export_daily, export_monthly, export_refused
from store.roster.sources import PeriodNotHeld, open_source
from store.sync.state import PULL_REV


def _as_kiosk(engine: Engine) -> None:
    """Make a store a kiosk's: it has pulled from a shared database."""
    with write_session(engine) as s:
        s.add(SyncState(key=PULL_REV, value="42"))


@pytest.fixture
def kiosk_site(sqlite_url: str):  # type: ignore[no-untyped-def]
    for site in populated_site(sqlite_url):
        _as_kiosk(site.engine)
        yield site


def test_a_month_is_refused_on_a_kiosk(kiosk_site, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    src = open_source(
        kiosk_site.engine, str(kiosk_site.engine.url), now=NOW, elsewhere="kiosk export monthly --db URL"
    )
    assert src.kind == "local"
    out = tmp_path / "m.xlsx"
    with pytest.raises(PeriodNotHeld) as err:
        export_monthly(src, kiosk_site.project_id, 2026, 10, out, "xlsx")
    assert (
        "本机只保存近2天的考勤" in err.value.zh
        and "请在办公室导出：kiosk export monthly --db URL" in err.value.zh
    )
    assert "only the last 2 days" in err.value.en and not out.exists()
    # the day itself and the day before are held; three days ago is not
    export_daily(src, kiosk_site.project_id, DAY, tmp_path / "d.csv", "csv")
    export_daily(src, kiosk_site.project_id, DAY - timedelta(days=1), tmp_path / "d1.csv", "csv")
    with pytest.raises(PeriodNotHeld):
        export_daily(src, kiosk_site.project_id, DAY - timedelta(days=3), tmp_path / "d3.csv", "csv")
    head = (tmp_path / "d.csv").read_text(encoding="utf-8-sig").splitlines()[1]
    assert head.startswith("数据来源：本机存储 ") and "读取于 2026-11-02 09:15" in head
    # the refused attempts of every kiosk never reach a kiosk's store
    project = resolve_project(kiosk_site.engine, str(kiosk_site.project_id))
    with pytest.raises(PeriodNotHeld) as err:
        export_refused(src, project, DAY, DAY, tmp_path / "r.csv", "csv")
    assert "全部签到设备的被拒记录请在办公室导出" in err.value.zh


def test_the_office_database_holds_every_month(sqlite_url: str, tmp_path: Path) -> None:
    for site in populated_site(sqlite_url):
        src = open_source(site.engine, str(site.engine.url), now=datetime(2027, 3, 1, tzinfo=UTC))
        assert src.kind == "office" and src.covers(date(2020, 1, 1), date(2026, 11, 30), date(2027, 3, 1))
        export_monthly(src, site.project_id, 2026, 11, tmp_path / "m.csv", "csv")
        head = (tmp_path / "m.csv").read_text(encoding="utf-8-sig").splitlines()[1]
        assert head == f"数据来源：办公室数据库 {src.where}　读取于 2027-03-01 08:00"


def test_cli_refuses_a_month_on_the_kiosk_and_names_the_office(
    kiosk_site,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],  # type: ignore[no-untyped-def]
) -> None:
    url = str(kiosk_site.engine.url)
    out = tmp_path / "m.xlsx"
    args = ["export", "monthly", "--db", url, "--month", "2026-11", "--out", str(out)]
    assert main([*args, "--project", str(kiosk_site.project_id)]) == 2
    err = capsys.readouterr().err
    assert "本机只保存近2天的考勤" in err and "月度考勤表请在办公室导出：kiosk export monthly --db " in err
    assert "--month 2026-11" in err and "in the office" in err and "Traceback" not in err
    assert not out.exists()


def test_cli_report_names_the_source(
    sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for site in populated_site(sqlite_url):
        out = tmp_path / "m.csv"
        args = ["export", "monthly", "--db", sqlite_url, "--project", str(site.project_id)]
        assert main([*args, "--month", "2026-11", "--out", str(out)]) == 0
        report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
        assert report["source"] == "office" and report["source_where"] in sqlite_url and report["read_at"]


def test_roster_of_an_old_day_on_a_kiosk_is_refused(
    kiosk_site,
    capsys: pytest.CaptureFixture[str],  # type: ignore[no-untyped-def]
) -> None:
    args = ["roster", "--db", str(kiosk_site.engine.url), "--project", str(kiosk_site.project_id)]
    assert main([*args, "--date", "2026-10-01"]) == 2  # refused before any screen opens
    err = capsys.readouterr().err
    assert "本机只保存近2天的考勤" in err and "kiosk roster --db " in err and "--date 2026-10-01" in err
