"""Personal construction codes (个人建设码): signed two-minute tokens, issued and verified offline.

The token
---------
``SJM1:`` followed by the RFC 4648 base32 of ``payload || signature`` without ``=`` padding:

=========  =====  ==============================================================================
field      bytes  meaning
=========  =====  ==============================================================================
version    1      1 (also in the prefix, ``SJM1``); a new layout gets a new number in both
flags      1      bits 0-1 role (0 worker, 1 officer), bit 2 "names a project", bit 3 "signed by the
                 worker's own phone" (a device code, below); the rest zero
subject    16     the worker's or officer's UUID
project    16     only when flag bit 2 is set: the project of an officer's code for way A
issued_at  4      seconds since 1970-01-01 UTC, unsigned big-endian
validity   2      seconds (120 by default; 1 … 65 535)
kid        4      the issuer key id (first 4 bytes of SHA-256 of its raw public key; 8 hex digits);
                 of a device code, the phone's key id (the same hash of its raw 65-byte P-256 point)
signature  64     Ed25519 over ``b"sjm-personal-code\\0" + payload`` (everything above); of a device
                 code, ECDSA P-256 / SHA-256 over the same bytes, as WebCrypto gives it (r ‖ s)
=========  =====  ==============================================================================

A worker's code is 92 bytes → 148 base32 characters + 5 = **153 characters**; an officer's code that
names a project is 108 bytes → **178 characters**. Every character is in the QR alphanumeric set
(``A–Z 0–9 :``; base32 needs no lowercase and we drop its ``=`` padding), so ``qrcode`` encodes the
whole token in alphanumeric mode (5.5 bits a character, against 8 in byte mode): a worker's code is
**QR version 6 at error correction M** (41×41 modules; capacity 154 alphanumeric characters), an
officer's code for way A **version 7-M** (45×45; capacity 178). In byte mode they would need versions
8 and 9; base64 would force byte mode. The fields are sized for that: a 16-bit validity (codes live
minutes) and a 32-bit key id (a trust list holds a handful of keys; registering a key whose id
collides with another key's is refused). M repairs 15 % damage (glare, a cracked phone screen), and
versions 6–7 are what a webcam reads at arm's length off a phone screen.

Device codes (issue 27): a worker's phone makes a non-extractable ECDSA P-256 key pair with WebCrypto
when it is bound, and the service records its public key (``DeviceKey``, store/codes/devices.py), which
kiosks pull like issuer keys. The phone then signs its own code, with or without a signal: the same
92 bytes (QR 6-M, the same decoder chain), flag bit 3 set, ``kid`` the phone's key. Its window is
fixed: ``issued_at`` is a multiple of ``DEVICE_WINDOW_S`` (120 s) and ``validity`` exactly that, so a
screenshot is good for its own two minutes only (plus the skew). Nobody can mint a future code off the
phone: the private key cannot be exported from the browser, the page signs only the window its clock
is in, and a kiosk refuses a window starting beyond its own clock + skew (``CODE_NOT_YET_VALID``). The
verifier finds the key by (worker, kid), so two phones of different workers whose ids collide never
vouch for each other; a revoked phone or a deleted worker is ``CODE_KEY_REVOKED``.

Parsing is strict and canonical: one exact length per kind, only the base32 alphabet, the unused low
bits of the last character zero, so any change of a character changes the signed bytes or is refused
outright. Anything else — empty, binary, huge, a URL, another system's QR — is ``CodeError``
(``CODE_INVALID``), never another exception.

Verification (``Verifier.verify``) checks, in this order: well-formed token; known key id
(``CODE_UNKNOWN_KEY``); genuine signature (``CODE_INVALID``); key not revoked (``CODE_KEY_REVOKED``,
also for codes issued before the revocation); key valid at issue time — issued before its
``not_before`` is ``CODE_UNKNOWN_KEY``, after its ``not_after`` (a retired key) ``CODE_KEY_REVOKED``;
the key's scope allows the code's role (``CODE_KEY_SCOPE``: an officer-only key, the one a kiosk holds
for its officer-code screen, never vouches for a worker); expected role (``CODE_WRONG_ROLE``); not from the future beyond the skew (``CODE_NOT_YET_VALID``);
not past issued-at + validity + skew (``CODE_EXPIRED``). Public key objects are loaded once per key
and a token whose signature was checked is remembered (the camera sees the same code in many frames),
so repeated verifications cost only the clock checks.
"""

