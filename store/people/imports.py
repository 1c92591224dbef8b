"""Importing workers from a spreadsheet: ``kiosk import workers FILE.xlsx|FILE.csv [--dry-run] [--update]``.

All or nothing. Every row is read and checked in memory first — the identity number (GB 11643
checksum, sex and birth date agreeing with it), dates, a mobile number, a duplicate of an earlier row,
an employer or project the database does not know, an identity number already enrolled (unless
``update``) — and any problem makes an ``ImportRejected`` carrying a report of row, column and reason
in Chinese and English; nothing is written. A clean file is written in one transaction with bulk
inserts (10 000 rows in a few seconds, ``bench/import_workers.py``).

Columns (``COLUMNS``; Chinese headers, the English key works too): see ``kiosk import template``,
which writes an XLSX with the headers and a sheet explaining each column with an example.

With ``update``, a row whose identity number is enrolled updates the worker (name, ethnicity,
address, mobile: cells left empty keep what is there) and his employment on the row's project (an
employment whose employer, team, trade or dates change must be confirmed again by the worker). Sex
and birth date always come from the identity number.

Imported workers still need real-name verification (face and ID card), a bank card and a health check
before they can sign in: the admin app's readiness panel shows what is missing.
"""

from __future__ import annotations

import csv
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from store.db.engine import translate_errors
from store.db.models import AuditLog, Employer, Employment, Project, Worker
from store.db.revision import take_revisions
from store.errors import StoreError
from store.errors import ValidationError as FieldError
from store.rules.validation import (
    birth_date_of,
    mask_id_number,
    refuse_formula,
    sex_of,
    validate_mobile,
    validate_name,
    validate_person,
)
from store.timeutil import parse_date, utcnow


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    header: str  # Chinese header, what the template writes
    en: str  # English description
    zh: str  # Chinese description
    required: bool = False
    example: str = ""


COLUMNS: tuple[Column, ...] = (
    # The columns read alike by design: one row a template column (key, header, help in en and zh, example).
    Column(
        "id_number",
        "身份证号码",
        "ID number, 18 characters (GB 11643); as text",
        "18位身份证号码，请以文本格式填写",
        True,
        "110101199003074119",
    ),
    Column("name", "姓名", "Name as on the ID card", "与身份证一致的姓名", True, "张伟"),
    Column(
        "sex",
        "性别",
        "男/女 (M/F); optional, must agree with the ID number",
        "男或女，可不填，须与身份证号码一致",
        False,
        "男",
    ),
    Column(
        "birth_date",
        "出生日期",
        "YYYY-MM-DD; optional, must agree with the ID number",
        "格式 YYYY-MM-DD，可不填，须与身份证号码一致",
        False,
        "1990-03-07",
    ),
    Column("ethnicity", "民族", "Ethnicity", "民族", False, "汉族"),
    Column("address", "住址", "Address as on the ID card", "身份证住址", False, "上海市黄浦区示例路1号"),
    Column("mobile", "手机号码", "Mainland mobile number, 11 digits", "11位手机号码", False, "13800138000"),
    Column(
        "employer",
        "用人单位",
        "Employer name, as enrolled (employment columns: all or none)",
        "已登记的用人单位名称（聘用信息各列须同时填写或同时不填）",
        False,
        "上海申城建设工程有限公司",
    ),
    Column("project", "项目", "Project name or id, as enrolled", "已登记的项目名称或编号", False, "示例项目"),
    Column("team", "班组", "Team", "班组", False, "钢筋班组"),
    Column("trade", "工种", "Trade", "工种", False, "钢筋工"),
    Column(
        "start_date",
        "进场日期",
        "Employment start, YYYY-MM-DD",
        "聘用开始日期 YYYY-MM-DD",
        False,
        "2026-03-01",
    ),
    Column("end_date", "退场日期", "Employment end, YYYY-MM-DD; optional", "聘用结束日期，可不填", False, ""),
)
BY_KEY = {c.key: c for c in COLUMNS}
EMPLOYMENT_KEYS = ("employer", "project", "team", "trade", "start_date")
ACTOR = "import"
BATCH = 2000


