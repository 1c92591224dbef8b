"""The kiosks' sync API (issue 24): kiosks pull and push through the service, never as database logins.

Every request is signed by the kiosk's Ed25519 key (store/sync/signing.py); ``kiosk_principal`` checks it
against the database (approved, not revoked, nonce not seen) and hands the route a typed
``KioskPrincipal``. Bodies may be gzip (``Content-Encoding: gzip``); answers are gzip when the kiosk
accepts it.

- ``POST /api/sync/v1/register``: a kiosk's public key, with an enrollment token (approved at once) or
  without (pending until ``kiosk kiosk approve``); signed by that same key (proof it holds it).
- ``GET /api/sync/v1/me``: the key's status and projects (pending keys too: ``kiosk doctor``).
- ``GET /api/sync/v1/pull``: one page of a resumable pull (store/sync/exchange.py).
- ``POST /api/sync/v1/push``: one batch, checked then applied; answers what was kept and refused.
- ``GET /api/sync/v1/wait``: long-poll until something the kiosk would pull changed (kiosk/serve/sync_hub.py);
  a key revoked while waiting is refused at once (403 ``revoked``), one rescoped answers "changed".
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
import uuid
import zlib
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from kiosk.serve.context import ServeContext
from kiosk.serve.deps import MaxBody, context_of
from kiosk.serve.sync_hub import SyncHub, Waiter
from store.sync.exchange import changes_since, pull_high, pull_page, push_batch, scope_key
from store.sync.keys import KioskAuthError, KioskPrincipal, authenticate, register
from store.sync.pull import PULLED
from store.sync.signing import H_NONCE, H_SIG, H_TIME, canonical, key_id, verify_signature
from store.timeutil import utcnow

router = APIRouter(prefix="/api/sync/v1", tags=["kiosk sync"])

#: a pushed body may inflate to this much (a batch of photos); more is refused, not decompressed
MAX_INFLATED = 256 * 1024 * 1024
#: a long-poll answers "nothing changed" after at most this long
WAIT_MAX_S = 30.0


class AuthRefused(Exception):
    def __init__(self, err: KioskAuthError) -> None:
        self.err = err


def refusal(err: KioskAuthError) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": err.code, "message": err.zh, "message_en": err.en}}, status_code=err.status
    )


def _ctx(request: Request) -> ServeContext:
    return context_of(request)


def _path(request: Request) -> str:
    q = request.url.query
    return request.url.path + (f"?{q}" if q else "")


def _inflate(request: Request, body: bytes) -> bytes:
    if request.headers.get("content-encoding", "").lower() != "gzip":
        return body
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = d.decompress(body, MAX_INFLATED)
    except zlib.error:
        raise AuthRefused(
            KioskAuthError(
                400,
                "bad_body",
                "请求体不是有效的 gzip：请升级签到机软件后重试",
                "The body is not valid gzip: update the kiosk's software and retry",
            )
        ) from None
    if d.unconsumed_tail:
        raise AuthRefused(
            KioskAuthError(
                413,
                "too_big",
                "上传的数据太大：请升级签到机软件（分批上传）；若仍出现，请告知维护人员",
                "The pushed batch is too large: update the kiosk's software (it pushes in batches); if it "
                "persists, tell the maintainers",
            )
        )
    return out


def _answer(request: Request, payload: BaseModel) -> Response:
    data = payload.model_dump_json().encode()
    if "gzip" in request.headers.get("accept-encoding", "") and len(data) > 1024:
        return Response(
            gzip.compress(data, 5),
            media_type="application/json",
            headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding"},
        )
    return Response(data, media_type="application/json")


@dataclass(frozen=True, slots=True)
class SignedBody:
    """A verified request: its kiosk, and its body (inflated)."""

    principal: KioskPrincipal
    body: bytes


async def _verified(request: Request, *, allow_pending: bool = False) -> tuple[KioskPrincipal, bytes]:
    raw = await request.body()
    ctx = _ctx(request)
    try:
        who = await run_in_threadpool(
            authenticate,
            ctx.engine,
            dict(request.headers),
            request.method,
            _path(request),
            raw,
            allow_pending=allow_pending,
        )
    except KioskAuthError as err:
        raise AuthRefused(err) from None
    return who, _inflate(request, raw)


async def kiosk_principal(request: Request) -> SignedBody:
    """The verified kiosk of an approved key, and the request's (inflated) body."""
    who, body = await _verified(request)
    return SignedBody(principal=who, body=body)