from __future__ import annotations

import base64
import re
import struct
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from store.codes.scope import ALL_ROLES, parse_roles
from store.errors import StoreError, ValidationError
from store.reasons import Reason, Role
from store.timeutil import as_utc, utcnow

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from store.codes.keys import IssuerPrivateKey

VERSION = 1
PREFIX = f"SJM{VERSION}:"
SIGNING_CONTEXT = b"sjm-personal-code\x00"
DEFAULT_VALIDITY_S = 120
MAX_VALIDITY_S = 65_535
KID_BYTES = 4
SIG_BYTES = 64
#: the QR symbols tokens fit, at error correction M, in alphanumeric mode (see the module doc)
QR_VERSION_WORKER = 6
QR_VERSION_WITH_PROJECT = 7
QR_ERROR_CORRECTION = "M"

_ROLE_BITS: dict[Role, int] = {Role.WORKER: 0, Role.OFFICER: 1}
_ROLE_OF_BITS = {v: k for k, v in _ROLE_BITS.items()}
_HAS_PROJECT = 0b100
_DEVICE = 0b1000
#: a device code's window: it starts at a multiple of this many seconds and lasts exactly that long
DEVICE_WINDOW_S = 120
_HEAD = struct.Struct(">BB16s")
_TAIL = struct.Struct(">IH4s")


def _chars(n_bytes: int) -> int:
    return (n_bytes * 8 + 4) // 5


_RAW_WORKER = _HEAD.size + _TAIL.size + SIG_BYTES  # 92
_RAW_PROJECT = _RAW_WORKER + 16  # 108
_BODY_CHARS = {_chars(_RAW_WORKER): _RAW_WORKER, _chars(_RAW_PROJECT): _RAW_PROJECT}
#: token lengths: a code without a project (every worker's) and one naming a project (an officer's)
TOKEN_CHARS = len(PREFIX) + _chars(_RAW_WORKER)
TOKEN_CHARS_WITH_PROJECT = len(PREFIX) + _chars(_RAW_PROJECT)
_MAX_INPUT = 4 * TOKEN_CHARS_WITH_PROJECT  # anything longer is refused before any work
_BASE32 = re.compile(r"[A-Z2-7]+")
_TO_INT_DIGITS = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", "0123456789abcdefghijklmnopqrstuv")


class CodeError(StoreError):
    """Why a code was refused; ``reason`` is one of the CODE_* reasons. The only error parsing and
    verification raise."""

    def __init__(self, reason: Reason, detail: str = "", *, subject: uuid.UUID | None = None) -> None:
        super().__init__(reason.zh, reason.en)
        self.reason = reason
        self.detail = detail  # for developers; never holds the token
        #: the worker a genuine code names, when its signature held but it is refused for its time
        #: (CODE_EXPIRED): the officer can be told whose code it is; None for anything not proven
        self.subject = subject

    def __repr__(self) -> str:
        return f"CodeError({self.reason.value}{', ' + repr(self.detail) if self.detail else ''})"


@dataclass(frozen=True)
class ParsedCode:
    """A well-formed token, not yet verified."""

    version: int
    role: Role
    subject: uuid.UUID
    project: uuid.UUID | None
    issued_at: datetime
    validity_s: int
    kid: str
    payload: bytes = field(repr=False)
    signature: bytes = field(repr=False)
    token: str = field(repr=False)
    #: signed by the worker's own phone (its DeviceKey), not by an issuer
    device: bool = False

    @property
    def expires_at(self) -> datetime:
        return datetime.fromtimestamp(self.issued_ts + self.validity_s, UTC)

    @property
    def issued_ts(self) -> int:
        return int(self.issued_at.timestamp())


