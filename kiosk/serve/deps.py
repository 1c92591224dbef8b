"""The FastAPI dependencies every router declares in its signatures (as the FastAPI template's
``SessionDep``/``CurrentUser``): the process's ``ServeContext`` (``Ctx``), the phone's bound person
(``Me``), the phone's worker (``WorkerMe``), and the largest body a route takes (``MaxBody``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from kiosk.serve.context import ServeContext, context_of
from kiosk.serve.errors import DeviceError, ServeError
from kiosk.serve.security import DEVICE_COOKIE
from store.people.phone import Device, Kind, device

#: the body of any route that declares no larger one: a JSON object or a short form
DEFAULT_BODY_BYTES = 64 * 1024
#: the multipart framing and text fields around the photos of an upload
FORM_OVERHEAD_BYTES = 64 * 1024


async def _context(request: Request) -> ServeContext:
    # async: FastAPI would run a plain function on a worker thread, a hop for nothing
    return context_of(request)


Ctx = Annotated[ServeContext, Depends(_context)]


def current_device(request: Request, ctx: Ctx) -> Device:
    """The person this phone is bound to; DeviceError (401) otherwise."""
    state, dev = device(ctx.engine, request.cookies.get(DEVICE_COOKIE))
    if dev is None:
        raise DeviceError(state)
    return dev


#: the phone's own person: every call acts as him only
Me = Annotated[Device, Depends(current_device)]


def worker_device(dev: Me) -> Device:
    """The phone's worker (an officer's phone has no enrollment to do)."""
    if dev.kind is not Kind.WORKER:
        raise ServeError(403, "enroll.worker_only", code="officer")
    return dev


WorkerMe = Annotated[Device, Depends(worker_device)]


class MaxBody:
    """A route's body limit, declared with the route (``dependencies=[Depends(MaxBody(photos=3))]``): a
    short body, this many photos of ``[serve] max_upload_mb`` each, or ``max_bytes``. The ``BodyLimit``
    middleware reads it from the matched route and refuses a longer body (413) before it is read, or as
    soon as a chunked body passes it; as a dependency it checks the declared length once more."""

    def __init__(self, *, photos: int = 0, max_bytes: int | None = None) -> None:
        self.photos, self.max_bytes = photos, max_bytes

    def cap(self, photo_bytes: int) -> int:
        if self.max_bytes is not None:
            return self.max_bytes
        return self.photos * photo_bytes + FORM_OVERHEAD_BYTES if self.photos else DEFAULT_BODY_BYTES

    async def __call__(self, request: Request, ctx: Ctx) -> None:
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > self.cap(ctx.photo_bytes):
            raise self.refusal(ctx.photo_bytes)

    def refusal(self, photo_bytes: int) -> ServeError:
        if self.photos and self.max_bytes is None:
            return ServeError(413, "err.too_big", code="too_big", mb=round(photo_bytes / 1024 / 1024, 1))
        # not a photo: saying "the photo is too large" would send the user looking for one
        return ServeError(413, "err.body_too_big", code="too_big", kb=self.cap(photo_bytes) // 1024)


__all__ = ["Ctx", "MaxBody", "Me", "WorkerMe", "context_of", "current_device", "worker_device"]
