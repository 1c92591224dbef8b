"""``kiosk kiosk …``: kiosks' keys (issue 24). Kiosks sync through the site service, signed by their own
Ed25519 key; no kiosk holds a database login.

In the office (``--db`` the shared database):

- ``kiosk kiosk enroll --project P [--project Q] [--hours 24]``: a one-time enrollment token for a new
  kiosk of these projects (the kiosk is approved when it registers with it);
- ``kiosk kiosk list``: every kiosk key, its status, projects and when it was last seen;
- ``kiosk kiosk approve KIOSK --project P …``: approve a key that registered without a token;
- ``kiosk kiosk revoke KIOSK``: the kiosk is refused at its next request;
- ``kiosk kiosk rejections [--all]`` and ``kiosk kiosk settle ID…|--all``: what the service refused of
  the kiosks' pushes, and marking it dealt with.

On the kiosk: ``kiosk kiosk register --service URL [--token T]``: make the key (0600) if there is none,
and register it with the site service (approved at once with a token, else pending).
"""

from __future__ import annotations

import argparse

from kiosk.cli.common import add_store_args, config_of, db_url, print_json, store_at

ORDER = 45


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("kiosk", help="签到机密钥 / kiosks' sync keys (enroll, approve, revoke)")
    ksub = p.add_subparsers(dest="kiosk_command", metavar="ACTION", required=True)

    e = ksub.add_parser("enroll", help="生成一次性登记码 / a one-time enrollment token for a new kiosk")
    e.add_argument("--project", action="append", required=True, metavar="PROJECT", help="项目 / project")
    e.add_argument("--hours", type=float, default=24.0, help="有效小时数 / hours it stays valid (24)")
    add_store_args(e, help_="共享数据库地址 / the shared database URL")
    e.set_defaults(func=cmd_enroll)

    ls = ksub.add_parser("list", help="列出签到机密钥 / list the kiosks' keys")
    ls.add_argument("--json", action="store_true", help="JSON 输出 / print JSON")
    add_store_args(ls, help_="共享数据库地址 / the shared database URL")
    ls.set_defaults(func=cmd_list)

    a = ksub.add_parser("approve", help="批准签到机 / approve a kiosk's key")
    a.add_argument("kiosk", metavar="KIOSK", help="签到机编号、密钥编号或名称 / kiosk id, key id or name")
    a.add_argument("--project", action="append", required=True, metavar="PROJECT", help="项目 / project")
    add_store_args(a, help_="共享数据库地址 / the shared database URL")
    a.set_defaults(func=cmd_approve)

    r = ksub.add_parser("revoke", help="吊销签到机 / revoke a kiosk's key")
    r.add_argument("kiosk", metavar="KIOSK", help="签到机编号、密钥编号或名称 / kiosk id, key id or name")
    add_store_args(r, help_="共享数据库地址 / the shared database URL")
    r.set_defaults(func=cmd_revoke)

    rj = ksub.add_parser("rejections", help="被拒绝的上传 / pushed rows the service refused")
    rj.add_argument("--all", action="store_true", help="包括已处理的 / settled ones too")
    add_store_args(rj, help_="共享数据库地址 / the shared database URL")
    rj.set_defaults(func=cmd_rejections)

    st = ksub.add_parser("settle", help="标记为已处理 / mark refusals as dealt with")
    st.add_argument("ids", nargs="*", metavar="ID", help="拒绝记录编号 / refusal ids")
    st.add_argument("--all", action="store_true", help="全部未处理的 / every unsettled one")
    add_store_args(st, help_="共享数据库地址 / the shared database URL")
    st.set_defaults(func=cmd_settle)

    g = ksub.add_parser(
        "register", help="在站点服务登记本机密钥 / register this kiosk's key with the service"
    )
    g.add_argument(
        "--service", metavar="URL", help="站点服务地址 / the site service (default [sync] service_url)"
    )
    g.add_argument("--token", metavar="TOKEN", help="一次性登记码 / the enrollment token")
    add_store_args(g, help_="本机数据库 / this kiosk's local store")
    g.set_defaults(func=cmd_register)


def _projects(engine: object, refs: list[str]) -> list[object]:
    from store.projects import resolve_project

    return [resolve_project(engine, ref).id for ref in refs]  # type: ignore[arg-type]


def cmd_enroll(args: argparse.Namespace) -> int:
    from store.db.urls import redact
    from store.sync.keys import issue_enrollment

    url = db_url(args, shared=True)
    with store_at(url) as engine:
        projects = _projects(engine, args.project)
        token = issue_enrollment(engine, projects, ttl_h=args.hours, actor="cli")  # type: ignore[arg-type]
    print_json(
        {"db": redact(url), "token": token, "projects": [str(p) for p in projects], "hours": args.hours}
    )
    return 0