@dataclass(frozen=True)
class CodeIdentity:
    """A verified code: whose it is, when it was issued and until when it is good, by which key."""

    role: Role
    subject: uuid.UUID
    project: uuid.UUID | None
    issued_at: datetime
    expires_at: datetime
    kid: str
    token: str = field(repr=False)  # never logged; attempts keep its SHA-256 only
    #: signed by the worker's own phone (``kid`` is the phone's key), not by an issuer
    device: bool = False

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "role": self.role.value,
            "subject": str(self.subject),
            "issued_at": self.issued_at.isoformat(),
            "expires_at": self.expires_at.isoformat(),
            "kid": self.kid,
        }
        if self.device:
            out["signed_by"] = "device"  # the worker's phone's key (``kid``), not an issuer's
        if self.project is not None:
            out["project"] = str(self.project)
        return out


# --- issuing ----------------------------------------------------------------------------------------


def issue_code(
    key: IssuerPrivateKey,
    *,
    role: Role,
    subject: uuid.UUID,
    project: uuid.UUID | None = None,
    at: datetime | None = None,
    validity_s: int = DEFAULT_VALIDITY_S,
) -> str:
    """A signed token. ``at`` (default now) is kept to the second; a worker's code names no project.

    Raises ValueError for arguments no code can carry (they are the caller's mistake, not a refusal),
    CodeError(CODE_KEY_SCOPE) when the key's scope (``key.roles``) does not include ``role``.
    """
    role = Role(role)
    if role not in key.roles:
        raise CodeError(Reason.CODE_KEY_SCOPE, f"key {key.kid} may not sign {role.value} codes")
    if role is Role.WORKER and project is not None:
        raise ValueError("a worker's code names no project")
    if not 1 <= int(validity_s) <= MAX_VALIDITY_S:
        raise ValueError(f"validity must be 1 … {MAX_VALIDITY_S} seconds")
    ts = int(as_utc(at).timestamp()) if at is not None else int(utcnow().timestamp())
    if not 0 <= ts < 2**32:
        raise ValueError("issue time out of range (1970 … 2106)")
    kid = bytes.fromhex(key.kid)
    if len(kid) != KID_BYTES:
        raise ValueError("key id must be 4 bytes")
    flags = _ROLE_BITS[role] | (_HAS_PROJECT if project is not None else 0)
    payload = _HEAD.pack(VERSION, flags, uuid.UUID(str(subject)).bytes)
    if project is not None:
        payload += uuid.UUID(str(project)).bytes
    payload += _TAIL.pack(ts, int(validity_s), kid)
    signature = key.sign(SIGNING_CONTEXT + payload)
    return PREFIX + base64.b32encode(payload + signature).decode("ascii").rstrip("=")


def device_window(at: datetime | None = None) -> int:
    """The start (seconds since 1970) of the device-code window ``at`` (default now) falls in."""
    ts = int(as_utc(at).timestamp()) if at is not None else int(utcnow().timestamp())
    return ts - ts % DEVICE_WINDOW_S


def device_payload(subject: uuid.UUID, window_start: int, kid: str) -> bytes:
    """The bytes a phone signs for a window (the page builds the same bytes in JavaScript)."""
    if window_start % DEVICE_WINDOW_S or not 0 <= window_start < 2**32:
        raise ValueError("not the start of a device-code window")
    payload = _HEAD.pack(VERSION, _ROLE_BITS[Role.WORKER] | _DEVICE, uuid.UUID(str(subject)).bytes)
    return payload + _TAIL.pack(window_start, DEVICE_WINDOW_S, bytes.fromhex(kid))


def issue_device_code(
    key: ec.EllipticCurvePrivateKey, *, subject: uuid.UUID, at: datetime | None = None
) -> str:
    """A device code signed in Python (tests, the bench): what the phone's page does with WebCrypto."""
    from store.codes.devices import device_kid, raw_point

    payload = device_payload(subject, device_window(at), device_kid(raw_point(key.public_key())))
    r, s_ = decode_dss_signature(key.sign(SIGNING_CONTEXT + payload, ec.ECDSA(hashes.SHA256())))
    signature = r.to_bytes(32, "big") + s_.to_bytes(32, "big")
    return PREFIX + base64.b32encode(payload + signature).decode("ascii").rstrip("=")


