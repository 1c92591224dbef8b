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
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from kiosk.i18n import pair, t
from kiosk.serve.i18n import lang_of
from kiosk.serve.openapi import BINARY, multipart_body
from kiosk.serve.security import ServeError, csrf_protect, current_device, device_key, limit
from store.errors import ValidationError
from store.people.phone import Device, Kind

router = APIRouter(tags=["enroll"])
MAX_FIELD_CHARS = 200


def _worker(request: Request) -> Device:
    """The phone's worker (an officer's phone has no enrollment to do)."""
    dev = current_device(request)
    if dev.kind is not Kind.WORKER:
        raise ServeError(403, "enroll.worker_only", code="officer")
    return dev


Me = Annotated[Device, Depends(_worker)]


def _today(request: Request) -> date:
    from store.timeutil import local_date, utcnow

    return local_date(utcnow(), request.app.state.ctx.config.policy.timezone)


def _max_bytes(request: Request) -> int:
    return int(request.app.state.ctx.config.serve.max_upload_mb * 1024 * 1024)


def refused(exc: ValidationError, lang: str) -> JSONResponse:
    """422 naming the field; 503 ``busy`` when the service could not decode a photo now (out of memory or
    too many at once: not the photo's fault, the page says to try again)."""
    from store.people.images import ImageBusy
    from store.people.self_enroll import LuhnUnconfirmed

    code = "luhn_unconfirmed" if isinstance(exc, LuhnUnconfirmed) else "bad_input"
    if isinstance(exc, ImageBusy):
        code = "busy"
    return JSONResponse(
        {
            "error": code,
            "field": exc.field,
            "message": exc.message(lang),
            "message_zh": exc.zh,
            "message_en": exc.en,
        },
        status_code=503 if code == "busy" else 422,
    )


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


def _write(request: Request, fn: Any) -> Any:
    """``fn(session)`` in one committed transaction of the shared database (a request thread)."""
    from store.db.engine import translate_errors, write_session

    engine = request.app.state.ctx.engine
    with translate_errors(str(engine.url)), write_session(engine) as s:
        return fn(s)


# --- where he stands ------------------------------------------------------------------------------------


def enroll_payload(request: Request, worker_id: uuid.UUID, lang: str) -> dict[str, Any]:
    """His four steps, each with its state and, when rejected, the administrator's reason."""
    from store.people.review import reason_text
    from store.people.self_enroll import progress

    ctx = request.app.state.ctx
    p = progress(ctx.engine, worker_id, ctx.config.sign_in_policy(), _today(request))
    steps = []
    for s in p.steps:
        sub = s.submission
        steps.append(
            {
                "step": s.key,
                "label": s.en if lang == "en" else s.zh,
                "state": s.state.value,
                "state_label": t(f"enroll.state.{s.state.value}", lang),
                "detail": s.detail,
                "waiting": s.waiting,
                "submitted_at": sub.submitted_at.isoformat() if sub else None,
                "status": sub.status.value if sub else None,
                "summary": sub.summary if sub else "",
                "reason": reason_text(sub.reject_reason, lang) if sub and sub.reject_reason else None,
            }
        )
    return {"name": p.worker_name, "id_masked": p.id_masked, "steps": steps, "ready": p.ready}


@router.get("/api/enroll", summary="我的登记进度 / where each enrollment step stands")
def api_enroll(request: Request, dev: Me) -> dict[str, Any]:
    return enroll_payload(request, dev.subject_id, lang_of(request))


# --- 个人信息采集 -------------------------------------------------------------------------------------


class IdNumberBody(BaseModel):
    id_number: str = Field(max_length=40)


@router.post(
    "/api/enroll/id-number",
    summary="核对身份证号码 / check an ID number (sex and birth date from it)",
    dependencies=[Depends(csrf_protect)],
)
def api_id_number(request: Request, body: IdNumberBody, dev: Me) -> Response:
    from store.people.self_enroll import read_id_number

    lang = lang_of(request)
    try:
        n = read_id_number(body.id_number, today=_today(request))
    except ValidationError as exc:
        return refused(exc, lang)
    sex = t("enroll.sex.male" if n.sex == "M" else "enroll.sex.female", lang)
    return JSONResponse(
        {"id_masked": n.masked, "sex": n.sex, "sex_label": sex, "birth_date": n.birth_date.isoformat()}
    )


def _counted(request: Request) -> str:
    """Count a submission against the phone's enrollment limit (429 past it); the request's language."""
    limit(request.app.state.ctx.limits.enroll_device, device_key(request))
    return lang_of(request)


