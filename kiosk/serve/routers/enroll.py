"""The worker's own enrollment on his phone (一、前置步骤 of the seed manual): the pages and the JSON API
behind them, over ``store/people/self_enroll.py`` (what he submits) and ``store/people/review.py`` (what the
administrator decided, and why).

Pages (server-rendered; ``static/enroll.js`` sends the forms and shows each answer in place, so a
refused submission keeps everything typed and every photo chosen):

- ``/enroll``: the four steps with where each stands (done / 待审核 / 未通过 and the reason / to do)
- ``/enroll/realname``: 个人信息采集 — ID card front and back, face photo, ID number and name
- ``/enroll/bank``: 银行卡 — bank from the list, card number (a failed check digit must be confirmed)
- ``/enroll/health``: 健康体检 — institution from the list (by pinyin) or 其他, date, result, report photo;
  nothing preselected; it waits for review like the bank card
- ``/enroll/employment``: 聘用信息确认 — his employments waiting for him, each confirmed with one tap

API (every call acts as the phone's own worker; state-changing calls need ``X-CSRF-Token``):
``GET /api/enroll``, ``POST /api/enroll/id-number``, ``POST /api/enroll/realname`` (multipart),
``POST /api/enroll/bank``, ``POST /api/enroll/health`` (multipart), ``GET /api/enroll/employments``,
``POST /api/enroll/employments/{id}/confirm``. A refusal is ``422`` with ``field``, ``message_zh`` and
``message_en`` (``error: luhn_unconfirmed`` asks the worker to confirm the card number).
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from kiosk.i18n import pair, t
from kiosk.serve.context import ServeContext
from kiosk.serve.deps import Ctx, MaxBody, WorkerMe, current_device, worker_device
from kiosk.serve.errors import DeviceError, ServeError, field_error
from kiosk.serve.i18n import lang_of
from kiosk.serve.openapi import BINARY, multipart_body
from kiosk.serve.payloads import enroll_payload, today
from kiosk.serve.render import message_page, render
from kiosk.serve.schemas import (
    BankSent,
    EmploymentConfirmed,
    EmploymentPublic,
    EnrollmentPublic,
    ErrorPublic,
    IdNumberPublic,
    SubmissionSent,
)
from kiosk.serve.security import csrf_protect, device_key, limit
from store.errors import ValidationError

router = APIRouter(
    tags=["enroll"], responses={code: {"model": ErrorPublic} for code in (401, 403, 413, 422, 429)}
)
MAX_FIELD_CHARS = 200
Me = WorkerMe


def _max_bytes(ctx: ServeContext) -> int:
    return ctx.photo_bytes


#: photo forms decoding at once in one service process; the others wait here without holding a thread of
#: the pool (the sync routes, such as the code fetch, keep theirs); the pixels are capped again below, in
#: ``store.people.images.BUDGET``, across every route that decodes
DECODE_SLOTS = 2


async def _decoding(request: Request, fn: Any) -> Any:
    """``fn()`` in the thread pool once one of ``DECODE_SLOTS`` is free; ``ImageBusy`` after waiting
    ``BUDGET_WAIT_S`` (the page says the service is busy, try again)."""
    import asyncio

    from store.people.images import BUDGET_WAIT_S, ImageBusy

    state = request.app.state
    slots = getattr(state, "enroll_decode_slots", None)
    if slots is None:
        slots = state.enroll_decode_slots = asyncio.Semaphore(DECODE_SLOTS)
    try:
        await asyncio.wait_for(slots.acquire(), BUDGET_WAIT_S)
    except TimeoutError as exc:
        raise ImageBusy("photo", *pair("err.busy")) from exc
    try:
        return await run_in_threadpool(fn)
    finally:
        slots.release()


def _write(ctx: ServeContext, fn: Any) -> Any:
    """``fn(session)`` in one committed transaction of the shared database (a request thread)."""
    from store.db.engine import translate_errors, write_session

    with translate_errors(str(ctx.engine.url)), write_session(ctx.engine) as s:
        return fn(s)


# --- where he stands ------------------------------------------------------------------------------------


@router.get(
    "/api/enroll", summary="我的登记进度 / where each enrollment step stands", response_model=EnrollmentPublic
)
def api_enroll(request: Request, ctx: Ctx, dev: Me) -> dict[str, Any]:
    return enroll_payload(ctx, dev.subject_id, lang_of(request))


# --- 个人信息采集 -------------------------------------------------------------------------------------


class IdNumberBody(BaseModel):
    id_number: str = Field(max_length=40)


@router.post(
    "/api/enroll/id-number",
    summary="核对身份证号码 / check an ID number (sex and birth date from it)",
    dependencies=[Depends(csrf_protect)],
    response_model=IdNumberPublic,
)
def api_id_number(request: Request, ctx: Ctx, body: IdNumberBody, dev: Me) -> IdNumberPublic:
    from store.people.self_enroll import read_id_number

    lang = lang_of(request)
    try:
        n = read_id_number(body.id_number, today=today(ctx))
    except ValidationError as exc:
        raise field_error(exc) from exc
    sex = t("enroll.sex.male" if n.sex == "M" else "enroll.sex.female", lang)
    return IdNumberPublic(id_masked=n.masked, sex=n.sex, sex_label=sex, birth_date=n.birth_date.isoformat())


def _counted(ctx: ServeContext, request: Request) -> str:
    """Count a submission against the phone's enrollment limit (429 past it); the request's language."""
    limit(ctx.limits.enroll_device, device_key(request))
    return lang_of(request)


async def _photos(
    ctx: ServeContext, request: Request, names: tuple[str, ...], fields: tuple[str, ...]
) -> tuple[dict[str, bytes | None], dict[str, str]]:
    """The uploaded photos and the text fields of a multipart form; a photo over ``[serve]
    max_upload_mb`` is a field error naming its size (the page refuses it before sending, too)."""
    from starlette.datastructures import UploadFile

    form = await request.form(max_files=len(names), max_fields=len(fields) + 4)
    limit_bytes = _max_bytes(ctx)
    photos: dict[str, bytes | None] = {}
    for name in names:
        value = form.get(name)
        if not isinstance(value, UploadFile):
            photos[name] = None
            continue
        data = await value.read(limit_bytes + 1)
        if len(data) > limit_bytes:
            size = (value.size or len(data)) / 1024 / 1024
            mb = ctx.config.serve.max_upload_mb
            zh, en = pair("enroll.too_big", size=f"{size:.1f}", mb=f"{mb:g}")
            raise ValidationError(name, zh, en)
        photos[name] = data or None
    text = {k: (v[:MAX_FIELD_CHARS] if isinstance(v := form.get(k), str) else "") for k in fields}
    return photos, text


@router.post(
    "/api/enroll/realname",
    summary="提交个人信息（实名） / submit my real-name information (waits for review)",
    dependencies=[Depends(MaxBody(photos=3)), Depends(csrf_protect)],
    openapi_extra=multipart_body(
        ["id_number", "name", "front_image", "back_image", "face_photo"],
        {
            "id_number": {"type": "string"},
            "name": {"type": "string"},
            "front_image": BINARY,
            "back_image": BINARY,
            "face_photo": BINARY,
        },
    ),
)
async def api_realname(request: Request, ctx: Ctx, dev: Me) -> SubmissionSent:
    from store.people.self_enroll import read_id_number, shrink_upload, submit_realname
    from store.rules.validation import validate_name

    lang = _counted(ctx, request)
    try:
        photos, text = await _photos(
            ctx, request, ("front_image", "back_image", "face_photo"), ("id_number", "name")
        )
    except ValidationError as exc:
        raise field_error(exc) from exc

    def save() -> Any:
        # what needs no database first (its errors come first, as ever), then the photos decoded and
        # shrunk outside any transaction (seconds each for a large one), then the write
        read_id_number(text["id_number"], today=today(ctx))
        validate_name(text["name"])
        small = {k: shrink_upload(v, k, _max_bytes(ctx)) for k, v in photos.items()}
        return _write(
            ctx,
            lambda s: (
                submit_realname(
                    session=s,
                    worker_id=dev.subject_id,
                    id_number=text["id_number"],
                    name=text["name"],
                    front=small["front_image"],
                    back=small["back_image"],
                    face=small["face_photo"],
                    today=today(ctx),
                    max_bytes=_max_bytes(ctx),
                ).id
            ),
        )

    # The two photo forms (here and api_health) end alike: the write in a thread, then the refusal or the
    # answer; their fields, checks and answers differ, so each keeps its own lines.
    try:
        sid = await _decoding(request, save)
    except ValidationError as exc:
        raise field_error(exc) from exc
    return SubmissionSent(submission=str(sid), status="pending", message=t("enroll.realname.sent", lang))


# --- 银行卡 -------------------------------------------------------------------------------------------


class BankBody(BaseModel):
    bank_name: str = Field(max_length=40)
    card_number: str = Field(max_length=40)
    luhn_confirmed: bool = False


@router.post(
    "/api/enroll/bank",
    summary="提交银行卡 / add or replace my bank card (waits for review)",
    dependencies=[Depends(csrf_protect)],
)
def api_bank(request: Request, ctx: Ctx, body: BankBody, dev: Me) -> BankSent:
    from store.people.self_enroll import submit_bank_card

    lang = _counted(ctx, request)
    try:
        sub = _write(
            ctx,
            lambda s: submit_bank_card(
                session=s,
                worker_id=dev.subject_id,
                bank_name=body.bank_name,
                card_number=body.card_number,
                luhn_confirmed=body.luhn_confirmed,
            ),
        )
    except ValidationError as exc:
        raise field_error(exc) from exc
    return BankSent(
        submission=str(sub.id),
        status="pending",
        card_masked=sub.card_masked,
        luhn_ok=sub.luhn_ok,
        message=t("enroll.bank.sent", lang, card=sub.card_masked),
    )


# --- 健康体检 -----------------------------------------------------------------------------------------


@router.post(
    "/api/enroll/health",
    summary="提交健康体检信息 / record my health check",
    dependencies=[Depends(MaxBody(photos=1)), Depends(csrf_protect)],
    openapi_extra=multipart_body(
        ["institution", "checked_on", "passed"],
        {
            "institution": {"type": "string", "description": "an institution id, or 'other'"},
            "institution_other": {"type": "string"},
            "checked_on": {"type": "string", "format": "date"},
            "passed": {"type": "string", "enum": ["yes", "no"]},
            "report_image": BINARY,
        },
    ),
)
async def api_health(request: Request, ctx: Ctx, dev: Me) -> SubmissionSent:
    from store.people.self_enroll import (
        F_CHECKED_ON,
        F_INSTITUTION,
        F_REPORT,
        shrink_upload,
        submit_health_check,
    )

    lang = _counted(ctx, request)
    try:
        photos, text = await _photos(
            ctx, request, ("report_image",), ("institution", "institution_other", "checked_on", "passed")
        )
    except ValidationError as exc:
        raise field_error(exc) from exc
    try:
        institution = None if text["institution"] in ("", "other") else uuid.UUID(text["institution"])
    except ValueError:
        raise field_error(
            ValidationError(F_INSTITUTION, "请从列表中选择体检机构", "Choose the institution from the list")
        ) from None
    try:
        checked_on = date.fromisoformat(text["checked_on"])
    except ValueError:
        raise field_error(
            ValidationError(F_CHECKED_ON, "请选择体检日期", "Choose the date of the check")
        ) from None
    if text["passed"] not in ("yes", "no"):
        raise field_error(ValidationError("passed", "请选择体检结论", "Choose the result"))

    def save() -> Any:
        report = shrink_upload(photos["report_image"], F_REPORT, _max_bytes(ctx))  # outside the transaction
        return _write(
            ctx,
            lambda s: (
                submit_health_check(
                    session=s,
                    worker_id=dev.subject_id,
                    checked_on=checked_on,
                    passed=text["passed"] == "yes",
                    institution_id=institution,
                    institution_other=text["institution_other"] if institution is None else None,
                    report=report,
                    today=today(ctx),
                    max_bytes=_max_bytes(ctx),
                ).id
            ),
        )

    try:
        hid = await _decoding(request, save)
    except ValidationError as exc:
        raise field_error(exc) from exc
    return SubmissionSent(submission=str(hid), status="pending", message=t("enroll.health.sent", lang))


# --- 聘用信息确认 -------------------------------------------------------------------------------------


def employments_payload(ctx: ServeContext, worker_id: uuid.UUID) -> list[dict[str, Any]]:
    from store.db.engine import session, translate_errors
    from store.people.self_enroll import my_employments

    with translate_errors(str(ctx.engine.url)), session(ctx.engine) as s:
        rows = my_employments(s, worker_id, on=today(ctx))
    return [
        {
            "employment": str(e.id),
            "employer": e.employer,
            "project": e.project,
            "team": e.team,
            "trade": e.trade,
            "start_date": e.start_date.isoformat(),
            "end_date": e.end_date.isoformat() if e.end_date else None,
            "confirmed_at": e.confirmed_at.isoformat() if e.confirmed_at else None,
            "waiting": e.waiting,
        }
        for e in rows
    ]


@router.get(
    "/api/enroll/employments",
    summary="我的聘用信息 / my employments (waiting ones first)",
    response_model=list[EmploymentPublic],
)
def api_employments(ctx: Ctx, dev: Me) -> list[dict[str, Any]]:
    return employments_payload(ctx, dev.subject_id)


@router.post(
    "/api/enroll/employments/{employment_id}/confirm",
    summary="确认聘用信息 / confirm one of my employments",
    dependencies=[Depends(csrf_protect)],
)
def api_confirm(request: Request, ctx: Ctx, employment_id: str, dev: Me) -> EmploymentConfirmed:
    from store.people.self_enroll import F_EMPLOYMENT, confirm_my_employment

    lang = _counted(ctx, request)
    try:
        eid = uuid.UUID(employment_id)
    except ValueError:
        raise field_error(ValidationError(F_EMPLOYMENT, "查无此聘用记录", "No such employment")) from None
    try:
        e = _write(
            ctx, lambda s: confirm_my_employment(session=s, worker_id=dev.subject_id, employment_id=eid)
        )
    except ValidationError as exc:
        raise field_error(exc) from exc
    return EmploymentConfirmed(
        employment=str(e.id),
        confirmed_at=e.confirmed_at.isoformat() if e.confirmed_at else None,
        message=t("enroll.employment.sent", lang),
    )


# --- the pages ------------------------------------------------------------------------------------------


def _page(request: Request, ctx: ServeContext, template: str, **context: Any) -> Response:
    lang = lang_of(request)
    try:
        dev = worker_device(current_device(request, ctx))
    except DeviceError as exc:
        return message_page(request, lang, exc.message(lang), status=401)
    except ServeError as exc:
        return message_page(request, lang, exc.message(lang), status=exc.status)
    enroll = enroll_payload(ctx, dev.subject_id, lang)
    extra = {k: (v(dev) if callable(v) else v) for k, v in context.items()}
    return render(
        request,
        template,
        lang,
        enroll=enroll,
        tab="enroll",
        max_upload_mb=ctx.config.serve.max_upload_mb,
        **extra,
    )


@router.get("/enroll", response_class=HTMLResponse, include_in_schema=False)
def enroll_page(request: Request, ctx: Ctx) -> Response:
    return _page(request, ctx, "enroll.html")


@router.get("/enroll/realname", response_class=HTMLResponse, include_in_schema=False)
def realname_page(request: Request, ctx: Ctx) -> Response:
    return _page(request, ctx, "enroll_realname.html")


@router.get("/enroll/bank", response_class=HTMLResponse, include_in_schema=False)
def bank_page(request: Request, ctx: Ctx) -> Response:
    from store.rules.validation import BANKS

    return _page(request, ctx, "enroll_bank.html", banks=BANKS)


@router.get("/enroll/health", response_class=HTMLResponse, include_in_schema=False)
def health_page(request: Request, ctx: Ctx) -> Response:
    from datetime import timedelta

    from store.people.admin import list_institutions
    from store.people.collation import pinyin_key
    from store.people.self_enroll import MAX_CHECK_AGE_DAYS

    day = today(ctx)
    return _page(
        request,
        ctx,
        "enroll_health.html",
        institutions=sorted(
            list_institutions(ctx.engine, active_only=True), key=lambda i: pinyin_key(i.name)
        ),
        today=day.isoformat(),
        oldest=(day - timedelta(days=MAX_CHECK_AGE_DAYS)).isoformat(),
    )


@router.get("/enroll/employment", response_class=HTMLResponse, include_in_schema=False)
def employment_page(request: Request, ctx: Ctx) -> Response:
    return _page(
        request,
        ctx,
        "enroll_employment.html",
        employments=lambda dev: employments_payload(ctx, dev.subject_id),
    )
