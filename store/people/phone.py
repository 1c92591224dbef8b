"""Binding a phone to a person, with no passwords (kiosk serve).

An administrator makes a one-time **activation link** for a worker or an officer (``create_link``;
``kiosk phone link``, the ``l`` key of the admin's workers and officers screens). Opening it on the
phone and confirming (``activate``) binds that browser: it gets a long random **device credential**
(the service puts it in an HttpOnly, SameSite=Strict cookie) and the database keeps only its SHA-256
(``PhoneBinding.device_hash``). Every later request names the person by that credential
(``device``), so a phone can only ever see and act as the person it is bound to.

- A link is good once, for ``ttl_s`` (24 h by default); a newer link for the same person revokes the
  older unused ones; a used, expired or revoked link is refused with its reason (``LinkError``).
- A new binding replaces the person's old one (the old phone is revoked at once).
- ``list_bindings`` / ``revoke_binding`` / ``revoke_person`` for the administrator.
- ``claim_nonce`` is the replay guard of the phone's sign-in requests (one row per nonce, so two
  server processes agree).
- Every link, binding and revocation is audited (ids only). Secrets never leave this module except as
  the return value of ``create_link`` / ``activate``; nothing here logs.

These tables are shared-database only and take no revision: sync never pulls them, and a phone
fetching its code does not wake every kiosk.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import cast

from sqlalchemy import ColumnElement
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from store.codes.devices import revoke_binding_keys
from store.db.engine import session, translate_errors, write_session
from store.db.models import Officer, PhoneActivation, PhoneBinding, PhoneRequest, Worker
from store.errors import StoreError, ValidationError
from store.people.enroll import audit
from store.timeutil import as_utc, utcnow

DEFAULT_LINK_TTL_S = 24 * 3600
#: how often a binding's ``last_seen_at`` is written (not on every request)
SEEN_EVERY = timedelta(hours=1)
TOKEN_BYTES = 24  # 192 bits in the link (32 URL-safe characters)
DEVICE_BYTES = 32  # 256 bits in the cookie


# A StrEnum like reasons.Reason: its own values.
class Kind(StrEnum):
    WORKER = "worker"
    OFFICER = "officer"


class LinkState(StrEnum):
    VALID = "valid"
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"
    REVOKED = "revoked"


LINK_MESSAGES: dict[LinkState, tuple[str, str]] = {
    LinkState.UNKNOWN: (
        "激活链接无效，请向管理员索取新的链接",
        "This activation link is not valid: ask the administrator for a new one",
    ),
    LinkState.USED: (
        "激活链接已使用过，每个链接只能用一次。请向管理员索取新的链接",
        "This activation link was already used (each link works once): ask the administrator for a new one",
    ),
    LinkState.EXPIRED: (
        "激活链接已过期，请向管理员索取新的链接",
        "This activation link has expired: ask the administrator for a new one",
    ),
    LinkState.REVOKED: (
        "激活链接已作废（已有更新的链接），请使用最新的链接",
        "This activation link was revoked (a newer one was made): use the newest link",
    ),
}


class LinkError(StoreError):
    """An activation link that cannot bind a phone; ``state`` says why."""

    def __init__(self, state: LinkState) -> None:
        zh, en = LINK_MESSAGES[state]
        super().__init__(zh, en)
        self.state = state


def secret_hash(secret: str) -> str:
    """The SHA-256 (hex) kept in place of a link's or a device's secret."""
    return hashlib.sha256(secret.encode("utf-8", "replace")).hexdigest()


@dataclass(frozen=True, slots=True)
class Link:
    """A fresh activation link: ``token`` goes into the URL and is never stored."""

    token: str
    activation_id: uuid.UUID
    kind: Kind
    subject_id: uuid.UUID
    name: str
    expires_at: datetime

    def url(self, base_url: str) -> str:
        return f"{base_url.rstrip('/')}/a/{self.token}"


@dataclass(frozen=True, slots=True)
class Device:
    """Who a bound phone is."""

    binding_id: uuid.UUID
    kind: Kind
    subject_id: uuid.UUID

    @property
    def worker_id(self) -> uuid.UUID | None:
        return self.subject_id if self.kind is Kind.WORKER else None

    @property
    def officer_id(self) -> uuid.UUID | None:
        return self.subject_id if self.kind is Kind.OFFICER else None


@dataclass(frozen=True, slots=True)
class LinkInfo:
    """What the activation page shows before the person confirms."""

    state: LinkState
    kind: Kind | None = None
    name: str | None = None
    expires_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class BindingRow:
    id: uuid.UUID
    kind: Kind
    subject_id: uuid.UUID
    name: str
    created_at: datetime
    last_seen_at: datetime | None
    revoked_at: datetime | None
    revoked_by: str | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


def _subject(worker_id: uuid.UUID | None, officer_id: uuid.UUID | None) -> tuple[Kind, uuid.UUID]:
    if (worker_id is None) == (officer_id is None):
        raise ValidationError(
            "subject", "请指定一名工人或一名签到员", "Name exactly one worker or one officer"
        )
    return (Kind.WORKER, worker_id) if worker_id is not None else (Kind.OFFICER, cast(uuid.UUID, officer_id))


def _person_filter(
    model: type[PhoneActivation] | type[PhoneBinding], kind: Kind, subject: uuid.UUID
) -> ColumnElement[bool]:
    return col(model.worker_id) == subject if kind is Kind.WORKER else col(model.officer_id) == subject


def create_link(
    engine: Engine,
    *,
    worker_id: uuid.UUID | None = None,
    officer_id: uuid.UUID | None = None,
    ttl_s: int = DEFAULT_LINK_TTL_S,
    actor: str = "system",
    at: datetime | None = None,
    token: str | None = None,
) -> Link:
    """A one-time activation link for the worker or the officer; older unused links of his are revoked.
    ``token``: a secret made beforehand with ``new_link_token`` (the demo prints its link before its
    store exists); by default a fresh one."""
    kind, subject = _subject(worker_id, officer_id)
    if not 60 <= int(ttl_s) <= 30 * 24 * 3600:
        raise ValidationError(
            "ttl", "链接有效期须在 1 分钟到 30 天之间", "A link lives between one minute and 30 days"
        )
    now = as_utc(at) if at is not None else utcnow()
    if token is not None and not _plausible(token, TOKEN_BYTES):
        raise ValueError("not a link token made by new_link_token")
    token = token or new_link_token()
    with translate_errors(str(engine.url)), write_session(engine) as s:
        row = s.get(Worker if kind is Kind.WORKER else Officer, subject)
        if row is None or row.deleted_at is not None:
            who = ("工人", "worker") if kind is Kind.WORKER else ("签到员", "officer")
            raise ValidationError("subject", f"找不到该{who[0]}：{subject}", f"No such {who[1]}: {subject}")
        older = s.exec(
            select(PhoneActivation).where(
                _person_filter(PhoneActivation, kind, subject),
                col(PhoneActivation.used_at).is_(None),
                col(PhoneActivation.revoked_at).is_(None),
            )
        ).all()
        for old in older:
            old.revoked_at = now
            s.add(old)
        act = PhoneActivation(
            token_hash=secret_hash(token),
            worker_id=worker_id,
            officer_id=officer_id,
            created_at=now,
            expires_at=now + timedelta(seconds=int(ttl_s)),
            created_by=actor,
        )
        s.add(act)
        audit(s, actor, "create", "phoneactivation", act.id, f"{kind.value}:{subject}")
        name = str(getattr(row, "name", ""))
    return Link(token, act.id, kind, subject, name, act.expires_at)


def new_link_token() -> str:
    """A fresh link secret (192 bits, URL-safe)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def _link_state(act: PhoneActivation | None, now: datetime) -> LinkState:
    if act is None:
        return LinkState.UNKNOWN
    if act.used_at is not None:
        return LinkState.USED
    if act.revoked_at is not None:
        return LinkState.REVOKED
    if as_utc(act.expires_at) <= now:
        return LinkState.EXPIRED
    return LinkState.VALID


