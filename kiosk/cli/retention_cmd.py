"""``kiosk retention report|purge [--before DATE] [--dry-run]``: what is past its retention period, and
purging it (store/roster/retention.py).

By default the kiosk's local store with the kiosk's rules (pushed rows older than ``[retention]
kiosk_days``); ``--shared`` (or ``--db URL --shared``) the shared database with the legal periods.
One JSON report on standard output; the same in words on standard error on a terminal.
"""

from __future__ import annotations

import argparse
import sys

from kiosk.cli.common import add_config_arg, config_of, counting_progress, interactive, print_json, store_at

ORDER = 75


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("retention", help="保留期限与清除 / retention periods and purge")
    rsub = p.add_subparsers(dest="retention_command", metavar="ACTION", required=True)
    for name, help_ in (
        ("report", "列出超过保留期限的记录 / count what is past its retention period"),
        ("purge", "清除超过保留期限的记录 / purge what is past its retention period"),
    ):
        q = rsub.add_parser(name, help=help_)
        q.add_argument(
            "--db",
            metavar="URL",
            help="数据库 / database (default: the config's local store, or "
            "with --shared its shared database)",
        )
        q.add_argument(
            "--shared",
            action="store_true",
            help="共享数据库的规则 / the shared database and its legal periods (default: this kiosk)",
        )
        q.add_argument(
            "--before",
            metavar="YYYY-MM-DD",
            help="只清除此日期之前的记录 / only records before this date (never later than the periods)",
        )
        q.add_argument("--json", action="store_true", help="no progress display, no words on stderr")
        add_config_arg(q)
        if name == "purge":
            q.add_argument("--dry-run", action="store_true", help="只统计，不删除 / count only")
        q.set_defaults(func=cmd_retention, report_only=name == "report")


def cmd_retention(args: argparse.Namespace) -> int:
    from store.roster.retention import purge
    from store.timeutil import parse_day

    cfg = config_of(args)
    before = parse_day(args.before) if args.before else None
    url = args.db or (cfg.store.shared() if args.shared else cfg.store.local())
    dry = args.report_only or args.dry_run
    with (
        store_at(url) as engine,
        counting_progress("清除 / purging", False if args.json or dry else None) as advance,
    ):
        report = purge(
            engine,
            mode="shared" if args.shared else "kiosk",
            periods=cfg.retention.periods(),
            tz=cfg.policy.timezone,
            before=before,
            dry_run=dry,
            batch=cfg.retention.batch,
            actor="kiosk retention",
            on_progress=advance,
        )
    print_json(report.as_dict())
    if not args.json and interactive():
        for zh, en in zip(report.lines("zh"), report.lines("en"), strict=True):
            print(f"{zh} | {en}", file=sys.stderr)
    return 0
