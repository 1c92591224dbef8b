"""Attendance exports for the wage office, and the printable evacuation list.

- ``export_daily``: one day's roster (every expected or present worker with his status);
- ``export_monthly``: the monthly attendance sheet (考勤表): one row per worker, one column per day of
  the month with the hours on site that day (marked 自 when closed automatically, 补 when corrected, 未退
  when he never left: not guessed), the number of days present, the month's hours and its open days;
- ``export_hours``: the hours in detail, one row per worker and day: first in, last out, hours and how
  each was recorded (扫码 / 手机扫码 / 自动签退 / 补录, with the correction's reason and who);
- ``export_refused``: refused attempts between two dates, with times, kiosks and reasons;
- ``export_evacuation``: who is on site now, per employer and team, as a printable HTML page.

Every table file has the same shape: row 1 is a title (what, project, day or month), row 2 the column
headers (Chinese by default, English with ``lang="en"``), then the data. CSV is UTF-8 with a BOM so
that Excel and WPS open the Chinese correctly; XLSX is written with openpyxl in write-only (streaming)
mode — 5 000 workers × 31 days in well under the 5 s goal — with bold headers, the title and header
rows frozen (and the name columns, for the month), column widths that fit the widest value (CJK
characters count double) and A4 print settings that repeat the header rows on every page.

The evacuation list is HTML on purpose: a self-contained file opens in any browser on the kiosk
laptop, a phone or the site office with no office software, prints on A4 with the table header
repeated on each page and a roll-call box per worker, and keeps Chinese names aligned (a plain-text
file misaligns them in proportional fonts). It needs no dependency and works offline from a kiosk's
local store, like the roster it comes from.

No full ID number is ever written: only ``Worker.id_number_masked``.

No value is ever run as a formula by Excel or WPS. Names, teams, trades, employers, kiosk names and
refusal details come from spreadsheets and phones; a text beginning with ``=``, ``+``, ``-``, ``@``, a tab
or a carriage return is written as text: in XLSX a string cell with Excel's quote prefix (shown as
typed, still text when edited), in CSV behind a leading apostrophe (the OWASP rule for CSV injection).
"""

from __future__ import annotations

import csv
import html
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal, cast

from rich.cells import cell_len
from sqlalchemy.engine import Engine

from store.errors import StoreError
from store.projects import ProjectInfo
from store.roster.day import Evacuation, Roster, load_roster, reason_message, where_label
from store.roster.hours import DayHours, WorkerHours, format_hours, load_hours
from store.roster.month import Month, load_month, month_range
from store.roster.refused import RefusedAttempt, refused_attempts
from store.rules.direction import Method, method_label
from store.rules.validation import looks_like_formula
from store.timeutil import local_minute, local_time, utcnow

Format = Literal["csv", "xlsx"]
FORMATS: tuple[str, ...] = ("csv", "xlsx")
PRESENT_MARK = "√"


@dataclass(frozen=True, slots=True)
class Table:
    """A title, column headers and rows: what every export writes."""

    title: str
    headers: list[str]
    rows: list[list[Any]]
    sheet: str
    #: columns frozen left of the data (besides the title and header rows)
    freeze_cols: int = 0
    landscape: bool = False


def _t(lang: str, zh: str, en: str) -> str:
    return en if lang == "en" else zh


def format_of(fmt: str | None, out: Path) -> Format:
    """The format asked for, or the one the file name says."""
    f = (fmt or out.suffix.lstrip(".")).lower()
    if f not in FORMATS:
        raise StoreError(
            f"导出格式应为 csv 或 xlsx：{fmt or out.name}",
            f"The export format must be csv or xlsx: {fmt or out.name}",
        )
    return cast(Format, f)  # one of FORMATS, checked above


# --- the tables ----------------------------------------------------------------------------------


