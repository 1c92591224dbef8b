"""A phone page rendered from its Jinja template (``templates/``): the language, the CSRF token and the path
go into every page; ``message_page`` is the one-line page of an error or a notice. The routers that show
pages (``routers/pages.py``, ``activation.py``, ``enroll.py``) all render through here."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from kiosk.serve.security import csrf_token

if TYPE_CHECKING:
    from kiosk.serve.context import ServeContext


def render(request: Request, template: str, lang: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    ctx: ServeContext = request.app.state.ctx
    return ctx.templates.TemplateResponse(
        request,
        template,
        {"lang": lang, "csrf": csrf_token(request), "path": request.url.path, **context},
        status_code=status,
    )


def message_page(
    request: Request, lang: str, text: str, *, status: int = 400, link: bool = False
) -> HTMLResponse:
    return render(request, "message.html", lang, status=status, text=text, link=link)
