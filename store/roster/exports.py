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
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, cast

from rich.cells import cell_len
from sqlalchemy.engine import Engine

from store.errors import StoreError
from store.projects import ProjectInfo, project_info
from store.roster.day import Evacuation, Roster, load_roster, reason_message, where_label
from store.roster.hours import DayHours, WorkerHours, format_hours, load_hours
from store.roster.month import Month, MonthRow, load_month, month_range
from store.roster.refused import RefusedAttempt, refused_attempts
from store.roster.sources import Source, open_source
from store.rules.direction import Method, method_label
from store.rules.validation import looks_like_formula
from store.timeutil import local_minute, local_time, utcnow, zone

Format = Literal["csv", "xlsx"]
FORMATS: tuple[str, ...] = ("csv", "xlsx")
PRESENT_MARK = "√"
#: how a date/time column is written: XLSX number format, and the same as text in CSV
DATETIME = ("yyyy-mm-dd hh:mm:ss", "%Y-%m-%d %H:%M:%S")
DATE = ("yyyy-mm-dd", "%Y-%m-%d")
DAY_OF_MONTH = ("d", "%d")
WEEKDAYS = {"zh": "一二三四五六日", "en": ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")}
#: 签到方式 in words: the stored way (A: the worker's phone scanned the officer's code, B: the kiosk scanned
#: the worker's code, M: entered by hand afterwards)
WAY_WORDS = {"A": ("手机扫码", "phone scan"), "B": ("扫码", "kiosk scan"), "M": ("补录", "added by hand")}


def way_words(way: str | None, lang: str = "zh") -> str:
    """签到方式 in words (扫码 / 手机扫码 / 补录); an unknown code as it is."""
    if not way:
        return ""
    words = WAY_WORDS.get(way)
    return (words[1] if lang == "en" else words[0]) if words else way


@dataclass(frozen=True, slots=True)
class Column:
    """One column of an export: its header (Chinese, English), how it is written, how it looks.

    A sheet is a list of columns and rows of values in the same order: a column added to the list (hours,
    a departure time) drops into the layout, the widths, the borders and the print set-up."""

    zh: str
    en: str
    #: the column's header cell value when not its words (the monthly sheet's days: a real date)
    head: Any = None
    #: a second header row's text under this column (the monthly sheet's weekdays), "" elsewhere
    sub: str = ""
    #: a fixed width in Excel units (the day and signature columns); None: fit the widest value
    width: float | None = None
    #: (XLSX number format, strftime format for CSV) of a date/time column
    fmt: tuple[str, str] | None = None
    #: shaded (a weekend day)
    shaded: bool = False

    def header(self, lang: str = "zh") -> str:
        return self.en if lang == "en" else self.zh


@dataclass(frozen=True, slots=True)
class Section:
    """Rows after the main ones under a heading of their own (the monthly sheet's zero-day workers)."""

    heading: str
    rows: list[list[Any]]


@dataclass(frozen=True, slots=True)
class Table:
    """What every export writes: a title, the source line, the columns' header row(s), the rows, then any
    totals, sections and closing lines (signatures)."""

    title: str
    headers: list[str]
    rows: list[list[Any]]
    sheet: str
    #: columns frozen left of the data (besides the title and header rows)
    freeze_cols: int = 0
    landscape: bool = False
    #: the source and the time it was read (store/roster/sources.py), under the title
    source: str = ""
    #: the columns (same order as ``headers``); plain text columns when not given
    columns: list[Column] = field(default_factory=list)
    #: totals rows after the data (bold)
    totals: list[list[Any]] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    #: lines after the table (where people sign)
    closing: list[str] = field(default_factory=list)
    #: cell borders and a taller row a person can sign on (the monthly sheet)
    ruled: bool = False

    @property
    def cols(self) -> list[Column]:
        return self.columns or [Column(h, h) for h in self.headers]

    @property
    def has_sub(self) -> bool:
        return any(c.sub for c in self.cols)

    def all_rows(self) -> list[list[Any]]:
        return [*self.rows, *self.totals, *(r for s in self.sections for r in s.rows)]


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


def _local(at: datetime | None, tz: str) -> datetime | None:
    """A UTC instant as the site's wall-clock time, without zone: what a spreadsheet's date cell holds."""
    return at.astimezone(zone(tz)).replace(tzinfo=None) if at else None


def _table(columns: list[Column], lang: str, **kw: Any) -> Table:
    return Table(headers=[c.header(lang) for c in columns], columns=columns, **kw)


# --- the tables ----------------------------------------------------------------------------------


def daily_table(
    roster: Roster, lang: str = "zh", source: str = "", hours: dict[Any, WorkerHours] | None = None
) -> Table:
    """One day's roster; with ``hours`` (store/roster/hours.py) the departure and the hours on site too."""
    tz = roster.project.timezone
    hours = hours or {}
    columns = [
        Column("用人单位", "Employer"),
        Column("班组", "Team"),
        Column("姓名", "Name"),
        Column("身份证号", "ID number"),
        Column("工种", "Trade"),
        Column("状态", "Status"),
        Column("首次签到时间", "First sign-in", fmt=DATETIME),
        Column("签到方式", "Way"),
        Column("签到设备", "Kiosk"),
        Column("被拒次数", "Refusals"),
        Column("最近被拒原因", "Last refusal reason"),
        Column("出场时间", "Left at", fmt=DATETIME),
        Column("出场方式", "Left how"),
        Column("在场工时", "Hours on site"),
        Column("补录原因", "Correction reason"),
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
            _local(r.first_at, tz),
            way_words(r.way, lang) if r.first_at else "",
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
    return _table(
        columns,
        lang,
        title=title,
        rows=rows,
        sheet=_t(lang, "每日考勤", "Daily"),
        freeze_cols=3,
        landscape=True,
        source=source,
    )


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
        _local(d.last_out, tz),
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


def monthly_table(
    month: Month, lang: str = "zh", source: str = "", hours: dict[Any, WorkerHours] | None = None
) -> Table:
    """The 考勤表 a wage clerk signs: one row a worker who came (days marked, 出勤天数, a 签字确认 box),
    the day's headcount and the month's man-days under them, the workers employed but never present in a
    section of their own at the end, and the lines where the team leader and the employer sign. With
    ``hours`` (store/roster/hours.py) each day holds the hours on site (``month_cell``) and the row ends with
    the month's hours and its days not signed out, closed automatically and corrected."""
    first = date(month.year, month.month, 1)
    days = [first + timedelta(days=i) for i in range(month.n_days)]
    wd = WEEKDAYS["en" if lang == "en" else "zh"]
    lead = [
        Column("序号", "No."),
        Column("姓名", "Name"),
        Column("身份证号", "ID number"),
        Column("用人单位", "Employer"),
        Column("班组", "Team"),
        Column("工种", "Trade"),
    ]
    day_cols = [
        Column(
            str(d.day),
            str(d.day),
            head=d,
            sub=wd[d.weekday()],
            width=3.6,
            fmt=DAY_OF_MONTH,
            shaded=d.weekday() >= 5,
        )
        for d in days
    ]
    tail = [
        Column("出勤天数", "Days present", sub=_t(lang, "天", "days")),
        Column("工时合计", "Hours", sub=_t(lang, "小时", "hours")),
        Column("未签退天数", "Days not signed out"),
        Column("自动签退天数", "Days auto signed out"),
        Column("补录天数", "Days corrected"),
        Column("签字确认", "Signature", width=14),
    ]
    columns = [*lead, *day_cols, *tail]
    present = [r for r in month.rows if r.days]
    absent = [r for r in month.rows if not r.days]

    hours = hours or {}
    empty = WorkerHours()

    def row(i: int, r: MonthRow) -> list[Any]:
        wh = hours.get(r.key, empty)
        marks = [month_cell(wh.days.get(d), d.day in r.days, lang) for d in days]
        counts = [wh.total, wh.open_days, wh.count(Method.AUTO), wh.count(Method.MANUAL)]
        return [i, r.name, r.id_masked, r.employer, r.team, r.trade, *marks, len(r.days), *counts, ""]

    rows = [row(i, r) for i, r in enumerate(present, 1)]
    per_day = [sum(1 for r in present if d.day in r.days) for d in days]
    man_days = sum(per_day)
    blank = [""] * (len(lead) - 1)
    hours_total = round(sum(hours.get(r.key, empty).total or 0 for r in present), 2)
    totals = [[_t(lang, "每日人数", "Headcount"), *blank, *per_day, man_days, hours_total, "", "", "", ""]]
    totals.append(
        [
            _t(lang, f"合计工日 {man_days}", f"Total man-days {man_days}"),
            *blank,
            *[""] * len(days),
            man_days,
            hours_total,
            "",
            "",
            "",
            "",
        ]
    )
    sections = []
    if absent:
        heading = _t(lang, f"本月无出勤（{len(absent)} 人）", f"No attendance this month ({len(absent)})")
        sections.append(Section(heading, [row(i, r) for i, r in enumerate(absent, len(present) + 1)]))
    title = _t(
        lang,
        f"考勤表　项目：{month.project.name}　月份：{month.year}年{month.month:02d}月　出勤 {len(present)} 人"
        f"　合计 {man_days} 工日　每日为在场工时（小时），自＝自动签退，补＝补录，√未退＝未签退不推算",
        f"Monthly attendance — project: {month.project.name} — month: {month.year}-{month.month:02d} — "
        f"{len(present)} present, {man_days} man-days — each day the hours on site; A = auto signed out, "
        "C = corrected, √? = not signed out (not guessed)",
    )
    closing = [
        _t(
            lang,
            "制表人：＿＿＿＿　班组长：＿＿＿＿　劳务单位负责人：＿＿＿＿　项目负责人：＿＿＿＿　日期：＿＿＿＿",
            "Prepared by: ________  Team leader: ________  Employer: ________  Project manager: ________  "
            "Date: ________",
        )
    ]
    return _table(
        columns,
        lang,
        title=title,
        rows=rows,
        sheet=f"{month.year}-{month.month:02d}",
        freeze_cols=3,
        landscape=True,
        source=source,
        totals=totals,
        sections=sections,
        closing=closing,
        ruled=True,
    )


def hours_table(month: Month, hours: dict[Any, WorkerHours], lang: str = "zh", source: str = "") -> Table:
    """The hours in detail: one row per worker and day with an entry or a departure."""
    tz = month.project.timezone
    columns = [
        Column("日期", "Date", fmt=DATE),
        Column("姓名", "Name"),
        Column("身份证号", "ID number"),
        Column("用人单位", "Employer"),
        Column("班组", "Team"),
        Column("首次进场", "First in", fmt=DATETIME),
        Column("进场方式", "In how"),
        Column("最后出场", "Last out", fmt=DATETIME),
        Column("出场方式", "Out how"),
        Column("在场工时", "Hours on site"),
        Column("补录原因", "Correction reason"),
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
                    day,
                    r.name,
                    r.id_masked,
                    r.employer,
                    r.team,
                    _local(d.first_in, tz),
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
    return _table(
        columns,
        lang,
        title=title,
        rows=rows,
        sheet=_t(lang, "工时明细", "Hours"),
        freeze_cols=3,
        landscape=True,
        source=source,
    )


# The table builders read alike (columns, one row an item, a title) by design: each spells out one sheet's
# columns in the order the site's paper forms use.
def refused_table(
    project: ProjectInfo,
    since: date,
    until: date,
    attempts: Sequence[RefusedAttempt],
    lang: str = "zh",
    source: str = "",
) -> Table:
    tz = project.timezone
    columns = [
        Column("时间", "Time", fmt=DATETIME),
        Column("工作日", "Work date", fmt=DATE),
        Column("姓名", "Name"),
        Column("身份证号", "ID number"),
        Column("用人单位", "Employer"),
        Column("班组", "Team"),
        Column("签到方式", "Way"),
        Column("签到设备", "Kiosk"),
        Column("原因代码", "Reason code"),
        Column("原因", "Reason"),
    ]
    rows = [
        [
            _local(a.at, tz),
            a.work_date or "",
            a.name or _t(lang, "（未知）", "(unknown)"),
            a.id_masked,
            a.employer,
            a.team,
            way_words(a.way, lang),
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
    return _table(
        columns,
        lang,
        title=title,
        rows=rows,
        sheet=_t(lang, "被拒记录", "Refused"),
        freeze_cols=1,
        landscape=True,
        source=source,
    )


def events_table(
    project: ProjectInfo, since: date, until: date, events: Sequence[Any], lang: str = "zh", source: str = ""
) -> Table:
    """The kiosks' event log (store/roster/events.py): unlocks, locks, camera, sync, clock, quitting."""
    from store.roster.events import describe, detail_text

    tz = project.timezone
    columns = [
        Column("时间", "Time", fmt=DATETIME),
        Column("签到设备", "Kiosk"),
        Column("事件", "Event"),
        Column("签到员", "Officer"),
        Column("签到员编号", "Officer id"),
        Column("方式·原因", "How · why"),
        Column("详情", "Detail"),
    ]
    rows = [
        [
            _local(e.at, tz),
            e.kiosk,
            e.kind_label(lang),
            e.officer,
            str(e.officer_id) if e.officer_id else "",
            describe(e, lang),
            detail_text(e, lang, tz),
        ]
        for e in events
    ]
    title = _t(
        lang,
        f"签到设备事件记录　{project.name}　{since.isoformat()} 至 {until.isoformat()}　共 {len(rows)} 条",
        f"Kiosk event log — {project.name} — {since.isoformat()} to {until.isoformat()} — {len(rows)} events",
    )
    return _table(
        columns,
        lang,
        title=title,
        rows=rows,
        sheet=_t(lang, "设备事件", "Events"),
        freeze_cols=1,
        landscape=True,
        source=source,
    )


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


def _as_text(v: Any, col: Column) -> Any:
    """A value as CSV writes it: a date or time in the column's format."""
    if isinstance(v, (date, datetime)):
        return str(v.day) if col.fmt == DAY_OF_MONTH else v.strftime((col.fmt or DATE)[1])
    return csv_safe(v)


def _write_csv(table: Table, path: Path) -> None:
    cols = table.cols
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f)
        w.writerow([csv_safe(table.title)])
        if table.source:
            w.writerow([csv_safe(table.source)])
        w.writerow([csv_safe(h) for h in table.headers])
        if table.has_sub:
            w.writerow([c.sub for c in cols])
        for row in [*table.rows, *table.totals]:
            w.writerow([_as_text(v, c) for v, c in zip(row, cols, strict=False)])
        for s in table.sections:
            w.writerow([csv_safe(s.heading)])
            w.writerows([_as_text(v, c) for v, c in zip(row, cols, strict=False)] for row in s.rows)
        for line in table.closing:
            w.writerow([csv_safe(line)])


def column_widths(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, cap: int = 60) -> list[float]:
    """Widths (in Excel character units) that fit each column's widest value; CJK counts double."""
    widths = [cell_len(str(h)) for h in headers]
    for row in rows:
        for i, v in enumerate(row):
            if v is None or v == "" or i >= len(widths):
                continue
            n = cell_len(v) if isinstance(v, str) else 19 if isinstance(v, datetime) else len(str(v))
            if n > widths[i]:
                widths[i] = n
    return [min(cap, w + 2) for w in widths]


def _write_xlsx(table: Table, path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.worksheet import Worksheet

    cols = table.cols
    n_head = (
        2 + bool(table.source) + table.has_sub
    )  # title, source, headers, weekdays: the rows above the data
    head_first = 2 + bool(table.source)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(table.sheet[:31])
    widths = column_widths(table.headers, table.rows)
    for i, (width, col) in enumerate(zip(widths, cols, strict=True), 1):
        ws.column_dimensions[get_column_letter(i)].width = col.width or width
    ws.freeze_panes = f"{get_column_letter(table.freeze_cols + 1)}{n_head + 1}"
    # the column headers (and weekdays) on every printed page; the title and source are the page header,
    # once a page
    ws.print_title_rows = f"{head_first}:{n_head}"
    ws.page_setup.orientation = "landscape" if table.landscape else "portrait"
    ws.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.7
    ws.page_margins.header = ws.page_margins.footer = 0.25
    # the page header: the title centred, the source and read time on the left, once a page; the sheet's own
    # title rows are left out of the print area (they would print the title a second time on page 1)
    ws.oddHeader.center.text = table.title[:250].replace("&", "&&")
    ws.oddHeader.center.size = 11
    ws.oddHeader.center.font = "-,Bold"
    if table.source:
        ws.oddHeader.left.text = table.source[:250].replace("&", "&&")
        ws.oddHeader.left.size = 8
    ws.oddFooter.center.text = "&P / &N"
    n_rows = n_head + len(table.rows) + len(table.totals) + sum(1 + len(s.rows) for s in table.sections)
    n_rows += 2 * len(table.closing)
    ws.print_area = f"A{head_first}:{get_column_letter(len(cols))}{n_rows}"

    if table.ruled:  # data rows tall enough to sign in (LibreOffice ignores a default height)
        for r in range(n_head + 1, n_rows + 1):
            ws.row_dimensions[r].height = 21
    thin = Side(style="thin", color="000000")
    border = Border(left=thin, right=thin, top=thin, bottom=thin) if table.ruled else None
    shade = PatternFill("solid", fgColor="D9D9D9")
    bold, centre = Font(bold=True), Alignment(horizontal="center", vertical="center")

    def text_cell(v: str) -> WriteOnlyCell:
        """A string cell, never a formula: openpyxl would store "=…" as one; Excel's quote prefix keeps it
        text when someone edits the cell."""
        c = WriteOnlyCell(ws, value=v)
        c.data_type = "s"
        c.quotePrefix = True
        return c

    styles: dict[tuple[bool, bool, bool, str], str] = {}

    def named(strong: bool, shaded: bool, centred: bool, fmt: str) -> str:
        """A named style per look (registered once): a styled cell then costs a copy, not the hashing of
        its border, fill and font — 5 000 workers × 33 ruled cells stay within the export's time."""
        key = (strong, shaded, centred, fmt)
        if key not in styles:
            from openpyxl.styles import NamedStyle

            ns = NamedStyle(name=f"kiosk-{len(styles)}")
            if border is not None:
                ns.border = border
            if shaded:
                ns.fill = shade
            if strong:
                ns.font = bold
            if centred:
                ns.alignment = centre
            if fmt:
                ns.number_format = fmt
            wb.add_named_style(ns)
            styles[key] = ns.name
        return styles[key]

    def cell(v: Any, col: Column, *, strong: bool = False, head: bool = False) -> Any:
        if v == "" or v is None:
            if not (table.ruled or (head and col.shaded)):
                return None  # an empty cell is written as no cell at all
            c = WriteOnlyCell(ws, value=None)
        elif isinstance(v, str) and looks_like_formula(v):
            c = text_cell(v)
        else:
            c = WriteOnlyCell(ws, value=v)
        fmt = col.fmt[0] if col.fmt and isinstance(v, (date, datetime)) else ""
        centred = head or col.width is not None
        if table.ruled or col.shaded or strong or centred:
            c.style = named(strong, col.shaded, centred, fmt)
            if c.data_type == "s" and isinstance(v, str) and looks_like_formula(v):
                c.quotePrefix = True  # the named style replaced the text cell's quote prefix
        elif fmt:
            c.number_format = fmt
        return c

    def plain(v: str, *, size: int | None = None, strong: bool = False) -> WriteOnlyCell:
        c = text_cell(v) if looks_like_formula(v) else WriteOnlyCell(ws, value=v)
        if strong or size:
            c.font = Font(bold=strong, size=size)
        return c

    ws.append([plain(table.title, size=13, strong=True)])
    if table.source:
        ws.append([plain(table.source)])
    ws.append(
        [
            cell(c.head if c.head is not None else h, c, strong=True, head=True)
            for c, h in zip(cols, table.headers, strict=True)
        ]
    )
    if table.has_sub:
        ws.append([cell(c.sub, c, head=True) for c in cols])
    for row in table.rows:
        ws.append([cell(v, c) for v, c in zip(row, cols, strict=False)])
    for row in table.totals:
        ws.append([cell(v, c, strong=True) for v, c in zip(row, cols, strict=False)])
    for s in table.sections:
        ws.append([plain(s.heading, strong=True)])
        for row in s.rows:
            ws.append([cell(v, c) for v, c in zip(row, cols, strict=False)])
    for line in table.closing:
        ws.append([])
        ws.append([plain(line)])
    from store.files import workbook_bytes

    path.write_bytes(workbook_bytes(wb))  # rendered in memory: a full disk fails here, cleanly


# --- the exports ---------------------------------------------------------------------------------


def _source(source: Source | Engine) -> Source:
    """A ``Source`` as given, or the one an engine is (a kiosk's store or the office database)."""
    return source if isinstance(source, Source) else open_source(source, str(source.url))


def export_daily(
    source: Source | Engine, project_id: uuid.UUID, day: date, out: Path, fmt: Format, lang: str = "zh"
) -> tuple[Path, int]:
    """One day's roster, refused when the source does not hold that day (a kiosk's store, days ago)."""
    src = _source(source)
    with src.engine.connect() as conn:
        project = project_info(conn, project_id)
    src.require(day, day, tz=project.timezone, what=("每日考勤", "the daily attendance"))
    hours = load_hours(src.engine, project_id, day, day)
    table = daily_table(
        load_roster(src.engine, project_id, day), lang, src.header(project.timezone, lang), hours
    )
    return write_table(table, out, fmt), len(table.rows)


def export_monthly(
    source: Source | Engine,
    project_id: uuid.UUID,
    year: int,
    month: int,
    out: Path,
    fmt: Format,
    lang: str = "zh",
) -> tuple[Path, int]:
    """The month's 考勤表; refused when the source does not hold the whole month. The count returned is
    the number of workers on the sheet (present or not)."""
    src = _source(source)
    with src.engine.connect() as conn:
        project = project_info(conn, project_id)
    first, last = month_range(year, month)
    src.require(first, last, tz=project.timezone, what=("月度考勤表", "the monthly sheet"))
    hours = load_hours(src.engine, project_id, first, last)
    table = monthly_table(
        load_month(src.engine, project_id, year, month), lang, src.header(project.timezone, lang), hours
    )
    return write_table(table, out, fmt), len(table.rows) + sum(len(s.rows) for s in table.sections)


def export_hours(
    source: Source | Engine,
    project_id: uuid.UUID,
    year: int,
    month: int,
    out: Path,
    fmt: Format,
    lang: str = "zh",
) -> tuple[Path, int]:
    """工时明细: every worker-day of the month with first in, last out, hours and methods; refused when the
    source does not hold the whole month."""
    src = _source(source)
    with src.engine.connect() as conn:
        project = project_info(conn, project_id)
    first, last = month_range(year, month)
    src.require(first, last, tz=project.timezone, what=("工时明细", "the hours"))
    hours = load_hours(src.engine, project_id, first, last)
    month_ = load_month(src.engine, project_id, year, month)
    table = hours_table(month_, hours, lang, src.header(project.timezone, lang))
    return write_table(table, out, fmt), len(table.rows)


def export_refused(
    source: Source | Engine,
    project: ProjectInfo,
    since: date,
    until: date,
    out: Path,
    fmt: Format,
    lang: str = "zh",
) -> tuple[Path, int]:
    if until < since:
        raise StoreError("结束日期不能早于开始日期", "--to cannot be before --from")
    src = _source(source)
    src.require(
        since, until, tz=project.timezone, what=("被拒记录", "the refused attempts"), every_kiosk=True
    )
    attempts = refused_attempts(src.engine, project.id, since, until)
    table = refused_table(project, since, until, attempts, lang, src.header(project.timezone, lang))
    return write_table(table, out, fmt), len(table.rows)


def export_events(
    source: Source | Engine,
    project: ProjectInfo,
    since: date,
    until: date,
    out: Path,
    fmt: Format,
    lang: str = "zh",
) -> tuple[Path, int]:
    from store.roster.events import project_events

    if until < since:
        raise StoreError("结束日期不能早于开始日期", "--to cannot be before --from")
    src = _source(source)
    src.require(
        since, until, tz=project.timezone, what=("设备事件记录", "the kiosks' event log"), every_kiosk=True
    )
    events = project_events(src.engine, project.id, since, until, project.timezone)
    table = events_table(project, since, until, events, lang, src.header(project.timezone, lang))
    return write_table(table, out, fmt), len(events)


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
