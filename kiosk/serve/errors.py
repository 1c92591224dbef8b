"""Every refusal of the phone service and how it is answered, in one place.

``ServeError`` is a refusal the phone shows (an HTTP status, a catalogue key, a zh/en message);
``install_handlers(app)`` answers it, a store error, bad input and the framework's own refusals alike: JSON
(``{"error", "message", "message_zh", "message_en"}``, plus ``field`` for a form field) to the API and to a
client asking for JSON, else the one-line message page.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from kiosk.i18n import MESSAGES, pair
from kiosk.serve.i18n import lang_of
from store.errors import StoreError, ValidationError
from store.people.phone import DeviceState

#: what the framework's own refusals say (message key, error code)
HTTP_WORDS = {
    404: ("err.not_found", "not_found"),
    405: ("err.method", "method"),
    400: ("err.bad_request", "bad_request"),
}
_SOURCES = ("body", "query", "path", "header", "cookie")


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
        field: str | None = None,
        **kw: object,
    ) -> None:
        super().__init__(key)
        self.status = status
        self.key = key
        self.code = code or key
        self.field = field
        dz, de = pair(key, **kw)
        self.zh, self.en = zh or dz, en or de

    def message(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


class DeviceError(ServeError):
    """No bound phone, or its binding was revoked."""

    def __init__(self, state: DeviceState) -> None:
        super().__init__(
            401,
            "device.revoked" if state is DeviceState.REVOKED else "device.none",
            code=f"device_{state.value}",
        )
        self.state = state


class BodyTooLarge(StarletteHTTPException):
    """A request body over its route's limit (``body_limit.BodyLimit``): an HTTP exception, so that
    FastAPI's body parser passes it on rather than calling it an unparsable body (400)."""

    def __init__(self, error: ServeError) -> None:
        super().__init__(413)
        self.error = error


def field_error(exc: ValidationError) -> ServeError:
    """A form field the store refused (422 naming the field); ``luhn_unconfirmed`` asks the worker to
    confirm a card number that fails its check digit."""
    from store.people.images import ImageBusy
    from store.people.self_enroll import LuhnUnconfirmed

    if isinstance(exc, ImageBusy):  # not the photo's fault: out of memory or too many at once, try again
        return ServeError(503, "err.busy", zh=exc.zh, en=exc.en, code="busy")
    code = "luhn_unconfirmed" if isinstance(exc, LuhnUnconfirmed) else "bad_input"
    return ServeError(422, "err.input", zh=exc.zh, en=exc.en, code=code, field=exc.field)


def _field_name(name: str) -> tuple[str, str]:
    """An API field's name in the refusal of bad input (catalogue key ``field.NAME``), else the name."""
    key = f"field.{name}"
    return pair(key) if key in MESSAGES else (name, name)


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


def error_payload(err: ServeError, lang: str) -> dict[str, Any]:
    out: dict[str, Any] = {"error": err.code}
    if err.field is not None:
        out["field"] = err.field
    out.update(message=err.message(lang), message_zh=err.zh, message_en=err.en)
    return out


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", "")


def answer(request: Request, err: ServeError) -> Response:
    """The refusal as JSON (the API, or a client asking for JSON) or as the message page."""
    lang = lang_of(request)
    if _wants_json(request):
        headers = {"Retry-After": "60"} if err.status == 429 else None
        return JSONResponse(error_payload(err, lang), status_code=err.status, headers=headers)
    # imported here: the page renderer imports the security module, which raises these errors
    from kiosk.serve.render import message_page

    return message_page(request, lang, err.message(lang), status=err.status)


def store_error(exc: StoreError) -> ServeError:
    """Bad input (a latitude of 95, …: 422 naming the field) or an unreachable database (503)."""
    if isinstance(exc, ValidationError):
        return field_error(exc)
    return ServeError(503, "err.input", zh=exc.zh, en=exc.en, code="unavailable")


def install_handlers(app: FastAPI) -> None:
    """Every refusal answered with a message, never a traceback."""

    @app.exception_handler(ServeError)
    async def _serve_error(request: Request, exc: ServeError) -> Response:
        return answer(request, exc)

    @app.exception_handler(StoreError)
    async def _store_error(request: Request, exc: StoreError) -> Response:
        return answer(request, store_error(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        return answer(request, input_error(exc.errors()))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if isinstance(exc, BodyTooLarge):
            return answer(request, exc.error)
        # 400: a body that cannot be parsed (broken multipart, a number of 5 000 digits), 405: a wrong method;
        # neither is "the service is unavailable"
        key, code = HTTP_WORDS.get(exc.status_code) or (
            ("err.server", "server") if exc.status_code >= 500 else ("err.bad_request", "bad_request")
        )
        return answer(request, ServeError(exc.status_code, key, code=code))

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> Response:
        logging.getLogger("kiosk.serve").error("unexpected %s", type(exc).__name__)  # the type only: no data
        return answer(request, ServeError(500, "err.server", code="server"))


__all__ = [
    "BodyTooLarge",
    "DeviceError",
    "ServeError",
    "answer",
    "error_payload",
    "field_error",
    "input_error",
    "install_handlers",
    "store_error",
]