def daily_table(roster: Roster, lang: str = "zh", hours: dict[Any, WorkerHours] | None = None) -> Table:
    """One day's roster; with ``hours`` (store/roster/hours.py) the departure and the hours on site too."""
    tz = roster.project.timezone
    hours = hours or {}
    headers = [
        _t(lang, "用人单位", "Employer"),
        _t(lang, "班组", "Team"),
        _t(lang, "姓名", "Name"),
        _t(lang, "身份证号", "ID number"),
        _t(lang, "工种", "Trade"),
        _t(lang, "状态", "Status"),
        _t(lang, "首次签到时间", "First sign-in"),
        _t(lang, "签到方式", "Way"),
        _t(lang, "签到设备", "Kiosk"),
        _t(lang, "被拒次数", "Refusals"),
        _t(lang, "最近被拒原因", "Last refusal reason"),
        _t(lang, "出场时间", "Left at"),
        _t(lang, "出场方式", "Left how"),
        _t(lang, "在场工时", "Hours on site"),
        _t(lang, "补录原因", "Correction reason"),
    ]

    def out_cells(key: Any) -> list[Any]:
        wh = hours.get(key)
        d = wh.days.get(roster.day) if wh is not None else None
        return _out_cells(d, tz, lang)

    rows = [
        [
            r.employer,
            r.team,
            r.name,
            r.id_masked,
            r.trade,
            r.status.label(lang),
            local_time(r.first_at, tz, "%Y-%m-%d %H:%M:%S"),
            r.way or "",
            where_label(r.way, r.kiosk, lang) if r.first_at else "",
            r.refusals,
            reason_message(r.last_reason, lang),
            *out_cells(r.key),
        ]
        for r in roster.rows
    ]
    c = roster.counts
    title = _t(
        lang,
        f"每日考勤　{roster.project.name}　{roster.day.isoformat()}　应到 {c.expected}　已签到 {c.signed_in}"
        f"　在场 {c.on_site}　已离场 {c.left}　未签到 {c.not_yet}　被拒 {c.refused}",
        f"Daily attendance — {roster.project.name} — {roster.day.isoformat()} — expected {c.expected}, "
        f"signed in {c.signed_in}, on site {c.on_site}, left {c.left}, not yet {c.not_yet}, refused {c.refused}",
    )
    return Table(title, headers, rows, _t(lang, "每日考勤", "Daily"), freeze_cols=3, landscape=True)


def _out_cells(d: DayHours | None, tz: str, lang: str) -> list[Any]:
    """Left at, how, hours, correction reason — a day with an entry and no departure says so."""
    if d is None:
        return ["", "", "", ""]
    if d.open:
        return [
            "",
            _t(lang, "未签退", "not signed out"),
            _t(lang, "未签退，不推算", "no departure, not guessed"),
            "",
        ]
    how = method_label(d.out_method, lang)
    if d.no_entry:
        how += _t(lang, "（无进场记录）", " (no entry)")
    note = f"{d.note}（{d.actor}）" if d.note and d.actor else d.note or ""
    return [
        local_time(d.last_out, tz, "%Y-%m-%d %H:%M:%S"),
        how,
        d.hours if d.hours is not None else "",
        note,
    ]


#: the mark after a day's hours in the 考勤表: how the departure was recorded (none: scanned)
_MONTH_MARK = {Method.AUTO.value: ("自", "A"), Method.MANUAL.value: ("补", "C")}


def month_cell(d: DayHours | None, present: bool, lang: str) -> str:
    """A day of the 考勤表: the hours on site (8.5), 8.5自 when closed automatically, 8.5补 when corrected,
    √未退 when he came and never left (hours not guessed), √ for a day kept without times (purged), "" absent."""
    if d is None or d.first_in is None:
        return PRESENT_MARK if present else ""
    if d.open:
        return PRESENT_MARK + _t(lang, "未退", "?")
    mark = _MONTH_MARK.get(d.out_method or "")
    return format_hours(d.hours) + (mark[1 if lang == "en" else 0] if mark else "")


