"""``kiosk code issue|verify|phone``: personal codes (个人建设码) at the command line.

- ``issue (--worker ID | --officer ID [--project ID]) --key FILE [--at ISO8601] [--validity S]
  [--png FILE | --terminal]``: prints the token on stdout; ``--png`` writes its QR as an image,
  ``--terminal`` draws it (on stderr, so the token on stdout stays clean for a pipe). A key scoped to
  other codes (``issuer.json`` beside the key file, written by ``kiosk keys new --roles``) is refused
  here, before anything is signed (exit 2).
- ``verify TOKEN [--db URL | --trust FILE] [--at ISO8601] [--role worker|officer]``: prints
  ``{"ok": true, "role", "subject", "issued_at", "expires_at", "kid"}`` (and ``project`` when the code
  names one) or ``{"ok": false, "reason": "<REASON_CODE>"}``, the reason in words on stderr; exit 0/1.
  It trusts what every command trusts (``kiosk.wiring.verifier_for``): the keys of ``--db`` (default:
  the config's local store) and ``[codes] trust_file``, at ``[policy] clock_skew_s`` (``--skew`` overrides);
  ``--trust FILE`` checks against that file alone.
  ``TOKEN`` ``-`` reads it from stdin (raw tokens stay out of the shell history).
- ``phone --worker ID --key FILE``: a terminal standing in for the worker's phone (QR and countdown).
"""

from __future__ import annotations

import argparse
import sys
import uuid
from typing import TYPE_CHECKING

from kiosk.cli.common import add_config_arg, add_db_arg, config_of, db_url, id_arg, print_json

if TYPE_CHECKING:
    from datetime import datetime

    from store.codes.keys import IssuerPrivateKey
    from store.reasons import Role

ORDER = 30


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("code", help="个人建设码 / personal codes: issue, verify, show on a stand-in phone")
    csub = p.add_subparsers(dest="code_command", metavar="ACTION", required=True)

    i = csub.add_parser("issue", help="签发建设码 / issue a code (prints the token)")
    who = i.add_mutually_exclusive_group(required=True)
    who.add_argument("--worker", metavar="ID", help="工人编号 / worker id (UUID)")
    who.add_argument("--officer", metavar="ID", help="签到员编号 / officer id (UUID)")
    i.add_argument(
        "--project", metavar="ID", help="项目编号（签到员码，方式一）/ project id (officer's code, way A)"
    )
    i.add_argument(
        "--key", required=True, metavar="FILE", help="签发私钥 / the issuer's private key (issuer.key)"
    )
    i.add_argument("--at", metavar="ISO8601", help="签发时间 / issue time (default: now)")
    i.add_argument(
        "--validity", type=int, metavar="SECONDS", help="有效期（秒）/ validity (default: config, 120)"
    )
    out = i.add_mutually_exclusive_group()
    out.add_argument("--png", metavar="FILE", help="二维码图片 / also write the QR as a PNG")
    out.add_argument(
        "--terminal", action="store_true", help="在终端显示二维码 / also draw the QR in the terminal"
    )
    add_config_arg(i)
    i.set_defaults(func=cmd_issue)

    v = csub.add_parser(
        "verify", help="核验建设码 / verify a code (prints one JSON object; exit 0 ok, 1 refused)"
    )
    v.add_argument(
        "token", metavar="TOKEN", help="建设码，- 表示从标准输入读取 / the token, - reads it from stdin"
    )
    trust = v.add_mutually_exclusive_group()
    add_db_arg(trust, help_="用此数据库的信任列表 / trust list of this database (default: the local store)")
    trust.add_argument("--trust", metavar="FILE", help="信任文件 / a trust file (kiosk keys export)")
    v.add_argument("--at", metavar="ISO8601", help="核验时间 / verify as of this time (default: now)")
    v.add_argument("--role", choices=["worker", "officer"], help="应为的身份 / expected role")
    v.add_argument(
        "--skew", type=int, metavar="SECONDS", help="允许的时钟误差 / clock skew (default: config, 30)"
    )
    add_config_arg(v)
    v.set_defaults(func=cmd_verify)

    ph = csub.add_parser("phone", help="模拟工人手机显示建设码 / a stand-in phone showing the worker's code")
    ph.add_argument("--worker", required=True, metavar="ID", help="工人编号 / worker id (UUID)")
    ph.add_argument("--key", required=True, metavar="FILE", help="签发私钥 / the issuer's private key")
    ph.add_argument(
        "--validity", type=int, metavar="SECONDS", help="有效期（秒）/ validity (default: config, 120)"
    )
    add_config_arg(ph)
    ph.set_defaults(func=cmd_phone)


def _uuid(text: str, field: str) -> uuid.UUID:
    return id_arg(text, field, f"编号格式错误（应为 UUID）：{text}", f"{field} is not a UUID: {text}")


