"""``kiosk db upgrade|current``: create or migrate a database's schema (Alembic)."""

from __future__ import annotations

import argparse

from kiosk.cli.common import add_config_arg, add_db_arg, db_url, print_json

ORDER = 90


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("db", help="数据库结构 / database schema (migrations)")
    dsub = p.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = dsub.add_parser("upgrade", help="创建或升级数据库结构 / create or migrate the schema to the latest")
    add_db_arg(up)
    add_config_arg(up)
    up.add_argument("--shared", action="store_true", help="the config's shared database instead of the local store")
    up.set_defaults(func=cmd_upgrade)
    cur = dsub.add_parser("current", help="显示数据库结构版本 / show the schema revision")
    add_db_arg(cur)
    add_config_arg(cur)
    cur.add_argument("--shared", action="store_true")
    cur.set_defaults(func=cmd_current)


def cmd_upgrade(args: argparse.Namespace) -> int:
    from store.db import redact
    from store.migrate import upgrade

    url = db_url(args, shared=args.shared)
    rev = upgrade(url)
    print_json({"db": redact(url), "revision": rev})
    return 0


def cmd_current(args: argparse.Namespace) -> int:
    from store.db import make_engine, redact, translate_errors
    from store.migrate import current, head

    url = db_url(args, shared=args.shared)
    engine = make_engine(url)
    with translate_errors(url), engine.connect() as conn:
        rev = current(conn)
    print_json({"db": redact(url), "revision": rev, "head": head(), "up_to_date": rev == head()})
    return 0 if rev == head() else 1
