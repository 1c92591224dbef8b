"""The phone service's defences: who the phone is, CSRF, rate limits, headers, a log with no secrets.

- **Device**: the ``kiosk_device`` cookie (HttpOnly, SameSite=Strict, Secure over TLS) holds the device
  credential; ``store.people.phone.device`` maps its hash to one person. Every page and API call acts as that
  person only: no endpoint takes a worker id.
- **CSRF**: every state-changing request (POST) must carry the ``kiosk_csrf`` cookie's value in the
  ``X-CSRF-Token`` header or the ``csrf_token`` form field (double submit), and an ``Origin``, when
  sent, must be this service. SameSite=Strict on the device cookie is the second wall.
- **Rate limits**: sliding one-minute windows in memory (per server process), per device and per
  address; ``429`` with a zh/en message.
- **Headers**: a content security policy with no inline script (``script-src 'self'``, plus
  ``'wasm-unsafe-eval'`` for the vendored QR decoder), no framing, no referrer (an activation link's
  secret must not leak), ``no-store``.
- **Log**: one line per request naming the route's pattern (``/a/{token}``), never the path or query,
  never a cookie, a token, a position or a name.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from fastapi import Request

from kiosk.i18n import MESSAGES, pair, t
from kiosk.serve.i18n import lang_of
from store.people.phone import Device, DeviceState, secret_hash

DEVICE_COOKIE = "kiosk_device"
CSRF_COOKIE = "kiosk_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
DEVICE_MAX_AGE_S = 400 * 24 * 3600  # browsers cap cookies at 400 days

CSP = (
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob: mediastream:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", b"geolocation=(self), camera=(self), microphone=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
]

access_log = logging.getLogger("kiosk.serve.access")


class ServeError(Exception):
    """A refusal the phone shows: an HTTP status and a message key of the catalogue ``kiosk.i18n`` (or own words)."""

    def __init__(
        self,
        status: int,
        key: str,
        *,
        zh: str | None = None,
        en: str | None = None,
        code: str | None = None,
        **kw: object,
    ) -> None:
        super().__init__(key)
        self.status = status
        self.key = key
        self.code = code or key
        dz, de = pair(key, **kw)
        self.zh, self.en = zh or dz, en or de

    def message(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


def _field_name(name: str) -> tuple[str, str]:
    """An API field's name in the refusal of bad input (catalogue key ``field.NAME``), else the name."""
    key = f"field.{name}"
    return pair(key) if key in MESSAGES else (name, name)


_SOURCES = ("body", "query", "path", "header", "cookie")


def input_error(errors: Sequence[Mapping[str, Any]]) -> ServeError:
    """The refusal (422) of a request pydantic could not validate, naming the fields in words: never a
    character offset of a JSON parser or a list index."""
    if any(e.get("type") == "json_invalid" for e in errors):
        return ServeError(422, "err.json", code="bad_input")
    names: list[str] = []
    for e in errors:
        loc = [x for x in e.get("loc", ()) if isinstance(x, str)]
        if len(loc) > 1 and loc[0] in _SOURCES:
            loc = loc[1:]
        name = loc[0] if loc else "body"
        if name in _SOURCES:  # the whole body: missing, or not an object
            return ServeError(422, "err.body", code="bad_input")
        if name not in names:
            names.append(name)
    if not names:
        return ServeError(422, "err.input", code="bad_input")
    zh = "、".join(_field_name(n)[0] for n in names)
    en = ", ".join(_field_name(n)[1] for n in names)
    return ServeError(422, "err.input", zh=f"输入有误：{zh}", en=f"Bad input: {en}", code="bad_input")


class DeviceError(ServeError):
    """No bound phone, or its binding was revoked."""

    def __init__(self, state: DeviceState) -> None:
        super().__init__(
            401,
            "device.revoked" if state is DeviceState.REVOKED else "device.none",
            code=f"device_{state.value}",
        )
        self.state = state


# --- rate limits -------------------------------------------------------------------------------------


