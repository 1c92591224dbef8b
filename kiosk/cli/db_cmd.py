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
    roles = dsub.add_parser(
        "roles", help="创建签到终端的数据库角色 / create the PostgreSQL roles kiosks log in with (store/roles.py)"
    )
    add_db_arg(roles, help_="共享数据库 / the shared PostgreSQL database (default: the config's shared database)")
    add_config_arg(roles)
    roles.add_argument("--group", default="kiosk_gate", help="the group role holding the grants (default kiosk_gate)")
    roles.add_argument("--login", metavar="NAME", help="also create (or update) this login role in the group")
    roles.add_argument("--password-env", metavar="VAR", help="environment variable holding the login's password")
    roles.add_argument("--kiosk", metavar="UUID", help="the kiosk this login pushes for (else: its first push binds it)")
    roles.set_defaults(func=cmd_roles)


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


def cmd_roles(args: argparse.Namespace) -> int:
    import os
    import uuid

    from store.db import make_engine, redact
    from store.errors import StoreError
    from store.roles import create_roles

    password = None
    if args.password_env:
        password = os.environ.get(args.password_env)
        if not password:
            raise StoreError(f"环境变量 {args.password_env} 为空", f"The environment variable {args.password_env} is empty")
    kiosk = None
    if args.kiosk:
        try:
            kiosk = uuid.UUID(args.kiosk)
        except ValueError:
            raise StoreError(f"终端编号格式错误：{args.kiosk}", f"Not a kiosk id (UUID): {args.kiosk}") from None
    url = args.db or db_url(args, shared=True)
    engine = make_engine(url)
    try:
        result = create_roles(engine, group=args.group, login=args.login, password=password, kiosk_id=kiosk)
    finally:
        engine.dispose()
    print_json({"db": redact(url), **result})
    return 0