# A frozen dataclass of plain fields, like sync/rounds' SyncReport: its own fields.
@dataclass(frozen=True, slots=True)
class RowError:
    """One problem: the spreadsheet row (the header is row 1), the column and why, in both languages."""

    row: int
    column: str
    zh: str
    en: str

    @property
    def header(self) -> str:
        c = BY_KEY.get(self.column)
        return c.header if c else self.column

    def line(self) -> str:
        where_zh = f"第{self.row}行" if self.row else "文件"
        where_en = f"row {self.row}" if self.row else "file"
        return f"{where_zh} {self.header}：{self.zh} | {where_en}, {self.column}: {self.en}"

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "header": self.header, "zh": self.zh, "en": self.en}


# Counters and an as_dict, like setup/doctor's Check: the JSON of one report.
@dataclass(slots=True)
class ImportReport:
    path: str
    rows: int = 0
    workers_created: int = 0
    workers_updated: int = 0
    employments_created: int = 0
    employments_updated: int = 0
    dry_run: bool = False
    written: bool = False
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.path,
            "rows": self.rows,
            "workers_created": self.workers_created,
            "workers_updated": self.workers_updated,
            "employments_created": self.employments_created,
            "employments_updated": self.employments_updated,
            "dry_run": self.dry_run,
            "written": self.written,
            "errors": [e.as_dict() for e in self.errors],
            "warnings": [w.as_dict() for w in self.warnings],
        }


class ImportRejected(StoreError):
    """The file has bad rows; nothing was written. ``report.errors`` lists every one."""

    def __init__(self, report: ImportReport) -> None:
        n = len(report.errors)
        super().__init__(
            f"导入失败：{n}处错误，未写入任何数据", f"Import refused: {n} problem(s), nothing was written"
        )
        self.report = report


# --- reading -------------------------------------------------------------------------------------


def _cell(v: Any) -> Any:
    if isinstance(v, str):
        v = v.strip()
        return v or None
    return v


def read_rows(path: Path) -> tuple[list[str], Iterator[tuple[int, list[Any]]]]:
    """Headers and (row number, cells) of the first sheet of an XLSX or a CSV (UTF-8 or GB18030)."""
    if not path.is_file():
        raise StoreError(f"找不到文件：{path}", f"File not found: {path}")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        raw = path.read_bytes()
        for enc in ("utf-8-sig", "gb18030"):
            try:
                text = raw.decode(enc)
                break
            except UnicodeDecodeError:
                continue
        else:  # pragma: no cover - gb18030 decodes nearly anything
            raise StoreError("无法识别CSV文件编码（应为UTF-8）", "Cannot decode the CSV file (use UTF-8)")
        try:
            rows = list(csv.reader(text.splitlines()))
        except csv.Error as exc:  # a cell over the csv module's 131 072-character limit, a stray NUL, …
            raise StoreError(
                f"CSV文件格式错误（单元格过长或含非法字符）：{exc}",
                f"Malformed CSV file (a cell too long, or a bad character): {exc}",
            ) from exc
        all_rows: list[list[Any]] = [[_cell(c) for c in r] for r in rows]
    elif suffix in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        try:
            wb = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
            raise StoreError(
                f"无法读取Excel文件：{path}", f"Cannot read the Excel file {path}: {exc}"
            ) from exc
        try:
            all_rows = [[_cell(c) for c in r] for r in wb.worksheets[0].iter_rows(values_only=True)]
        finally:
            wb.close()
    else:
        raise StoreError(
            f"只支持 .xlsx 或 .csv 文件：{path.name}", f"Only .xlsx and .csv files are supported: {path.name}"
        )
    if not all_rows:
        raise StoreError("文件为空", "The file is empty")
    headers = [str(h).strip() if h is not None else "" for h in all_rows[0]]
    return headers, ((i + 2, r) for i, r in enumerate(all_rows[1:]))


def _header_map(headers: list[str], report: ImportReport) -> dict[str, int]:
    known = {c.header: c.key for c in COLUMNS} | {c.key: c.key for c in COLUMNS}
    where: dict[str, int] = {}
    for i, h in enumerate(headers):
        if not h:
            continue
        key = known.get(h) or known.get(h.lower())
        if key is None:
            report.warnings.append(RowError(1, h, "未知的列，已忽略", "Unknown column, ignored"))
        elif key in where:
            report.errors.append(RowError(1, key, "列重复", "The column appears twice"))
        else:
            where[key] = i
    for c in COLUMNS:
        if c.required and c.key not in where:
            report.errors.append(
                RowError(1, c.key, f"缺少必填列“{c.header}”", f"Required column '{c.key}' is missing")
            )
    return where