class RateLimiter:
    """At most ``limit`` hits per key in any ``window_s`` seconds (sliding window, thread-safe)."""

    def __init__(self, limit: int, window_s: float = 60.0, *, max_keys: int = 100_000) -> None:
        self.limit, self.window_s, self.max_keys = int(limit), float(window_s), max_keys
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        with self._lock:
            q = self._hits.get(key)
            if q is None:
                if len(self._hits) >= self.max_keys:
                    self._prune(now)
                q = self._hits[key] = deque()
            while q and now - q[0] >= self.window_s:
                q.popleft()
            if len(q) >= self.limit:
                return False
            q.append(now)
            return True

    def _prune(self, now: float) -> None:
        for k in [k for k, q in self._hits.items() if not q or now - q[-1] >= self.window_s]:
            del self._hits[k]


@dataclass
class RateLimits:
    activate_ip: RateLimiter
    signin_device: RateLimiter
    signin_ip: RateLimiter
    code_device: RateLimiter
    enroll_device: RateLimiter

    @classmethod
    def from_settings(cls, s: Any) -> RateLimits:
        return cls(
            RateLimiter(s.activate_per_min_ip),
            RateLimiter(s.signin_per_min_device),
            RateLimiter(s.signin_per_min_ip),
            RateLimiter(s.code_per_min_device),
            RateLimiter(s.enroll_per_min_device),
        )


def client_address(request: Request) -> str:
    """The phone's address (uvicorn puts a trusted proxy's X-Forwarded-For here)."""
    return request.client.host if request.client else "?"


def limit(limiter: RateLimiter, key: str) -> None:
    if not limiter.hit(key):
        raise ServeError(429, "err.rate", code="rate_limited")


# --- the device ---------------------------------------------------------------------------------------


def current_device(request: Request) -> Device:
    """The person this phone is bound to; DeviceError (401) otherwise. A FastAPI dependency."""
    from store.people.phone import device

    ctx = request.app.state.ctx
    state, dev = device(ctx.engine, request.cookies.get(DEVICE_COOKIE))
    if dev is None:
        raise DeviceError(state)
    return dev


def device_key(request: Request) -> str:
    """A rate-limit key for this phone (a hash of its cookie, never the cookie)."""
    return secret_hash(request.cookies.get(DEVICE_COOKIE, ""))[:24]


def set_device_cookie(response: Any, request: Request, secret: str) -> None:
    ctx = request.app.state.ctx
    response.set_cookie(
        DEVICE_COOKIE,
        secret,
        max_age=DEVICE_MAX_AGE_S,
        httponly=True,
        samesite="strict",
        path="/",
        secure=bool(ctx.secure_cookies or request.url.scheme == "https"),
    )


# --- CSRF ---------------------------------------------------------------------------------------------


def csrf_token(request: Request) -> str:
    return str(getattr(request.state, "csrf", "") or "")


async def csrf_protect(request: Request) -> None:
    """A FastAPI dependency of every state-changing route: the double-submitted token and the origin."""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else ""
    if not cookie or not sent or not hmac.compare_digest(cookie.encode(), sent.encode()):
        raise ServeError(403, "err.csrf", code="csrf")
    origin = request.headers.get("origin")
    if origin and origin != "null":
        host = request.headers.get("host", "")
        if origin.split("://", 1)[-1] != host:
            raise ServeError(403, "err.csrf", code="csrf_origin")


