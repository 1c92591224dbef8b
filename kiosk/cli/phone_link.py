"""``kiosk phone link|bindings|revoke``: one-time activation links for workers' and officers' phones.

    kiosk phone link (--worker ID | --officer ID) [--ttl-hours H] [--base-url URL] [--json] --db SHARED
    kiosk phone bindings [--worker ID | --officer ID] [--active] --db SHARED
    kiosk phone revoke (--binding ID | --worker ID | --officer ID) --db SHARED

``link`` prints the link as a QR in the terminal (the phone's camera opens it) and the URL; with
``--json`` one JSON object. The logic lives in ``store/people/phone.py``.
"""

from __future__ import annotations

import argparse
import uuid
from typing import TYPE_CHECKING

from kiosk.cli.common import add_store_args, config_of, db_url, id_arg, print_json, store_at

if TYPE_CHECKING:
    pass


def _uuid(text: str | None, what: str) -> uuid.UUID | None:
    if text is None:
        return None
    return id_arg(text, what, f"{what} 编号格式错误：{text}", f"Not a {what} id (UUID): {text}")


def _who(p: argparse.ArgumentParser, required: bool) -> None:
    g = p.add_mutually_exclusive_group(required=required)
    g.add_argument("--worker", metavar="ID", help="工人编号 / worker id")
    g.add_argument("--officer", metavar="ID", help="签到员编号 / officer id")


def register_link(psub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = psub.add_parser("link", help="生成手机激活链接（二维码） / a one-time activation link for a phone")
    _who(p, True)
    p.add_argument(
        "--ttl-hours", type=float, help="有效期（小时） / hours the link is good ([serve] link_ttl_h)"
    )
    p.add_argument("--base-url", help="服务地址 / the service's address ([serve] base_url)")
    p.add_argument("--actor", default="admin", help="操作人（记入审计） / who makes it (audited)")
    p.add_argument("--json", action="store_true", help="输出 JSON / print one JSON object")
    add_store_args(p, help_="共享数据库地址 / the shared database URL")
    p.set_defaults(func=cmd_link)

    b = psub.add_parser("bindings", help="列出手机绑定 / list phone bindings")
    _who(b, False)
    b.add_argument("--active", action="store_true", help="只列有效的 / live bindings only")
    add_store_args(b, help_="共享数据库地址 / the shared database URL")
    b.set_defaults(func=cmd_bindings)

    # a mutually exclusive group, registered like sync_cmd's: argparse's shape, other words
    r = psub.add_parser("revoke", help="撤销手机绑定 / revoke a phone binding")
    g = r.add_mutually_exclusive_group(required=True)
    g.add_argument("--binding", metavar="ID", help="绑定编号 / binding id")
    g.add_argument(
        "--worker", metavar="ID", help="该工人的绑定与未用链接 / the worker's binding and unused links"
    )
    g.add_argument("--officer", metavar="ID", help="该签到员的绑定与未用链接 / the officer's")
    r.add_argument("--actor", default="admin", help="操作人（记入审计） / who revokes (audited)")
    add_store_args(r, help_="共享数据库地址 / the shared database URL")
    r.set_defaults(func=cmd_revoke)


def cmd_link(args: argparse.Namespace) -> int:
    from kiosk.qr_terminal import qr_lines
    from store.people.phone import create_link

    cfg = config_of(args)
    ttl_h = args.ttl_hours if args.ttl_hours is not None else cfg.serve.link_ttl_h
    with store_at(db_url(args, shared=True)) as engine:
        link = create_link(
            engine,
            worker_id=_uuid(args.worker, "worker"),
            officer_id=_uuid(args.officer, "officer"),
            ttl_s=round(ttl_h * 3600),
            actor=args.actor,
        )
    url = link.url(cfg.serve.link_base(args.base_url))
    out = {
        "url": url,
        "kind": link.kind.value,
        "subject": str(link.subject_id),
        "name": link.name,
        "expires_at": link.expires_at.isoformat(),
    }
    if args.json:
        print_json(out)
        return 0
    for line in qr_lines(url, border=2):
        print(line)
    print(
        f"{link.name}：用手机扫码或打开此链接（一次有效，{link.expires_at:%Y-%m-%d %H:%M} UTC 前）/ open on the phone, once:"
    )
    print(url)
    return 0


def cmd_bindings(args: argparse.Namespace) -> int:
    from store.people.phone import list_bindings

    with store_at(db_url(args, shared=True)) as engine:
        rows = list_bindings(
            engine,
            worker_id=_uuid(args.worker, "worker"),
            officer_id=_uuid(args.officer, "officer"),
            active_only=args.active,
        )
    for r in rows:
        print_json(
            {
                "binding": str(r.id),
                "kind": r.kind.value,
                "subject": str(r.subject_id),
                "name": r.name,
                "created_at": r.created_at.isoformat(),
                "last_seen_at": r.last_seen_at.isoformat() if r.last_seen_at else None,
                "revoked_at": r.revoked_at.isoformat() if r.revoked_at else None,
                "revoked_by": r.revoked_by,
            }
        )
    return 0


def cmd_revoke(args: argparse.Namespace) -> int:
    from store.people.phone import revoke_binding, revoke_person

    with store_at(db_url(args, shared=True)) as engine:
        if args.binding:
            binding = _uuid(args.binding, "binding")
            assert binding is not None
            n = int(revoke_binding(engine, binding, actor=args.actor))
        else:
            n = revoke_person(
                engine,
                worker_id=_uuid(args.worker, "worker"),
                officer_id=_uuid(args.officer, "officer"),
                actor=args.actor,
            )
    print_json({"revoked": n})
    return 0
