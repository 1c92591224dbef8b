"""Issuer keys of personal codes: Ed25519 key pairs, the trust list in the database, trust files.

An issuer (the project's enrollment server, the demo) holds a private key and signs personal codes
with it; kiosks hold only public keys (the ``IssuerKey`` table, which sync brings to them, or a trust
file), so a stolen kiosk cannot mint codes.

- ``DIR/issuer.key``: the private key, PKCS#8 PEM, file mode 0600, never needed on a kiosk.
- ``DIR/issuer.pub``: the public key, SubjectPublicKeyInfo PEM (``openssl pkey -pubin`` reads it).
- ``DIR/issuer.json``: the key's scope, ``{"format": "sjm-key-scope/1", "kid", "roles": ["officer"]}``
  — the kinds of code it may sign (the private key file's name with ``.json``). Issuing a code of
  another kind is refused locally; a key folder without it (made before scopes) signs both. It is a
  guard against mistakes only: what verifiers enforce is the scope registered in the trust list
  (``IssuerKey.roles``), so editing the file on a stolen kiosk mints nothing they accept.
- key id (kid): the first 4 bytes of SHA-256 of the raw 32-byte public key, as 8 lowercase hex
  digits. Codes carry those 4 bytes (see store/codes/tokens.py for why so few), so a verifier finds the key
  without trying them all; registering a key whose id collides with another key's is refused.
- trust file (``kiosk keys export``): JSON ``{"format": "sjm-trust/1", "keys": [{kid, public_key
  (base64 of the raw 32 bytes), not_before, not_after, revoked_at, note, roles}]}``; a key without
  ``roles`` (files written before scopes) signs both kinds.

Scopes: the kiosk's officer-code screen (way A) signs the officer's code on the kiosk, so the kiosk
holds a private key; it must be registered ``officer`` only (``kiosk keys new --roles officer``,
``load_officer_key``), so a stolen kiosk cannot mint workers' codes. Workers' codes come from a key
that never leaves the issuing server.

Rotation: register the new key, give the old one a ``not_after``; codes issued under the old key
before its end still verify (until they expire). Revocation is for a leaked key: every code of a
revoked key is refused, also codes issued before the revocation.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import stat
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from store.codes.scope import ALL_ROLES, describe, parse_roles, roles_list, roles_text
from store.db.engine import private_folder, session, write_session
from store.db.models import IssuerKey
from store.errors import StoreError, ValidationError
from store.people.enroll import audit
from store.reasons import Role
from store.timeutil import as_utc, parse_instant, utcnow

PRIVATE_NAME = "issuer.key"
PUBLIC_NAME = "issuer.pub"
KID_BYTES = 4
TRUST_FORMAT = "sjm-trust/1"
SCOPE_FORMAT = "sjm-key-scope/1"


class KeyFileError(StoreError):
    """A key file is missing, unreadable or not an Ed25519 key; or a key id is unknown."""


def kid_of(public_raw: bytes) -> str:
    """The key id of a raw 32-byte Ed25519 public key: 8 lowercase hex digits."""
    return hashlib.sha256(public_raw).digest()[:KID_BYTES].hex()


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_from_bytes(data: bytes) -> Ed25519PublicKey:
    """A public key from raw 32 bytes, PEM or DER (SubjectPublicKeyInfo); KeyFileError otherwise."""
    try:
        if len(data) == 32:
            return Ed25519PublicKey.from_public_bytes(data)
        loaded = (
            serialization.load_pem_public_key(data)
            if data.lstrip().startswith(b"-----")
            else serialization.load_der_public_key(data)
        )
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise KeyFileError("不是有效的公钥文件", "Not a valid public key file") from exc
    if not isinstance(loaded, Ed25519PublicKey):
        raise KeyFileError("公钥不是 Ed25519 密钥", "The public key is not an Ed25519 key")
    return loaded


@dataclass(frozen=True)
class IssuerPrivateKey:
    """An issuer's private key and its key id. Its repr never shows the key."""

    key: Ed25519PrivateKey = field(repr=False)
    kid: str
    public_raw: bytes = field(repr=False)
    #: the kinds of code it may sign (from ``issuer.json`` beside the key file; both when there is none)
    roles: frozenset[Role] = ALL_ROLES

    @classmethod
    def from_key(cls, key: Ed25519PrivateKey, roles: frozenset[Role] = ALL_ROLES) -> IssuerPrivateKey:
        raw = raw_public(key.public_key())
        return cls(key=key, kid=kid_of(raw), public_raw=raw, roles=parse_roles(roles))

    @classmethod
    def generate(cls, roles: frozenset[Role] = ALL_ROLES) -> IssuerPrivateKey:
        return cls.from_key(Ed25519PrivateKey.generate(), roles)

    @classmethod
    def load(cls, path: str | Path) -> IssuerPrivateKey:
        path = Path(path).expanduser()
        try:
            data = path.read_bytes()
            mode = stat.S_IMODE(path.stat().st_mode)
        except OSError as exc:
            raise KeyFileError(
                f"无法读取私钥文件：{path}", f"Cannot read the private key file {path}: {exc.strerror}"
            ) from exc
        if mode & 0o077 and os.name != "nt":
            raise KeyFileError(
                f"私钥文件 {path} 的权限为 {mode:04o}，其他用户也能读取，不予使用。请运行：chmod 600 {path}"
                "（如果别人可能已经读过它，请吊销这把密钥并换一把新的）",
                f"The private key {path} has mode {mode:04o}: others can read it, so it is not used. "
                f"Run: chmod 600 {path} (if someone may have read it, revoke the key and make a new one)",
            )
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
            raise KeyFileError(
                f"不是有效的私钥文件：{path}", f"Not a valid (unencrypted PEM) private key: {path}"
            ) from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyFileError(
                f"私钥不是 Ed25519 密钥：{path}", f"The private key is not an Ed25519 key: {path}"
            )
        raw = raw_public(key.public_key())
        return cls.from_key(key, read_scope(path, kid_of(raw)) or ALL_ROLES)

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.key.public_key()

    def sign(self, data: bytes) -> bytes:
        return self.key.sign(data)

    def private_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def public_pem(self) -> bytes:
        return self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def save(self, out_dir: str | Path) -> tuple[Path, Path]:
        """Write ``issuer.key`` (mode 0600 in a 0700 folder, never overwritten), ``issuer.pub`` and ``issuer.json`` (its
        scope) into ``out_dir``."""
        out = Path(out_dir).expanduser()
        try:
            private_folder(out)
        except OSError as exc:
            raise KeyFileError(
                f"无法创建文件夹：{out}", f"Cannot create the folder {out}: {exc.strerror}"
            ) from exc
        priv, pub = out / PRIVATE_NAME, out / PUBLIC_NAME
        if priv.exists() or pub.exists() or scope_path(priv).exists():
            raise KeyFileError(
                f"{out} 中已有签发密钥，不会覆盖（请换一个文件夹）",
                f"{out} already holds an issuer key; it is never overwritten (choose another folder)",
            )
        try:
            fd = os.open(priv, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                os.fchmod(f.fileno(), 0o600)  # whatever the umask
                f.write(self.private_pem())
            pub.write_bytes(self.public_pem())
            scope_path(priv).write_text(json.dumps(self.scope_doc()) + "\n", encoding="utf-8")
        except OSError as exc:
            for made in (priv, pub, scope_path(priv)):  # none was there before: leave no half key behind
                with contextlib.suppress(OSError):
                    made.unlink(missing_ok=True)
            raise KeyFileError(
                f"无法写入密钥文件：{out}", f"Cannot write the key files in {out}: {exc.strerror}"
            ) from exc
        return priv, pub

    def scope_doc(self) -> dict[str, Any]:
        return {"format": SCOPE_FORMAT, "kid": self.kid, "roles": roles_list(self.roles)}


def scope_path(key_path: str | Path) -> Path:
    """Where the scope of a key file lives: ``DIR/issuer.key`` or ``DIR/issuer.pub`` → ``DIR/issuer.json``."""
    return Path(key_path).expanduser().with_suffix(".json")


def read_scope(key_path: str | Path, kid: str) -> frozenset[Role] | None:
    """The scope recorded beside a key file, None when there is none (a key made before scopes).

    KeyFileError when the file is unreadable, malformed, or belongs to another key."""
    path = scope_path(key_path)
    if not path.exists():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(doc, dict) or doc.get("format") != SCOPE_FORMAT:
            raise ValueError("not a key scope file")
        if str(doc.get("kid", "")).lower() != kid:
            raise KeyFileError(
                f"{path} 属于另一个密钥（不是 {kid}）", f"{path} belongs to another key (not {kid})"
            )
        return parse_roles(doc["roles"])
    except OSError as exc:
        raise KeyFileError(
            f"无法读取密钥范围文件：{path}", f"Cannot read the key scope file {path}: {exc.strerror}"
        ) from exc
    except (ValueError, KeyError, TypeError, ValidationError) as exc:
        raise KeyFileError(f"密钥范围文件有误：{path}", f"The key scope file is malformed: {path}") from exc


def load_officer_key(path: str | Path) -> IssuerPrivateKey:
    """The private key a kiosk holds for its officer-code screen (way A): it must be scoped to
    officers' codes only (``issuer.json`` beside it says ``["officer"]``), so a stolen kiosk cannot
    mint workers' codes. KeyFileError otherwise, or when the file is unreadable."""
    key = IssuerPrivateKey.load(path)
    if key.roles != frozenset({Role.OFFICER}):
        zh, en = describe(key.roles)
        where = scope_path(path)
        raise KeyFileError(
            f"签到终端只能持有仅限签到员码的密钥；{path} 可签发：{zh}（见 {where}；用 kiosk keys new --roles officer 生成）",
            f"A kiosk may hold only an officer-only key; {path} may sign: {en} "
            f"(see {where}; make one with `kiosk keys new --roles officer`)",
        )
    return key


def new_key_pair(out_dir: Path, roles: frozenset[Role] = ALL_ROLES) -> tuple[IssuerPrivateKey, Path, Path]:
    """A fresh key pair saved as ``out_dir/issuer.key`` (0600), ``out_dir/issuer.pub`` and its scope
    ``out_dir/issuer.json``."""
    key = IssuerPrivateKey.generate(roles)
    priv, pub = key.save(out_dir)
    return key, priv, pub


def _read_public(pub_path_or_bytes: str | Path | bytes) -> bytes:
    if isinstance(pub_path_or_bytes, bytes):
        return raw_public(public_key_from_bytes(pub_path_or_bytes))
    path = Path(pub_path_or_bytes).expanduser()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KeyFileError(
            f"无法读取公钥文件：{path}", f"Cannot read the public key file {path}: {exc.strerror}"
        ) from exc
    return raw_public(public_key_from_bytes(data))


def register_public_key(
    engine: Engine,
    pub_path_or_bytes: str | Path | bytes,
    *,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    note: str | None = None,
    roles: str | frozenset[Role] | None = None,
    actor: str = "system",
) -> IssuerKey:
    """Add a public key to the trust list (valid from ``not_before``, default now), allowed to sign
    the codes of ``roles`` (default: both, for a new key).

    Registering a key already there changes only the validity, note and roles given; a revoked key
    stays revoked (KeyFileError): revocation cannot be undone.
    """
    scope = roles_text(parse_roles(roles)) if roles is not None else None
    raw = _read_public(pub_path_or_bytes)
    kid = kid_of(raw)
    nb = as_utc(not_before) if not_before else None
    na = as_utc(not_after) if not_after else None
    if nb and na and na < nb:
        raise KeyFileError("密钥有效期的结束早于开始", "The key's not_after is before its not_before")
    with write_session(engine) as s:
        row = s.exec(select(IssuerKey).where(IssuerKey.kid == kid)).first()
        if row is not None and bytes(row.public_key) != raw:
            raise KeyFileError(
                f"密钥编号 {kid} 已被另一个密钥占用，请重新生成密钥",
                f"Key id {kid} is taken by another key: make a new key",
            )
        if row is not None and row.revoked_at is not None:
            raise KeyFileError(
                f"密钥 {kid} 已吊销，不能重新登记", f"Key {kid} is revoked and cannot be registered again"
            )
        if row is None:
            row = IssuerKey(
                kid=kid,
                public_key=raw,
                not_before=nb or utcnow(),
                not_after=na,
                note=note,
                roles=scope or roles_text(ALL_ROLES),
            )
            s.add(row)
            audit(s, actor, "create", "issuerkey", row.id, kid)
        else:
            if nb:
                row.not_before = nb
            if na:
                row.not_after = na
            if note:
                row.note = note
            if scope:
                row.roles = scope
            row.deleted_at = None
            s.add(row)
            audit(s, actor, "update", "issuerkey", row.id, kid)
        s.flush()
        s.refresh(row)
        return row


def revoke_key(engine: Engine, kid: str, *, at: datetime | None = None, actor: str = "system") -> None:
    """Revoke a key: every code it signed is refused from now on. Revoking twice changes nothing."""
    kid = kid.strip().lower()
    with write_session(engine) as s:
        row = s.exec(select(IssuerKey).where(IssuerKey.kid == kid)).first()
        if row is None:
            raise KeyFileError(f"信任列表中没有密钥 {kid}", f"No key {kid} in the trust list")
        if row.revoked_at is not None:
            return
        row.revoked_at = as_utc(at) if at else utcnow()
        s.add(row)
        audit(s, actor, "revoke", "issuerkey", row.id, kid)


def list_keys(engine: Engine) -> list[IssuerKey]:
    """Every key of the trust list (tombstoned ones left out), oldest first."""
    with session(engine) as s:
        rows = s.exec(select(IssuerKey).where(col(IssuerKey.deleted_at).is_(None))).all()
    return sorted(rows, key=lambda r: (r.not_before, r.kid))


def key_record(row: IssuerKey) -> dict[str, Any]:
    """One key as it appears in a trust file and in ``kiosk keys list --json``."""
    return {
        "kid": row.kid,
        "public_key": base64.b64encode(row.public_key).decode("ascii"),
        "not_before": row.not_before.isoformat(),
        "not_after": row.not_after.isoformat() if row.not_after else None,
        "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None,
        "note": row.note,
        "roles": roles_list(parse_roles(row.roles)),
    }


def export_trust(engine: Engine) -> dict[str, Any]:
    """The trust list as a JSON-ready object (public keys only)."""
    return {"format": TRUST_FORMAT, "keys": [key_record(r) for r in list_keys(engine)]}


def write_trust_file(engine: Engine, path: str | Path) -> int:
    """Write the trust file; returns how many keys it holds."""
    doc = export_trust(engine)
    path = Path(path).expanduser()
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        raise KeyFileError(
            f"无法写入信任文件：{path}", f"Cannot write the trust file {path}: {exc.strerror}"
        ) from exc
    return len(doc["keys"])


@dataclass(frozen=True)
class TrustRecord:
    """One key of a trust file, checked."""

    kid: str
    public_raw: bytes
    not_before: datetime
    not_after: datetime | None
    revoked_at: datetime | None
    note: str | None = None
    roles: frozenset[Role] = ALL_ROLES


def read_trust_file(path: str | Path) -> list[TrustRecord]:
    """The keys of a trust file; KeyFileError names what is wrong (nothing is half-read)."""
    path = Path(path).expanduser()
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise KeyFileError(
            f"无法读取信任文件：{path}", f"Cannot read the trust file {path}: {exc.strerror}"
        ) from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise KeyFileError(f"信任文件不是 JSON：{path}", f"The trust file is not JSON: {path}") from exc
    return parse_trust_doc(doc, str(path))


def parse_trust_doc(doc: Any, where: str = "trust file") -> list[TrustRecord]:
    if (
        not isinstance(doc, dict)
        or doc.get("format") != TRUST_FORMAT
        or not isinstance(doc.get("keys"), list)
    ):
        raise KeyFileError(
            f"不是信任文件（{TRUST_FORMAT}）：{where}", f"Not a trust file ({TRUST_FORMAT}): {where}"
        )
    out: list[TrustRecord] = []
    for i, k in enumerate(doc["keys"]):
        try:
            raw = base64.b64decode(k["public_key"], validate=True)
            if len(raw) != 32:
                raise ValueError("public key is not 32 bytes")
            kid = kid_of(raw)
            if str(k.get("kid", kid)).lower() != kid:
                raise ValueError("kid does not match the public key")
            out.append(
                TrustRecord(
                    kid=kid,
                    public_raw=raw,
                    not_before=parse_instant(k["not_before"]),
                    not_after=parse_instant(k["not_after"]) if k.get("not_after") else None,
                    revoked_at=parse_instant(k["revoked_at"]) if k.get("revoked_at") else None,
                    note=k.get("note"),
                    roles=parse_roles(k.get("roles")),  # absent (older files): both
                )
            )
        except (KeyError, TypeError, ValueError, AttributeError, ValidationError) as exc:
            raise KeyFileError(
                f"信任文件第 {i + 1} 个密钥有误：{where}",
                f"Key #{i + 1} of the trust file is malformed ({exc}): {where}",
            ) from exc
    return out


def import_trust_file(engine: Engine, path: str | Path, *, actor: str = "system") -> int:
    """Merge a trust file into the IssuerKey table: new keys are added, revocations and narrower
    scopes carried over (a file never widens a key's scope)."""
    records = read_trust_file(path)
    with write_session(engine) as s:
        for r in records:
            row = s.exec(select(IssuerKey).where(IssuerKey.kid == r.kid)).first()
            if row is None:
                # Field by field from the key record into its database row (the same fields as in tokens.py by nature).
                row = IssuerKey(
                    id=uuid.uuid4(),
                    kid=r.kid,
                    public_key=r.public_raw,
                    not_before=r.not_before,
                    not_after=r.not_after,
                    revoked_at=r.revoked_at,
                    note=r.note,
                    roles=roles_text(r.roles),
                )
                s.add(row)
                audit(s, actor, "import", "issuerkey", row.id, r.kid)
                continue
            if r.revoked_at is not None and row.revoked_at is None:
                row.revoked_at = r.revoked_at
                s.add(row)
                audit(s, actor, "revoke", "issuerkey", row.id, r.kid)
            try:
                held = parse_roles(row.roles)
            except ValidationError:
                held = ALL_ROLES
            if r.roles < held:
                row.roles = roles_text(r.roles)
                s.add(row)
                audit(s, actor, "scope", "issuerkey", row.id, r.kid)
    return len(records)