def _at(text: str | None) -> datetime | None:
    from store.errors import ValidationError
    from store.timeutil import parse_instant

    if not text:
        return None
    try:
        return parse_instant(text)
    except ValueError as exc:
        raise ValidationError("at", f"时间格式错误：{text}", f"Not an ISO 8601 time: {text}") from exc


def _validity(args: argparse.Namespace) -> int:
    from store.codes.tokens import MAX_VALIDITY_S
    from store.errors import ValidationError

    value = args.validity if args.validity is not None else config_of(args).codes.validity_s
    if not 1 <= value <= MAX_VALIDITY_S:
        raise ValidationError(
            "validity",
            f"有效期应为 1–{MAX_VALIDITY_S} 秒",
            f"The validity must be 1 to {MAX_VALIDITY_S} seconds",
        )
    return int(value)


def cmd_issue(args: argparse.Namespace) -> int:
    from store.codes.keys import IssuerPrivateKey
    from store.codes.tokens import issue_code
    from store.errors import ValidationError
    from store.reasons import Role

    if args.worker and args.project:
        raise ValidationError(
            "project", "工人码不含项目", "A worker's code names no project (--project is for --officer)"
        )
    role = Role.WORKER if args.worker else Role.OFFICER
    subject = _uuid(args.worker or args.officer, "worker" if args.worker else "officer")
    project = _uuid(args.project, "project") if args.project else None
    at, validity = _at(args.at), _validity(args)
    key = IssuerPrivateKey.load(args.key)
    _check_scope(key, role, args.key)
    try:
        token = issue_code(key, role=role, subject=subject, project=project, at=at, validity_s=validity)
    except ValueError as exc:
        raise ValidationError("at", "无法签发：时间超出范围", f"Cannot issue: {exc}") from exc
    if args.png:
        from kiosk.qr_terminal import save_png

        try:
            save_png(token, args.png)
        except OSError as exc:
            raise ValidationError(
                "png", f"无法写入图片：{args.png}", f"Cannot write {args.png}: {exc}"
            ) from exc
    if args.terminal:
        _draw(token)
    print(token, flush=True)
    return 0


def _check_scope(key: IssuerPrivateKey, role: Role, key_path: str) -> None:
    """Refuse, before signing, a code the key's scope (issuer.json beside the key file) leaves out."""
    from store.codes.keys import scope_path
    from store.codes.scope import describe
    from store.errors import StoreError

    if role in key.roles:
        return
    zh, en = describe(key.roles)
    want_zh, want_en = describe({role})
    where = scope_path(key_path)
    raise StoreError(
        f"密钥 {key.kid} 只能签发{zh}，不能签发{want_zh}（范围见 {where}）",
        f"Key {key.kid} may sign {en} codes only, not {want_en} codes (its scope: {where})",
    )


def _draw(token: str) -> None:
    from rich.console import Console
    from rich.text import Text

    from kiosk.qr_terminal import qr_lines

    console = Console(stderr=True, highlight=False)
    if console.is_terminal and console.color_system:
        for line in qr_lines(token):  # dark modules black on white, whatever the terminal's theme
            console.print(Text(line, style="black on white"), soft_wrap=True)
    else:  # no colours: assume light text on a dark background
        for line in qr_lines(token, invert=True):
            print(line, file=sys.stderr)


def cmd_verify(args: argparse.Namespace) -> int:
    from kiosk.wiring import verifier_for
    from store.codes.tokens import CodeError, TrustList, Verifier
    from store.reasons import Role

    token = sys.stdin.readline() if args.token == "-" else args.token
    at = _at(args.at)
    cfg = config_of(args)
    if args.trust:  # exactly this trust file (a check of the file itself), at the configured skew
        verifier = Verifier(
            TrustList.from_file(args.trust),
            skew_s=cfg.policy.clock_skew_s if args.skew is None else args.skew,
        )
    else:
        from kiosk.cli.common import store_at

        with store_at(db_url(args)) as engine:
            verifier = verifier_for(cfg, engine, skew_s=args.skew)
    try:
        ident = verifier.verify(token, role=Role(args.role) if args.role else None, at=at)
    except CodeError as exc:
        print_json({"ok": False, "reason": exc.reason.value})
        print(exc.both(), file=sys.stderr)
        return 1
    print_json({"ok": True, **ident.as_json()})
    return 0


def cmd_phone(args: argparse.Namespace) -> int:
    from kiosk.phone_app import PhoneApp
    from store.codes.keys import IssuerPrivateKey
    from store.reasons import Role

    worker = _uuid(args.worker, "worker")
    validity = _validity(args)
    cfg = config_of(args)
    key = IssuerPrivateKey.load(args.key)
    _check_scope(key, Role.WORKER, args.key)
    PhoneApp(key, subject=worker, validity_s=validity, lang=cfg.language, timezone=cfg.policy.timezone).run()
    return 0