# --- parsing ----------------------------------------------------------------------------------------


def _invalid(detail: str) -> CodeError:
    return CodeError(Reason.CODE_INVALID, detail)


def parse_code(token: str) -> ParsedCode:
    """Take a token apart without checking its signature. CodeError(CODE_INVALID) for anything that
    is not a well-formed token of this format; surrounding whitespace (a scanner's Enter) is ignored."""
    if not isinstance(token, str):
        raise _invalid("not text")
    if len(token) > _MAX_INPUT:
        raise _invalid("too long")
    text = token.strip()
    if not text.startswith(PREFIX):
        raise _invalid("not a personal code")
    body = text[len(PREFIX) :]
    raw_len = _BODY_CHARS.get(len(body))
    if raw_len is None or not _BASE32.fullmatch(body):
        raise _invalid("malformed body")
    # base32 → bytes in C: RFC 4648's alphabet A–Z 2–7 mapped onto int()'s base-32 digits 0–9 a–v
    value = int(body.translate(_TO_INT_DIGITS), 32)
    unused = len(body) * 5 - raw_len * 8
    if value & ((1 << unused) - 1):
        raise _invalid("not canonical")  # the last character's spare bits must be zero
    raw = (value >> unused).to_bytes(raw_len, "big")
    payload, signature = raw[:-SIG_BYTES], raw[-SIG_BYTES:]
    version, flags, subject = _HEAD.unpack_from(payload, 0)
    if version != VERSION:
        raise _invalid("unknown version")
    role = _ROLE_OF_BITS.get(flags & 0b11)
    has_project = bool(flags & _HAS_PROJECT)
    device = bool(flags & _DEVICE)
    if role is None or flags & ~0b1111 or has_project != (raw_len == _RAW_PROJECT):
        raise _invalid("bad flags")
    if role is Role.WORKER and has_project:
        raise _invalid("a worker's code names no project")
    if device and role is not Role.WORKER:
        raise _invalid("only a worker's code is signed by his phone")
    offset = _HEAD.size
    project = None
    if has_project:
        project = uuid.UUID(bytes=payload[offset : offset + 16])
        offset += 16
    issued_ts, validity_s, kid = _TAIL.unpack_from(payload, offset)
    if not 1 <= validity_s <= MAX_VALIDITY_S:
        raise _invalid("bad validity")
    return ParsedCode(
        version=version,
        role=role,
        subject=uuid.UUID(bytes=subject),
        project=project,
        issued_at=datetime.fromtimestamp(issued_ts, UTC),
        validity_s=validity_s,
        kid=kid.hex(),
        payload=payload,
        signature=signature,
        token=text,
        device=device,
    )


def looks_like_code(text: str) -> bool:
    """Cheap test: does this text claim to be one of our codes (for a scanner telling codes apart)?"""
    return isinstance(text, str) and text.strip().startswith(PREFIX)


# --- the trust list ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrustedKey:
    kid: str
    public_key: Ed25519PublicKey = field(repr=False)
    not_before: datetime
    not_after: datetime | None
    revoked_at: datetime | None
    roles: frozenset[Role] = ALL_ROLES  # the kinds of code it may sign


@dataclass(frozen=True)
class TrustedDevice:
    """A worker's phone's public key (ECDSA P-256): it vouches for that worker's device codes only."""

    kid: str
    worker: uuid.UUID
    public_key: ec.EllipticCurvePublicKey = field(repr=False)
    revoked_at: datetime | None = None


