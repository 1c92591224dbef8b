"""The keys of workers' phones (issue 27): each bound phone makes an ECDSA P-256 key pair with
WebCrypto (the private key non-extractable: the browser never hands it out) and sends the public half;
it signs the phone's own two-minute codes (store/codes/tokens.py, "device codes"), with or without a
signal.

- ``register_device_key``: the public key of a live binding (a worker's phone): a raw uncompressed
  point (65 bytes, ``04 ‖ x ‖ y``, what ``crypto.subtle.exportKey("raw")`` gives). A phone registers
  again when its browser lost the key (site data cleared): the binding's older key is revoked then, so
  one phone has one key. An officer's phone has none (his code names a project and is issued online).
- ``revoke_binding_keys``: called by store/people/phone.py whenever a binding is revoked or replaced.
- ``trusted_devices``: what a verifier trusts: the live keys of workers not deleted, the revoked ones
  as revoked (a kiosk pulls both with ``DeviceKey`` and ``Worker``).
- key id: the first 4 bytes of SHA-256 of the raw point, 8 hex digits (as for issuer keys).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlmodel import Session, col, select

from store.db.engine import session, write_session
from store.db.models import DeviceKey, Worker
from store.errors import ValidationError
from store.people.enroll import audit
from store.timeutil import as_utc, utcnow

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

ALG = "ES256"
POINT_BYTES = 65


def raw_point(key: ec.EllipticCurvePublicKey) -> bytes:
    """The raw uncompressed point of a P-256 public key (65 bytes)."""
    return key.public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)


def device_kid(raw: bytes) -> str:
    return hashlib.sha256(raw).digest()[:4].hex()


def load_point(raw: bytes) -> ec.EllipticCurvePublicKey:
    """A P-256 public key from its raw uncompressed point; ValidationError for anything else (a point
    off the curve, another curve's size, garbage)."""
    if not isinstance(raw, bytes | bytearray) or len(raw) != POINT_BYTES or raw[0] != 4:
        raise ValidationError(
            "public_key", "手机密钥格式不对", "The phone's key is not a raw P-256 public key"
        )
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), bytes(raw))
    except ValueError as exc:
        raise ValidationError(
            "public_key", "手机密钥无效", "The phone's key is not a point of P-256"
        ) from exc


def register_device_key(
    engine: Engine,
    *,
    binding_id: uuid.UUID,
    worker_id: uuid.UUID,
    public_raw: bytes,
    at: datetime | None = None,
) -> str:
    """Record the public key of this binding's phone; returns its kid. The same key again changes
    nothing; another key replaces (revokes) the binding's older one."""
    load_point(public_raw)
    kid = device_kid(bytes(public_raw))
    now = as_utc(at) if at is not None else utcnow()
    with write_session(engine) as s:
        live = s.exec(
            select(DeviceKey).where(DeviceKey.binding_id == binding_id, col(DeviceKey.revoked_at).is_(None))
        ).all()
        if any(bytes(k.public_key) == bytes(public_raw) for k in live):
            return kid
        same_kid = s.exec(
            select(DeviceKey).where(DeviceKey.worker_id == worker_id, DeviceKey.kid == kid)
        ).first()
        if same_kid is not None:  # 1 in 4 billion, or a key sent again after it was revoked
            raise ValidationError(
                "public_key",
                "手机密钥重复，请刷新页面重试",
                "This phone key was used before: reload the page",
            )
        _revoke(s, live, now, "replaced")
        row = DeviceKey(
            kid=kid, worker_id=worker_id, binding_id=binding_id, public_key=bytes(public_raw), alg=ALG
        )
        s.add(row)
        audit(s, f"worker:{worker_id}", "create", "devicekey", row.id, kid)
    return kid


def _revoke(s: Session, rows: Sequence[DeviceKey], now: datetime, why: str) -> int:
    for k in rows:
        k.revoked_at = now
        s.add(k)
        audit(s, "system", "revoke", "devicekey", k.id, why)
    return len(rows)


def revoke_binding_keys(s: Session, binding_ids: list[uuid.UUID], now: datetime, why: str) -> int:
    """Revoke the keys of these bindings, in the caller's transaction (store/people/phone.py)."""
    if not binding_ids:
        return 0
    rows = s.exec(
        select(DeviceKey).where(
            col(DeviceKey.binding_id).in_(binding_ids), col(DeviceKey.revoked_at).is_(None)
        )
    ).all()
    return _revoke(s, list(rows), now, why)


def live_kid(engine: Engine, binding_id: uuid.UUID) -> str | None:
    """The kid of this binding's live key, None when its phone has registered none."""
    with session(engine) as s:
        row = s.exec(
            select(DeviceKey.kid).where(
                DeviceKey.binding_id == binding_id, col(DeviceKey.revoked_at).is_(None)
            )
        ).first()
    return row


@dataclass(frozen=True, slots=True)
class DeviceTrust:
    """One phone key as a verifier trusts it (store/codes/tokens.py makes its TrustedDevice of it)."""

    kid: str
    worker: uuid.UUID
    public_key: ec.EllipticCurvePublicKey
    revoked_at: datetime | None


def trusted_devices(engine: Engine) -> list[DeviceTrust]:
    """Every device key of the database for a verifier: a deleted worker's keys count as revoked."""
    with session(engine) as s:
        rows = s.exec(
            select(DeviceKey, Worker.deleted_at)
            .join(Worker, col(Worker.id) == col(DeviceKey.worker_id))  # no worker row: no trust
            .where(col(DeviceKey.deleted_at).is_(None))
        ).all()
    out = []
    for k, worker_deleted in rows:
        try:
            key = load_point(bytes(k.public_key))
        except ValidationError:
            continue  # a damaged row is no trusted key
        revoked = k.revoked_at or worker_deleted
        out.append(DeviceTrust(k.kid, k.worker_id, key, as_utc(revoked) if revoked else None))
    return out
