"""The phone's pages (server-rendered, no inline script): 实名制首页 / 个人从业信息 (``/``), 个人建设码
(``/code``), 班前签到 way A (``/signin``), and the language switch (``/lang/{lang}``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kiosk.i18n import LANGS, t
from kiosk.serve.i18n import LANG_COOKIE, lang_of
from kiosk.serve.render import message_page, render
from kiosk.serve.security import DeviceError, ServeError, current_device

router = APIRouter(include_in_schema=False)


def _device_or_page(request: Request, lang: str) -> Any:
    try:
        return current_device(request)
    except DeviceError as exc:
        return message_page(request, lang, exc.message(lang), status=401)


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> Response:
    from kiosk.serve.routers.api import me_payload

    lang = lang_of(request)
    dev = _device_or_page(request, lang)
    if isinstance(dev, Response):
        return dev
    try:
        me = me_payload(request, dev, lang)
    except ServeError as exc:
        return message_page(request, lang, exc.message(lang), status=exc.status)
    return render(
        request, "home.html", lang, me=me, bound=request.query_params.get("bound") == "1", tab="home"
    )


@router.get("/code", response_class=HTMLResponse)
def code_page(request: Request, project: str | None = None) -> Response:
    from kiosk.serve.routers.api import code_payload

    lang = lang_of(request)
    dev = _device_or_page(request, lang)
    if isinstance(dev, Response):
        return dev
    try:
        code = code_payload(request, dev, project)
    except ServeError as exc:
        return render(
            request, "code.html", lang, code=None, error=exc.message(lang), kind=dev.kind.value, tab="code"
        )
    return render(request, "code.html", lang, code=code, error=None, kind=dev.kind.value, tab="code")


# Each page starts alike (language, then the bound phone or a page saying why not): three lines a page,
# kept in the page so that its early return stays visible.
@router.get("/signin", response_class=HTMLResponse)
def signin_page(request: Request) -> Response:
    lang = lang_of(request)
    dev = _device_or_page(request, lang)
    if isinstance(dev, Response):
        return dev
    return render(
        request,
        "signin.html",
        lang,
        kind=dev.kind.value,
        tab="signin",
        max_upload_mb=request.app.state.ctx.config.serve.max_upload_mb,
        signout=bool(request.app.state.ctx.config.location.phone_signout),
    )


@router.get("/lang/{lang}")
def switch_language(request: Request, lang: str, next: str = "/") -> Response:
    if lang not in LANGS:
        lang = "zh"
    target = next if next.startswith("/") and not next.startswith("//") and "\\" not in next else "/"
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(LANG_COOKIE, lang, max_age=400 * 24 * 3600, samesite="strict", httponly=True)
    return response


__all__ = ["message_page", "render", "router", "t"]
