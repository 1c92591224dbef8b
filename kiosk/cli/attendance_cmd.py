"""``kiosk attendance close|correct``: 自动签退 of everyone still in once their project's close time has passed
(``[close]`` in the config), and a supervisor's correction (补录) of a departure, with a reason, audited
(store/rules/direction.py). One JSON report on standard output."""

from __future__ import annotations

import argparse

from kiosk.cli.common import add_store_args, config_of, db_url, id_arg, print_json, store_at

ORDER = 47


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "attendance", help="出场：自动签退与补录 / departures: the automatic close and corrections"
    )
    asub = p.add_subparsers(dest="attendance_command", metavar="ACTION", required=True)
    c = asub.add_parser(
        "close",
        help="自动签退 / sign out everyone still in whose project's close time has passed",
        description="At each project's close time ([close] default / projects in the config) everyone "
        "signed in and not left is signed out at the close time itself, marked 自动签退. Past days are "
        "caught up (7 days). Safe to run again: a closed day has nothing left to close.",
    )
    add_store_args(c)
    c.add_argument("--shared", action="store_true", help="用共享数据库 / the config's shared database")
    c.add_argument("--project", metavar="ID|NAME", help="只处理这个项目 / only this project")
    c.set_defaults(func=cmd_close)
    r = asub.add_parser(
        "correct",
        help="补录 / set a worker's departure of a day (with a reason; audited, shown as 补录 in exports)",
    )
    add_store_args(r)
    r.add_argument("--shared", action="store_true", help="用共享数据库 / the config's shared database")
    r.add_argument("--project", metavar="ID|NAME", help="项目 / project")
    r.add_argument("--worker", metavar="UUID", required=True, help="工人编号 / the worker's id")
    r.add_argument("--date", metavar="YYYY-MM-DD", required=True, help="工作日 / the work date")
    r.add_argument(
        "--out", metavar="HH:MM", required=True, help="出场时间（项目当地） / the departure, local time"
    )
    r.add_argument("--reason", required=True, help="补录原因 / why")
    r.add_argument("--by", required=True, help="操作人 / who corrects it")
    r.set_defaults(func=cmd_correct)


def cmd_close(args: argparse.Namespace) -> int:
    from store.projects import resolve_project
    from store.rules.direction import close_forgotten

    cfg = config_of(args)
    default, closes = cfg.close.times()
    with store_at(db_url(args, shared=args.shared)) as engine:
        only = [resolve_project(engine, args.project).id] if args.project else None
        got = close_forgotten(engine, closes=closes, default=default, project_ids=only)
    print_json(
        {
            "closed": got.closed,
            "projects": got.projects,
            "days": [{"project": str(p), "date": d.isoformat(), "closed": n} for p, d, n in got.days],
        }
    )
    return 0


def cmd_correct(args: argparse.Namespace) -> int:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from store.errors import StoreError
    from store.projects import resolve_project
    from store.rules.direction import correct_departure
    from store.timeutil import parse_day

    day = parse_day(args.date)
    worker = id_arg(args.worker, "worker", "工人编号格式不对", "--worker is not a worker id (a UUID)")
    try:
        hh, mm = (int(x) for x in args.out.split(":"))
        local = datetime.combine(day, datetime.min.time().replace(hour=hh, minute=mm))
    except ValueError as exc:
        raise StoreError(f"出场时间应为 HH:MM：{args.out}", f"--out must be HH:MM: {args.out}") from exc
    with store_at(db_url(args, shared=args.shared)) as engine:
        project = resolve_project(engine, args.project)
        row = correct_departure(
            engine,
            worker_id=worker,
            project_id=project.id,
            on=day,
            at=local.replace(tzinfo=ZoneInfo(project.timezone)),
            reason=args.reason,
            actor=args.by,
        )
    print_json(
        {
            "corrected": str(row.id),
            "worker": str(worker),
            "project": str(project.id),
            "date": day.isoformat(),
            "at": row.at.isoformat(),
            "method": row.method,
            "reason": row.note,
            "by": row.actor,
        }
    )
    return 0