def _plausible(secret: str, n_bytes: int) -> bool:
    return isinstance(secret, str) and 16 <= len(secret) <= 2 * n_bytes and secret.isascii()


def peek_link(engine: Engine, token: str, *, at: datetime | None = None) -> LinkInfo:
    """The state of a link (and whose it is, when valid), changing nothing."""
    if not _plausible(token, TOKEN_BYTES):
        return LinkInfo(LinkState.UNKNOWN)
    now = as_utc(at) if at is not None else utcnow()
    with translate_errors(str(engine.url)), session(engine) as s:
        act = s.exec(select(PhoneActivation).where(PhoneActivation.token_hash == secret_hash(token))).first()
        state = _link_state(act, now)
        if state is not LinkState.VALID or act is None:
            return LinkInfo(state)
        kind, subject = _subject(act.worker_id, act.officer_id)
        row = s.get(Worker if kind is Kind.WORKER else Officer, subject)
        return LinkInfo(state, kind, getattr(row, "name", None), act.expires_at)


def link_binding(engine: Engine, token: str) -> uuid.UUID | None:
    """The binding a used link made (None for a link never used, or no such link): a phone that opens
    its own link again is already bound and goes home (issue 27)."""
    if not _plausible(token, TOKEN_BYTES):
        return None
    with translate_errors(str(engine.url)), session(engine) as s:
        act = s.exec(select(PhoneActivation).where(PhoneActivation.token_hash == secret_hash(token))).first()
        return act.binding_id if act is not None and act.used_at is not None else None