def monthly_table(month: Month, lang: str = "zh", hours: dict[Any, WorkerHours] | None = None) -> Table:
    headers = [
        _t(lang, "序号", "No."),
        _t(lang, "姓名", "Name"),
        _t(lang, "身份证号", "ID number"),
        _t(lang, "用人单位", "Employer"),
        _t(lang, "班组", "Team"),
        _t(lang, "工种", "Trade"),
        *[str(d) for d in range(1, month.n_days + 1)],
        _t(lang, "出勤天数", "Days present"),
        _t(lang, "工时合计", "Hours"),
        _t(lang, "未签退天数", "Days not signed out"),
        _t(lang, "自动签退天数", "Days auto signed out"),
        _t(lang, "补录天数", "Days corrected"),
    ]
    days = range(1, month.n_days + 1)
    hours = hours or {}
    empty = WorkerHours()
    first = date(month.year, month.month, 1)

    def day_cells(r: Any) -> list[Any]:
        wh = hours.get(r.key, empty)
        return [month_cell(wh.days.get(first.replace(day=d)), d in r.days, lang) for d in days]

    rows = []
    for i, r in enumerate(month.rows, 1):
        wh = hours.get(r.key, empty)
        rows.append(
            [
                i,
                r.name,
                r.id_masked,
                r.employer,
                r.team,
                r.trade,
                *day_cells(r),
                len(r.days),
                wh.total,
                wh.open_days,
                wh.count(Method.AUTO),
                wh.count(Method.MANUAL),
            ]
        )
    title = _t(
        lang,
        f"考勤表　项目：{month.project.name}　月份：{month.year}年{month.month:02d}月　人数：{len(rows)}"
        "　每日为在场工时（小时），自＝自动签退，补＝补录，√未退＝未签退不推算",
        f"Monthly attendance — project: {month.project.name} — month: {month.year}-{month.month:02d} — "
        f"workers: {len(rows)} — each day the hours on site; A = auto signed out, C = corrected, "
        "√? = not signed out (not guessed)",
    )
    return Table(title, headers, rows, f"{month.year}-{month.month:02d}", freeze_cols=3, landscape=True)


def hours_table(month: Month, hours: dict[Any, WorkerHours], lang: str = "zh") -> Table:
    """The hours in detail: one row per worker and day with an entry or a departure."""
    tz = month.project.timezone
    headers = [
        _t(lang, "日期", "Date"),
        _t(lang, "姓名", "Name"),
        _t(lang, "身份证号", "ID number"),
        _t(lang, "用人单位", "Employer"),
        _t(lang, "班组", "Team"),
        _t(lang, "首次进场", "First in"),
        _t(lang, "进场方式", "In how"),
        _t(lang, "最后出场", "Last out"),
        _t(lang, "出场方式", "Out how"),
        _t(lang, "在场工时", "Hours on site"),
        _t(lang, "补录原因", "Correction reason"),
    ]
    rows: list[list[Any]] = []
    total = 0.0
    for r in month.rows:
        wh = hours.get(r.key)
        if wh is None:
            continue
        for day in sorted(wh.days):
            d = wh.days[day]
            out = _out_cells(d, tz, lang)
            rows.append(
                [
                    day.isoformat(),
                    r.name,
                    r.id_masked,
                    r.employer,
                    r.team,
                    local_time(d.first_in, tz, "%Y-%m-%d %H:%M:%S"),
                    method_label(d.in_method, lang),
                    *out,
                ]
            )
            total += d.hours or 0.0
    title = _t(
        lang,
        f"工时明细　项目：{month.project.name}　月份：{month.year}年{month.month:02d}月　{len(rows)} 条"
        f"　合计 {format_hours(round(total, 2))} 小时",
        f"Hours on site — project: {month.project.name} — month: {month.year}-{month.month:02d} — "
        f"{len(rows)} days — {format_hours(round(total, 2))} hours in all",
    )
    return Table(title, headers, rows, _t(lang, "工时明细", "Hours"), freeze_cols=3, landscape=True)


