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
import uuid
from datetime import date, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from kiosk.i18n import t
from kiosk.serve.i18n import lang_of
from kiosk.serve.openapi import BINARY, multipart_body
from kiosk.serve.security import (
    ServeError,
    client_address,
    csrf_protect,
    csrf_token,
    current_device,
    device_key,
    input_error,
    limit,
)
from store.people.phone import Device, Kind

router = APIRouter(prefix="/api", tags=["phone"])
#: the phone's own person: every call acts as him only
Me = Annotated[Device, Depends(current_device)]

MAX_TOKEN_CHARS = 2000
MAX_PIXELS = 40_000_000
#: a version-1 QR code is 21 modules wide: a photo narrower than that holds none
MIN_SIDE_PX = 21
#: photos decoded at once per server process (each may take a second of a core and a few hundred MB): the
#: others wait their turn instead of all the request threads decoding at once
PHOTO_DECODES = threading.BoundedSemaphore(2)


def today(request: Request) -> date:
    from store.timeutil import local_date, utcnow

    return local_date(utcnow(), request.app.state.ctx.config.policy.timezone)


# --- who I am -----------------------------------------------------------------------------------------


def me_payload(request: Request, dev: Device, lang: str) -> dict[str, Any]:
    from store.people.admin import readiness
    from store.people.phone import person
    from store.projects import officer_projects

    ctx = request.app.state.ctx
    p = person(ctx.engine, dev)
    if p is None:
        raise ServeError(401, "device.revoked", code="device_revoked")
    on = today(request)
    out: dict[str, Any] = {
        "kind": p.kind.value,
        "name": p.name,
        "id_masked": p.id_masked,
        "date": on.isoformat(),
    }
    if p.kind is Kind.WORKER:
        projects = []
        for r in readiness(ctx.engine, p.id, ctx.config.sign_in_policy(), on):
            if r.project_id is None:
                continue
            projects.append(
                {
                    "project": str(r.project_id),
                    "name": r.project_name,
                    "ready": r.ready,
                    "checks": [
                        {
                            "name": c.name,
                            "label": c.en if lang == "en" else c.zh,
                            "passed": c.passed,
                            "reason": c.reason.value if c.reason else None,
                            "message": (c.reason.en if lang == "en" else c.reason.zh) if c.reason else None,
                        }
                        for c in r.checks
                    ],
                    "steps": [
                        {"name": c.name, "label": c.en if lang == "en" else c.zh, "passed": c.passed}
                        for c in r.steps
                    ],
                }
            )
        out["projects"] = projects
        from kiosk.serve.routers.enroll import enroll_payload

        out["enrollment"] = enroll_payload(request, p.id, lang)  # each step's state (issue 14)
    else:
        out["projects"] = [
            {"project": str(pr.id), "name": pr.name} for pr in officer_projects(ctx.engine, p.id, on)
        ]
    return out


@router.get("/me", summary="我的信息与签到条件 / who I am and my readiness per project")
def api_me(request: Request, dev: Me) -> dict[str, Any]:
    return me_payload(request, dev, lang_of(request))


@router.get("/csrf", summary="CSRF token for X-CSRF-Token")
def api_csrf(request: Request) -> dict[str, str]:
    return {"csrf_token": csrf_token(request)}


# --- my code ------------------------------------------------------------------------------------------


def code_payload(request: Request, dev: Device, project: str | None = None) -> dict[str, Any]:
    from kiosk.serve.qr import qr_svg
    from store.codes.tokens import issue_code
    from store.projects import officer_projects
    from store.reasons import Role
    from store.timeutil import utcnow

    ctx = request.app.state.ctx
    limit(ctx.limits.code_device, device_key(request))
    if not ctx.key_usable:
        raise ServeError(503, "err.key_revoked", code="key_revoked")
    validity = ctx.config.codes.validity_s
    now = utcnow().replace(microsecond=0)
    project_id: uuid.UUID | None = None
    project_name: str | None = None
    projects: list[dict[str, str]] = []
    if dev.kind is Kind.WORKER:
        token = issue_code(ctx.key, role=Role.WORKER, subject=dev.subject_id, at=now, validity_s=validity)
    else:
        if not ctx.can_sign_officers:
            raise ServeError(409, "code.no_officer_key", code="no_officer_key")
        assigned = officer_projects(ctx.engine, dev.subject_id, today(request))
        if not assigned:
            raise ServeError(409, "code.no_project", code="no_project")
        projects = [{"project": str(p.id), "name": p.name} for p in assigned]
        chosen = next((p for p in assigned if str(p.id) == project), assigned[0])
        project_id, project_name = chosen.id, chosen.name
        token = issue_code(
            ctx.key,
            role=Role.OFFICER,
            subject=dev.subject_id,
            project=project_id,
            at=now,
            validity_s=validity,
        )
    expires = now + timedelta(seconds=validity)
    return {
        "kind": dev.kind.value,
        "token": token,
        "svg": qr_svg(token, label=t("code.title")),
        "issued_at": now.isoformat(),
        "expires_at": expires.isoformat(),
        "validity_s": validity,
        "renew_in_s": max(5, validity - 20),
        "server_time": utcnow().isoformat(),
        "project": str(project_id) if project_id else None,
        "project_name": project_name,
        "projects": projects,
    }


