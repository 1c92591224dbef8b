"""The phone service's defences: who the phone is, CSRF, rate limits, headers, a log with no secrets.

- **Device**: the ``kiosk_device`` cookie (HttpOnly, SameSite=Strict, Secure over TLS) holds the device
  credential; ``store.people.phone.device`` maps its hash to one person. Every page and API call acts as that
  person only: no endpoint takes a worker id.
- **CSRF**: every state-changing request (POST) must carry the ``kiosk_csrf`` cookie's value in the
  ``X-CSRF-Token`` header or the ``csrf_token`` form field (double submit), and an ``Origin``, when
  sent, must be this service. SameSite=Strict on the device cookie is the second wall.
- **Rate limits**: sliding one-minute windows per device and per address, counted in the shared database
  (``store.ratelimit``) so that they hold across ``--workers N`` and several hosts; ``429`` with a zh/en
  message.
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
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, cast

from fastapi import Request

from kiosk.i18n import t
from kiosk.serve.errors import ServeError
from kiosk.serve.i18n import lang_of
from kiosk.serve.limits import RateLimiter, RateLimits
from store.people.phone import secret_hash

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


# --- rate limits -------------------------------------------------------------------------------------


def client_address(request: Request) -> str:
    """The phone's address (uvicorn puts a trusted proxy's X-Forwarded-For here)."""
    return request.client.host if request.client else "?"


def limit(limiter: RateLimiter, key: str) -> None:
    if not limiter.hit(key):
        raise ServeError(429, "err.rate", code="rate_limited")


# --- the device ---------------------------------------------------------------------------------------


def device_key(request: Request) -> str:
    """A rate-limit key for this phone (a hash of its cookie, never the cookie)."""
    return secret_hash(request.cookies.get(DEVICE_COOKIE, ""))[:24]


def set_device_cookie(response: Any, request: Request, secret: str, *, secure: bool) -> None:
    """The device credential as an HttpOnly, SameSite=Strict cookie (Secure over TLS or when ``secure``)."""
    response.set_cookie(
        DEVICE_COOKIE,
        secret,
        max_age=DEVICE_MAX_AGE_S,
        httponly=True,
        samesite="strict",
        path="/",
        secure=bool(secure or request.url.scheme == "https"),
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


class HttpMiddleware:
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


class ServeMiddleware(HttpMiddleware):
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


__all__ = [
    "CSRF_COOKIE",
    "DEVICE_COOKIE",
    "RateLimiter",
    "RateLimits",
    "ServeError",
    "ServeMiddleware",
    "client_address",
    "csrf_protect",
    "csrf_token",
    "device_key",
    "lang_of",
    "limit",
    "set_device_cookie",
    "t",
]