class TrustList:
    """The public keys a verifier trusts: kid → (public key, not_before, not_after, revoked_at, roles);
    and the workers' phones' keys: (worker, kid) → (public key, revoked_at)."""

    def __init__(self, keys: Iterable[TrustedKey] = (), devices: Iterable[TrustedDevice] = ()) -> None:
        self._keys: dict[str, TrustedKey] = {}
        self._devices: dict[tuple[uuid.UUID, str], TrustedDevice] = {}
        for k in keys:
            self._add(k)
        for d in devices:
            self._add_device(d)

    def _add_device(self, d: TrustedDevice) -> None:
        old = self._devices.get((d.worker, d.kid))
        if old is not None:  # a revocation in either source wins
            revoked = min((t for t in (old.revoked_at, d.revoked_at) if t is not None), default=None)
            d = TrustedDevice(d.kid, d.worker, old.public_key, revoked)
        self._devices[(d.worker, d.kid)] = d

    def device(self, worker: uuid.UUID, kid: str) -> TrustedDevice | None:
        return self._devices.get((worker, kid))

    def devices(self) -> list[TrustedDevice]:
        return list(self._devices.values())

    def _add(self, k: TrustedKey) -> None:
        old = self._keys.get(k.kid)
        if old is not None:  # the same key from two sources: a revocation or narrower scope in either wins
            revoked = min((t for t in (old.revoked_at, k.revoked_at) if t is not None), default=None)
            k = TrustedKey(k.kid, old.public_key, old.not_before, old.not_after, revoked, old.roles & k.roles)
        self._keys[k.kid] = k

    @staticmethod
    def _entry(
        kid: str,
        raw: bytes,
        not_before: datetime,
        not_after: datetime | None,
        revoked_at: datetime | None,
        roles: frozenset[Role] = ALL_ROLES,
    ) -> TrustedKey:
        return TrustedKey(
            kid=kid,
            public_key=Ed25519PublicKey.from_public_bytes(bytes(raw)),
            not_before=as_utc(not_before),
            not_after=as_utc(not_after) if not_after else None,
            revoked_at=as_utc(revoked_at) if revoked_at else None,
            roles=frozenset(roles),
        )

    @classmethod
    def from_engine(cls, engine: Engine) -> TrustList:
        """The IssuerKey table of a database: the shared one, or a kiosk's local store after sync."""
        from sqlalchemy import inspect

        from store.codes.devices import trusted_devices
        from store.codes.keys import list_keys

        entries = []
        for r in list_keys(engine):
            try:
                entries.append(
                    cls._entry(
                        r.kid, r.public_key, r.not_before, r.not_after, r.revoked_at, parse_roles(r.roles)
                    )
                )
            except (ValueError, ValidationError):
                continue  # a damaged row is no trusted key
        devices = [
            TrustedDevice(d.kid, d.worker, d.public_key, d.revoked_at)
            for d in (trusted_devices(engine) if inspect(engine).has_table("devicekey") else ())
        ]  # a store not yet migrated to 0011 has no phone keys (kiosk doctor reads such stores)
        return cls(entries, devices)

    @classmethod
    def from_file(cls, path: str | Path) -> TrustList:
        """A trust file written by ``kiosk keys export`` (KeyFileError when unreadable)."""
        from store.codes.keys import read_trust_file

        return cls(
            cls._entry(r.kid, r.public_raw, r.not_before, r.not_after, r.revoked_at, r.roles)
            for r in read_trust_file(path)
        )

    @classmethod
    def of_keys(cls, *keys: IssuerPrivateKey, not_before: datetime | None = None) -> TrustList:
        """Trust these keys (tests, the demo) for their scopes: valid from ``not_before`` (default: always)."""
        nb = not_before or datetime.fromtimestamp(0, UTC)
        return cls(cls._entry(k.kid, k.public_raw, nb, None, None, k.roles) for k in keys)

    def merged(self, other: TrustList) -> TrustList:
        out = TrustList(self._keys.values(), self._devices.values())
        for k in other._keys.values():
            out._add(k)
        for d in other._devices.values():
            out._add_device(d)
        return out

    def get(self, kid: str) -> TrustedKey | None:
        return self._keys.get(kid)

    def __contains__(self, kid: object) -> bool:
        return kid in self._keys

    def __len__(self) -> int:
        return len(self._keys)

    def trusted(self) -> list[TrustedKey]:
        return list(self._keys.values())

    def __repr__(self) -> str:
        return f"TrustList({sorted(self._keys)})"


# --- verifying --------------------------------------------------------------------------------------


