"""A kiosk's own key and the signature of its sync requests (issue 24).

A kiosk makes an Ed25519 key pair at set-up (``KioskKeyFile.create``): the private key in a 0600 file
(refused when the group or others may read it), the public key sent to the site service to be approved.
Every sync request then carries four headers:

- ``X-Kiosk-Key``: the key's id (``key_id``: the first 16 bytes of the SHA-256 of the public key, hex);
- ``X-Kiosk-Time``: the kiosk's clock, Unix seconds;
- ``X-Kiosk-Nonce``: 16 random bytes, hex, never used twice;
- ``X-Kiosk-Signature``: base64 of the Ed25519 signature of ``canonical(method, path, time, nonce, body)``.

Why a request signature and not mutual TLS: it survives any TLS-terminating proxy or load balancer
(the site's reverse proxy, a cloud balancer) untouched, works on plain ``http://127.0.0.1`` for a
one-laptop site with no certificate at all, and the service checks it in the application where it can
look the key up in the database (revoked at the next request), with no CA to run.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from store.errors import StoreError

H_KEY = "X-Kiosk-Key"
H_TIME = "X-Kiosk-Time"
H_NONCE = "X-Kiosk-Nonce"
H_SIG = "X-Kiosk-Signature"
SCHEME = b"kiosk-sync-v1"


class KioskKeyError(StoreError):
    """The kiosk's key file is missing, unreadable, not a key, or readable by others."""


def key_id(public_raw: bytes) -> str:
    return hashlib.sha256(public_raw).hexdigest()[:32]


def canonical(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    """What is signed: the method, the path with its query, the time, the nonce and the body's SHA-256."""
    digest = hashlib.sha256(body).hexdigest()
    return b"\n".join(
        [SCHEME, method.upper().encode(), path.encode(), timestamp.encode(), nonce.encode(), digest.encode()]
    )


def verify_signature(public_raw: bytes, message: bytes, signature_b64: str) -> bool:
    try:
        sig = base64.b64decode(signature_b64, validate=True)
        Ed25519PublicKey.from_public_bytes(public_raw).verify(sig, message)
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass(frozen=True)
class KioskKeyFile:
    """The kiosk's private key, loaded from its file."""

    key: Ed25519PrivateKey = field(repr=False)
    path: Path

    @property
    def public_raw(self) -> bytes:
        return self.key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    @property
    def key_id(self) -> str:
        return key_id(self.public_raw)

    def headers(self, method: str, path: str, body: bytes, *, now: float) -> dict[str, str]:
        ts, nonce = str(int(now)), secrets.token_hex(16)
        sig = self.key.sign(canonical(method, path, ts, nonce, body))
        return {H_KEY: self.key_id, H_TIME: ts, H_NONCE: nonce, H_SIG: base64.b64encode(sig).decode()}

    @classmethod
    def load(cls, path: str | Path) -> KioskKeyFile:
        p = Path(path).expanduser()
        try:
            data = p.read_bytes()
            mode = stat.S_IMODE(p.stat().st_mode)
        except OSError as exc:
            raise KioskKeyError(
                f"无法读取本机同步密钥：{p}（请运行 kiosk setup 或 kiosk kiosk register）",
                f"Cannot read the kiosk's sync key {p}: {exc.strerror} (run kiosk setup or kiosk kiosk register)",
            ) from exc
        if mode & 0o077 and os.name != "nt":
            raise KioskKeyError(
                f"本机同步密钥 {p} 的权限为 {mode:04o}，其他用户也能读取，不予使用。请运行：chmod 600 {p}"
                "（如果别人可能已经读过它，请让管理员吊销这台签到机并重新登记）",
                f"The kiosk's sync key {p} has mode {mode:04o}: others can read it, so it is not used. "
                f"Run: chmod 600 {p} (if someone may have read it, have the kiosk revoked and register again)",
            )
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError) as exc:
            raise KioskKeyError(f"不是有效的私钥文件：{p}", f"Not a valid private key file: {p}") from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise KioskKeyError(f"私钥不是 Ed25519 密钥：{p}", f"The key is not an Ed25519 key: {p}")
        return cls(key, p)

    @classmethod
    def create(cls, path: str | Path) -> KioskKeyFile:
        """Make a new key pair in ``path`` (mode 0600, its folder 0700); an existing file is kept and loaded."""
        p = Path(path).expanduser()
        if p.exists():
            return cls.load(p)
        try:
            p.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            key = Ed25519PrivateKey.generate()
            pem = key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                os.fchmod(f.fileno(), 0o600)
                f.write(pem)
        except OSError as exc:
            raise KioskKeyError(
                f"无法写入本机同步密钥：{p}", f"Cannot write the kiosk's sync key {p}: {exc.strerror}"
            ) from exc
        return cls(key, p)