# --- checking ------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Row:
    row: int
    id_number: str
    name: str
    ethnicity: str | None
    address: str | None
    mobile: str | None
    employer_id: uuid.UUID | None = None
    project_id: uuid.UUID | None = None
    team: str | None = None
    trade: str | None = None
    start_date: date | None = None
    end_date: date | None = None


def _sex(v: Any) -> str:
    s = str(v).strip().upper()
    table = {"男": "M", "女": "F", "M": "M", "F": "F", "MALE": "M", "FEMALE": "F"}
    if s not in table:
        raise FieldError("sex", f"性别只能是男或女：{v}", f"Sex must be 男/女 (M/F): {v}")
    return table[s]


class _Lookup:
    """Names the rows refer to, read once."""

    def __init__(self, conn: Connection) -> None:
        self.employers: dict[str, list[uuid.UUID]] = {}
        for eid, name in conn.execute(
            select(col(Employer.id), col(Employer.name)).where(col(Employer.deleted_at).is_(None))
        ):
            self.employers.setdefault(name, []).append(eid)
        self.projects: dict[str, list[uuid.UUID]] = {}
        for pid, name in conn.execute(
            select(col(Project.id), col(Project.name)).where(col(Project.deleted_at).is_(None))
        ):
            self.projects.setdefault(name, []).append(pid)
            self.projects.setdefault(str(pid), []).append(pid)


def _resolve(
    table: dict[str, list[uuid.UUID]], value: Any, key: str, what_zh: str, what_en: str
) -> uuid.UUID:
    ids = table.get(str(value).strip(), [])
    if not ids:
        raise FieldError(key, f"未登记的{what_zh}：{value}", f"Unknown {what_en}: {value}")
    if len(ids) > 1:
        raise FieldError(
            key, f"{what_zh}名称重复，请用编号：{value}", f"Ambiguous {what_en} name, use its id: {value}"
        )
    return ids[0]


def _check_row(
    n: int, cells: list[Any], where: dict[str, int], look: _Lookup, errors: list[RowError]
) -> tuple[_Row, bool]:
    """The row as read (its ``id_number`` set when the number itself is valid) and whether it has no error."""

    def get(key: str) -> Any:
        i = where.get(key)
        return cells[i] if i is not None and i < len(cells) else None

    before = len(errors)

    def attempt(key: str, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except FieldError as exc:
            errors.append(RowError(n, key, exc.zh, exc.en))
            return None

    raw_id = get("id_number")
    number: str | None = None
    if raw_id is None:
        errors.append(RowError(n, "id_number", "身份证号码不能为空", "ID number is empty"))
    elif isinstance(raw_id, float | int):
        errors.append(
            RowError(
                n,
                "id_number",
                "身份证号码被存成了数字，末位可能已丢失，请将该列设为文本",
                "The ID number was stored as a number (digits may be lost): format the column as text",
            )
        )
    else:
        sex = attempt("sex", lambda: _sex(get("sex"))) if get("sex") is not None else None
        birth = (
            attempt("birth_date", lambda: parse_date(get("birth_date")))
            if get("birth_date") is not None
            else None
        )
        try:
            number = validate_person(str(raw_id), sex=sex, birth_date=birth)
        except FieldError as exc:
            errors.append(RowError(n, exc.field if exc.field in BY_KEY else "id_number", exc.zh, exc.en))
    name = attempt("name", lambda: validate_name(str(get("name") or "")))
    mobile = (
        attempt("mobile", lambda: validate_mobile(str(get("mobile")))) if get("mobile") is not None else None
    )

    emp_given = [k for k in EMPLOYMENT_KEYS if get(k) is not None]
    row = _Row(n, number or "", name or "", _text(get("ethnicity")), _text(get("address")), mobile)
    if emp_given or get("end_date") is not None:
        for k in EMPLOYMENT_KEYS:
            if get(k) is None:
                errors.append(
                    RowError(
                        n,
                        k,
                        f"聘用信息不完整：缺少“{BY_KEY[k].header}”",
                        f"Employment incomplete: '{k}' is missing",
                    )
                )
        if get("employer") is not None:
            row.employer_id = attempt(
                "employer",
                lambda: _resolve(look.employers, get("employer"), "employer", "用人单位", "employer"),
            )
        if get("project") is not None:
            row.project_id = attempt(
                "project", lambda: _resolve(look.projects, get("project"), "project", "项目", "project")
            )
        row.team, row.trade = _text(get("team")), _text(get("trade"))
        if get("start_date") is not None:
            row.start_date = attempt("start_date", lambda: parse_date(get("start_date")))
        if get("end_date") is not None:
            row.end_date = attempt("end_date", lambda: parse_date(get("end_date")))
        if row.start_date and row.end_date and row.end_date < row.start_date:
            errors.append(
                RowError(n, "end_date", "退场日期早于进场日期", "End date is before the start date")
            )
    for key in TEXT_KEYS:  # a spreadsheet would run it as a formula (names reach the wage office's exports)
        if isinstance(get(key), str):
            attempt(key, lambda k=key: refuse_formula(k, get(k)))  # type: ignore[misc]  # mypy cannot infer a lambda with a default argument
    return row, len(errors) == before


#: free-text columns checked for a spreadsheet formula (the name is checked by validate_name)
TEXT_KEYS = ("ethnicity", "address", "employer", "project", "team", "trade")


def _text(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v).strip() or None


# --- writing -------------------------------------------------------------------------------------


def _bulk_insert(conn: Connection, model: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), BATCH):
        chunk = rows[start : start + BATCH]
        last = take_revisions(conn, len(chunk))
        for i, r in enumerate(chunk):
            r["rev"] = last - len(chunk) + 1 + i
        conn.execute(insert(model.__table__), chunk)


