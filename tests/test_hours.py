"""Hours on site (store/roster/hours.py) in the daily, monthly and hours exports: first in, last out, hours,
the month's total and how each departure was recorded; a day without a departure is marked, not guessed.
Also the on-site counts of the roster and the evacuation list."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from support.eligible import make_eligible

from store.db.engine import make_engine, session
from store.people import enroll
from store.roster.day import evacuation, load_roster
from store.roster.exports import daily_table, export_hours, export_monthly, month_cell, monthly_table
from store.roster.hours import load_hours
from store.roster.month import load_month
from store.rules.direction import DirectionService, GateMode, close_forgotten, correct_departure
from store.rules.signin import SignInService

D1 = date(2026, 11, 2)
AT = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)  # 08:00 Shanghai


@pytest.fixture
def world(sqlite_url: str):  # type: ignore[no-untyped-def]
    engine = make_engine(sqlite_url)
    with session(engine) as s:
        p = enroll.add_project(session=s, name="工时项目", latitude=31.2, longitude=121.5)
        em = enroll.add_employer(session=s, name="上海工时建设有限公司")
        inst = enroll.add_health_institution(session=s, name="工时体检中心")
        ids = []
        for n, (name, number) in enumerate(
            (("张三", "310104199001010011"), ("李四", "310104199202020021"), ("王五", "110101198001010010"))
        ):
            w = enroll.add_worker(session=s, id_number=number, name=name)
            make_eligible(s, w, employer=em, project=p, today=D1 - timedelta(days=n), institution=inst)
            ids.append(w.id)
        s.commit()
        pid = p.id
    svc = DirectionService(SignInService(engine))
    a, b, _ = ids
    for w in ids:
        svc.pass_gate(GateMode.IN, w, pid, at=AT)
    svc.pass_gate(GateMode.OUT, a, pid, at=AT + timedelta(hours=8, minutes=30))  # 8.5 h, scanned
    correct_departure(
        engine,
        worker_id=b,
        project_id=pid,
        on=D1,
        at=AT + timedelta(hours=4),
        reason="下午请假",
        actor="监理",
    )
    yield engine, pid, ids
    engine.dispose()


def test_day_hours_and_on_site(world) -> None:  # type: ignore[no-untyped-def]
    engine, pid, _ = world
    hours = load_hours(engine, pid, D1, D1)
    roster = load_roster(engine, pid, D1)
    assert roster.counts.signed_in == 3 and roster.counts.on_site == 1 and roster.counts.left == 2
    ev = evacuation(roster, AT + timedelta(hours=9))
    assert ev.total == 1 and ev.left == 2 and ev.groups[0].rows[0].name == "王五"
    table = daily_table(roster, "zh", hours=hours)
    by_name = {r[2]: r for r in table.rows}
    assert by_name["张三"][-4:] == [datetime(2026, 11, 2, 16, 30), "扫码", 8.5, ""]
    assert by_name["李四"][-4:] == [datetime(2026, 11, 2, 12, 0), "补录", 4.0, "下午请假（监理）"]
    assert by_name["王五"][-4:] == ["", "未签退", "未签退，不推算", ""]
    assert "在场 1" in table.title and "已离场 2" in table.title


def test_month_cells_totals_and_detail(world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    engine, pid, _ = world
    close_forgotten(
        engine, now=AT + timedelta(days=1), closes={}, default=time(20, 0)
    )  # 王五 closed at 20:00
    hours = load_hours(engine, pid, date(2026, 11, 1), date(2026, 11, 30))
    month = load_month(engine, pid, 2026, 11)
    table = monthly_table(month, "zh", hours=hours)
    rows = {r[1]: r for r in table.rows}
    day2 = table.headers.index("2")
    assert rows["张三"][day2] == "8.5" and rows["李四"][day2] == "4补" and rows["王五"][day2] == "12自"
    # the row ends with the month's hours and counts, then the signature box
    assert table.headers[-5:] == ["工时合计", "未签退天数", "自动签退天数", "补录天数", "签字确认"]
    assert rows["张三"][-5:-1] == [8.5, 0, 0, 0] and rows["王五"][-5:-1] == [12.0, 0, 1, 0]
    assert rows["李四"][-5:-1] == [4.0, 0, 0, 1]
    assert month_cell(None, True, "zh") == "√" and month_cell(None, False, "zh") == ""
    path, n = export_hours(engine, pid, 2026, 11, tmp_path / "hours.xlsx", "xlsx")
    assert n == 3
    ws = load_workbook(path).active
    assert ws is not None
    values = [[c.value for c in row] for row in ws.iter_rows()]
    assert "合计 24.5 小时" in str(values[0][0])
    assert {r[1]: r[8] for r in values[3:]} == {"张三": "扫码", "李四": "补录", "王五": "自动签退"}
    export_monthly(engine, pid, 2026, 11, tmp_path / "m.csv", "csv")
    assert "8.5" in (tmp_path / "m.csv").read_text(encoding="utf-8-sig")


def test_open_day_is_marked_not_guessed(world) -> None:  # type: ignore[no-untyped-def]
    engine, pid, _ = world
    hours = load_hours(engine, pid, date(2026, 11, 1), date(2026, 11, 30))
    month = load_month(engine, pid, 2026, 11)
    rows = {r[1]: r for r in monthly_table(month, "zh", hours=hours).rows}
    day2 = 6 + 2 - 1
    assert rows["王五"][day2] == "√未退" and rows["王五"][-5:-1] == [0, 1, 0, 0]
