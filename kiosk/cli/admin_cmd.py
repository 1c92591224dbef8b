"""``kiosk admin --db URL``: the administrator's app (enrollment and reference data)."""

from __future__ import annotations

import argparse

from kiosk.cli.common import add_store_args, config_of, db_url

ORDER = 50


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    # argparse registration, the shape every command shares (its own words); --db/--config: add_store_args
    p = sub.add_parser(
        "admin",
        help="管理：工人登记、项目、单位、签到员、密钥 / administration: enrollment and reference data",
        description="The administrator's Textual app over the shared database: workers (personal information, "
        "ID card images, face capture, real-name verification, bank card, health check, employment and its "
        "confirmation, readiness), projects, employers, officers, health institutions, issuer keys.",
    )
    add_store_args(p, help_="数据库地址 / database URL (default: the config's shared database)")
    p.add_argument(
        "--actor",
        metavar="NAME",
        help="管理员姓名（记入审计） / your name, recorded in the audit log (default: the login name)",
    )
    p.add_argument(
        "--camera", metavar="SPEC", help="摄像头 / camera for faces and ID cards (default: [camera] source)"
    )
    p.set_defaults(func=cmd_admin)


def cmd_admin(args: argparse.Namespace) -> int:
    from kiosk.admin.app import build_app
    from kiosk.cli.common import store_at

    config = config_of(args)
    with store_at(db_url(args, shared=True)) as engine:
        build_app(engine, config, actor=args.actor, camera=args.camera).run()
    return 0