class Verifier:
    """Checks codes against a trust list (or a function that reads one: ``reload`` calls it again).

    Safe to share between threads. ``skew_s`` is the tolerated clock difference between the issuer
    (the phone) and this machine.
    """

    def __init__(
        self,
        trust: TrustList | Callable[[], TrustList],
        *,
        skew_s: int = 30,
        clock: Callable[[], datetime] = utcnow,
        cache_size: int = 1024,
    ) -> None:
        self._source = trust
        self.skew_s = int(skew_s)
        self._clock = clock
        self._cache_size = cache_size
        self.reload()

    @property
    def trust(self) -> TrustList:
        return self._trust

    def reload(self) -> None:
        """Re-read the trust list (after a sync brought new keys or revocations)."""
        trust = self._source if isinstance(self._source, TrustList) else self._source()
        checked = lru_cache(maxsize=self._cache_size)(self._genuine)
        # one assignment each, so a verify running in another thread sees the old pair or the new
        self._trust, self._checked = trust, checked

    def _genuine(self, token: str) -> tuple[ParsedCode, TrustedKey | TrustedDevice]:
        """Parse and check the signature (cached per token: failures raise and are not cached)."""
        code = parse_code(token)
        if code.device:
            dev = self._trust.device(code.subject, code.kid)
            if dev is None:
                raise CodeError(Reason.CODE_UNKNOWN_KEY, f"device {code.kid}")
            r, s = int.from_bytes(code.signature[:32], "big"), int.from_bytes(code.signature[32:], "big")
            try:
                dev.public_key.verify(
                    encode_dss_signature(r, s), SIGNING_CONTEXT + code.payload, ec.ECDSA(hashes.SHA256())
                )
            except (InvalidSignature, ValueError):
                raise _invalid("bad signature") from None
            return code, dev
        key = self._trust.get(code.kid)
        if key is None:
            raise CodeError(Reason.CODE_UNKNOWN_KEY, code.kid)
        try:
            key.public_key.verify(code.signature, SIGNING_CONTEXT + code.payload)
        except InvalidSignature:
            raise _invalid("bad signature") from None
        return code, key

    def verify(self, token: str, *, role: Role | None = None, at: datetime | None = None) -> CodeIdentity:
        """The identity a genuine, current code proves, or CodeError with the reason it is refused."""
        if not isinstance(token, str) or len(token) > _MAX_INPUT:
            raise _invalid("not a token")
        try:
            code, key = self._checked(token)
        except CodeError:
            raise
        except Exception as exc:  # belt and braces: the contract is CodeError only
            raise _invalid(type(exc).__name__) from exc
        issued = code.issued_ts
        if key.revoked_at is not None:
            raise CodeError(Reason.CODE_KEY_REVOKED, key.kid)
        if isinstance(key, TrustedDevice):
            # a device code covers its own fixed window, nothing longer (module doc)
            if code.validity_s != DEVICE_WINDOW_S or issued % DEVICE_WINDOW_S:
                raise _invalid("not a device-code window")
        elif issued < int(key.not_before.timestamp()) - self.skew_s:
            raise CodeError(Reason.CODE_UNKNOWN_KEY, "issued before the key's not_before")
        elif key.not_after is not None and issued > key.not_after.timestamp():
            raise CodeError(Reason.CODE_KEY_REVOKED, "issued after the key's not_after")
        elif code.role not in key.roles:
            raise CodeError(Reason.CODE_KEY_SCOPE, f"key {key.kid} may not sign {code.role.value} codes")
        if role is not None and code.role is not Role(role):
            raise CodeError(Reason.CODE_WRONG_ROLE, f"{code.role.value} code, {Role(role).value} expected")
        now = (as_utc(at) if at is not None else self._clock()).timestamp()
        if now < issued - self.skew_s:
            raise CodeError(Reason.CODE_NOT_YET_VALID)
        if now > issued + code.validity_s + self.skew_s:  # genuine (signature checked): whose it is is known
            raise CodeError(Reason.CODE_EXPIRED, subject=code.subject if code.role is Role.WORKER else None)
        # Field by field on purpose: CodeIdentity is the verified answer, a separate type from the parsed Code.
        return CodeIdentity(
            role=code.role,
            subject=code.subject,
            project=code.project,
            issued_at=code.issued_at,
            expires_at=code.expires_at,
            kid=code.kid,
            token=code.token,
            device=code.device,
        )