def activate(engine: Engine, token: str, *, at: datetime | None = None) -> tuple[str, Device]:
    """Use a link: bind a new device, revoke the person's old binding. Returns the device credential
    (for the cookie; never stored) and the device. LinkError when the link cannot be used."""
    if not _plausible(token, TOKEN_BYTES):
        raise LinkError(LinkState.UNKNOWN)
    now = as_utc(at) if at is not None else utcnow()
    secret = secrets.token_urlsafe(DEVICE_BYTES)
    with translate_errors(str(engine.url)), write_session(engine) as s:
        stmt = select(PhoneActivation).where(PhoneActivation.token_hash == secret_hash(token))
        if engine.dialect.name == "postgresql":
            stmt = stmt.with_for_update()  # two taps on the same link: the second waits, then sees it used
        act = s.exec(stmt).first()
        state = _link_state(act, now)
        if state is not LinkState.VALID or act is None:
            raise LinkError(state)
        kind, subject = _subject(act.worker_id, act.officer_id)
        for old in s.exec(
            select(PhoneBinding).where(
                _person_filter(PhoneBinding, kind, subject), col(PhoneBinding.revoked_at).is_(None)
            )
        ).all():
            old.revoked_at, old.revoked_by = now, "replaced"
            s.add(old)
            audit(s, "system", "revoke", "phonebinding", old.id, "replaced by a new binding")
            revoke_binding_keys(s, [old.id], now, "binding replaced")
        binding = PhoneBinding(
            device_hash=secret_hash(secret),
            worker_id=act.worker_id,
            officer_id=act.officer_id,
            activation_id=act.id,
            created_at=now,
            last_seen_at=now,
        )
        s.add(binding)
        act.used_at, act.binding_id = now, binding.id
        s.add(act)
        audit(s, f"{kind.value}:{subject}", "bind", "phonebinding", binding.id, f"activation {act.id}")
    return secret, Device(binding.id, kind, subject)


class DeviceState(StrEnum):
    OK = "ok"
    UNKNOWN = "unknown"
    REVOKED = "revoked"


def device(
    engine: Engine, secret: str | None, *, at: datetime | None = None
) -> tuple[DeviceState, Device | None]:
    """Who the phone with this credential is: one indexed read of four columns (every request of the
    phone service asks it); ``last_seen_at`` is written at most hourly."""
    if not secret or not _plausible(secret, DEVICE_BYTES):
        return DeviceState.UNKNOWN, None
    now = as_utc(at) if at is not None else utcnow()
    t = PhoneBinding.__table__  # type: ignore[attr-defined]  # sqlmodel does not declare __table__
    from sqlalchemy import select as core_select

    stmt = core_select(t.c.id, t.c.worker_id, t.c.officer_id, t.c.revoked_at, t.c.last_seen_at).where(
        t.c.device_hash == secret_hash(secret)
    )
    with translate_errors(str(engine.url)), engine.connect() as conn:
        row = conn.execute(stmt).first()
        if row is None:
            return DeviceState.UNKNOWN, None
        if row.revoked_at is not None:
            return DeviceState.REVOKED, None
        kind, subject = _subject(row.worker_id, row.officer_id)
        if row.last_seen_at is None or now - as_utc(row.last_seen_at) > SEEN_EVERY:
            conn.execute(t.update().where(t.c.id == row.id).values(last_seen_at=now))
            conn.commit()
        return DeviceState.OK, Device(row.id, kind, subject)


def list_bindings(
    engine: Engine,
    *,
    worker_id: uuid.UUID | None = None,
    officer_id: uuid.UUID | None = None,
    active_only: bool = False,
    limit: int = 500,
) -> list[BindingRow]:
    """Bindings, newest first: of one person, or of everyone."""
    stmt = select(PhoneBinding).order_by(col(PhoneBinding.created_at).desc()).limit(limit)
    if worker_id is not None or officer_id is not None:
        kind, subject = _subject(worker_id, officer_id)
        stmt = stmt.where(_person_filter(PhoneBinding, kind, subject))
    if active_only:
        stmt = stmt.where(col(PhoneBinding.revoked_at).is_(None))
    with translate_errors(str(engine.url)), session(engine) as s:
        rows = list(s.exec(stmt).all())
        wids = {r.worker_id for r in rows if r.worker_id}
        oids = {r.officer_id for r in rows if r.officer_id}
        names: dict[uuid.UUID, str] = {}
        if wids:
            names.update(dict(s.exec(select(Worker.id, Worker.name).where(col(Worker.id).in_(wids))).all()))
        if oids:
            names.update(
                dict(s.exec(select(Officer.id, Officer.name).where(col(Officer.id).in_(oids))).all())
            )
        out = []
        for r in rows:
            kind, subject = _subject(r.worker_id, r.officer_id)
            out.append(
                BindingRow(
                    r.id,
                    kind,
                    subject,
                    names.get(subject, "?"),
                    r.created_at,
                    r.last_seen_at,
                    r.revoked_at,
                    r.revoked_by,
                )
            )
        return out


