"""Kiosk keys on the shared database (issue 24): enrollment tokens, approval, revocation, and the check of
every signed sync request (store/sync/signing.py says what is signed).

- ``issue_enrollment(engine, projects)``: a one-time token (24 h by default) bound to projects; the kiosk
  presents it with its public key at set-up and is approved at once (as a phone's activation link binds it).
- ``register(engine, public_raw=, kiosk_id=, name=)``: without a token the key waits, ``pending``, until
  ``approve``; a kiosk id already held by another key is refused (no claiming another kiosk).
- ``revoke``: the next request of that kiosk is refused (every request looks the key up).
- ``authenticate``: the signature, the time window (``WINDOW_S`` either way) and the nonce, kept in
  ``kiosknonce`` in the database so a replay is refused by any service process on any host.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from store.db.engine import translate_errors, write_session
from store.db.models import AuditLog, KioskEnrollment, KioskKey, KioskNonce, Project, PushRejection
from store.errors import StoreError, ValidationError
from store.sync.signing import H_KEY, H_NONCE, H_SIG, H_TIME, canonical, key_id, verify_signature
from store.timeutil import utcnow

#: a request's time may differ from the service's by this much; its nonce is kept twice as long
WINDOW_S = 300
ENROLL_TTL_H = 24
PENDING, APPROVED, REVOKED = "pending", "approved", "revoked"
#: what a revoked kiosk is told (at registration and at every request)
REVOKED_WORDS = (
    "这台签到机的密钥已被吊销：如需再用，请联系管理员，并在签到机上重新设置（kiosk setup）",
    "This kiosk's key is revoked: to use it again, ask the administrator and set the kiosk up again "
    "(kiosk setup)",
)


class KioskAuthError(StoreError):
    """A sync request the service refuses: unsigned, badly signed, replayed, stale, unknown, not approved."""

    def __init__(self, status: int, code: str, zh: str, en: str) -> None:
        super().__init__(zh, en)
        self.status = status
        self.code = code


@dataclass(frozen=True, slots=True)
class KioskPrincipal:
    """Who a verified request comes from: the key, its kiosk and the projects it may sync."""

    key_id: uuid.UUID
    kiosk_id: uuid.UUID
    name: str
    projects: frozenset[uuid.UUID]


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _projects_text(projects: frozenset[uuid.UUID] | set[uuid.UUID] | list[uuid.UUID]) -> str:
    return ",".join(sorted(str(p) for p in projects))


def parse_projects(text: str) -> frozenset[uuid.UUID]:
    return frozenset(uuid.UUID(p) for p in text.split(",") if p.strip())


def _audit(
    s: object, actor: str, action: str, table: str, row_id: uuid.UUID | None, detail: str = ""
) -> None:
    """An administrator's write, in the audit log (as store/people/enroll.audit; ids, never secrets)."""
    from sqlmodel import Session

    assert isinstance(s, Session)
    s.add(AuditLog(actor=actor, action=action, table_name=table, row_id=row_id, detail=detail or None))


def _check_projects(s: object, projects: list[uuid.UUID]) -> None:
    from sqlmodel import Session

    assert isinstance(s, Session)
    if not projects:
        raise ValidationError("project", "请至少指定一个项目", "Name at least one project")
    for p in projects:
        row = s.get(Project, p)
        if row is None or row.deleted_at is not None:
            raise ValidationError("project", f"找不到项目：{p}", f"No such project: {p}")


def issue_enrollment(
    engine: Engine,
    projects: list[uuid.UUID],
    *,
    ttl_h: float = ENROLL_TTL_H,
    actor: str = "admin",
    at: datetime | None = None,
) -> str:
    """A one-time enrollment token for a kiosk of these projects; only its hash is kept."""
    token = secrets.token_urlsafe(24)
    now = at or utcnow()
    with translate_errors(str(engine.url)), write_session(engine) as s:
        _check_projects(s, projects)
        row = KioskEnrollment(
            token_hash=_hash(token),
            projects=_projects_text(projects),
            expires_at=now + timedelta(hours=ttl_h),
            created_by=actor,
            created_at=now,
        )
        s.add(row)
        _audit(s, actor, "create", "kioskenrollment", row.id, f"projects={len(projects)}")
    return token


