"""``kiosk keys new|add|revoke|list|export``: issuer keys of personal codes and the trust list.

- ``new --out DIR [--roles R] [--db URL]``: a key pair ``DIR/issuer.key`` (0600) and ``DIR/issuer.pub``,
  and its scope ``DIR/issuer.json``; prints the key id; with ``--db`` also registers the public key there.
- ``add FILE [--roles R] [--db URL]``: trust a public key (``issuer.pub``; its scope from ``--roles``, else
  the ``issuer.json`` beside it, else both), or merge a trust file (``export``'s).
- ``revoke KID [--db URL]``: every code of that key is refused from now on.
- ``list [--db URL]`` and ``export [--db URL] [--out FILE]``: the trust list (public keys and scopes).

``--roles`` is ``worker``, ``officer`` or ``worker,officer`` (default): the kinds of code the key may
sign. A kiosk showing the officer's code (way A) holds an ``officer`` key, so a stolen kiosk cannot
mint workers' codes.

Without ``--db``, add/revoke/list/export work on the config's shared database, from which sync brings
the trust list to kiosks.
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import TYPE_CHECKING

from kiosk.cli.common import add_store_args, db_url, print_json, store_at

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from store.reasons import Role

ORDER = 70

_DB_HELP = "数据库地址 / database URL (default: the config's shared database)"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("keys", help="建设码签发密钥 / issuer keys of personal codes (trust list)")
    ksub = p.add_subparsers(dest="keys_command", metavar="ACTION", required=True)

    n = ksub.add_parser("new", help="生成签发密钥对 / make an issuer key pair (prints its key id)")
    n.add_argument(
        "--out", required=True, metavar="DIR", help="写入 issuer.key（0600）与 issuer.pub 的文件夹 / folder"
    )
    n.add_argument(
        "--db", metavar="URL", help="同时登记公钥到此数据库 / also register the public key in this database"
    )
    _key_args(n, "worker,officer")
    n.set_defaults(func=cmd_new)

    # each action registers its own arguments: argparse's shape, the words differ
    a = ksub.add_parser("add", help="登记公钥或导入信任文件 / trust a public key file, or merge a trust file")
    a.add_argument("file", metavar="FILE", help="issuer.pub, or a trust file written by `kiosk keys export`")
    add_store_args(a, help_=_DB_HELP)
    _key_args(a, "issuer.json beside FILE, else worker,officer; for a key already trusted: unchanged")
    a.set_defaults(func=cmd_add)

    r = ksub.add_parser("revoke", help="吊销密钥 / revoke a key: all its codes are refused")
    r.add_argument("kid", metavar="KID", help="密钥编号 / key id")
    add_store_args(r, help_=_DB_HELP)
    r.set_defaults(func=cmd_revoke)

    ls = ksub.add_parser("list", help="列出信任的公钥 / list the trust list")
    add_store_args(ls, help_=_DB_HELP)
    ls.set_defaults(func=cmd_list)

    e = ksub.add_parser("export", help="导出信任文件 / write the trust list as a file (public keys only)")
    e.add_argument("--out", metavar="FILE", help="信任文件 / trust file (default: stdout)")
    add_store_args(e, help_=_DB_HELP)
    e.set_defaults(func=cmd_export)


def _key_args(p: argparse.ArgumentParser, roles_default: str) -> None:
    """What a key is trusted for: ``--roles`` (``roles_default``: its default, in words), ``--not-before``,
    ``--not-after`` and ``--note``."""
    p.add_argument(
        "--roles",
        metavar="ROLES",
        help=f"可签发的建设码：officer | worker | worker,officer / the codes it may sign (default: {roles_default})",
    )
    p.add_argument("--not-before", metavar="ISO8601", help="生效时间 / valid from (default: now)")
    p.add_argument(
        "--not-after", metavar="ISO8601", help="停用时间（轮换）/ valid until (rotation; default: open)"
    )
    p.add_argument("--note", help="备注 / a note")


# The parse-or-ValidationError shape of phone_link._uuid and admin's opt_float: one message each.
def _instant(text: str | None, field: str) -> datetime | None:
    from store.errors import ValidationError
    from store.timeutil import parse_instant

    if not text:
        return None
    try:
        return parse_instant(text)
    except ValueError as exc:
        raise ValidationError(field, f"时间格式错误：{text}", f"Not an ISO 8601 time: {text}") from exc


def _register(
    engine: Engine,
    url: str,
    pub: str | bytes,
    args: argparse.Namespace,
    actor: str,
    roles: frozenset[Role] | None,
) -> dict[str, object]:
    from store.codes.keys import key_record, register_public_key
    from store.db.engine import translate_errors

    with translate_errors(url):
        row = register_public_key(
            engine,
            pub,
            not_before=_instant(args.not_before, "not_before"),
            not_after=_instant(args.not_after, "not_after"),
            note=args.note,
            roles=roles,
            actor=actor,
        )
    return key_record(row)


def cmd_new(args: argparse.Namespace) -> int:
    import contextlib
    from pathlib import Path

    from store.codes.keys import new_key_pair, scope_path
    from store.codes.scope import describe, parse_roles
    from store.db.urls import redact
    from store.reasons import Role

    for text, field in ((args.not_before, "not_before"), (args.not_after, "not_after")):
        _instant(text, field)  # a bad time: nothing is written
    roles = parse_roles(args.roles)  # a bad scope: nothing is written
    # an unreachable database: no key made
    with store_at(args.db) if args.db else contextlib.nullcontext() as engine:
        key, priv, pub = new_key_pair(Path(args.out), roles)
        where = (
            "仅签到员码，可放在签到终端 / officer codes only: may sit on a kiosk"
            if roles == {Role.OFFICER}
            else "勿放在签到终端 / never on a kiosk"
        )
        print(f"私钥 / private key: {priv} (0600, {where})", file=sys.stderr)
        print(f"公钥 / public key:  {pub}", file=sys.stderr)
        zh, en = describe(roles)
        print(f"范围 / scope:       {scope_path(priv)} ({zh} / {en})", file=sys.stderr)
        if engine is not None:
            _register(engine, args.db, key.public_pem(), args, "keys-new", roles)
            print(f"已登记到 / registered in {redact(args.db)}", file=sys.stderr)
    print(key.kid, flush=True)
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    from pathlib import Path

    from store.codes.keys import import_trust_file, kid_of, public_key_from_bytes, raw_public, read_scope
    from store.codes.scope import parse_roles
    from store.db.urls import redact
    from store.errors import StoreError

    url = db_url(args, shared=True)
    roles = parse_roles(args.roles) if args.roles is not None else None
    path = Path(args.file).expanduser()
    try:
        head = path.read_bytes()[:64].lstrip()
    except OSError as exc:
        raise StoreError(f"无法读取文件：{path}", f"Cannot read {path}: {exc.strerror}") from exc
    if head.startswith(b"{"):
        if roles is not None:
            raise StoreError(
                "信任文件自带各密钥的范围，--roles 只用于公钥文件",
                "A trust file carries each key's scope: --roles is for a public key file only",
            )
        with store_at(url) as engine:
            n = import_trust_file(engine, path, actor="keys-add")
        print_json({"db": redact(url), "trust_file": str(path), "keys": n})
        return 0
    if roles is None:  # the scope written beside the key by `kiosk keys new`, if it is there
        roles = read_scope(path, kid_of(raw_public(public_key_from_bytes(path.read_bytes()))))
    with store_at(url) as engine:
        record = _register(engine, url, str(path), args, "keys-add", roles)
    print_json({"db": redact(url), **record})
    return 0


def cmd_revoke(args: argparse.Namespace) -> int:
    from store.codes.keys import list_keys, revoke_key
    from store.db.urls import redact

    url = db_url(args, shared=True)
    with store_at(url) as engine:
        revoke_key(engine, args.kid, actor="keys-revoke")
        row = next(k for k in list_keys(engine) if k.kid == args.kid.strip().lower())
    print_json(
        {
            "db": redact(url),
            "kid": row.kid,
            "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None,
        }
    )
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from store.codes.keys import key_record, list_keys
    from store.db.urls import redact

    url = db_url(args, shared=True)
    with store_at(url) as engine:
        keys = [key_record(k) for k in list_keys(engine)]
    print_json({"db": redact(url), "keys": keys})
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    import json

    from store.codes.keys import export_trust, write_trust_file
    from store.db.urls import redact

    url = db_url(args, shared=True)
    with store_at(url) as engine:
        if args.out:
            n = write_trust_file(engine, args.out)
        else:
            print(json.dumps(export_trust(engine), ensure_ascii=False, indent=2), flush=True)
            return 0
    print_json({"db": redact(url), "trust_file": args.out, "keys": n})
    return 0
