"""A phone page rendered from its Jinja template (``templates/``): the language, the CSRF token and the path
go into every page; ``message_page`` is the one-line page of an error or a notice. The routers that show
pages (``routers/pages.py``, ``activation.py``, ``enroll.py``) all render through here."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from kiosk.serve.context import context_of


def _csrf(request: Request) -> str:
    """The page's CSRF token, which ``security.ServeMiddleware`` put on the request (read here, not
    imported from there: the error handlers render pages, and security raises those errors)."""
    return str(getattr(request.state, "csrf", "") or "")


def render(request: Request, template: str, lang: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    return context_of(request).templates.TemplateResponse(
        request,
        template,
        {"lang": lang, "csrf": _csrf(request), "path": request.url.path, **context},
        status_code=status,
    )


def message_page(
    request: Request, lang: str, text: str, *, status: int = 400, link: bool = False
) -> HTMLResponse:
    return render(request, "message.html", lang, status=status, text=text, link=link)
