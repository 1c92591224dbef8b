"""The phone's own signing key and what the code page says about the worker (issue 27).

- ``POST /api/device-key``: the public half of the key pair the phone made with WebCrypto (ECDSA P-256,
  non-extractable private key kept in the browser's IndexedDB), as base64url of the raw 65-byte point.
  Recorded with the phone's binding (store/codes/devices.py); the answer names the key id and the worker,
  which the page puts into the codes it signs. A worker's phone only: an officer's code names a project
  and is issued online.
- what the code page says about the worker: ``code_status`` in kiosk/serve/payloads.py.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from kiosk.serve.deps import Ctx, Me
from kiosk.serve.errors import ServeError
from kiosk.serve.security import csrf_protect, device_key, limit
from store.people.phone import Kind

router = APIRouter(prefix="/api", tags=["phone"])


class DeviceKeyBody(BaseModel):
    public_key: str = Field(min_length=80, max_length=100, pattern=r"^[A-Za-z0-9_-]+=*$")
    alg: str = Field(default="ES256", pattern=r"^ES256$")


@router.post(
    "/device-key",
    summary="登记本机签码公钥 / register this phone's code-signing public key",
    dependencies=[Depends(csrf_protect)],
)
def api_device_key(request: Request, ctx: Ctx, body: DeviceKeyBody, dev: Me) -> dict[str, Any]:
    from store.codes.devices import register_device_key

    if dev.kind is not Kind.WORKER:
        raise ServeError(403, "err.officer_only", code="officer")
    limit(ctx.limits.code_device, device_key(request))
    try:
        raw = base64.urlsafe_b64decode(body.public_key + "=" * (-len(body.public_key) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ServeError(422, "err.input", code="bad_input") from exc
    kid = register_device_key(ctx.engine, binding_id=dev.binding_id, worker_id=dev.subject_id, public_raw=raw)
    return {"kid": kid, "subject": str(dev.subject_id), "alg": "ES256"}