# The table builders read alike (headers, one row an item, a title) by design: each spells out one sheet's
# columns in the order the site's paper forms use; a generic column spec would hide them.
def refused_table(
    project: ProjectInfo, since: date, until: date, attempts: Sequence[RefusedAttempt], lang: str = "zh"
) -> Table:
    tz = project.timezone
    headers = [
        _t(lang, "时间", "Time"),
        _t(lang, "工作日", "Work date"),
        _t(lang, "姓名", "Name"),
        _t(lang, "身份证号", "ID number"),
        _t(lang, "用人单位", "Employer"),
        _t(lang, "班组", "Team"),
        _t(lang, "签到方式", "Way"),
        _t(lang, "签到设备", "Kiosk"),
        _t(lang, "原因代码", "Reason code"),
        _t(lang, "原因", "Reason"),
    ]
    rows = [
        [
            local_time(a.at, tz, "%Y-%m-%d %H:%M:%S"),
            a.work_date.isoformat() if a.work_date else "",
            a.name or _t(lang, "（未知）", "(unknown)"),
            a.id_masked,
            a.employer,
            a.team,
            a.way,
            where_label(a.way, a.kiosk, lang),
            a.reason,
            reason_message(a.reason, lang),
        ]
        for a in sorted(attempts, key=lambda a: a.at)
    ]
    title = _t(
        lang,
        f"签到被拒记录　{project.name}　{since.isoformat()} 至 {until.isoformat()}　共 {len(rows)} 次",
        f"Refused sign-ins — {project.name} — {since.isoformat()} to {until.isoformat()} — {len(rows)} attempts",
    )
    return Table(title, headers, rows, _t(lang, "被拒记录", "Refused"), freeze_cols=1, landscape=True)


def events_table(
    project: ProjectInfo, since: date, until: date, events: Sequence[Any], lang: str = "zh"
) -> Table:
    """The kiosks' event log (store/roster/events.py): unlocks, locks, camera, sync, clock, quitting."""
    from store.roster.events import describe

    tz = project.timezone
    headers = [
        _t(lang, "时间", "Time"),
        _t(lang, "签到设备", "Kiosk"),
        _t(lang, "事件", "Event"),
        _t(lang, "签到员", "Officer"),
        _t(lang, "签到员编号", "Officer id"),
        _t(lang, "方式·原因", "How · why"),
        _t(lang, "详情", "Detail"),
    ]
    rows = [
        [
            local_time(e.at, tz, "%Y-%m-%d %H:%M:%S"),
            e.kiosk,
            e.kind_label(lang),
            e.officer,
            str(e.officer_id) if e.officer_id else "",
            describe(e, lang),
            e.detail or "",
        ]
        for e in events
    ]
    title = _t(
        lang,
        f"签到设备事件记录　{project.name}　{since.isoformat()} 至 {until.isoformat()}　共 {len(rows)} 条",
        f"Kiosk event log — {project.name} — {since.isoformat()} to {until.isoformat()} — {len(rows)} events",
    )
    return Table(title, headers, rows, _t(lang, "设备事件", "Events"), freeze_cols=1, landscape=True)


# --- writing -------------------------------------------------------------------------------------


def write_table(table: Table, out: Path, fmt: Format) -> Path:
    """Write a table as CSV (UTF-8 with BOM) or XLSX; the parent folder must exist."""
    out = Path(out)
    if not out.parent.is_dir():
        raise StoreError(
            f"导出文件夹不存在：{out.parent}", f"The folder to export into does not exist: {out.parent}"
        )
    # As store/files.write_atomically, but the table is written into the temp file (csv or xlsx) and the
    # message names the export: same shape, different writer and words.
    tmp = out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        if fmt == "csv":
            _write_csv(table, tmp)
        else:
            _write_xlsx(table, tmp)
        tmp.replace(out)  # a half-written file never takes the name of a good one
    except OSError as exc:
        raise StoreError(
            f"无法写入导出文件：{out}（{exc.strerror}）", f"Cannot write the export file {out}: {exc}"
        ) from exc
    finally:
        tmp.unlink(missing_ok=True)
    return out


def csv_safe(v: Any) -> Any:
    """A CSV value a spreadsheet will not run: a formula-looking text gets a leading apostrophe."""
    return "'" + v if isinstance(v, str) and looks_like_formula(v) else v


def _write_csv(table: Table, path: Path) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow([csv_safe(table.title)])
        w.writerow([csv_safe(h) for h in table.headers])
        w.writerows([csv_safe(v) for v in row] for row in table.rows)


