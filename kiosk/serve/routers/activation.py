"""One-time activation links: ``GET /a/{token}`` shows whose link it is and a confirm button (a link
preview in a chat app must not use it up); ``POST /a/{token}`` binds this browser and goes home."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kiosk.serve.deps import Ctx
from kiosk.serve.i18n import lang_of
from kiosk.serve.render import message_page, render
from kiosk.serve.security import client_address, csrf_protect, limit, set_device_cookie
from store.people.phone import LINK_MESSAGES, LinkError, LinkState, activate, peek_link

router = APIRouter(tags=["activation"])


def _refused(request: Request, state: LinkState, lang: str) -> HTMLResponse:
    zh, en = LINK_MESSAGES[state]
    return message_page(
        request, lang, en if lang == "en" else zh, status=410 if state is not LinkState.UNKNOWN else 404
    )


@router.get("/a/{token}", response_class=HTMLResponse, include_in_schema=False)
def activation_page(request: Request, ctx: Ctx, token: str) -> Response:
    lang = lang_of(request)
    limit(ctx.limits.activate_ip, client_address(request))
    info = peek_link(ctx.engine, token)
    if info.state is not LinkState.VALID:
        return _refused(request, info.state, lang)
    return render(request, "activate.html", lang, info=info, token=token)


@router.post("/a/{token}", include_in_schema=False, dependencies=[Depends(csrf_protect)])
def activation_confirm(request: Request, ctx: Ctx, token: str) -> Response:
    lang = lang_of(request)
    limit(ctx.limits.activate_ip, client_address(request))
    try:
        secret, _device = activate(ctx.engine, token)
    except LinkError as exc:
        return _refused(request, exc.state, lang)
    response = RedirectResponse("/?bound=1", status_code=303)
    set_device_cookie(response, request, secret, secure=ctx.secure_cookies)
    return response
