"""``kiosk export daily|monthly|hours|refused|events``: attendance for the wage office (and the kiosks' event
log) as CSV (UTF-8 with BOM) or XLSX; ``kiosk export platform``: the attendance in the national real-name
platform's upload shape (JSON, store/roster/platform.py)."""

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
    h = esub.add_parser(
        "hours", help="工时明细 / hours on site: first in, last out, hours and methods per day"
    )
    common(h, "xlsx|csv")
    h.add_argument("--month", metavar="YYYY-MM", required=True, help="月份 / the month")
    h.set_defaults(func=cmd_hours)
    pf = esub.add_parser(
        "platform",
        help="全国建筑工人管理服务信息平台考勤上传格式 / attendance in the national platform's upload shape (JSON)",
        description="Entries (01) and departures (02) with the full ID number (office database only: use "
        "--shared or a --db of the shared database), the time yyyy-MM-dd HH:mm:ss, the gate, the way of "
        "passing, WGS-84 position and the gate photo (JPEG <= 50 KB, base64), in batches of <= 20 per team. "
        "Sending it to the city's endpoint (and its credentials) is outside this program.",
    )
    add_store_args(pf)
    pf.add_argument(
        "--project", metavar="ID|NAME", help="项目 / project: its id, the start of it, or its name"
    )
    pf.add_argument("--from", dest="since", metavar="YYYY-MM-DD", required=True, help="起始日 / first day")
    pf.add_argument("--to", dest="until", metavar="YYYY-MM-DD", required=True, help="截止日 / last day")
    pf.add_argument("--out", metavar="FILE", required=True, help="输出文件 (.json) / output file")
    pf.add_argument("--project-code", metavar="CODE", help="平台项目编码 / the platform's projectCode")
    pf.add_argument(
        "--team-map",
        metavar="FILE",
        help="班组编号 JSON {班组名: teamSysNo} / a JSON object team name -> the platform's teamSysNo",
    )
    pf.add_argument("--no-photos", action="store_true", help="不带照片 / without the gate photos")
    pf.add_argument("--shared", action="store_true", help="用共享数据库 / the config's shared database")
    pf.add_argument("--json", action="store_true", help="不显示进度 / no progress display")
    pf.set_defaults(func=cmd_platform)
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
        "hours": f"--month {getattr(args, 'month', '')}",
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


def cmd_hours(args: argparse.Namespace) -> int:
    from store.roster.exports import export_hours
    from store.timeutil import parse_month

    year, month = parse_month(args.month)
    with _open(args, "hours") as (source, project, out, fmt):
        path, n = _with_progress(
            args, "工时明细", lambda: export_hours(source, project.id, year, month, out, fmt, args.lang)
        )
    _report("hours", source, project, path, fmt, n, month=f"{year}-{month:02d}")
    return 0


def cmd_platform(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from store.errors import StoreError
    from store.projects import resolve_project
    from store.roster.platform import export_platform
    from store.timeutil import parse_day

    since, until = parse_day(args.since), parse_day(args.until)
    team_map: dict[str, object] = {}
    if args.team_map:
        try:
            team_map = json.loads(Path(args.team_map).expanduser().read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise StoreError(
                f"无法读取班组编号文件：{args.team_map}", f"Cannot read the team map {args.team_map}: {exc}"
            ) from exc
        if not isinstance(team_map, dict):
            raise StoreError("班组编号文件应为 JSON 对象", "The team map must be a JSON object")
    out = Path(args.out).expanduser()
    url = db_url(args, shared=args.shared)
    with store_at(url) as engine:
        project = resolve_project(engine, args.project)
        with progress(False if args.json else None) as prog:
            task = prog.add_task("导出平台考勤 / exporting", total=None) if prog is not None else None

            def advance(n: int) -> None:
                if prog is not None and task is not None:
                    prog.advance(task, n)

            got = export_platform(
                engine,
                project.id,
                since,
                until,
                out,
                project_code=args.project_code,
                team_map=team_map,
                photos=not args.no_photos,
                source=engine.url.render_as_string(hide_password=True),
                on_progress=advance,
            )
    print_json(
        {
            "export": "platform",
            "project": str(project.id),
            "file": str(got.path.resolve()),
            "from": since.isoformat(),
            "to": until.isoformat(),
            "records": got.records,
            "batches": got.batches,
            "teams": got.teams,
            "photos": got.photos,
            "without_photo": got.without_photo,
        }
    )
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