@router.get("/code", summary="我的个人建设码 / my current personal code (two minutes)")
async def api_code(request: Request, project: str | None = None) -> dict[str, Any]:
    # the hottest call (every phone, every 100 s): who the phone is and its code in one thread hop
    return await run_in_threadpool(lambda: code_payload(request, current_device(request), project))


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


def place_payload(request: Request, dev: Device, body: PlaceBody, lang: str) -> dict[str, Any]:
    from store.projects import worker_projects
    from store.rules.geo import check_place, place_message, to_wgs84, validate_accuracy

    ctx = request.app.state.ctx
    if dev.kind is not Kind.WORKER:
        raise ServeError(403, "err.officer_only", code="officer")
    to_wgs84(body.latitude, body.longitude, body.crs)  # bad input is 422 even with no project to compare
    validate_accuracy(body.accuracy)
    max_acc = ctx.config.location.max_accuracy_m
    out = []
    for p in worker_projects(ctx.engine, dev.subject_id, today(request)):
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
)
def api_place(request: Request, body: PlaceBody, dev: Me) -> dict[str, Any]:
    return place_payload(request, dev, body, lang_of(request))


def limit_signin(request: Request) -> None:
    """The way-A rate limits, per phone and per address (429)."""
    ctx = request.app.state.ctx
    limit(ctx.limits.signin_device, device_key(request))
    limit(ctx.limits.signin_ip, client_address(request))


def sign_in(
    request: Request, dev: Device, body: SignInBody, lang: str, *, limited: bool = False
) -> dict[str, Any]:
    """Way A for this phone's worker: the server decides (the page's green button is only a hint).
    ``limited``: the rate limits were counted already (the photo route, before its decoding)."""
    from store.codes.tokens import issue_code
    from store.people.phone import claim_nonce
    from store.reasons import Role
    from store.rules.geo import to_wgs84, validate_accuracy
    from store.rules.way_a import sign_in_way_a

    ctx = request.app.state.ctx
    if dev.kind is not Kind.WORKER:
        raise ServeError(403, "err.officer_only", code="officer")
    if not limited:
        limit_signin(request)
    to_wgs84(body.latitude, body.longitude, body.crs)  # bad input: 422, nothing recorded
    validate_accuracy(body.accuracy)
    if not claim_nonce(ctx.engine, dev.binding_id, body.nonce):
        raise ServeError(409, "err.replay", code="replay")
    worker_token = issue_code(ctx.key, role=Role.WORKER, subject=dev.subject_id, validity_s=60)
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
        direction=body.direction,
        signout_projects=ctx.config.location.phone_signout,
    )
    out = result.as_json()
    out["ok"] = result.ok
    out["message"] = result.message_en if lang == "en" else result.message_zh
    return out


@router.post(
    "/signin",
    summary="方式一签到（扫到的签到员码） / way A with the officer's code as scanned",
    dependencies=[Depends(csrf_protect)],
)
async def api_signin(request: Request, body: SignInBody) -> dict[str, Any]:
    return await run_in_threadpool(lambda: sign_in(request, current_device(request), body, lang_of(request)))


def decode_photo(request: Request, data: bytes) -> str:
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
        raise ServeError(
            413, "err.too_big", code="too_big", mb=request.app.state.ctx.config.serve.max_upload_mb
        )
    if min(w, h) < MIN_SIDE_PX:  # smaller than any QR code can be (the decoder chain's halved copy: 0 pixels)
        raise ServeError(400, "err.no_code", code="no_code")
    with PHOTO_DECODES:
        try:
            image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        except cv2.error as exc:  # a header PIL accepts and OpenCV refuses
            raise ServeError(400, "err.bad_image", code="bad_image") from exc
        if image is None or min(image.shape[:2]) < MIN_SIDE_PX:
            raise ServeError(400, "err.bad_image", code="bad_image")
        try:
            decoded = make_decoder(request.app.state.ctx.config.camera.decoder)(image)
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
    dependencies=[Depends(csrf_protect)],
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
async def api_signin_photo(request: Request, dev: Me) -> dict[str, Any]:
    from pydantic import ValidationError as PydanticError
    from starlette.datastructures import UploadFile

    ctx = request.app.state.ctx
    if dev.kind is not Kind.WORKER:
        raise ServeError(403, "err.officer_only", code="officer")
    # counted before the photo is read: a 50 KB PNG can declare 40 megapixels (a second of CPU, 300 MB)
    limit_signin(request)
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
    officer_code = await run_in_threadpool(decode_photo, request, data)
    try:
        body = SignInBody(
            **place.model_dump(),
            officer_code=officer_code[:MAX_TOKEN_CHARS],
            nonce=fields.get("nonce", ""),
            direction="out" if fields.get("direction") == "out" else "in",
        )
    except PydanticError as exc:
        raise input_error(exc.errors()) from exc
    return await run_in_threadpool(lambda: sign_in(request, dev, body, lang, limited=True))