# --- the ASGI middleware: headers, the CSRF cookie, the access log --------------------------------------

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[
    [Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]
]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class _HttpMiddleware:
    """An ASGI middleware for HTTP requests: anything else (the lifespan events) passes through."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.http(scope, receive, send)

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError


def _cookie(scope: Scope, name: str) -> str | None:
    for k, v in scope.get("headers", ()):
        if k == b"cookie":
            for part in cast(bytes, v).decode("latin-1").split(";"):
                n, _, val = part.strip().partition("=")
                if n == name:
                    return val
    return None


class ServeMiddleware(_HttpMiddleware):
    """Security headers and no-store on every response; a CSRF cookie for every browser; one log line
    per request with the route's pattern, status and time."""

    def __init__(self, app: ASGIApp, *, secure: bool = False) -> None:
        super().__init__(app)
        self.secure = secure

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        start = time.perf_counter()
        csrf = _cookie(scope, CSRF_COOKIE)
        new_csrf = None
        if not csrf or len(csrf) > 64:
            csrf = new_csrf = secrets.token_urlsafe(24)
        scope.setdefault("state", {})["csrf"] = csrf
        status = [0]
        secure = self.secure or scope.get("scheme") == "https"

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                headers = list(message.get("headers", []))
                headers += SECURITY_HEADERS
                path = scope.get("path", "")
                if not path.startswith("/static/"):
                    headers.append((b"cache-control", b"no-store"))
                if new_csrf:
                    c = f"{CSRF_COOKIE}={new_csrf}; Path=/; HttpOnly; SameSite=Strict" + (
                        "; Secure" if secure else ""
                    )
                    headers.append((b"set-cookie", c.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            pattern = getattr(route, "path", None) or (
                "/static/…" if scope.get("path", "").startswith("/static/") else "-"
            )
            access_log.info(
                "%s %s %s %.1fms",
                scope.get("method", "?"),
                pattern,
                status[0] or 500,
                (time.perf_counter() - start) * 1000,
            )


def error_payload(err: ServeError, lang: str) -> dict[str, Any]:
    return {"error": err.code, "message": err.message(lang), "message_zh": err.zh, "message_en": err.en}


__all__ = [
    "CSRF_COOKIE",
    "DEVICE_COOKIE",
    "DeviceError",
    "RateLimiter",
    "RateLimits",
    "ServeError",
    "ServeMiddleware",
    "client_address",
    "csrf_protect",
    "csrf_token",
    "current_device",
    "device_key",
    "error_payload",
    "input_error",
    "lang_of",
    "limit",
    "set_device_cookie",
    "t",
]


class BodyLimit(_HttpMiddleware):
    """Refuses a request body over ``max_bytes`` (``photo_bytes`` on the photo upload) with 413 and a
    zh/en message, by its Content-Length before reading, or as soon as a chunked body passes it."""

    PHOTO_PATH = "/api/signin/photo"
    #: the enrollment forms (routers/enroll.py) and how many photos each carries
    ENROLL_PHOTOS = (("/api/enroll/realname", 3), ("/api/enroll/health", 1))
    #: a kiosk's pushed batch (gate photos included, gzip): routers/sync.py bounds it inflated too
    SYNC_PUSH = ("/api/sync/v1/push", 64 * 1024 * 1024)

    def __init__(
        self, app: ASGIApp, *, max_bytes: int = 64 * 1024, photo_bytes: int = 8 * 1024 * 1024
    ) -> None:
        super().__init__(app)
        self.max_bytes, self.photo_bytes = max_bytes, photo_bytes

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        # multipart framing around the photo: a few kilobytes more than the photo itself
        path = scope.get("path")
        photos = 1 if path == self.PHOTO_PATH else dict(self.ENROLL_PHOTOS).get(str(path), 0)
        cap = photos * self.photo_bytes + 64 * 1024 if photos else self.max_bytes
        if path == self.SYNC_PUSH[0]:
            cap = self.SYNC_PUSH[1]
        length = next((v for k, v in scope.get("headers", ()) if k == b"content-length"), None)
        if length is not None and (not length.isdigit() or int(length) > cap):
            await self._too_big(scope, send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > cap:
                    raise _TooBig
            return message

        try:
            await self.app(scope, limited, send)
        except _TooBig:
            await self._too_big(scope, send)

    async def _too_big(self, scope: Scope, send: Send) -> None:
        import json

        path = str(scope.get("path"))
        if path == self.PHOTO_PATH or path in dict(self.ENROLL_PHOTOS):
            err = ServeError(413, "err.too_big", code="too_big", mb=round(self.photo_bytes / 1024 / 1024, 1))
        else:  # not a photo: saying "the photo is too large" would send the user looking for one
            err = ServeError(413, "err.body_too_big", code="too_big", kb=self.max_bytes // 1024)
        body = json.dumps(error_payload(err, "zh"), ensure_ascii=False).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _TooBig(Exception):
    pass