def enrollment_expiry(ttl_h: float = ENROLL_TTL_H, *, at: datetime | None = None) -> datetime:
    """When a token issued now (or ``at``) stops working: what the admin app shows beside it."""
    return (at or utcnow()) + timedelta(hours=ttl_h)


def register(
    engine: Engine,
    *,
    public_raw: bytes,
    kiosk_id: uuid.UUID,
    name: str,
    token: str | None = None,
    at: datetime | None = None,
) -> KioskKey:
    """Record a kiosk's public key: approved at once with a valid enrollment token, else pending."""
    now = at or utcnow()
    if len(public_raw) != 32:
        raise ValidationError(
            "public_key",
            "公钥须为 32 字节的 Ed25519 公钥：请在签到机上重新运行 kiosk kiosk register",
            "The public key must be 32 raw bytes: run kiosk kiosk register on the kiosk again",
        )
    with translate_errors(str(engine.url)), write_session(engine) as s:
        row = s.exec(select(KioskKey).where(KioskKey.public_key == public_raw)).first()
        held = s.exec(select(KioskKey).where(KioskKey.kiosk_id == kiosk_id)).first()
        if held is not None and (row is None or held.id != row.id):
            raise KioskAuthError(
                409,
                "kiosk_taken",
                f"签到机 {kiosk_id} 已由另一把密钥登记，不能再次认领：请核对这台签到机是否被复制；"
                "如确是同一台换了密钥，请在签到机上重新设置（kiosk setup，新的签到机编号）",
                f"The kiosk {kiosk_id} is registered with another key: it cannot be claimed again. Check "
                "whether this kiosk was copied; if it is the same kiosk with a new key, set it up again "
                "(kiosk setup, a new kiosk id)",
            )
        if row is None:
            row = KioskKey(
                kiosk_id=kiosk_id,
                name=name[:80] or "kiosk",
                public_key=public_raw,
                key_id=key_id(public_raw),
                created_at=now,
            )
        if row.status == REVOKED:
            raise KioskAuthError(403, "revoked", *REVOKED_WORDS)
        if token:
            enr = s.exec(select(KioskEnrollment).where(KioskEnrollment.token_hash == _hash(token))).first()
            if enr is None or enr.used_at is not None or enr.revoked_at is not None or enr.expires_at < now:
                raise KioskAuthError(
                    403,
                    "bad_token",
                    "登记码无效、已用过或已过期：请管理员重新生成（kiosk kiosk enroll）",
                    "The enrollment token is unknown, used or expired: ask the administrator for a new one "
                    "(kiosk kiosk enroll)",
                )
            s.add(row)
            s.flush()
            enr.used_at, enr.key_id = now, row.id
            s.add(enr)
            row.status, row.projects = APPROVED, enr.projects
            row.approved_at, row.approved_by = now, f"token:{enr.created_by}"
        s.add(row)
        s.flush()
        s.refresh(row)
        s.expunge(row)
        return row


def find_key(engine: Engine, ref: str) -> KioskKey:
    """A kiosk key by its key id, its kiosk's id (or a unique prefix of either) or its name."""
    keys = list_keys(engine)
    ref = ref.strip().lower()
    hits = [
        k
        for k in keys
        if k.key_id.startswith(ref) or str(k.kiosk_id).startswith(ref) or k.name.lower() == ref
    ]
    if len(hits) != 1:
        what = "没有" if not hits else "不止一台"
        raise ValidationError(
            "kiosk",
            f"{what}签到机与“{ref}”相符（kiosk kiosk list）",
            f"{'No' if not hits else 'More than one'} kiosk matches {ref!r} (kiosk kiosk list)",
        )
    return hits[0]


