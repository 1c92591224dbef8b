"""``kiosk export daily|monthly|refused|events``: attendance for the wage office (and the kiosks' event log)
as CSV (UTF-8 with BOM) or XLSX."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar

from kiosk.cli.common import add_store_args, config_of, db_url, print_json, progress, store_at

if TYPE_CHECKING:
    from pathlib import Path

    from store.projects import ProjectInfo
    from store.roster.exports import Format
    from store.roster.sources import Source

T = TypeVar("T")

if TYPE_CHECKING:
    from datetime import date

    #: export_refused / export_events: (source, project, since, until, out, fmt, lang) -> (file, rows)
    RangeExport = Callable[[Source, ProjectInfo, date, date, Path, Format, str], tuple[Path, int]]

ORDER = 45


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    # argparse registration, the shape every command shares (its own words); --db/--config: add_store_args
    p = sub.add_parser(
        "export",
        help="导出考勤 / export attendance (daily, monthly 考勤表, refused) and the kiosks' event log",
        description="Days are the project's local dates. CSV is UTF-8 with a BOM (Excel opens the Chinese "
        "correctly); XLSX has a title row, Chinese headers, frozen header rows and fitting widths.",
    )
    esub = p.add_subparsers(dest="export_kind", metavar="KIND", required=True)

    def common(q: argparse.ArgumentParser, formats: str) -> None:
        add_store_args(q)
        q.add_argument(
            "--project",
            metavar="ID|NAME",
            help="项目：编号（或其开头几位）或名称 / project: its id, "
            "the start of it, or its name (default: the only project)",
        )
        q.add_argument(
            "--format",
            choices=("csv", "xlsx"),
            default=None,
            help=f"文件格式 / {formats} (default: from the file name)",
        )
        q.add_argument("--out", metavar="FILE", required=True, help="输出文件 / output file")
        q.add_argument("--lang", choices=("zh", "en"), default="zh", help="表头语言 / header language (zh)")
        q.add_argument("--shared", action="store_true", help="用共享数据库 / the config's shared database")
        q.add_argument(
            "--json", action="store_true", help="不显示进度 / no progress display (the report is JSON anyway)"
        )

    d = esub.add_parser("daily", help="每日考勤 / one day's roster")
    common(d, "csv|xlsx")
    d.add_argument("--date", metavar="YYYY-MM-DD", required=True, help="工作日 / the work date")
    d.set_defaults(func=cmd_daily)
    m = esub.add_parser("monthly", help="月考勤表 / the monthly attendance sheet")
    common(m, "xlsx|csv")
    m.add_argument("--month", metavar="YYYY-MM", required=True, help="月份 / the month")
    m.set_defaults(func=cmd_monthly)
    r = esub.add_parser("refused", help="被拒记录 / refused sign-in attempts")
    common(r, "csv|xlsx")
    r.add_argument("--from", dest="since", metavar="YYYY-MM-DD", required=True, help="起始日 / first day")
    r.add_argument("--to", dest="until", metavar="YYYY-MM-DD", required=True, help="截止日 / last day")
    r.set_defaults(func=cmd_refused)
    e = esub.add_parser(
        "events", help="签到设备事件记录 / the kiosks' event log (unlock, lock, camera, sync, clock)"
    )
    common(e, "csv|xlsx")
    e.add_argument("--from", dest="since", metavar="YYYY-MM-DD", required=True)
    e.add_argument("--to", dest="until", metavar="YYYY-MM-DD", required=True)
    e.set_defaults(func=cmd_events)


def office_command(args: argparse.Namespace, kind: str) -> str:
    """The same export run on the office database (the config's shared one), for a refusal to name."""
    from store.db.urls import shown

    cfg = config_of(args)
    office = shown(cfg.store.shared()) if cfg.store.shared_url else "URL"
    period = {
        "daily": f"--date {getattr(args, 'date', '')}",
        "monthly": f"--month {getattr(args, 'month', '')}",
    }.get(kind, f"--from {getattr(args, 'since', '')} --to {getattr(args, 'until', '')}")
    project = f" --project {args.project}" if args.project else ""
    return f"kiosk export {kind} --db {office}{project} {period} --out {args.out}"


@contextmanager
def _open(args: argparse.Namespace, kind: str) -> Iterator[tuple[Source, ProjectInfo, Path, Format]]:
    """The source, the project, the output file and its format of an export command. The source is what
    ``--db`` (or ``--shared``, or the config's local store) names: a kiosk's own store when it has synced
    with a shared database, else the office database (store/roster/sources.py)."""
    from pathlib import Path

    from store.projects import resolve_project
    from store.roster.exports import format_of
    from store.roster.sources import open_source

    out = Path(args.out).expanduser()
    fmt = format_of(args.format, out)
    url = db_url(args, shared=args.shared)
    with store_at(url) as engine:
        source = open_source(engine, url, elsewhere=office_command(args, kind))
        yield source, resolve_project(engine, args.project), out, fmt


def _with_progress(args: argparse.Namespace, what: str, fn: Callable[[], T]) -> T:
    """Run an export with a progress display on a terminal (quiet when piped or with --json)."""
    with progress(False if args.json else None) as prog:
        if prog is not None:
            prog.add_task(f"导出{what} / exporting", total=None)
        return fn()


def _report(
    kind: str, source: Source, project: ProjectInfo, path: Path, fmt: str, rows: int, **extra: str
) -> None:
    print_json(
        {
            "export": kind,
            "project": str(project.id),
            "file": str(path.resolve()),
            "format": fmt,
            "rows": rows,
            "source": source.kind,
            "source_where": source.where,
            "read_at": source.read_at.isoformat(),
            **extra,
        }
    )


def cmd_daily(args: argparse.Namespace) -> int:
    from store.roster.exports import export_daily
    from store.timeutil import parse_day

    day = parse_day(args.date)
    with _open(args, "daily") as (source, project, out, fmt):
        path, n = _with_progress(
            args, "日报", lambda: export_daily(source, project.id, day, out, fmt, args.lang)
        )
    _report("daily", source, project, path, fmt, n, date=day.isoformat())
    return 0


def cmd_monthly(args: argparse.Namespace) -> int:
    from store.roster.exports import export_monthly
    from store.timeutil import parse_month

    year, month = parse_month(args.month)
    with _open(args, "monthly") as (source, project, out, fmt):
        path, n = _with_progress(
            args, "月考勤表", lambda: export_monthly(source, project.id, year, month, out, fmt, args.lang)
        )
    _report("monthly", source, project, path, fmt, n, month=f"{year}-{month:02d}")
    return 0


def cmd_refused(args: argparse.Namespace) -> int:
    from store.roster.exports import export_refused

    return _export_range(args, "refused", "被拒记录", export_refused)


def cmd_events(args: argparse.Namespace) -> int:
    from store.roster.exports import export_events

    return _export_range(args, "events", "设备事件", export_events)


def _export_range(args: argparse.Namespace, kind: str, what: str, export: RangeExport) -> int:
    """An export of the project's days ``--from`` to ``--to`` (the refused attempts, the event log)."""
    from store.timeutil import parse_day

    since, until = parse_day(args.since), parse_day(args.until)
    with _open(args, kind) as (source, project, out, fmt):
        path, n = _with_progress(
            args, what, lambda: export(source, project, since, until, out, fmt, args.lang)
        )
    _report(kind, source, project, path, fmt, n, **{"from": since.isoformat(), "to": until.isoformat()})
    return 0
