"""The phone's own signing key and what the code page says about the worker (issue 27).

- ``POST /api/device-key``: the public half of the key pair the phone made with WebCrypto (ECDSA P-256,
  non-extractable private key kept in the browser's IndexedDB), as base64url of the raw 65-byte point.
  Recorded with the phone's binding (store/codes/devices.py); the answer names the key id and the worker,
  which the page puts into the codes it signs. A worker's phone only: an officer's code names a project
  and is issued online.
- ``code_status``: the name, masked ID number and the "今日可签到 / 还不能签到：…" line of the code page.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from kiosk.i18n import t
from kiosk.serve.security import ServeError, csrf_protect, current_device, device_key, limit
from store.people.phone import Device, Kind

router = APIRouter(prefix="/api", tags=["phone"])
Me = Annotated[Device, Depends(current_device)]


class DeviceKeyBody(BaseModel):
    public_key: str = Field(min_length=80, max_length=100, pattern=r"^[A-Za-z0-9_-]+=*$")
    alg: str = Field(default="ES256", pattern=r"^ES256$")


@router.post(
    "/device-key",
    summary="登记本机签码公钥 / register this phone's code-signing public key",
    dependencies=[Depends(csrf_protect)],
)
def api_device_key(request: Request, body: DeviceKeyBody, dev: Me) -> dict[str, Any]:
    from store.codes.devices import register_device_key

    ctx = request.app.state.ctx
    if dev.kind is not Kind.WORKER:
        raise ServeError(403, "err.officer_only", code="officer")
    limit(ctx.limits.code_device, device_key(request))
    try:
        raw = base64.urlsafe_b64decode(body.public_key + "=" * (-len(body.public_key) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ServeError(422, "err.input", code="bad_input") from exc
    kid = register_device_key(ctx.engine, binding_id=dev.binding_id, worker_id=dev.subject_id, public_raw=raw)
    return {"kid": kid, "subject": str(dev.subject_id), "alg": "ES256"}


def code_status(request: Request, dev: Device, lang: str) -> dict[str, Any]:
    """Who the code is for and whether he can sign in today (his projects' readiness)."""
    from kiosk.serve.routers.api import today
    from store.people.admin import readiness
    from store.people.phone import person

    ctx = request.app.state.ctx
    p = person(ctx.engine, dev)
    on = today(request)
    out: dict[str, Any] = {
        "name": p.name if p else "",
        "id_masked": p.id_masked if p else None,
        "date": on.isoformat(),
        "timezone": ctx.config.policy.timezone,  # the site's: the page tells a saved copy of another day
    }
    if dev.kind is not Kind.WORKER:
        return out
    ready, missing = False, []
    for r in readiness(ctx.engine, dev.subject_id, ctx.config.sign_in_policy(), on):
        if r.project_id is None:
            continue
        if r.ready:
            ready = True
        for c in r.checks:
            if not c.passed:
                text = (
                    (c.reason.en if lang == "en" else c.reason.zh)
                    if c.reason
                    else (c.en if lang == "en" else c.zh)
                )
                if text not in missing:
                    missing.append(text)
    if ready:
        out["status"] = t("code.can_sign", lang)
    else:
        out["status"] = t("code.cannot_sign", lang) + ("；" if lang != "en" else "; ").join(
            missing or [t("home.no_project", lang)]
        )
    out["ready"] = ready
    return out