def _bulk_update(conn: Connection, model: Any, rows: list[dict[str, Any]], cols: tuple[str, ...]) -> None:
    """Rows are dicts with ``id`` and every column of ``cols``."""
    if not rows:
        return
    table = model.__table__
    stmt = (
        update(table)
        .where(table.c.id == bindparam("b_id"))
        .values({c: bindparam(f"b_{c}") for c in (*cols, "rev", "updated_at")})
    )
    last = take_revisions(conn, len(rows))
    now = utcnow()
    params = []
    for i, r in enumerate(rows):
        p = {f"b_{c}": r[c] for c in cols}
        p.update(b_id=r["id"], b_rev=last - len(rows) + 1 + i, b_updated_at=now)
        params.append(p)
    conn.execute(stmt, params)


def _existing_workers(conn: Connection, numbers: list[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    cols = (
        Worker.id,
        Worker.id_number,
        Worker.name,
        Worker.ethnicity,
        Worker.address,
        Worker.mobile,
        Worker.deleted_at,
        Worker.realname_verified_at,
        Worker.realname_verified_by,
    )
    for start in range(0, len(numbers), 500):
        part = numbers[start : start + 500]
        for r in conn.execute(select(*cols).where(col(Worker.id_number).in_(part))):  # type: ignore[call-overload]  # sqlmodel types the columns in cols as their values
            out[r.id_number] = dict(r._mapping)
    return out


def _existing_employments(
    conn: Connection, worker_ids: list[uuid.UUID]
) -> dict[tuple[uuid.UUID, uuid.UUID], dict[str, Any]]:
    out: dict[tuple[uuid.UUID, uuid.UUID], dict[str, Any]] = {}
    for start in range(0, len(worker_ids), 500):
        part = worker_ids[start : start + 500]
        q = select(Employment.__table__).where(  # type: ignore[attr-defined]  # sqlmodel does not declare __table__
            col(Employment.worker_id).in_(part),
            col(Employment.deleted_at).is_(None),
        )
        for r in conn.execute(q):
            out.setdefault((r.worker_id, r.project_id), dict(r._mapping))
    return out


def import_workers(
    engine: Engine,
    path: str | Path,
    *,
    update: bool = False,
    dry_run: bool = False,
    actor: str = ACTOR,
    on_progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Check every row, then write all of them in one transaction (or nothing: ``ImportRejected``)."""
    path = Path(path)
    report = ImportReport(path=path.name, dry_run=dry_run)
    headers, rows_iter = read_rows(path)
    where = _header_map(headers, report)
    if report.errors:
        raise ImportRejected(report)
    url = str(engine.url)
    try:
        return _import(
            engine,
            url,
            rows_iter,
            where,
            report,
            update=update,
            dry_run=dry_run,
            actor=actor,
            on_progress=on_progress,
        )
    except IntegrityError as exc:  # another administrator enrolled one of these meanwhile
        raise StoreError(
            "导入期间数据已被他人修改（如同一身份证号码已登记），未写入任何数据，请重试",
            "The data changed during the import (an ID number enrolled meanwhile): nothing was "
            "written, retry",
        ) from exc


def _import(
    engine: Engine,
    url: str,
    rows_iter: Iterator[tuple[int, list[Any]]],
    where: dict[str, int],
    report: ImportReport,
    *,
    update: bool,
    dry_run: bool,
    actor: str,
    on_progress: Callable[[int, int], None] | None,
) -> ImportReport:
    with translate_errors(url), engine.begin() as conn:
        look = _Lookup(conn)
        good: list[_Row] = []
        first_row: dict[str, int] = {}
        raw_rows = [(n, cells) for n, cells in rows_iter if any(c is not None for c in cells)]
        report.rows = len(raw_rows)
        for done, (n, cells) in enumerate(raw_rows, 1):
            r, ok = _check_row(n, cells, where, look, report.errors)
            if (
                r.id_number and r.id_number in first_row
            ):  # a twin of an earlier row, even one with other errors
                report.errors.append(
                    RowError(
                        n,
                        "id_number",
                        f"与第{first_row[r.id_number]}行身份证号码重复",
                        f"Same ID number as row {first_row[r.id_number]}",
                    )
                )
            elif r.id_number:
                first_row[r.id_number] = n
                if ok:
                    good.append(r)
            if on_progress and done % 500 == 0:
                on_progress(done, report.rows)
        existing = _existing_workers(conn, [r.id_number for r in good])
        if not update:
            for r in good:
                if r.id_number in existing:
                    report.errors.append(
                        RowError(
                            r.row,
                            "id_number",
                            "该身份证号码已登记（如需更新请使用 --update）",
                            "This ID number is already enrolled (use --update to update)",
                        )
                    )
        if report.errors:
            report.errors.sort(
                key=lambda e: (e.row, list(BY_KEY).index(e.column) if e.column in BY_KEY else 99)
            )
            conn.rollback()
            raise ImportRejected(report)
        plan = _plan(conn, good, existing, actor)
        report.workers_created, report.workers_updated = len(plan.new_workers), len(plan.upd_workers)
        report.employments_created, report.employments_updated = len(plan.new_emps), len(plan.upd_emps)
        if dry_run:
            conn.rollback()
            return report
        _bulk_insert(conn, Worker, plan.new_workers)
        _bulk_update(
            conn,
            Worker,
            plan.upd_workers,
            ("name", "ethnicity", "address", "mobile", "realname_verified_at", "realname_verified_by"),
        )
        _bulk_insert(conn, Employment, plan.new_emps)
        _bulk_update(
            conn,
            Employment,
            plan.upd_emps,
            ("employer_id", "team", "trade", "start_date", "end_date", "confirmed_at"),
        )
        _bulk_insert(conn, AuditLog, plan.audit)
        report.written = True
    if on_progress:
        on_progress(report.rows, report.rows)
    return report


@dataclass(slots=True)
class _Plan:
    new_workers: list[dict[str, Any]] = field(default_factory=list)
    upd_workers: list[dict[str, Any]] = field(default_factory=list)
    new_emps: list[dict[str, Any]] = field(default_factory=list)
    upd_emps: list[dict[str, Any]] = field(default_factory=list)
    audit: list[dict[str, Any]] = field(default_factory=list)


def _plan(conn: Connection, good: list[_Row], existing: dict[str, dict[str, Any]], actor: str) -> _Plan:
    now = utcnow()
    plan = _Plan()

    def log(action: str, table: str, row_id: uuid.UUID, detail: str | None) -> None:
        plan.audit.append(
            {
                "id": uuid.uuid4(),
                "created_at": now,
                "updated_at": now,
                "at": now,
                "actor": actor,
                "action": action,
                "table_name": table,
                "row_id": row_id,
                "detail": detail,
            }
        )

    emps = _existing_employments(conn, [w["id"] for w in existing.values()])
    for r in good:
        old = existing.get(r.id_number)
        if old is None:
            wid = uuid.uuid4()
            plan.new_workers.append(
                {
                    "id": wid,
                    "created_at": now,
                    "updated_at": now,
                    "deleted_at": None,
                    "name": r.name,
                    "sex": sex_of(r.id_number),
                    "birth_date": birth_date_of(r.id_number),
                    "ethnicity": r.ethnicity,
                    "address": r.address,
                    "mobile": r.mobile,
                    "id_number": r.id_number,
                    "id_number_masked": mask_id_number(r.id_number),
                    "id_last4": r.id_number[-4:],
                    "realname_verified_at": None,
                    "realname_verified_by": None,
                    "has_bank_card": False,
                    "face_thumb": None,
                }
            )
            log("import", "worker", wid, "create")
        else:
            wid = old["id"]
            new = {
                "name": r.name,
                "ethnicity": r.ethnicity or old["ethnicity"],
                "address": r.address or old["address"],
                "mobile": r.mobile or old["mobile"],
            }
            changed = sorted(k for k, v in new.items() if v != old[k])
            if changed:
                # a new name must be compared with the ID card again (as in store.people.enroll.update_worker)
                renamed = "name" in changed and old["realname_verified_at"] is not None
                plan.upd_workers.append(
                    {
                        "id": wid,
                        **new,
                        "realname_verified_at": None if renamed else old["realname_verified_at"],
                        "realname_verified_by": None if renamed else old["realname_verified_by"],
                    }
                )
                log(
                    "update",
                    "worker",
                    wid,
                    "import: " + ",".join(changed) + ("; realname reset" if renamed else ""),
                )
        if r.project_id is None:
            continue
        fields = {
            "employer_id": r.employer_id,
            "team": r.team,
            "trade": r.trade,
            "start_date": r.start_date,
            "end_date": r.end_date,
        }
        prev = emps.get((wid, r.project_id)) if old is not None else None
        if prev is None:
            eid = uuid.uuid4()
            plan.new_emps.append(
                {
                    "id": eid,
                    "created_at": now,
                    "updated_at": now,
                    "deleted_at": None,
                    "worker_id": wid,
                    "project_id": r.project_id,
                    "confirmed_at": None,
                    **fields,
                }
            )
            log("import", "employment", eid, "create")
        else:
            changed = sorted(k for k, v in fields.items() if v != prev[k])
            if changed:
                plan.upd_emps.append({"id": prev["id"], **fields, "confirmed_at": None})
                log(
                    "update",
                    "employment",
                    prev["id"],
                    "import: " + ",".join(changed) + "; needs confirmation",
                )
    return plan


# --- the template ----------------------------------------------------------------------------------


def write_template(out: str | Path) -> Path:
    """An XLSX whose first sheet has the headers only (text-formatted, so Excel keeps 18-digit numbers):
    rows typed below them are the import. The examples are on the second sheet, which explains every
    column, never on the first: a sample row there would be imported with the rest (an enrolled project
    of its name, and a made-up worker would be enrolled)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    out = Path(out)
    if out.suffix.lower() != ".xlsx":
        raise StoreError("模板文件名应以 .xlsx 结尾", "The template file name must end in .xlsx")
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "工人 workers"
    ws.append([c.header for c in COLUMNS])
    for i, c in enumerate(COLUMNS, 1):
        cell = ws.cell(row=1, column=i)
        cell.font = Font(bold=True, color="C00000" if c.required else "000000")
        letter = cell.column_letter
        ws.column_dimensions[letter].width = max(12, len(c.example) + 4)
        ws.column_dimensions[letter].number_format = "@"
        for row in range(2, 501):
            ws.cell(row=row, column=i).number_format = "@"
    doc = wb.create_sheet("说明 columns")
    doc.append(["列名 header", "键 key", "必填 required", "说明", "description", "示例 example"])
    for c in COLUMNS:
        doc.append([c.header, c.key, "是 yes" if c.required else "否 no", c.zh, c.en, c.example])
    doc.append([])
    doc.append(["“工人 workers”表只有表头：从第2行起每行填写一名工人；本表的示例仅供参考，不会导入。"])
    doc.append(
        [
            "The 'workers' sheet has the headers only: one worker a row from row 2; the examples here are "
            "for reference and are never imported."
        ]
    )
    doc.append(["全部或全不：任何一行有错，整个文件不写入；已登记的身份证号码需 --update 才会更新。"])
    doc.append(["All or nothing: any bad row and nothing is written; an enrolled ID number needs --update."])
    for letter, width in zip("ABCDEF", (12, 12, 12, 40, 50, 28), strict=True):
        doc.column_dimensions[letter].width = width
    from store.files import workbook_bytes, write_atomically

    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"无法创建文件夹：{out.parent}（{exc.strerror}）",
            f"Cannot make the folder {out.parent}: {exc.strerror}",
        ) from exc
    return write_atomically(out, workbook_bytes(wb))
