"""``kiosk db upgrade|current|roles|backup|restore``: the schema (Alembic), the kiosk's PostgreSQL roles, and
backups of the local store (store/db/backup.py)."""

from __future__ import annotations

import argparse

from kiosk.cli.common import (
    add_config_arg,
    add_db_arg,
    add_store_args,
    config_of,
    db_url,
    print_json,
    store_at,
)

ORDER = 90


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    # argparse registration, the shape every command shares (its own words); --db/--config: add_store_args
    p = sub.add_parser(
        "db", help="数据库结构与备份 / database schema (migrations), roles, backup and restore"
    )
    dsub = p.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = dsub.add_parser("upgrade", help="创建或升级数据库结构 / create or migrate the schema to the latest")
    add_store_args(up)
    up.add_argument(
        "--shared", action="store_true", help="the config's shared database instead of the local store"
    )
    up.set_defaults(func=cmd_upgrade)
    cur = dsub.add_parser("current", help="显示数据库结构版本 / show the schema revision")
    add_store_args(cur)
    cur.add_argument("--shared", action="store_true")
    cur.set_defaults(func=cmd_current)
    roles = dsub.add_parser(
        "roles",
        help="创建签到终端的数据库角色 / create the PostgreSQL roles kiosks log in with (store/sync/roles.py)",
    )
    add_db_arg(
        roles, help_="共享数据库 / the shared PostgreSQL database (default: the config's shared database)"
    )
    add_config_arg(roles)
    roles.add_argument(
        "--group", default="kiosk_gate", help="the group role holding the grants (default kiosk_gate)"
    )
    roles.add_argument("--login", metavar="NAME", help="also create (or update) this login role in the group")
    roles.add_argument(
        "--password-env", metavar="VAR", help="environment variable holding the login's password"
    )
    roles.add_argument(
        "--kiosk", metavar="UUID", help="the kiosk this login pushes for (else: its first push binds it)"
    )
    roles.set_defaults(func=cmd_roles)
    bk = dsub.add_parser(
        "backup", help="备份本机数据库（运行中也可） / back up the local store, also while the kiosk runs"
    )
    add_store_args(bk, help_="本机数据库 / the local SQLite store (default: the config's)")
    bk.add_argument("--out", metavar="DIR", help="备份文件夹 / backup folder (default: [backup] folder)")
    bk.add_argument(
        "--keep", type=int, metavar="N", help="保留最近 N 份 / keep the newest N (default: [backup] keep, 7)"
    )
    bk.set_defaults(func=cmd_backup)
    rs = dsub.add_parser(
        "restore", help="从备份恢复本机数据库 / put a backup back as the local store (checked first)"
    )
    rs.add_argument("file", metavar="FILE", help="备份文件 / the backup file")
    add_store_args(rs, help_="要恢复的本机数据库 / the local store to replace (default: the config's)")
    rs.add_argument("--yes", action="store_true", help="不再询问 / do not ask for confirmation")
    rs.set_defaults(func=cmd_restore)


def cmd_upgrade(args: argparse.Namespace) -> int:
    from store.db.migrate import upgrade
    from store.db.urls import redact

    url = db_url(args, shared=args.shared, make_folder=True)
    rev = upgrade(url)
    print_json({"db": redact(url), "revision": rev})
    return 0


def cmd_current(args: argparse.Namespace) -> int:
    from store.db.schema import current, head
    from store.db.urls import redact

    url = db_url(args, shared=args.shared)
    # a read: a missing file is an error, never made empty; an old schema is what it reports
    with store_at(url, require_schema=False) as engine, engine.connect() as conn:
        rev = current(conn)
    print_json({"db": redact(url), "revision": rev, "head": head(), "up_to_date": rev == head()})
    return 0 if rev == head() else 1


def cmd_roles(args: argparse.Namespace) -> int:
    import os
    import uuid

    from store.db.engine import make_engine
    from store.db.urls import redact
    from store.errors import StoreError
    from store.sync.roles import create_roles

    password = None
    if args.password_env:
        password = os.environ.get(args.password_env)
        if not password:
            raise StoreError(
                f"环境变量 {args.password_env} 为空", f"The environment variable {args.password_env} is empty"
            )
    kiosk = None
    if args.kiosk:
        try:
            kiosk = uuid.UUID(args.kiosk)
        except ValueError:
            raise StoreError(
                f"终端编号格式错误：{args.kiosk}", f"Not a kiosk id (UUID): {args.kiosk}"
            ) from None
    url = args.db or db_url(args, shared=True)
    engine = make_engine(url)
    try:
        result = create_roles(engine, group=args.group, login=args.login, password=password, kiosk_id=kiosk)
    finally:
        engine.dispose()
    print_json({"db": redact(url), **result})
    return 0


def _local_file(args: argparse.Namespace) -> str:
    from sqlalchemy.engine import make_url

    from store.db.backup import BackupError
    from store.db.urls import normalise_url

    url = normalise_url(db_url(args))
    path = make_url(url).database if url.startswith("sqlite") else None
    if not path or path == ":memory:":
        raise BackupError(
            "只能备份 SQLite 本机数据库；共享的 PostgreSQL 数据库请用 pg_dump（见 README）",
            "Only a SQLite local store is backed up here; back up the shared PostgreSQL database with pg_dump "
            "(see the README)",
        )
    return path


def cmd_backup(args: argparse.Namespace) -> int:
    from pathlib import Path

    from store.db.backup import BackupError, backup

    cfg = config_of(args)
    keep = args.keep if args.keep is not None else cfg.backup.keep
    if keep < 1:
        raise BackupError("--keep 至少为 1", "--keep must be at least 1")
    out = Path(args.out).expanduser() if args.out else cfg.backup.dir()
    result = backup(Path(_local_file(args)), out, keep=keep, tz=cfg.policy.timezone)
    print_json(result.as_dict())
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    import sys
    from pathlib import Path

    from store.db.backup import check_backup, restore

    cfg = config_of(args)
    target = Path(_local_file(args))
    revision = check_backup(Path(args.file))  # before asking: a bad file is said at once
    if not args.yes:
        if not sys.stdin.isatty():
            print(
                "恢复会覆盖本机数据库：请加 --yes 确认 / restoring replaces the local store: add --yes",
                file=sys.stderr,
            )
            return 2
        answer = input(
            f"用 {args.file} 覆盖 {target}？当前数据库会先另存一份。[y/N] / replace {target}? [y/N] "
        )
        if answer.strip().lower() not in ("y", "yes", "是"):
            print("已取消 / cancelled", file=sys.stderr)
            return 1
    done = restore(Path(args.file), target, safety_dir=cfg.backup.dir())
    print_json(
        {
            "restored": str(target),
            "from": str(Path(args.file).resolve()),
            "revision": revision,
            "migrated_to": done.migrated_to,
        }
    )
    return 0