async def _photos(
    request: Request, names: tuple[str, ...], fields: tuple[str, ...]
) -> tuple[dict[str, bytes | None], dict[str, str]]:
    """The uploaded photos and the text fields of a multipart form; a photo over ``[serve]
    max_upload_mb`` is a field error naming its size (the page refuses it before sending, too)."""
    from starlette.datastructures import UploadFile

    form = await request.form(max_files=len(names), max_fields=len(fields) + 4)
    limit_bytes = _max_bytes(request)
    photos: dict[str, bytes | None] = {}
    for name in names:
        value = form.get(name)
        if not isinstance(value, UploadFile):
            photos[name] = None
            continue
        data = await value.read(limit_bytes + 1)
        if len(data) > limit_bytes:
            size = (value.size or len(data)) / 1024 / 1024
            mb = request.app.state.ctx.config.serve.max_upload_mb
            zh, en = pair("enroll.too_big", size=f"{size:.1f}", mb=f"{mb:g}")
            raise ValidationError(name, zh, en)
        photos[name] = data or None
    text = {k: (v[:MAX_FIELD_CHARS] if isinstance(v := form.get(k), str) else "") for k in fields}
    return photos, text


@router.post(
    "/api/enroll/realname",
    summary="提交个人信息（实名） / submit my real-name information (waits for review)",
    dependencies=[Depends(csrf_protect)],
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
async def api_realname(request: Request, dev: Me) -> Response:
    from store.people.self_enroll import read_id_number, shrink_upload, submit_realname
    from store.rules.validation import validate_name

    lang = _counted(request)
    try:
        photos, text = await _photos(
            request, ("front_image", "back_image", "face_photo"), ("id_number", "name")
        )
    except ValidationError as exc:
        return refused(exc, lang)

    def save() -> Any:
        # what needs no database first (its errors come first, as ever), then the photos decoded and
        # shrunk outside any transaction (seconds each for a large one), then the write
        read_id_number(text["id_number"], today=_today(request))
        validate_name(text["name"])
        small = {k: shrink_upload(v, k, _max_bytes(request)) for k, v in photos.items()}
        return _write(
            request,
            lambda s: (
                submit_realname(
                    session=s,
                    worker_id=dev.subject_id,
                    id_number=text["id_number"],
                    name=text["name"],
                    front=small["front_image"],
                    back=small["back_image"],
                    face=small["face_photo"],
                    today=_today(request),
                    max_bytes=_max_bytes(request),
                ).id
            ),
        )

    # The two photo forms (here and api_health) end alike: the write in a thread, then the refusal or the
    # answer; their fields, checks and answers differ, so each keeps its own lines.
    try:
        sid = await _decoding(request, save)
    except ValidationError as exc:
        return refused(exc, lang)
    return JSONResponse(
        {"submission": str(sid), "status": "pending", "message": t("enroll.realname.sent", lang)}
    )


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
def api_bank(request: Request, body: BankBody, dev: Me) -> Response:
    from store.people.self_enroll import submit_bank_card

    lang = _counted(request)
    try:
        sub = _write(
            request,
            lambda s: submit_bank_card(
                session=s,
                worker_id=dev.subject_id,
                bank_name=body.bank_name,
                card_number=body.card_number,
                luhn_confirmed=body.luhn_confirmed,
            ),
        )
    except ValidationError as exc:
        return refused(exc, lang)
    return JSONResponse(
        {
            "submission": str(sub.id),
            "status": "pending",
            "card_masked": sub.card_masked,
            "luhn_ok": sub.luhn_ok,
            "message": t("enroll.bank.sent", lang, card=sub.card_masked),
        }
    )


# --- 健康体检 -----------------------------------------------------------------------------------------


@router.post(
    "/api/enroll/health",
    summary="提交健康体检信息 / record my health check",
    dependencies=[Depends(csrf_protect)],
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
async def api_health(request: Request, dev: Me) -> Response:
    from store.people.self_enroll import (
        F_CHECKED_ON,
        F_INSTITUTION,
        F_REPORT,
        shrink_upload,
        submit_health_check,
    )

    lang = _counted(request)
    try:
        photos, text = await _photos(
            request, ("report_image",), ("institution", "institution_other", "checked_on", "passed")
        )
    except ValidationError as exc:
        return refused(exc, lang)
    try:
        institution = None if text["institution"] in ("", "other") else uuid.UUID(text["institution"])
    except ValueError:
        return refused(
            ValidationError(F_INSTITUTION, "请从列表中选择体检机构", "Choose the institution from the list"),
            lang,
        )
    try:
        checked_on = date.fromisoformat(text["checked_on"])
    except ValueError:
        return refused(ValidationError(F_CHECKED_ON, "请选择体检日期", "Choose the date of the check"), lang)
    if text["passed"] not in ("yes", "no"):
        return refused(ValidationError("passed", "请选择体检结论", "Choose the result"), lang)

    def save() -> Any:
        report = shrink_upload(
            photos["report_image"], F_REPORT, _max_bytes(request)
        )  # outside the transaction
        return _write(
            request,
            lambda s: (
                submit_health_check(
                    session=s,
                    worker_id=dev.subject_id,
                    checked_on=checked_on,
                    passed=text["passed"] == "yes",
                    institution_id=institution,
                    institution_other=text["institution_other"] if institution is None else None,
                    report=report,
                    today=_today(request),
                    max_bytes=_max_bytes(request),
                ).id
            ),
        )

    try:
        hid = await _decoding(request, save)
    except ValidationError as exc:
        return refused(exc, lang)
    return JSONResponse(
        {"submission": str(hid), "status": "pending", "message": t("enroll.health.sent", lang)}
    )


# --- 聘用信息确认 -------------------------------------------------------------------------------------


def employments_payload(request: Request, worker_id: uuid.UUID) -> list[dict[str, Any]]:
    from store.db.engine import session, translate_errors
    from store.people.self_enroll import my_employments

    engine = request.app.state.ctx.engine
    with translate_errors(str(engine.url)), session(engine) as s:
        rows = my_employments(s, worker_id, on=_today(request))
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


@router.get("/api/enroll/employments", summary="我的聘用信息 / my employments (waiting ones first)")
def api_employments(request: Request, dev: Me) -> list[dict[str, Any]]:
    return employments_payload(request, dev.subject_id)


@router.post(
    "/api/enroll/employments/{employment_id}/confirm",
    summary="确认聘用信息 / confirm one of my employments",
    dependencies=[Depends(csrf_protect)],
)
def api_confirm(request: Request, employment_id: str, dev: Me) -> Response:
    from store.people.self_enroll import F_EMPLOYMENT, confirm_my_employment

    lang = _counted(request)
    try:
        eid = uuid.UUID(employment_id)
    except ValueError:
        return refused(ValidationError(F_EMPLOYMENT, "查无此聘用记录", "No such employment"), lang)
    try:
        e = _write(
            request, lambda s: confirm_my_employment(session=s, worker_id=dev.subject_id, employment_id=eid)
        )
    except ValidationError as exc:
        return refused(exc, lang)
    return JSONResponse(
        {
            "employment": str(e.id),
            "confirmed_at": e.confirmed_at.isoformat() if e.confirmed_at else None,
            "message": t("enroll.employment.sent", lang),
        }
    )


# --- the pages ------------------------------------------------------------------------------------------


def _page(request: Request, template: str, **context: Any) -> Response:
    from kiosk.serve.render import message_page, render
    from kiosk.serve.security import DeviceError

    lang = lang_of(request)
    try:
        dev = _worker(request)
    except DeviceError as exc:
        return message_page(request, lang, exc.message(lang), status=401)
    except ServeError as exc:
        return message_page(request, lang, exc.message(lang), status=exc.status)
    enroll = enroll_payload(request, dev.subject_id, lang)
    extra = {k: (v(dev) if callable(v) else v) for k, v in context.items()}
    return render(
        request,
        template,
        lang,
        enroll=enroll,
        tab="enroll",
        max_upload_mb=request.app.state.ctx.config.serve.max_upload_mb,
        **extra,
    )


@router.get("/enroll", response_class=HTMLResponse, include_in_schema=False)
def enroll_page(request: Request) -> Response:
    return _page(request, "enroll.html")


@router.get("/enroll/realname", response_class=HTMLResponse, include_in_schema=False)
def realname_page(request: Request) -> Response:
    return _page(request, "enroll_realname.html")


@router.get("/enroll/bank", response_class=HTMLResponse, include_in_schema=False)
def bank_page(request: Request) -> Response:
    from store.rules.validation import BANKS

    return _page(request, "enroll_bank.html", banks=BANKS)


@router.get("/enroll/health", response_class=HTMLResponse, include_in_schema=False)
def health_page(request: Request) -> Response:
    from datetime import timedelta

    from store.people.admin import list_institutions
    from store.people.collation import pinyin_key
    from store.people.self_enroll import MAX_CHECK_AGE_DAYS

    engine = request.app.state.ctx.engine
    today = _today(request)
    return _page(
        request,
        "enroll_health.html",
        institutions=sorted(list_institutions(engine, active_only=True), key=lambda i: pinyin_key(i.name)),
        today=today.isoformat(),
        oldest=(today - timedelta(days=MAX_CHECK_AGE_DAYS)).isoformat(),
    )


@router.get("/enroll/employment", response_class=HTMLResponse, include_in_schema=False)
def employment_page(request: Request) -> Response:
    return _page(
        request,
        "enroll_employment.html",
        employments=lambda dev: employments_payload(request, dev.subject_id),
    )