def revoke_binding(
    engine: Engine, binding_id: uuid.UUID, *, actor: str = "system", at: datetime | None = None
) -> bool:
    """Revoke one binding (the phone is signed out at its next request). False when already revoked."""
    now = as_utc(at) if at is not None else utcnow()
    with translate_errors(str(engine.url)), write_session(engine) as s:
        b = s.get(PhoneBinding, binding_id)
        if b is None:
            raise ValidationError(
                "binding", f"找不到该手机绑定：{binding_id}", f"No such phone binding: {binding_id}"
            )
        if b.revoked_at is not None:
            return False
        b.revoked_at, b.revoked_by = now, actor
        s.add(b)
        audit(s, actor, "revoke", "phonebinding", b.id)
        revoke_binding_keys(s, [b.id], now, "binding revoked")
        return True


def revoke_person(
    engine: Engine,
    *,
    worker_id: uuid.UUID | None = None,
    officer_id: uuid.UUID | None = None,
    actor: str = "system",
    at: datetime | None = None,
) -> int:
    """Revoke the person's live binding and unused links; how many bindings were revoked."""
    kind, subject = _subject(worker_id, officer_id)
    now = as_utc(at) if at is not None else utcnow()
    with translate_errors(str(engine.url)), write_session(engine) as s:
        n = 0
        for b in s.exec(
            select(PhoneBinding).where(
                _person_filter(PhoneBinding, kind, subject), col(PhoneBinding.revoked_at).is_(None)
            )
        ).all():
            b.revoked_at, b.revoked_by = now, actor
            s.add(b)
            audit(s, actor, "revoke", "phonebinding", b.id)
            revoke_binding_keys(s, [b.id], now, "binding revoked")
            n += 1
        for a in s.exec(
            select(PhoneActivation).where(
                _person_filter(PhoneActivation, kind, subject),
                col(PhoneActivation.used_at).is_(None),
                col(PhoneActivation.revoked_at).is_(None),
            )
        ).all():
            a.revoked_at = now
            s.add(a)
            audit(s, actor, "revoke", "phoneactivation", a.id)
        return n


def claim_nonce(engine: Engine, binding_id: uuid.UUID, nonce: str, *, at: datetime | None = None) -> bool:
    """Record a request's one-time nonce; False when it was seen before (a replayed request).

    On PostgreSQL the insert commits without waiting for the disk (``synchronous_commit = off`` for this
    transaction only): a nonce lost in a crash weakens nothing that matters — the sign-in it guarded is
    its own durable transaction, and a replay of it is an ``already`` with no second record."""
    now = as_utc(at) if at is not None else utcnow()
    try:
        with translate_errors(str(engine.url)), engine.connect() as conn:
            if engine.dialect.name == "postgresql":
                conn.exec_driver_sql("SET LOCAL synchronous_commit = off")
            conn.execute(
                PhoneRequest.__table__.insert().values(  # type: ignore[attr-defined]  # sqlmodel does not declare __table__
                    nonce_hash=secret_hash(f"{binding_id}:{nonce}"), binding_id=binding_id, at=now
                )
            )
            conn.commit()
    except IntegrityError:
        return False
    return True


def purge_nonces(
    engine: Engine, *, older_than: timedelta = timedelta(days=2), at: datetime | None = None
) -> int:
    """Forget nonces older than any code could be (replays of them fail on the expired code anyway)."""
    from sqlmodel import delete

    now = as_utc(at) if at is not None else utcnow()
    with translate_errors(str(engine.url)), write_session(engine) as s:
        res = s.exec(delete(PhoneRequest).where(col(PhoneRequest.at) < now - older_than))
        return int(res.rowcount or 0)


# --- what the phone's pages read ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Person:
    kind: Kind
    id: uuid.UUID
    name: str
    id_masked: str | None  # a worker's masked ID number; None for an officer


def person(engine: Engine, dev: Device) -> Person | None:
    """The bound person's name (and a worker's masked ID number); None when deleted since."""
    with translate_errors(str(engine.url)), session(engine) as s:
        if dev.kind is Kind.WORKER:
            w = s.get(Worker, dev.subject_id)
            return (
                None
                if w is None or w.deleted_at is not None
                else Person(dev.kind, w.id, w.name, w.id_number_masked)
            )
        o = s.get(Officer, dev.subject_id)
        return None if o is None or o.deleted_at is not None else Person(dev.kind, o.id, o.name, None)
