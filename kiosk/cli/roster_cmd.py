"""``kiosk roster``: the supervisor's live roster (a Textual app; see kiosk/roster/app.py)."""

from __future__ import annotations

import argparse

from kiosk.cli.common import add_store_args, config_of, db_url

ORDER = 40


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    # argparse registration, the shape every command shares (its own words); --db/--config: add_store_args
    p = sub.add_parser(
        "roster",
        help="现场花名册与疏散名单 / the supervisor's live roster and evacuation list",
        description="Who is expected, signed in, not yet there or refused on a project's work date, grouped "
        "by employer and team, updating live; the evacuation list (key v) and exports (keys d, m, r).",
    )
    add_store_args(p)
    p.add_argument(
        "--project",
        metavar="ID|NAME",
        help="项目：编号（或其开头几位）或名称；不填则选择 / project: "
        "its id (or the start of it) or its name (default: the only one, else a picker)",
    )
    p.add_argument(
        "--date", metavar="YYYY-MM-DD", help="工作日 / work date (default: today, following midnight)"
    )
    p.add_argument(
        "--lang", choices=("zh", "en"), default=None, help="界面语言 / language (default: the config's)"
    )
    p.add_argument(
        "--out-dir", metavar="DIR", default=None, help="导出文件夹 / where exports go (default: .)"
    )
    p.add_argument(
        "--poll", type=float, default=2.0, metavar="S", help="刷新间隔 / seconds between polls (2)"
    )
    p.add_argument(
        "--shared",
        action="store_true",
        help="用共享数据库（而非本机库）/ the config's shared database instead of the local store",
    )
    p.set_defaults(func=cmd_roster)


def cmd_roster(args: argparse.Namespace) -> int:
    import sys
    from pathlib import Path

    from kiosk.cli.common import store_at
    from kiosk.roster.app import make_app
    from store.db.urls import shown
    from store.errors import StoreError
    from store.projects import list_projects, resolve_project
    from store.timeutil import parse_day

    lang = args.lang or config_of(args).language
    day = parse_day(args.date) if args.date else None
    out_dir = Path(args.out_dir).expanduser() if args.out_dir else Path.cwd()
    if not out_dir.is_dir():
        raise StoreError(f"导出文件夹不存在：{out_dir}", f"The export folder does not exist: {out_dir}")
    if args.poll <= 0:
        raise StoreError("刷新间隔必须大于 0", "--poll must be greater than 0")
    url = db_url(args, shared=args.shared)
    with store_at(url) as engine:
        projects = list_projects(engine)
        # several projects and none named: on a terminal the picker comes first, else say how to name one
        pick = not args.project and len(projects) > 1 and sys.stdin.isatty() and sys.stdout.isatty()
        project = projects[0] if pick else resolve_project(engine, args.project)
        if day is not None:  # a past day read on a kiosk: only the last two are whole there
            from store.roster.sources import open_source

            office = f"kiosk roster --db {shown(config_of(args).store.shared())} --date {day}"
            source = open_source(engine, url, elsewhere=office)
            source.require(day, day, tz=project.timezone, what=("这一天的花名册", "that day's roster"))
        make_app(
            engine,
            project,
            day=day,
            lang=lang,
            poll_s=args.poll,
            export_dir=out_dir,
            projects=projects,
            pick=pick,
        ).run()
    return 0
