"""The JSON API behind the pages (documented at /api/openapi.json), so another front end can be built
on it. Every call acts as the phone's own person (``current_device``); none takes a worker id.

- ``GET /api/me``: who I am, and my readiness per project (``store.rules.signin.evaluate``)
- ``GET /api/code``: my current personal code (token, SVG QR, expiry); an officer's names today's project
- ``POST /api/place``: where I am against each of my projects' sign-in ranges
- ``POST /api/signin``: way A with the officer's code as read by the browser
- ``POST /api/signin/photo``: way A with a photo of the officer's code (read by the kiosk's decoder chain)
- ``GET /api/csrf``: the CSRF token to send as ``X-CSRF-Token``
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from kiosk.i18n import pair
from kiosk.serve.context import ServeContext
from kiosk.serve.deps import Ctx, MaxBody, Me, current_device
from kiosk.serve.errors import ServeError, input_error
from kiosk.serve.i18n import lang_of
from kiosk.serve.openapi import BINARY, multipart_body
from kiosk.serve.payloads import code_payload, me_payload, today
from kiosk.serve.schemas import CodePublic, CsrfPublic, ErrorPublic, MePublic, PlacePublic, SignInPublic
from kiosk.serve.security import client_address, csrf_protect, csrf_token, device_key, limit
from store.people.phone import Device, Kind

router = APIRouter(
    prefix="/api",
    tags=["phone"],
    responses={code: {"model": ErrorPublic} for code in (401, 403, 409, 413, 422, 429, 503)},
)

MAX_TOKEN_CHARS = 2000
MAX_PIXELS = 40_000_000
#: a version-1 QR code is 21 modules wide: a photo narrower than that holds none
MIN_SIDE_PX = 21
#: photos decoded at once per server process (each may take a second of a core and a few hundred MB): the
#: others wait their turn instead of all the request threads decoding at once
PHOTO_DECODES = threading.BoundedSemaphore(2)


# --- who I am -----------------------------------------------------------------------------------------


@router.get(
    "/me",
    summary="我的信息与签到条件 / who I am and my readiness per project",
    response_model=MePublic,
    response_model_exclude_unset=True,  # an officer's answer has no enrollment
)
def api_me(request: Request, ctx: Ctx, dev: Me) -> dict[str, Any]:
    return me_payload(ctx, dev, lang_of(request))


@router.get("/csrf", summary="CSRF token for X-CSRF-Token", response_model=CsrfPublic)
def api_csrf(request: Request) -> CsrfPublic:
    return CsrfPublic(csrf_token=csrf_token(request))


# --- my code ------------------------------------------------------------------------------------------


@router.get(
    "/code", summary="我的个人建设码 / my current personal code (two minutes)", response_model=CodePublic
)
async def api_code(request: Request, ctx: Ctx, project: str | None = None) -> dict[str, Any]:
    # the hottest call (every phone, every 100 s): who the phone is and its code in one thread hop
    return await run_in_threadpool(lambda: code_payload(ctx, request, current_device(request, ctx), project))


# --- way A ------------------------------------------------------------------------------------------


class PlaceBody(BaseModel):
    latitude: float
    longitude: float
    accuracy: float | None = None
    crs: Literal["wgs84", "gcj02"] = "wgs84"


class SignInBody(PlaceBody):
    officer_code: str = Field(max_length=MAX_TOKEN_CHARS)
    #: 签到 (in) or 签退 (out, where the project allows it: ``[location] phone_signout``)
    direction: Literal["in", "out"] = "in"
    nonce: str = Field(min_length=8, max_length=100, pattern=r"^[A-Za-z0-9_-]+$")
    #: a scan kept by the phone with no signal and sent later (issue 27): when it was made. Judged at that
    #: time, bounded by the officer code's own window and by QUEUED_MAX (see sign_in)
    scanned_at: datetime | None = None


#: how old a scan kept offline may be when it arrives
QUEUED_MAX = timedelta(hours=12)


def place_payload(ctx: ServeContext, dev: Device, body: PlaceBody, lang: str) -> dict[str, Any]:
    from store.projects import worker_projects
    from store.rules.geo import check_place, place_message, to_wgs84, validate_accuracy

    if dev.kind is not Kind.WORKER:
        raise ServeError(403, "err.officer_only", code="officer")
    to_wgs84(body.latitude, body.longitude, body.crs)  # bad input is 422 even with no project to compare
    validate_accuracy(body.accuracy)
    max_acc = ctx.config.location.max_accuracy_m
    out = []
    for p in worker_projects(ctx.engine, dev.subject_id, today(ctx)):
        place = check_place(
            p, body.latitude, body.longitude, accuracy_m=body.accuracy, crs=body.crs, max_accuracy_m=max_acc
        )
        msg = (
            place_message(place, place.refusal, lang=lang, max_accuracy_m=max_acc) if place.refusal else None
        )
        out.append(
            {
                "project": str(p.id),
                "name": p.name,
                "inside": place.refusal is None,
                "distance_m": place.distance_m,
                "reason": place.refusal.value if place.refusal else None,
                "message": msg,
            }
        )
    return {"accuracy_m": body.accuracy, "max_accuracy_m": max_acc, "projects": out}


@router.post(
    "/place",
    summary="我与签到范围的距离 / where I am against my projects' sign-in ranges",
    dependencies=[Depends(csrf_protect)],
    response_model=PlacePublic,
)
def api_place(request: Request, ctx: Ctx, body: PlaceBody, dev: Me) -> dict[str, Any]:
    return place_payload(ctx, dev, body, lang_of(request))


def limit_signin(ctx: ServeContext, request: Request) -> None:
    """The way-A rate limits, per phone and per address (429)."""
    limit(ctx.limits.signin_device, device_key(request))
    limit(ctx.limits.signin_ip, client_address(request))


def sign_in(
    ctx: ServeContext, request: Request, dev: Device, body: SignInBody, lang: str, *, limited: bool = False
) -> dict[str, Any]:
    """Way A for this phone's worker: the server decides (the page's green button is only a hint).
    ``limited``: the rate limits were counted already (the photo route, before its decoding)."""
    from store.codes.tokens import issue_code
    from store.people.phone import claim_nonce
    from store.reasons import Role
    from store.rules.geo import to_wgs84, validate_accuracy
    from store.rules.way_a import sign_in_way_a

    if dev.kind is not Kind.WORKER:
        raise ServeError(403, "err.officer_only", code="officer")
    if not limited:
        limit_signin(ctx, request)
    to_wgs84(body.latitude, body.longitude, body.crs)  # bad input: 422, nothing recorded
    validate_accuracy(body.accuracy)
    at = scanned_time(body.scanned_at, ctx.config.policy.clock_skew_s)
    if not claim_nonce(ctx.engine, dev.binding_id, body.nonce):
        raise ServeError(409, "err.replay", code="replay")
    worker_token = issue_code(ctx.key, role=Role.WORKER, subject=dev.subject_id, at=at, validity_s=60)
    if not ctx.key_usable:
        raise ServeError(503, "err.key_revoked", code="key_revoked")
    result = sign_in_way_a(
        ctx.engine,
        ctx.verifier_for(body.officer_code.strip()),
        officer_token=body.officer_code,
        worker_token=worker_token,
        latitude=body.latitude,
        longitude=body.longitude,
        accuracy_m=body.accuracy,
        crs=body.crs,
        max_accuracy_m=ctx.config.location.max_accuracy_m,
        policy=ctx.config.sign_in_policy(),
        at=at,
        direction=body.direction,
        signout_projects=ctx.config.location.phone_signout,
    )
    out = result.as_json()
    out["ok"] = result.ok
    out["message"] = result.message_en if lang == "en" else result.message_zh
    if not result.ok:  # 签到失败, the project named, the step that fixes it (issue 27)
        from kiosk.serve.refusals import refusal_help

        out.update(refusal_help(ctx.engine, result, out["message"], lang))
    return out


def scanned_time(scanned_at: datetime | None, skew_s: int) -> datetime | None:
    """The time a kept scan is judged at: None (now) for a live scan. A kept one must be no later than
    now + skew and no older than QUEUED_MAX (422 otherwise); the officer's code is then verified at that
    time, so the claim cannot leave the two minutes in which the officer showed that code."""
    if scanned_at is None:
        return None
    from store.timeutil import as_utc, utcnow

    at, now = as_utc(scanned_at), utcnow()
    if at > now + timedelta(seconds=skew_s) or at < now - QUEUED_MAX:
        raise ServeError(422, "signin.kept_too_old", code="bad_input")
    return at


@router.post(
    "/signin",
    summary="方式一签到（扫到的签到员码） / way A with the officer's code as scanned",
    dependencies=[Depends(csrf_protect)],
    response_model=SignInPublic,
)
async def api_signin(request: Request, ctx: Ctx, body: SignInBody) -> dict[str, Any]:
    return await run_in_threadpool(
        lambda: sign_in(ctx, request, current_device(request, ctx), body, lang_of(request))
    )


def decode_photo(ctx: ServeContext, data: bytes) -> str:
    """The officer's code from a photo, read by the kiosk's own decoder chain."""
    import io

    import cv2
    import numpy as np
    from PIL import Image

    from kiosk.camera.decoders import make_decoder

    try:
        with Image.open(io.BytesIO(data)) as im:
            w, h = im.size
    except Exception as exc:  # not an image PIL knows
        raise ServeError(400, "err.bad_image", code="bad_image") from exc
    if w * h > MAX_PIXELS:
        raise ServeError(413, "err.too_big", code="too_big", mb=ctx.config.serve.max_upload_mb)
    if min(w, h) < MIN_SIDE_PX:  # smaller than any QR code can be (the decoder chain's halved copy: 0 pixels)
        raise ServeError(400, "err.no_code", code="no_code")
    from store.people.images import BUDGET, MAX_SCANS, ImageBusy, jpeg_scans

    if jpeg_scans(data) > MAX_SCANS:  # a progressive JPEG bomb: each scan is a pass over every pixel
        raise ServeError(400, "err.bad_image", code="bad_image")
    busy = ImageBusy("photo", *pair("err.busy"))
    # the process's one decode budget (store/people/images.py), shared with the enrollment uploads
    with PHOTO_DECODES, BUDGET.reserve(w * h, busy):
        try:
            image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        except cv2.error as exc:  # a header PIL accepts and OpenCV refuses
            raise ServeError(400, "err.bad_image", code="bad_image") from exc
        except MemoryError as exc:  # out of memory is named as such, never "cannot read this photo"
            raise ServeError(503, "err.busy", code="busy") from exc
        if image is None or min(image.shape[:2]) < MIN_SIDE_PX:
            raise ServeError(400, "err.bad_image", code="bad_image")
        try:
            decoded = make_decoder(ctx.config.camera.decoder)(image)
        except cv2.error as exc:  # whatever the chain's image operations cannot take: not a readable photo
            raise ServeError(400, "err.bad_image", code="bad_image") from exc
        del image
    found = {d.text.strip() for d in decoded if d.text.strip()}
    if not found:
        raise ServeError(400, "err.no_code", code="no_code")
    if len(found) > 1:
        raise ServeError(400, "err.two_codes", code="two_codes")
    return found.pop()


@router.post(
    "/signin/photo",
    summary="方式一签到（签到员码的照片） / way A with a photo of the officer's code",
    dependencies=[Depends(MaxBody(photos=1)), Depends(csrf_protect)],
    response_model=SignInPublic,
    openapi_extra=multipart_body(
        ["photo", "latitude", "longitude", "nonce"],
        {
            "photo": BINARY,
            "latitude": {"type": "number"},
            "longitude": {"type": "number"},
            "accuracy": {"type": "number"},
            "crs": {"type": "string", "enum": ["wgs84", "gcj02"]},
            "nonce": {"type": "string"},
        },
    ),
)
async def api_signin_photo(request: Request, ctx: Ctx, dev: Me) -> dict[str, Any]:
    from pydantic import ValidationError as PydanticError
    from starlette.datastructures import UploadFile

    if dev.kind is not Kind.WORKER:
        raise ServeError(403, "err.officer_only", code="officer")
    # counted before the photo is read: a 50 KB PNG can declare 40 megapixels (a second of CPU, 300 MB)
    limit_signin(ctx, request)
    max_bytes = int(ctx.config.serve.max_upload_mb * 1024 * 1024)
    form = await request.form(max_files=1, max_fields=10)
    photo = form.get("photo")
    if not isinstance(photo, UploadFile):
        raise ServeError(400, "err.no_photo", code="no_photo")
    data = await photo.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise ServeError(413, "err.too_big", code="too_big", mb=ctx.config.serve.max_upload_mb)
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    lang = lang_of(request)
    try:
        place = PlaceBody.model_validate(
            {k: fields[k] for k in ("latitude", "longitude", "accuracy", "crs") if fields.get(k)}
        )
    except PydanticError as exc:
        raise input_error(exc.errors()) from exc
    from store.people.images import ImageBusy

    try:
        officer_code = await run_in_threadpool(decode_photo, ctx, data)
    except ImageBusy as exc:  # no turn to decode within the wait
        raise ServeError(503, "err.busy", code="busy") from exc
    try:
        body = SignInBody(
            **place.model_dump(),
            officer_code=officer_code[:MAX_TOKEN_CHARS],
            nonce=fields.get("nonce", ""),
            direction="out" if fields.get("direction") == "out" else "in",
        )
    except PydanticError as exc:
        raise input_error(exc.errors()) from exc
    return await run_in_threadpool(lambda: sign_in(ctx, request, dev, body, lang, limited=True))
