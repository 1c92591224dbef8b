"""Imports: all or nothing, a report of row, column and reason, the --update path, the template.

Every person here is synthetic: identity numbers are made from a real region code, made-up birth dates
and sequence numbers, with a valid check character computed by python-stdnum."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import select
from stdnum.cn import ric

from kiosk.cli import main
from store.db.engine import make_engine, session, write_session
from store.db.models import AuditLog, Employment, Worker
from store.errors import StoreError
from store.people.enroll import add_employer, add_project
from store.people.imports import COLUMNS, ImportRejected, import_workers, write_template

HEADERS = [c.header for c in COLUMNS]
EMPLOYER = "上海测试建设有限公司"
PROJECT = "测试项目一期"


def id_number(i: int) -> str:
    """The i-th synthetic identity number (unique for i < 30 000)."""
    born = date(1980, 1, 1) + timedelta(days=i // 1000)
    body = f"310104{born:%Y%m%d}{i % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def bad_checksum(number: str) -> str:
    last = "0" if number[-1] != "0" else "1"
    return number[:-1] + last


def row(i: int, **over: str) -> list[str]:
    values = {
        "身份证号码": id_number(i),
        "姓名": f"测试{i}",
        "性别": "",
        "出生日期": "",
        "民族": "汉族",
        "住址": "上海市某区某路1号",
        "手机号码": f"139{i:08d}",
        "用人单位": EMPLOYER,
        "项目": PROJECT,
        "班组": "钢筋班组",
        "工种": "钢筋工",
        "进场日期": "2026-03-01",
        "退场日期": "",
    }
    values.update(over)
    return [values[h] for h in HEADERS]


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8-sig") as f:
        w = csv.writer(f)
        w.writerow(HEADERS)
        w.writerows(rows)
    return path


@pytest.fixture
def org(engine: Engine) -> Engine:
    with write_session(engine) as s:
        add_employer(session=s, name=EMPLOYER)
        add_project(session=s, name=PROJECT, latitude=31.23, longitude=121.47)
    return engine


def count(engine: Engine, model: type) -> int:
    with session(engine) as s:
        return int(s.exec(select(func.count()).select_from(model)).one())


def test_ten_thousand_rows_with_three_bad_rows_write_nothing_then_the_fixed_file_imports(
    org: Engine, tmp_path: Path
) -> None:
    rows = [row(i) for i in range(10_000)]
    rows[41] = row(41, 身份证号码=bad_checksum(id_number(41)))  # spreadsheet row 43
    rows[4999] = row(4999, 项目="不存在的项目")  # row 5001
    rows[9998] = row(7)  # row 10000: the same person as row 9
    audit_before = count(org, AuditLog)
    with pytest.raises(ImportRejected) as err:
        import_workers(org, write_csv(tmp_path / "bad.csv", rows))
    report = err.value.report
    assert [(e.row, e.column) for e in report.errors] == [
        (43, "id_number"),
        (5001, "project"),
        (10000, "id_number"),
    ]
    assert "校验位" in report.errors[0].zh and "check character" in report.errors[0].en
    assert "未登记的项目" in report.errors[1].zh and "Unknown project" in report.errors[1].en
    assert "第9行" in report.errors[2].zh and "row 9" in report.errors[2].en
    assert count(org, Worker) == 0 and count(org, Employment) == 0 and count(org, AuditLog) == audit_before

    rows[41], rows[4999], rows[9998] = row(41), row(4999), row(9998)
    done = import_workers(org, write_csv(tmp_path / "fixed.csv", rows))
    assert (done.rows, done.workers_created, done.employments_created, done.written) == (
        10_000,
        10_000,
        10_000,
        True,
    )
    assert count(org, Worker) == 10_000 and count(org, Employment) == 10_000
    with session(org) as s:
        w = s.exec(select(Worker).where(Worker.id_number == id_number(41))).one()
        assert w.id_number_masked == "*" * 14 + id_number(41)[-4:]
        assert (w.name, w.sex, w.birth_date, w.mobile) == (
            "测试41",
            "M" if 41 % 2 else "F",
            date(1980, 1, 1),
            "13900000041",
        )
        assert w.rev > 0 and w.realname_verified_at is None and not w.has_bank_card
        e = s.exec(select(Employment).where(Employment.worker_id == w.id)).one()
        assert (e.team, e.trade, e.start_date, e.confirmed_at) == (
            "钢筋班组",
            "钢筋工",
            date(2026, 3, 1),
            None,
        )
        actions = s.exec(
            select(AuditLog.action, func.count()).where(AuditLog.actor == "import").group_by(AuditLog.action)
        ).all()
        assert dict(actions) == {"import": 20_000}


def test_each_kind_of_bad_cell_is_reported(org: Engine, tmp_path: Path) -> None:
    rows = [
        row(0, 性别="女" if int(id_number(0)[16]) % 2 else "男"),  # row 2: sex disagrees
        row(1, 出生日期="1990-01-01"),  # row 3: birth date disagrees
        row(2, 进场日期="2026-13-01"),  # row 4: not a date
        row(3, 退场日期="2026-01-01"),  # row 5: ends before it starts
        row(4, 用人单位="无名公司"),  # row 6: unknown employer
        row(5, 姓名=""),  # row 7: no name
        row(6, 手机号码="12345"),  # row 8: bad mobile
        row(7, 班组=""),  # row 9: employment incomplete
        row(8, 身份证号码="31010419800101"),  # row 10: too short
        row(9),  # a good row
    ]
    with pytest.raises(ImportRejected) as err:
        import_workers(org, write_csv(tmp_path / "bad.csv", rows))
    got = [(e.row, e.column) for e in err.value.report.errors]
    assert got == [
        (2, "sex"),
        (3, "birth_date"),
        (4, "start_date"),
        (5, "end_date"),
        (6, "employer"),
        (7, "name"),
        (8, "mobile"),
        (9, "team"),
        (10, "id_number"),
    ]
    assert all(e.zh and e.en for e in err.value.report.errors)
    assert count(org, Worker) == 0


def test_an_enrolled_id_number_needs_update(org: Engine, tmp_path: Path) -> None:
    first = import_workers(org, write_csv(tmp_path / "a.csv", [row(i) for i in range(20)]))
    assert first.workers_created == 20
    with write_session(org) as s:  # the worker of row 3 has confirmed his employment
        w3 = s.exec(select(Worker).where(Worker.id_number == id_number(3))).one()
        e3 = s.exec(select(Employment).where(Employment.worker_id == w3.id)).one()
        e3.confirmed_at = e3.created_at
        s.add(e3)
        w4 = s.exec(select(Worker).where(Worker.id_number == id_number(4))).one()
        e4 = s.exec(select(Employment).where(Employment.worker_id == w4.id)).one()
        e4.confirmed_at = e4.created_at
        s.add(e4)

    again = [row(i) for i in range(20)] + [row(20)]
    again[3] = row(3, 手机号码="13711112222", 工种="焊工")
    again[5] = row(5, 住址="")  # an empty cell keeps what is there
    path = write_csv(tmp_path / "b.csv", again)
    with pytest.raises(ImportRejected) as err:
        import_workers(org, path)
    assert len(err.value.report.errors) == 20 and {e.column for e in err.value.report.errors} == {"id_number"}
    assert "--update" in err.value.report.errors[0].en and count(org, Worker) == 20

    dry = import_workers(org, path, update=True, dry_run=True)
    assert (dry.workers_created, dry.workers_updated, dry.written) == (1, 1, False) and count(
        org, Worker
    ) == 20

    done = import_workers(org, path, update=True)
    assert (
        done.workers_created,
        done.workers_updated,
        done.employments_created,
        done.employments_updated,
    ) == (1, 1, 1, 1)
    with session(org) as s:
        w3 = s.exec(select(Worker).where(Worker.id_number == id_number(3))).one()
        assert w3.mobile == "13711112222"
        e3 = s.exec(select(Employment).where(Employment.worker_id == w3.id)).one()
        assert e3.trade == "焊工" and e3.confirmed_at is None  # changed: the worker confirms again
        w4 = s.exec(select(Worker).where(Worker.id_number == id_number(4))).one()
        assert s.exec(select(Employment).where(Employment.worker_id == w4.id)).one().confirmed_at is not None
        w5 = s.exec(select(Worker).where(Worker.id_number == id_number(5))).one()
        assert w5.address == "上海市某区某路1号"
        updates = s.exec(select(AuditLog).where(AuditLog.action == "update")).all()
        assert sorted(a.detail or "" for a in updates) == [
            "import: mobile",
            "import: trade; needs confirmation",
        ]
    assert count(org, Worker) == 21


def test_template_round_trip_through_xlsx(org: Engine, tmp_path: Path) -> None:
    out = write_template(tmp_path / "template.xlsx")
    wb = load_workbook(out)
    ws = wb.worksheets[0]
    assert [c.value for c in ws[1]] == HEADERS
    # the data sheet has the headers only: no sample row a user would import with his own
    assert all(cell.value is None for r in ws.iter_rows(min_row=2) for cell in r)
    assert import_workers(org, out).workers_created == 0  # the template as it comes imports nothing
    doc = wb.worksheets[1]
    assert doc.cell(row=2, column=1).value == "身份证号码"
    assert doc.cell(row=2, column=6).value == COLUMNS[0].example  # the examples are explained here
    wb2 = Workbook()
    ws2 = wb2.active
    assert ws2 is not None
    ws2.append(HEADERS)
    ws2.append(row(1, 进场日期=""))
    ws2.cell(row=2, column=HEADERS.index("进场日期") + 1).value = date(2026, 4, 1)  # a real Excel date
    ws2.append(row(2))
    ws2.cell(row=3, column=1).value = int(id_number(2)[:-1] + "0")  # Excel turned it into a number
    wb2.save(tmp_path / "w.xlsx")
    with pytest.raises(ImportRejected) as err:
        import_workers(org, tmp_path / "w.xlsx")
    assert [(e.row, e.column) for e in err.value.report.errors] == [(3, "id_number")]
    assert "文本" in err.value.report.errors[0].zh
    ws2.cell(row=3, column=1).value = id_number(2)
    wb2.save(tmp_path / "w.xlsx")
    assert import_workers(org, tmp_path / "w.xlsx").workers_created == 2
    with session(org) as s:
        assert {e.start_date for e in s.exec(select(Employment))} == {date(2026, 4, 1), date(2026, 3, 1)}


def test_cli_prints_the_report_and_writes_nothing(
    org: Engine, sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_csv(tmp_path / "bad.csv", [row(0), row(1, 身份证号码=bad_checksum(id_number(1)))])
    assert main(["import", "workers", str(path), "--db", sqlite_url]) == 2
    err = capsys.readouterr().err
    assert (
        "第3行 身份证号码：身份证号码校验位错误 | row 3, id_number: ID number: wrong check character" in err
    )
    assert "未写入任何数据" in err and "nothing was written" in err
    assert id_number(0) not in err  # no full ID number is printed (only the bad one's row)
    assert count(org, Worker) == 0
    assert main(["import", "template", "--out", str(tmp_path / "t.xlsx")]) == 0
    assert (tmp_path / "t.xlsx").is_file()


def test_import_on_postgres(pg_url: str, tmp_path: Path) -> None:
    engine = make_engine(pg_url)
    try:
        with write_session(engine) as s:
            add_employer(session=s, name=EMPLOYER)
            add_project(session=s, name=PROJECT)
        path = write_csv(tmp_path / "a.csv", [row(i) for i in range(300)])
        assert import_workers(engine, path).workers_created == 300
        with write_session(engine) as s:
            w0 = s.exec(select(Worker).where(Worker.id_number == id_number(0))).one()
            w0.realname_verified_at, w0.realname_verified_by = w0.created_at, "tester"
            s.add(w0)
        changed = [row(i) for i in range(300)]
        changed[0] = row(0, 姓名="测试改名")
        assert (
            import_workers(engine, write_csv(tmp_path / "b.csv", changed), update=True).workers_updated == 1
        )
        assert count(engine, Worker) == 300
        with session(engine) as s:
            w0 = s.exec(select(Worker).where(Worker.id_number == id_number(0))).one()
            assert w0.name == "测试改名" and w0.realname_verified_at is None  # a new name is verified again
    finally:
        engine.dispose()


def test_cli_dry_run_and_json(
    org: Engine, sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    path = write_csv(tmp_path / "a.csv", [row(i) for i in range(5)])
    assert main(["import", "workers", str(path), "--db", sqlite_url, "--dry-run", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["workers_created"], out["written"], out["dry_run"]) == (5, False, True)
    assert count(org, Worker) == 0
    assert main(["import", "workers", str(path), "--db", sqlite_url, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["written"] is True and count(org, Worker) == 5
    assert main(["import", "workers", str(path), "--db", sqlite_url, "--json"]) == 2
    bad = json.loads(capsys.readouterr().out)
    assert bad["written"] is False and [e["row"] for e in bad["errors"]] == [2, 3, 4, 5, 6]
    assert main(["import", "workers", str(tmp_path / "nope.xlsx"), "--db", sqlite_url]) == 2
    assert "找不到文件" in capsys.readouterr().err


def test_formula_names_and_texts_are_refused_at_import(org: Engine, tmp_path: Path) -> None:
    """A name, team or trade a spreadsheet would run (=HYPERLINK(...), @SUM(...), +, -) is refused with
    its row and column, and nothing is written."""
    path = write_csv(
        tmp_path / "formula.csv",
        [
            row(1, 姓名='=HYPERLINK("http://evil.example","点我")'),
            row(2, 班组="@SUM(A1:A9)"),
            row(3, 工种="+1+1"),
            row(4, 住址="-2+3"),
            row(5),
        ],
    )
    with pytest.raises(ImportRejected) as exc:
        import_workers(org, path)
    found = {(e.row, e.column) for e in exc.value.report.errors}
    assert found == {(2, "name"), (3, "team"), (4, "trade"), (5, "address")}
    assert all("公式" in e.zh and "formula" in e.en for e in exc.value.report.errors)
    assert count(org, Worker) == 0


def test_a_duplicate_of_a_row_with_another_error_is_reported(org: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "twins.csv", [row(1, 手机号码="12"), row(2), row(1)])
    with pytest.raises(ImportRejected) as exc:
        import_workers(org, path)
    errors = {(e.row, e.column) for e in exc.value.report.errors}
    assert (2, "mobile") in errors and (4, "id_number") in errors  # the twin of row 2 is caught too


def test_a_csv_cell_over_the_csv_limit_is_a_clear_error(org: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "huge.csv", [row(1, 住址="长" * 140_000)])
    with pytest.raises(StoreError, match="Malformed CSV"):
        import_workers(org, path)


def test_names_with_invisible_characters_are_refused(org: Engine, tmp_path: Path) -> None:
    """Issue 27: a name that reads as another (a right-to-left override, zero-width characters, a Hangul
    filler, a tab, a bidi isolate) is refused in imports as on the phone, naming the character (a line
    break inside a CSV cell: tests/test_validation.py, the same check)."""
    bad = ["王\u202e二", "王\u200b二", "王\u200d二", "\u3164", "王\t二", "王\u2066二\u2069"]
    rows = [row(i, 姓名=name) for i, name in enumerate(bad)] + [row(len(bad))]
    with pytest.raises(ImportRejected) as err:
        import_workers(org, write_csv(tmp_path / "names.csv", rows))
    errors = err.value.report.errors
    assert [(e.row, e.column) for e in errors] == [(i + 2, "name") for i in range(len(bad))]
    assert "U+202E" in errors[0].en and "看不见的字符" in errors[0].zh
    assert count(org, Worker) == 0
