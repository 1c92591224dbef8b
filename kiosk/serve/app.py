"""The FastAPI application of ``kiosk serve``: ``create_app(ctx)``, and ``app_from_env`` for uvicorn's
worker processes (``--workers N``), which rebuild the context from ``KIOSK_SERVE_ARGS``."""

from __future__ import annotations

import json
import os
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from kiosk.serve.assets import Assets, pages_version
from kiosk.serve.assets import router as assets_router
from kiosk.serve.context import HERE, ServeContext
from kiosk.serve.i18n import lang_of
from kiosk.serve.security import (
    DEVICE_COOKIE,
    BodyLimit,
    ServeError,
    ServeMiddleware,
    error_payload,
    input_error,
)
from store.errors import StoreError

ENV_ARGS = "KIOSK_SERVE_ARGS"
#: what the framework's own refusals say (message key, error code)
HTTP_WORDS = {
    404: ("err.not_found", "not_found"),
    405: ("err.method", "method"),
    400: ("err.bad_request", "bad_request"),
}


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get("accept", "")


def _answer(request: Request, err: ServeError) -> Response:
    lang = lang_of(request)
    if _wants_json(request):
        headers = {"Retry-After": "60"} if err.status == 429 else None
        return JSONResponse(error_payload(err, lang), status_code=err.status, headers=headers)
    from kiosk.serve.routers.pages import message_page

    return message_page(request, lang, err.message(lang), status=err.status)


def create_app(ctx: ServeContext) -> FastAPI:
    from kiosk.serve.routers import activation, api, device, enroll, pages

    app = FastAPI(
        title="工地实名制手机服务 / Site sign-in phone service",
        version="1",
        description="The workers' phones: personal codes (个人建设码) and way A (方式一). Every call acts as the "
        "phone's bound person (the kiosk_device cookie); state-changing calls need X-CSRF-Token.",
        docs_url=None,
        redoc_url=None,  # Swagger UI would load from a CDN: the schema is at /api/openapi.json
        openapi_url="/api/openapi.json",
    )
    app.state.ctx = ctx
    app.state.assets = assets = Assets(HERE / "static")
    app.state.pages_version = pages_version(HERE / "templates")
    ctx.templates.env.globals["asset"] = assets.url
    app.include_router(assets_router)  # /static/h/… (hashed, compressed, immutable) and /sw.js
    app.include_router(pages.router)
    app.include_router(activation.router)
    app.include_router(api.router)
    app.include_router(device.router)  # the phone's own signing key (issue 27)
    app.include_router(enroll.router)  # the worker's own enrollment (issue 14)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.exception_handler(ServeError)
    async def _serve_error(request: Request, exc: ServeError) -> Response:
        return _answer(request, exc)

    @app.exception_handler(StoreError)
    async def _store_error(request: Request, exc: StoreError) -> Response:
        # bad input (a latitude of 95, …) or an unreachable database: a message, never a traceback
        from store.errors import ValidationError

        status = 422 if isinstance(exc, ValidationError) else 503
        code = "bad_input" if status == 422 else "unavailable"
        return _answer(request, ServeError(status, "err.input", zh=exc.zh, en=exc.en, code=code))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        return _answer(request, input_error(exc.errors()))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        # 400: a body that cannot be parsed (broken multipart, a number of 5 000 digits), 405: a wrong method;
        # neither is "the service is unavailable"
        key, code = HTTP_WORDS.get(exc.status_code) or (
            ("err.server", "server") if exc.status_code >= 500 else ("err.bad_request", "bad_request")
        )
        return _answer(request, ServeError(exc.status_code, key, code=code))

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> Response:
        import logging

        logging.getLogger("kiosk.serve").error("unexpected %s", type(exc).__name__)  # the type only: no data
        return _answer(request, ServeError(500, "err.server", code="server"))

    def openapi() -> dict[str, Any]:
        """The schema, with how a client proves which phone it is (the device cookie) and the CSRF header."""
        if app.openapi_schema is None:
            from fastapi.openapi.utils import get_openapi

            schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            schema.setdefault("components", {})["securitySchemes"] = {
                "device": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": DEVICE_COOKIE,
                    "description": "set by the activation link (POST /a/{token}); HttpOnly",
                },
                "csrf": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-CSRF-Token",
                    "description": "the kiosk_csrf cookie's value (GET /api/csrf), on every POST",
                },
            }
            schema["security"] = [{"device": [], "csrf": []}]
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to replace the schema
    app.add_middleware(BodyLimit, photo_bytes=int(ctx.config.serve.max_upload_mb * 1024 * 1024))
    app.add_middleware(ServeMiddleware, secure=ctx.secure_cookies)
    return app


def serve_args(config_path: str | None, url: str, base_url: str, overrides: dict[str, Any]) -> str:
    return json.dumps({"config": config_path, "url": url, "base_url": base_url, "overrides": overrides})


def app_from_env() -> FastAPI:
    """uvicorn's factory in each worker process (``kiosk serve --workers N``)."""
    from kiosk.config import load_config
    from kiosk.serve.context import build_context

    args = json.loads(os.environ[ENV_ARGS])
    cfg = load_config(args["config"])
    if args.get("overrides"):
        cfg = cfg.model_copy(update={"serve": cfg.serve.model_copy(update=args["overrides"])})
    return create_app(build_context(cfg, args["url"], base_url=args["base_url"]))


__all__ = ["HTMLResponse", "app_from_env", "create_app"]