def column_widths(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, cap: int = 60) -> list[float]:
    """Widths (in Excel character units) that fit each column's widest value; CJK counts double."""
    widths = [cell_len(str(h)) for h in headers]
    for row in rows:
        for i, v in enumerate(row):
            if v is None or v == "":
                continue
            n = cell_len(v) if isinstance(v, str) else len(str(v))
            if n > widths[i]:
                widths[i] = n
    return [min(cap, w + 2) for w in widths]


def _write_xlsx(table: Table, path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.worksheet import Worksheet

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(table.sheet[:31])
    for i, width in enumerate(column_widths(table.headers, table.rows), 1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = f"{get_column_letter(table.freeze_cols + 1)}3"
    ws.print_title_rows = "1:2"
    ws.page_setup.orientation = "landscape" if table.landscape else "portrait"
    ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.oddHeader.center.text = table.title[:250].replace("&", "&&")
    ws.oddFooter.center.text = "&P / &N"

    def text_cell(v: str) -> WriteOnlyCell:
        """A string cell, never a formula: openpyxl would store "=…" as one; Excel's quote prefix keeps it
        text when someone edits the cell."""
        c = WriteOnlyCell(ws, value=v)
        c.data_type = "s"
        c.quotePrefix = True
        return c

    def cell(v: Any) -> Any:
        if v == "":
            return None  # an empty cell is written as no cell at all
        return text_cell(v) if isinstance(v, str) and looks_like_formula(v) else v

    title = (
        text_cell(table.title) if looks_like_formula(table.title) else WriteOnlyCell(ws, value=table.title)
    )
    title.font = Font(bold=True, size=13)
    ws.append([title])
    bold, centre = Font(bold=True), Alignment(horizontal="center")
    header = []
    for h in table.headers:
        c = WriteOnlyCell(ws, value=h)
        c.font, c.alignment = bold, centre
        header.append(c)
    ws.append(header)
    for row in table.rows:
        ws.append([cell(v) for v in row])
    from store.files import workbook_bytes

    path.write_bytes(workbook_bytes(wb))  # rendered in memory: a full disk fails here, cleanly


# --- the exports ---------------------------------------------------------------------------------


def export_daily(
    engine: Engine, project_id: uuid.UUID, day: date, out: Path, fmt: Format, lang: str = "zh"
) -> tuple[Path, int]:
    hours = load_hours(engine, project_id, day, day)
    table = daily_table(load_roster(engine, project_id, day), lang, hours)
    return write_table(table, out, fmt), len(table.rows)


def export_monthly(
    engine: Engine, project_id: uuid.UUID, year: int, month: int, out: Path, fmt: Format, lang: str = "zh"
) -> tuple[Path, int]:
    hours = load_hours(engine, project_id, *month_range(year, month))
    table = monthly_table(load_month(engine, project_id, year, month), lang, hours)
    return write_table(table, out, fmt), len(table.rows)


def export_hours(
    engine: Engine, project_id: uuid.UUID, year: int, month: int, out: Path, fmt: Format, lang: str = "zh"
) -> tuple[Path, int]:
    """工时明细: every worker-day of the month with first in, last out, hours and methods."""
    hours = load_hours(engine, project_id, *month_range(year, month))
    table = hours_table(load_month(engine, project_id, year, month), hours, lang)
    return write_table(table, out, fmt), len(table.rows)


def export_refused(
    engine: Engine, project: ProjectInfo, since: date, until: date, out: Path, fmt: Format, lang: str = "zh"
) -> tuple[Path, int]:
    if until < since:
        raise StoreError("结束日期不能早于开始日期", "--to cannot be before --from")
    table = refused_table(project, since, until, refused_attempts(engine, project.id, since, until), lang)
    return write_table(table, out, fmt), len(table.rows)


def export_events(
    engine: Engine, project: ProjectInfo, since: date, until: date, out: Path, fmt: Format, lang: str = "zh"
) -> tuple[Path, int]:
    from store.roster.events import project_events

    if until < since:
        raise StoreError("结束日期不能早于开始日期", "--to cannot be before --from")
    events = project_events(engine, project.id, since, until, project.timezone)
    return write_table(events_table(project, since, until, events, lang), out, fmt), len(events)


# --- the evacuation list -------------------------------------------------------------------------


def evacuation_html(ev: Evacuation, *, lang: str = "zh", now: datetime | None = None) -> str:
    tz = ev.project.timezone
    at = local_minute(ev.made_at or now or utcnow(), tz)
    e = html.escape
    title = _t(lang, "疏散名单（在场人员）", "Evacuation list (on site now)") + f" {at}"
    heads = [
        _t(lang, "序号", "No."),
        _t(lang, "姓名", "Name"),
        _t(lang, "身份证号", "ID number"),
        _t(lang, "工种", "Trade"),
        _t(lang, "签到时间", "Signed in"),
        _t(lang, "签到设备", "Kiosk"),
        _t(lang, "清点", "Check"),
    ]
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{"en" if lang == "en" else "zh-CN"}"><head><meta charset="utf-8">',
        f"<title>{e(title)} {e(ev.project.name)}</title>",
        "<style>",
        "@page { size: A4; margin: 12mm; }",
        "body { font-family: 'Noto Sans CJK SC', 'Microsoft YaHei', 'PingFang SC', sans-serif; font-size: 11pt; }",
        "h1 { font-size: 16pt; margin: 0 0 4pt; } h2 { font-size: 12pt; margin: 12pt 0 4pt; }",
        "table { border-collapse: collapse; width: 100%; page-break-inside: auto; }",
        "thead { display: table-header-group; } tr { page-break-inside: avoid; }",
        "th, td { border: 1px solid #444; padding: 2pt 4pt; text-align: left; }",
        "td.box { width: 2.5em; } .summary { margin: 4pt 0 8pt; }",
        "</style></head><body>",
        f"<h1>{e(title)}</h1>",
        f'<p class="summary">{e(_t(lang, "项目", "Project"))}：{e(ev.project.name)}　'
        f"{e(_t(lang, '工作日', 'Work date'))}：{ev.day.isoformat()}　"
        f"{e(_t(lang, '打印时间', 'Printed'))}：{at}　"
        f"<b>{e(_t(lang, '在场合计', 'On site in all'))}：{ev.total}</b>　"
        f"{e(_t(lang, '已离场（不在名单上）', 'Left (not on the list)'))}：{ev.left}</p>",
    ]
    if not ev.groups:
        parts.append(f"<p>{e(_t(lang, '目前无人在场', 'Nobody is on site'))}</p>")
    for g in ev.groups:
        parts.append(f"<h2>{e(g.employer or '—')} / {e(g.team or '—')}（{g.count}）</h2>")
        parts.append(
            "<table><thead><tr>" + "".join(f"<th>{e(h)}</th>" for h in heads) + "</tr></thead><tbody>"
        )
        for i, r in enumerate(g.rows, 1):
            cells = [
                str(i),
                r.name,
                r.id_masked,
                r.trade,
                local_time(r.first_at, tz),
                where_label(r.way, r.kiosk, lang),
            ]
            parts.append("<tr>" + "".join(f"<td>{e(c)}</td>" for c in cells) + '<td class="box">☐</td></tr>')
        parts.append("</tbody></table>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def export_evacuation(ev: Evacuation, out: Path, *, lang: str = "zh", now: datetime | None = None) -> Path:
    out = Path(out)
    if not out.parent.is_dir():
        raise StoreError(
            f"导出文件夹不存在：{out.parent}", f"The folder to export into does not exist: {out.parent}"
        )
    try:
        out.write_text(evacuation_html(ev, lang=lang, now=now), encoding="utf-8")
    except OSError as exc:
        raise StoreError(
            f"无法写入疏散名单：{out}", f"Cannot write the evacuation list {out}: {exc}"
        ) from exc
    return out


def default_name(kind: str, project: ProjectInfo, stamp: str, fmt: str) -> str:
    """A file name for an export made from the roster: kind, project name, day or month."""
    safe = "".join(ch for ch in project.name if ch.isalnum() or ch in "-_")[:40] or str(project.id)[:8]
    return f"{kind}-{safe}-{stamp}.{fmt}"