def _key_doc(k: object) -> dict[str, object]:
    from store.db.models import KioskKey

    assert isinstance(k, KioskKey)
    return {
        "kiosk_id": str(k.kiosk_id),
        "key_id": k.key_id,
        "name": k.name,
        "status": k.status,
        "projects": [p for p in k.projects.split(",") if p],
        "approved_at": k.approved_at.isoformat() if k.approved_at else None,
        "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None,
        "last_seen_at": k.last_seen_at.isoformat() if k.last_seen_at else None,
    }


def cmd_list(args: argparse.Namespace) -> int:
    from store.sync.keys import list_keys

    with store_at(db_url(args, shared=True)) as engine:
        keys = [_key_doc(k) for k in list_keys(engine)]
    if args.json:
        print_json(keys)
        return 0
    words = {"pending": "待批准 pending", "approved": "已批准 approved", "revoked": "已吊销 revoked"}
    if not keys:
        print("没有签到机密钥 / no kiosk keys")
    for k in keys:
        print(
            f"{str(k['kiosk_id'])[:8]}  {k['key_id']!s:.12}  {k['name']}  {words.get(str(k['status']), k['status'])}"
            f"  projects={len(k['projects'])}  last seen={k['last_seen_at'] or '-'}"  # type: ignore[arg-type]
        )
    return 0


def cmd_approve(args: argparse.Namespace) -> int:
    from store.sync.keys import approve

    with store_at(db_url(args, shared=True)) as engine:
        row = approve(engine, args.kiosk, _projects(engine, args.project), actor="cli")  # type: ignore[arg-type]
    print_json(_key_doc(row))
    return 0


def cmd_revoke(args: argparse.Namespace) -> int:
    from store.sync.keys import revoke

    with store_at(db_url(args, shared=True)) as engine:
        row = revoke(engine, args.kiosk, actor="cli")
    print_json(_key_doc(row))
    return 0


def cmd_rejections(args: argparse.Namespace) -> int:
    from store.sync.keys import rejections

    with store_at(db_url(args, shared=True)) as engine:
        rows = rejections(engine, unsettled_only=not args.all)
    print_json(
        [
            {
                "id": str(r.id),
                "at": r.at.isoformat(),
                "kiosk_id": str(r.kiosk_id) if r.kiosk_id else None,
                "table": r.table_name,
                "row_id": str(r.row_id) if r.row_id else None,
                "reason": r.reason,
                "settled_at": r.settled_at.isoformat() if r.settled_at else None,
            }
            for r in rows
        ]
    )
    return 0


def cmd_settle(args: argparse.Namespace) -> int:
    from kiosk.cli.common import id_arg
    from store.errors import ValidationError
    from store.sync.keys import settle

    if not args.all and not args.ids:
        raise ValidationError("ids", "请给出拒绝记录编号或 --all", "Give refusal ids or --all")
    ids = None if args.all else [id_arg(i, "ids", "编号格式错误", "Not an id") for i in args.ids]
    with store_at(db_url(args, shared=True)) as engine:
        n = settle(engine, ids, actor="cli")
    print_json({"settled": n})
    return 0


def cmd_register(args: argparse.Namespace) -> int:
    import socket

    from kiosk.wiring import open_local_store
    from store.errors import ValidationError
    from store.sync.client import SyncClient
    from store.sync.identity import kiosk_identity
    from store.sync.signing import KioskKeyFile

    cfg = config_of(args)
    service = args.service or cfg.sync.service_url
    if not service:
        raise ValidationError(
            "service", "请给出站点服务地址：--service URL", "Give the site service's address: --service URL"
        )
    if args.db:
        cfg = cfg.model_copy(update={"store": cfg.store.model_copy(update={"local_url": args.db})})
    engine = open_local_store(cfg)
    try:
        kid = kiosk_identity(engine, kiosk_id=cfg.kiosk.id, name=cfg.kiosk.name)
    finally:
        engine.dispose()
    key = KioskKeyFile.create(cfg.sync.key_path())
    with SyncClient(service, key) as client:
        info = client.register(kid, cfg.kiosk.name or socket.gethostname(), token=args.token)
    print_json(
        {
            "service": service,
            "key_file": str(key.path),
            "key_id": info.key_id,
            "kiosk_id": str(info.kiosk_id),
            "status": info.status,
            "projects": [str(p) for p in info.projects],
        }
    )
    return 0
