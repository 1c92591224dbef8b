"""A phone page rendered from its Jinja template (``templates/``): the language, the CSRF token and the path
go into every page; ``message_page`` is the one-line page of an error or a notice. The routers that show
pages (``routers/pages.py``, ``activation.py``, ``enroll.py``) all render through here."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from kiosk.serve.deps import context_of
from kiosk.serve.security import csrf_token


def render(request: Request, template: str, lang: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    return context_of(request).templates.TemplateResponse(
        request,
        template,
        {"lang": lang, "csrf": csrf_token(request), "path": request.url.path, **context},
        status_code=status,
    )


def message_page(
    request: Request, lang: str, text: str, *, status: int = 400, link: bool = False
) -> HTMLResponse:
    return render(request, "message.html", lang, status=status, text=text, link=link)
