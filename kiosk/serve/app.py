"""The FastAPI application of ``kiosk serve``: ``create_app(ctx)``, and ``app_from_env`` for uvicorn's
worker processes (``--workers N``), which rebuild the context from ``KIOSK_SERVE_ARGS``."""

from __future__ import annotations

import json
import os
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles

from kiosk.serve.assets import Assets, pages_version
from kiosk.serve.assets import router as assets_router
from kiosk.serve.body_limit import BodyLimit
from kiosk.serve.context import HERE, ServeContext
from kiosk.serve.errors import install_handlers
from kiosk.serve.routers import activation, api, device, enroll, pages, sync
from kiosk.serve.security import DEVICE_COOKIE, ServeMiddleware

ENV_ARGS = "KIOSK_SERVE_ARGS"


def create_app(ctx: ServeContext) -> FastAPI:
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
    app.include_router(sync.router)  # kiosks' signed sync (issue 24)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    install_handlers(app)

    @app.exception_handler(sync.AuthRefused)  # a kiosk's refusal has the sync API's own shape
    async def _kiosk_refused(request: Request, exc: sync.AuthRefused) -> Response:
        return sync.refusal(exc.err)

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
    app.add_middleware(BodyLimit, photo_bytes=ctx.photo_bytes)
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