async def any_kiosk(request: Request) -> SignedBody:
    who, body = await _verified(request, allow_pending=True)
    return SignedBody(principal=who, body=body)


Kiosk = Annotated[SignedBody, Depends(kiosk_principal)]


# --- models -----------------------------------------------------------------------------------------


class RegisterIn(BaseModel):
    kiosk_id: uuid.UUID
    name: str = Field(min_length=1, max_length=80)
    public_key: str = Field(description="base64 of the raw 32-byte Ed25519 public key")
    token: str | None = Field(default=None, max_length=200)


class KeyStatus(BaseModel):
    key_id: str
    kiosk_id: uuid.UUID
    name: str
    status: str
    projects: list[uuid.UUID]
    scope: str
    server_time: float


class PullOut(BaseModel):
    high: int
    table: str
    columns: list[str]
    binary: list[str]
    rows: list[list[Any]]
    next: list[Any] | None
    scope: str


class PushOut(BaseModel):
    accepted: dict[str, int]
    rejected: int
    contested: int


class WaitOut(BaseModel):
    changed: bool


# --- routes -----------------------------------------------------------------------------------------


@router.post("/register", response_model=KeyStatus, summary="Register this kiosk's key")
async def register_key(request: Request) -> Response:
    raw = await request.body()
    try:
        got = RegisterIn.model_validate_json(raw)
        public = base64.b64decode(got.public_key, validate=True)
    except ValueError:
        return refusal(
            KioskAuthError(
                422,
                "bad_input",
                "登记信息格式错误：请升级签到机软件后重新运行 kiosk kiosk register",
                "The registration is malformed: update the kiosk's software and run kiosk kiosk register again",
            )
        )
    h = request.headers
    signed = canonical(request.method, _path(request), h.get(H_TIME, ""), h.get(H_NONCE, ""), raw)
    if len(public) != 32 or not verify_signature(public, signed, h.get(H_SIG, "")):
        return refusal(
            KioskAuthError(
                401,
                "bad_signature",
                "登记请求须由该密钥签名：请在签到机上运行 kiosk doctor 检查密钥文件后重新登记",
                "The registration must be signed by its key: run kiosk doctor on the kiosk to check its key "
                "file, then register again",
            )
        )
    ctx = _ctx(request)
    try:
        row = await run_in_threadpool(
            register, ctx.engine, public_raw=public, kiosk_id=got.kiosk_id, name=got.name, token=got.token
        )
    except KioskAuthError as err:
        return refusal(err)
    from store.sync.keys import parse_projects

    projects = parse_projects(row.projects)
    return _answer(
        request,
        KeyStatus(
            key_id=key_id(public),
            kiosk_id=row.kiosk_id,
            name=row.name,
            status=row.status,
            projects=sorted(projects),
            scope=scope_key(projects),
            server_time=utcnow().timestamp(),
        ),
    )


@router.get("/me", response_model=KeyStatus, summary="This kiosk's key: status and projects")
async def me(request: Request, k: Annotated[SignedBody, Depends(any_kiosk)]) -> Response:
    from store.sync.keys import find_key

    ctx = _ctx(request)
    row = await run_in_threadpool(find_key, ctx.engine, str(k.principal.kiosk_id))
    return _answer(
        request,
        KeyStatus(
            key_id=row.key_id,
            kiosk_id=row.kiosk_id,
            name=row.name,
            status=row.status,
            projects=sorted(k.principal.projects),
            scope=scope_key(k.principal.projects),
            server_time=utcnow().timestamp(),
        ),
    )


