"""The body limit of every request, as its route declares it (``deps.MaxBody``; a short body otherwise).

The route is known only once the router has matched it (FastAPI puts it in ``scope["route"]``), which is
before the body's first byte is read: so the limit is looked up at the first read. A body declaring a longer
Content-Length is refused then, unread; a chunked body as soon as it passes the limit. The refusal is an
``errors.BodyTooLarge`` (413 with a zh/en message, answered by the service's handlers)."""

from __future__ import annotations

from starlette.routing import BaseRoute

from kiosk.serve.deps import MaxBody
from kiosk.serve.errors import BodyTooLarge
from kiosk.serve.security import ASGIApp, HttpMiddleware, Message, Receive, Scope, Send

SHORT_BODY = MaxBody()


def declared_limit(route: BaseRoute | None) -> MaxBody:
    """The route's own ``MaxBody`` dependency, else the short body's."""
    for dep in getattr(route, "dependencies", None) or ():
        if isinstance(dep.dependency, MaxBody):
            return dep.dependency
    return SHORT_BODY


class BodyLimit(HttpMiddleware):
    """Holds each request's body to its route's declared limit; ``photo_bytes`` is one photo's."""

    def __init__(self, app: ASGIApp, *, photo_bytes: int) -> None:
        super().__init__(app)
        self.photo_bytes = photo_bytes

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        length = next((v for k, v in scope.get("headers", ()) if k == b"content-length"), None)
        limit: MaxBody | None = None
        seen = 0

        async def limited() -> Message:
            nonlocal limit, seen
            if limit is None:
                limit = declared_limit(scope.get("route"))
                if length is not None and (not length.isdigit() or int(length) > self.cap(limit)):
                    raise BodyTooLarge(limit.refusal(self.photo_bytes))
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.cap(limit):
                    raise BodyTooLarge(limit.refusal(self.photo_bytes))
            return message

        await self.app(scope, limited, send)

    def cap(self, limit: MaxBody) -> int:
        return limit.cap(self.photo_bytes)


__all__ = ["BodyLimit", "declared_limit"]
