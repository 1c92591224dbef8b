"""The phone's pages (server-rendered, no inline script): 实名制首页 / 个人从业信息 (``/``), 个人建设码
(``/code``), 班前签到 way A (``/signin``), and the language switch (``/lang/{lang}``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kiosk.i18n import LANGS, t
from kiosk.serve.context import ServeContext
from kiosk.serve.deps import Ctx, current_device
from kiosk.serve.errors import DeviceError, ServeError
from kiosk.serve.i18n import LANG_COOKIE, lang_of
from kiosk.serve.payloads import code_payload, code_status, me_payload
from kiosk.serve.render import message_page, render
from store.people.phone import Kind

router = APIRouter(include_in_schema=False)


def _device_or_page(request: Request, ctx: ServeContext, lang: str) -> Any:
    try:
        return current_device(request, ctx)
    except DeviceError as exc:
        return message_page(request, lang, exc.message(lang), status=401)


@router.get("/", response_class=HTMLResponse)
def home(request: Request, ctx: Ctx) -> Response:
    lang = lang_of(request)
    dev = _device_or_page(request, ctx, lang)
    if isinstance(dev, Response):
        return dev
    try:
        me = me_payload(ctx, dev, lang)
    except ServeError as exc:
        return message_page(request, lang, exc.message(lang), status=exc.status)
    from store.codes.devices import live_kid

    # the phone makes and registers its signing key on the first page after binding (issue 27)
    device = (
        {"subject": str(dev.subject_id), "kid": live_kid(ctx.engine, dev.binding_id) or ""}
        if dev.kind is Kind.WORKER
        else None
    )
    return render(
        request,
        "home.html",
        lang,
        me=me,
        bound=request.query_params.get("bound") == "1",
        tab="home",
        device=device,
    )


@router.get("/code", response_class=HTMLResponse)
def code_page(request: Request, ctx: Ctx, project: str | None = None) -> Response:
    lang = lang_of(request)
    dev = _device_or_page(request, ctx, lang)
    if isinstance(dev, Response):
        return dev
    me = code_status(ctx, dev, lang)  # name, masked ID, 今日可签到 / 还不能签到 (issue 27)
    try:
        code = code_payload(ctx, request, dev, project)
    except ServeError as exc:
        return render(
            request,
            "code.html",
            lang,
            code=None,
            error=exc.message(lang),
            kind=dev.kind.value,
            tab="code",
            me=me,
        )
    return render(request, "code.html", lang, code=code, error=None, kind=dev.kind.value, tab="code", me=me)


# Each page starts alike (language, then the bound phone or a page saying why not): three lines a page,
# kept in the page so that its early return stays visible.
@router.get("/signin", response_class=HTMLResponse)
def signin_page(request: Request, ctx: Ctx) -> Response:
    lang = lang_of(request)
    dev = _device_or_page(request, ctx, lang)
    if isinstance(dev, Response):
        return dev
    return render(
        request,
        "signin.html",
        lang,
        kind=dev.kind.value,
        tab="signin",
        max_upload_mb=ctx.config.serve.max_upload_mb,
        signout=bool(ctx.config.location.phone_signout),
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
