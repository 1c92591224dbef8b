"""What every request of the phone service needs, built once per server process: ``ServeContext``."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from fastapi import Request
from fastapi.templating import Jinja2Templates
from sqlalchemy.engine import Engine

from kiosk.config import Config
from kiosk.i18n import t
from store import ratelimit
from store.codes.keys import IssuerPrivateKey
from store.codes.tokens import Verifier
from store.db.models import IssuerKey
from store.errors import StoreError
from store.reasons import Role

HERE = Path(__file__).resolve().parent
#: the trust list is re-read this often (a kiosk's new officer key, a revocation)
TRUST_RELOAD_S = 30.0
#: and at once for a code of a key it does not know yet, at most this often
UNKNOWN_KEY_RELOAD_S = 5.0


class ServeKeyError(StoreError):
    """The service's issuing key is missing, officer-only, unregistered or revoked: it will not start."""


def load_issuer_key(path: str) -> IssuerPrivateKey:
    """The ``[serve] issuer_key``: it must be allowed to sign workers' codes (an officer-only key, a
    kiosk's, is refused: this is where workers' codes come from)."""
    if not path.strip():
        raise ServeKeyError(
            "未配置签发密钥：请在配置文件 [serve] issuer_key 中填写工人码签发私钥的路径"
            "（kiosk keys new --out DIR --roles worker,officer --db 共享数据库）",
            "No issuing key: set [serve] issuer_key in the config to the private key that signs workers' codes "
            "(kiosk keys new --out DIR --roles worker,officer --db SHARED)",
        )
    key = IssuerPrivateKey.load(path)
    if Role.WORKER not in key.roles:
        raise ServeKeyError(
            f"{path} 是仅限签到员码的密钥，不能签发工人的个人建设码；请使用范围为 worker 的密钥",
            f"{path} is an officer-only key and cannot sign workers' codes: use a key scoped 'worker'",
        )
    return key


def check_registered(engine: Engine, key: IssuerPrivateKey) -> IssuerPrivateKey:
    """The key must be in the shared database's trust list, not revoked, its registered scope
    including workers; otherwise no kiosk would accept its codes. Returns the key narrowed to the
    registered scope."""
    from sqlmodel import select

    from store.codes.scope import parse_roles
    from store.db.engine import session, translate_errors

    with translate_errors(str(engine.url)), session(engine) as s:
        row = s.exec(select(IssuerKey).where(IssuerKey.kid == key.kid)).first()
    if row is None or row.deleted_at is not None:
        raise ServeKeyError(
            f"签发密钥 {key.kid} 未在共享数据库中登记：kiosk keys add issuer.pub --db 共享数据库",
            f"The issuing key {key.kid} is not registered in the shared database: kiosk keys add issuer.pub --db SHARED",
        )
    if row.revoked_at is not None:
        raise ServeKeyError(f"签发密钥 {key.kid} 已被吊销", f"The issuing key {key.kid} is revoked")
    roles = parse_roles(row.roles) & key.roles
    if Role.WORKER not in roles:
        raise ServeKeyError(
            f"签发密钥 {key.kid} 在共享数据库中登记为仅限签到员码，不能签发工人码",
            f"The issuing key {key.kid} is registered for officers' codes only: it cannot sign workers' codes",
        )
    return IssuerPrivateKey.from_key(key.key, roles)


@dataclass
class ServeContext:
    """One per server process; safe to share between request threads."""

    config: Config
    engine: Engine
    key: IssuerPrivateKey
    base_url: str = ""
    secure_cookies: bool = False
    templates: Jinja2Templates = field(init=False)
    _verifier: Verifier = field(init=False)
    _loaded_at: float = field(init=False, default=0.0)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        from kiosk.serve.limits import RateLimits
        from kiosk.wiring import verifier_for

        self.templates = Jinja2Templates(directory=str(HERE / "templates"))
        self.templates.env.globals["t"] = t
        self.limits = RateLimits.from_settings(self.config.serve, self.engine)
        self._verifier = verifier_for(
            self.config, self.engine
        )  # the one construction: trust file and skew too
        self._loaded_at = time.monotonic()

    @property
    def verifier(self) -> Verifier:
        if time.monotonic() - self._loaded_at > TRUST_RELOAD_S:
            self._reload(TRUST_RELOAD_S)
        return self._verifier

    def verifier_for(self, token: str) -> Verifier:
        """The verifier, re-read first when ``token`` names a key it does not know (a kiosk's officer key
        registered a moment ago), at most every few seconds."""
        from store.codes.tokens import CodeError, parse_code

        v = self.verifier
        try:
            kid = parse_code(token).kid
        except CodeError:
            return v
        if kid not in v.trust:
            self._reload(UNKNOWN_KEY_RELOAD_S)
        return self._verifier

    def _reload(self, older_than_s: float) -> None:
        with self._lock:
            if time.monotonic() - self._loaded_at > older_than_s:
                self._loaded_at = time.monotonic()
                self._verifier.reload()

    @property
    def key_usable(self) -> bool:
        """Whether the shared database still trusts our own key (it may have been revoked since start)."""
        k = self.verifier.trust.get(self.key.kid)
        return k is not None and k.revoked_at is None and Role.WORKER in k.roles

    @property
    def photo_bytes(self) -> int:
        """The largest photo a phone may upload (``[serve] max_upload_mb``)."""
        return int(self.config.serve.max_upload_mb * 1024 * 1024)

    @property
    def can_sign_officers(self) -> bool:
        return Role.OFFICER in self.key.roles


def build_context(
    config: Config, url: str, *, base_url: str = "", secure_cookies: bool | None = None
) -> ServeContext:
    """Open the shared database and check the key; ServeKeyError / StoreError when it cannot serve."""
    from store.db.engine import open_store
    from store.people.phone import purge_nonces

    key = load_issuer_key(config.serve.issuer_key)
    engine = open_store(url)
    key = check_registered(engine, key)
    purge_nonces(engine)  # the replay guard keeps two days (a code lives two minutes)
    ratelimit.purge(engine)  # the rate limits of phones and addresses not seen for a day
    if secure_cookies is None:
        secure_cookies = bool(config.serve.certfile) or base_url.startswith("https://")
    secure = secure_cookies
    return ServeContext(config=config, engine=engine, key=key, base_url=base_url, secure_cookies=secure)


__all__ = ["ServeContext", "ServeKeyError", "build_context", "check_registered", "load_issuer_key", "t"]


def context_of(request: Request) -> ServeContext:
    """The process's context, set by ``create_app`` (also for helpers that hold only the request, such as
    the page renderer, which the error handlers use: so it lives here, below every other serve module)."""
    return cast(ServeContext, request.app.state.ctx)