@router.get("/pull", response_model=PullOut, summary="One page of a resumable pull")
async def pull(
    request: Request,
    k: Kiosk,
    since: Annotated[int, Query(ge=0)] = 0,
    high: Annotated[int | None, Query(ge=0)] = None,
    t: Annotated[int, Query(ge=0, le=len(PULLED))] = 0,
    rev: Annotated[int | None, Query()] = None,
    id: Annotated[uuid.UUID | None, Query()] = None,
    thumbs: bool = False,
) -> Response:
    ctx = _ctx(request)
    top = high if high is not None else await run_in_threadpool(pull_high, ctx.engine)
    after = (rev, str(id)) if rev is not None and id is not None else None
    page = await run_in_threadpool(
        lambda: pull_page(
            ctx.engine, k.principal, since=since, high=top, table_index=t, after=after, face_thumbs=thumbs
        )
    )
    return _answer(
        request,
        PullOut(
            high=page.high,
            table=page.table,
            columns=page.columns,
            binary=page.binary,
            rows=page.rows,
            next=list(page.next) if page.next else None,
            scope=page.scope,
        ),
    )


#: a kiosk's pushed batch as sent (gate photos included, gzip); MAX_INFLATED bounds it inflated
MAX_PUSH_BYTES = 64 * 1024 * 1024


@router.post(
    "/push",
    response_model=PushOut,
    summary="Push one batch (idempotent)",
    dependencies=[Depends(MaxBody(max_bytes=MAX_PUSH_BYTES))],
)
async def push(request: Request, k: Kiosk) -> Response:
    try:
        batch = json.loads(k.body)
    except ValueError:
        return refusal(
            KioskAuthError(
                422,
                "bad_input",
                "上传的数据不是 JSON：请升级签到机软件后重试",
                "The pushed batch is not JSON: update the kiosk's software and retry",
            )
        )
    if not isinstance(batch, dict):
        return refusal(
            KioskAuthError(
                422,
                "bad_input",
                "上传的数据格式错误：请升级签到机软件后重试",
                "The pushed batch is malformed: update the kiosk's software and retry",
            )
        )
    ctx = _ctx(request)
    got = await run_in_threadpool(push_batch, ctx.engine, k.principal, batch)
    return _answer(request, PushOut(accepted=got.accepted, rejected=got.rejected, contested=got.contested))


def hub_of(request: Request) -> SyncHub:
    app = request.app
    hub: SyncHub | None = getattr(app.state, "sync_hub", None)
    if hub is None:
        hub = app.state.sync_hub = SyncHub(_ctx(request).engine)
    return hub.start()


@router.get("/wait", response_model=WaitOut, summary="Long-poll: until something to pull changed")
async def wait(
    request: Request,
    k: Kiosk,
    since: Annotated[int, Query(ge=0)] = 0,
    timeout: Annotated[float, Query(ge=0, le=WAIT_MAX_S)] = 25.0,
) -> Response:
    hub = hub_of(request)
    w = Waiter(k.principal.projects, k.principal.kiosk_id, asyncio.get_running_loop())
    hub.add(w)  # first: a change between the look below and waiting is not missed
    try:
        ctx = _ctx(request)
        now = await run_in_threadpool(changes_since, ctx.engine, since)
        if now.concerns(k.principal.projects, k.principal.kiosk_id):
            return _answer(request, WaitOut(changed=True))
        try:
            await asyncio.wait_for(w.event.wait(), timeout)
        except TimeoutError:
            return _answer(request, WaitOut(changed=False))
        if w.refused is not None:  # revoked (or unapproved) while it waited: refused now, not in 25 s
            return refusal(w.refused)
        return _answer(request, WaitOut(changed=True))
    finally:
        hub.remove(w)
