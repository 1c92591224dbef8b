"""One-time activation links: ``GET /a/{token}`` shows whose link it is and a confirm button (a link
preview in a chat app must not use it up); ``POST /a/{token}`` binds this browser and goes home. A used
link opened again on the phone it bound (its live binding) goes home too, not to "链接已使用过"."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kiosk.serve.deps import Ctx, current_device
from kiosk.serve.i18n import lang_of
from kiosk.serve.render import message_page, render
from kiosk.serve.security import client_address, csrf_protect, limit, set_device_cookie
from store.people.phone import LINK_MESSAGES, LinkError, LinkState, activate, link_binding, peek_link

router = APIRouter(tags=["activation"])


def _bound_by(request: Request, ctx: Ctx, token: str) -> bool:
    """This browser holds the live binding the link made."""
    from kiosk.serve.errors import DeviceError

    try:
        dev = current_device(request, ctx)
    except DeviceError:
        return False
    return dev.binding_id == link_binding(ctx.engine, token)


def _refused(request: Request, ctx: Ctx, state: LinkState, lang: str, token: str) -> Response:
    if state is LinkState.USED and _bound_by(request, ctx, token):
        return RedirectResponse("/", status_code=303)

    zh, en = LINK_MESSAGES[state]
    return message_page(
        request, lang, en if lang == "en" else zh, status=410 if state is not LinkState.UNKNOWN else 404
    )


@router.get("/a/{token}", response_class=HTMLResponse, include_in_schema=False, response_model=None)
def activation_page(request: Request, ctx: Ctx, token: str) -> Response:
    lang = lang_of(request)
    limit(ctx.limits.activate_ip, client_address(request))
    info = peek_link(ctx.engine, token)
    if info.state is not LinkState.VALID:
        return _refused(request, ctx, info.state, lang, token)
    return render(request, "activate.html", lang, info=info, token=token)


@router.post("/a/{token}", include_in_schema=False, dependencies=[Depends(csrf_protect)])
def activation_confirm(request: Request, ctx: Ctx, token: str) -> Response:
    lang = lang_of(request)
    limit(ctx.limits.activate_ip, client_address(request))
    try:
        secret, _device = activate(ctx.engine, token)
    except LinkError as exc:
        return _refused(request, ctx, exc.state, lang, token)
    response = RedirectResponse("/?bound=1", status_code=303)
    set_device_cookie(response, request, secret, secure=ctx.secure_cookies)
    return response