def approve(
    engine: Engine, ref: str, projects: list[uuid.UUID], *, actor: str = "admin", at: datetime | None = None
) -> KioskKey:
    now = at or utcnow()
    target = find_key(engine, ref)
    with translate_errors(str(engine.url)), write_session(engine) as s:
        _check_projects(s, projects)
        row = s.get(KioskKey, target.id)
        assert row is not None
        if row.status == REVOKED:
            raise ValidationError(
                "kiosk",
                "已吊销的签到机不能再批准：请在签到机上重新登记",
                "A revoked kiosk cannot be approved again: register it again on the kiosk",
            )
        row.status, row.projects, row.approved_at, row.approved_by = (
            APPROVED,
            _projects_text(projects),
            now,
            actor,
        )
        s.add(row)
        _audit(s, actor, "approve", "kioskkey", row.id, f"{row.name} projects={len(projects)}")
        s.flush()
        s.expunge(row)
        return row


def revoke(engine: Engine, ref: str, *, actor: str = "admin", at: datetime | None = None) -> KioskKey:
    target = find_key(engine, ref)
    with translate_errors(str(engine.url)), write_session(engine) as s:
        row = s.get(KioskKey, target.id)
        assert row is not None
        if row.status == REVOKED:  # revoking twice changes nothing (as issuer keys)
            s.expunge(row)
            return row
        row.status, row.revoked_at, row.revoked_by = REVOKED, at or utcnow(), actor
        s.add(row)
        _audit(s, actor, "revoke", "kioskkey", row.id, row.name)
        s.flush()
        s.expunge(row)
        return row


def list_keys(engine: Engine) -> list[KioskKey]:
    with translate_errors(str(engine.url)), write_session(engine) as s:
        rows = list(s.exec(select(KioskKey).order_by(col(KioskKey.created_at))).all())
        for r in rows:
            s.expunge(r)
        return rows


def _refuse(status: int, code: str, zh: str, en: str) -> KioskAuthError:
    return KioskAuthError(status, code, zh, en)


def authenticate(
    engine: Engine,
    headers: dict[str, str],
    method: str,
    path: str,
    body: bytes,
    *,
    now: datetime | None = None,
    allow_pending: bool = False,
) -> KioskPrincipal:
    """The kiosk a signed request comes from, or KioskAuthError. One short transaction: the key looked up
    (a revocation counts at once), the nonce recorded (a replay is refused by every service process)."""
    got = {k.lower(): v for k, v in headers.items()}
    kid, ts, nonce, sig = (got.get(h.lower(), "") for h in (H_KEY, H_TIME, H_NONCE, H_SIG))
    if not (kid and ts and nonce and sig):
        raise _refuse(
            401,
            "unsigned",
            "请求未签名：请升级签到机软件，并运行 kiosk doctor 检查密钥",
            "The request is not signed by a kiosk key: update the kiosk's software and run kiosk doctor",
        )
    moment = now or utcnow()
    try:
        skew = abs(moment.timestamp() - int(ts))
    except ValueError:
        raise _refuse(
            401,
            "bad_time",
            "请求时间无效：请升级签到机软件",
            "The request's time is not a number: update the kiosk's software",
        ) from None
    if skew > WINDOW_S:
        raise _refuse(
            401,
            "stale",
            f"请求时间与服务器相差 {skew:.0f} 秒：请校准签到机的时钟",
            f"The request's time is {skew:.0f} s off the service's: set the kiosk's clock",
        )
    if not (8 <= len(nonce) <= 64):
        raise _refuse(
            401,
            "bad_nonce",
            "请求的随机数无效：请升级签到机软件",
            "The request's nonce is malformed: update the kiosk's software",
        )
    with translate_errors(str(engine.url)), write_session(engine) as s:
        row = s.exec(select(KioskKey).where(KioskKey.key_id == kid)).first()
        if row is None or not verify_signature(row.public_key, canonical(method, path, ts, nonce, body), sig):
            raise _refuse(
                401,
                "bad_signature",
                "签名无效或密钥未登记：请在签到机上运行 kiosk doctor；未登记的运行 kiosk kiosk register",
                "Bad signature or unknown key: run kiosk doctor on the kiosk; if it is not registered, "
                "run kiosk kiosk register",
            )
        if row.status == REVOKED:
            raise _refuse(403, "revoked", *REVOKED_WORDS)
        if row.status != APPROVED and not allow_pending:
            raise _refuse(
                403,
                "pending",
                "这台签到机尚未获批准：请管理员在管理程序的签到机页（F10）批准，或运行 kiosk kiosk approve",
                "This kiosk is not approved yet: the administrator approves it on Kiosks (F10) of kiosk "
                "admin, or runs kiosk kiosk approve",
            )
        conn = s.connection()
        try:
            with conn.begin_nested():
                conn.execute(
                    insert(KioskNonce.__table__),  # type: ignore[attr-defined]  # sqlmodel does not declare __table__
                    {"nonce_hash": _hash(f"{kid}:{nonce}"), "key_id": row.id, "at": moment},
                )
        except IntegrityError:
            raise _refuse(
                401,
                "replay",
                "重复的请求（随机数已用过）：签到机会自动重试；若反复出现，请运行 kiosk doctor",
                "A replayed request (nonce used before): the kiosk retries by itself; if it keeps "
                "happening, run kiosk doctor",
            ) from None
        if row.last_seen_at is None or (moment - row.last_seen_at).total_seconds() > 30:
            row.last_seen_at = moment
            s.add(row)
        return KioskPrincipal(row.id, row.kiosk_id, row.name, parse_projects(row.projects))


def purge_nonces(engine: Engine, *, now: datetime | None = None) -> int:
    cutoff = (now or utcnow()) - timedelta(seconds=2 * WINDOW_S)
    with translate_errors(str(engine.url)), engine.begin() as conn:
        t = KioskNonce.__table__  # type: ignore[attr-defined]  # sqlmodel does not declare __table__
        return int(conn.execute(delete(t).where(t.c.at < cutoff)).rowcount or 0)


def rejections(
    engine: Engine, *, unsettled_only: bool = True, settled_only: bool = False, limit: int = 200
) -> list[PushRejection]:
    """What kiosks pushed that the service refused, newest first (the administrator's list): the unsettled
    ones, the settled ones (``settled_only``) or all (``unsettled_only=False``)."""
    with translate_errors(str(engine.url)), write_session(engine) as s:
        q = select(PushRejection).order_by(col(PushRejection.at).desc()).limit(limit)
        if settled_only:
            q = q.where(col(PushRejection.settled_at).is_not(None))
        elif unsettled_only:
            q = q.where(col(PushRejection.settled_at).is_(None))
        rows = list(s.exec(q).all())
        for r in rows:
            s.expunge(r)
        return rows


def settle(
    engine: Engine, ids: list[uuid.UUID] | None, *, actor: str = "admin", at: datetime | None = None
) -> int:
    """Mark refusals as seen and dealt with (``None``: every unsettled one), each audited. Returns how many."""
    with translate_errors(str(engine.url)), write_session(engine) as s:
        q = select(PushRejection).where(col(PushRejection.settled_at).is_(None))
        if ids is not None:
            q = q.where(col(PushRejection.id).in_(ids))
        rows = list(s.exec(q).all())
        now = at or utcnow()
        for r in rows:
            r.settled_at, r.settled_by = now, actor
            s.add(r)
            _audit(s, actor, "settle", "pushrejection", r.id, f"{r.table_name} {r.reason}")
        return len(rows)
