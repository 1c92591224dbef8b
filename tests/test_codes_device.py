"""Device codes (issue 27): a worker's phone signs its own two-minute code with its P-256 key; the
verifier checks it against the phone's registered key (store/codes/devices.py, store/codes/tokens.py)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from support.way_a_world import AT, build_world

from store.codes.devices import device_kid, live_kid, raw_point, register_device_key
from store.codes.tokens import (
    DEVICE_WINDOW_S,
    QR_VERSION_WORKER,
    TOKEN_CHARS,
    CodeError,
    TrustedDevice,
    TrustList,
    Verifier,
    device_window,
    issue_device_code,
    parse_code,
)
from store.db.engine import make_engine
from store.db.migrate import upgrade
from store.people.phone import activate, create_link, revoke_binding, revoke_person
from store.reasons import Reason, Role


def _trust(worker: uuid.UUID, key: ec.EllipticCurvePrivateKey, revoked: bool = False) -> TrustList:
    raw = raw_point(key.public_key())
    return TrustList(
        devices=[TrustedDevice(device_kid(raw), worker, key.public_key(), AT if revoked else None)]
    )


def test_device_code_format_window_and_refusals() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    worker = uuid.uuid4()
    at = AT + timedelta(seconds=75)
    token = issue_device_code(key, subject=worker, at=at)
    assert len(token) == TOKEN_CHARS  # the size of an issuer's worker code: QR 6-M
    code = parse_code(token)
    assert code.device and code.role is Role.WORKER and code.subject == worker
    assert code.issued_ts == device_window(at) and code.issued_ts % DEVICE_WINDOW_S == 0
    v = Verifier(_trust(worker, key), skew_s=30)
    who = v.verify(token, role=Role.WORKER, at=at)
    assert who.device and who.subject == worker and who.as_json()["signed_by"] == "device"
    # a screenshot is good for its own window (+ skew) only
    start = code.issued_at
    assert v.verify(token, at=start + timedelta(seconds=DEVICE_WINDOW_S + 30)).device
    with pytest.raises(CodeError) as exc:
        v.verify(token, at=start + timedelta(seconds=DEVICE_WINDOW_S + 31))
    assert exc.value.reason is Reason.CODE_EXPIRED
    # a future window (a phone clock set ahead) is refused beyond the skew
    future = issue_device_code(key, subject=worker, at=at + timedelta(seconds=DEVICE_WINDOW_S * 3))
    with pytest.raises(CodeError) as exc:
        v.verify(future, at=at)
    assert exc.value.reason is Reason.CODE_NOT_YET_VALID
    # another worker's phone key never vouches for this worker, even with the same kid
    with pytest.raises(CodeError) as exc:
        Verifier(_trust(uuid.uuid4(), key)).verify(token, at=at)
    assert exc.value.reason is Reason.CODE_UNKNOWN_KEY
    # another key (a thief's) with the phone's kid: a bad signature
    other = ec.generate_private_key(ec.SECP256R1())
    forged = TrustList(devices=[TrustedDevice(code.kid, worker, other.public_key())])
    with pytest.raises(CodeError) as exc:
        Verifier(forged).verify(token, at=at)
    assert exc.value.reason is Reason.CODE_INVALID
    # revoked
    with pytest.raises(CodeError) as exc:
        Verifier(_trust(worker, key, revoked=True)).verify(token, at=at)
    assert exc.value.reason is Reason.CODE_KEY_REVOKED
    # one changed character anywhere: refused
    for i in range(5, len(token), 13):
        c = "A" if token[i] != "A" else "B"
        with pytest.raises(CodeError):
            v.verify(token[:i] + c + token[i + 1 :], at=at)


def test_device_code_qr_version_and_decoder_chain(tmp_path: Path) -> None:
    import cv2
    import numpy as np
    import qrcode

    from kiosk.camera.decoders import make_decoder

    token = issue_device_code(ec.generate_private_key(ec.SECP256R1()), subject=uuid.uuid4(), at=AT)
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4, box_size=6)
    qr.add_data(token, optimize=0)
    qr.make(fit=True)
    assert qr.version <= QR_VERSION_WORKER
    img = np.array(qr.make_image().convert("L"), dtype=np.uint8)
    frame = cv2.cvtColor(np.pad(img, 40, constant_values=255), cv2.COLOR_GRAY2BGR)
    assert token in [d.text for d in make_decoder()(frame)]
    for name in (
        "zxingcpp",
        "pyzbar",
    ):  # the chain's two main readers alone (OpenCV's, the last resort, misses some random codes)
        assert token in [d.text for d in make_decoder(name, fallback=False, retries=False)(frame)], name


def test_registered_key_pulled_trust_and_revocation(any_url: str) -> None:
    w = build_world(any_url)
    key = ec.generate_private_key(ec.SECP256R1())
    _, dev = activate(w.engine, create_link(w.engine, worker_id=w.worker).token, at=AT)
    kid = register_device_key(
        w.engine, binding_id=dev.binding_id, worker_id=w.worker, public_raw=raw_point(key.public_key())
    )
    assert live_kid(w.engine, dev.binding_id) == kid
    # registering the same key again changes nothing
    assert (
        register_device_key(
            w.engine, binding_id=dev.binding_id, worker_id=w.worker, public_raw=raw_point(key.public_key())
        )
        == kid
    )
    token = issue_device_code(key, subject=w.worker, at=AT)
    assert Verifier(TrustList.from_engine(w.engine)).verify(token, at=AT).device
    # a new key for the same binding (site data cleared) revokes the old
    key2 = ec.generate_private_key(ec.SECP256R1())
    register_device_key(
        w.engine, binding_id=dev.binding_id, worker_id=w.worker, public_raw=raw_point(key2.public_key())
    )
    with pytest.raises(CodeError) as exc:
        Verifier(TrustList.from_engine(w.engine)).verify(token, at=AT)
    assert exc.value.reason is Reason.CODE_KEY_REVOKED
    token2 = issue_device_code(key2, subject=w.worker, at=AT)
    assert Verifier(TrustList.from_engine(w.engine)).verify(token2, at=AT).device
    # revoking the phone stops its codes
    revoke_binding(w.engine, dev.binding_id)
    with pytest.raises(CodeError) as exc:
        Verifier(TrustList.from_engine(w.engine)).verify(token2, at=AT)
    assert exc.value.reason is Reason.CODE_KEY_REVOKED
    # garbage is refused
    from store.errors import ValidationError

    for bad in (b"", b"\x04" + b"\x00" * 64, b"x" * 65, raw_point(key.public_key())[:33]):
        with pytest.raises(ValidationError):
            register_device_key(w.engine, binding_id=dev.binding_id, worker_id=w.worker, public_raw=bad)


def test_deleted_worker_and_person_revocation_stop_device_codes(sqlite_url: str) -> None:
    from store.db.engine import write_session
    from store.db.models import Worker

    w = build_world(sqlite_url)
    key = ec.generate_private_key(ec.SECP256R1())
    _, dev = activate(w.engine, create_link(w.engine, worker_id=w.worker).token, at=AT)
    register_device_key(
        w.engine, binding_id=dev.binding_id, worker_id=w.worker, public_raw=raw_point(key.public_key())
    )
    token = issue_device_code(key, subject=w.worker, at=AT)
    with write_session(w.engine) as s:
        row = s.get(Worker, w.worker)
        assert row is not None
        row.deleted_at = AT
        s.add(row)
    with pytest.raises(CodeError) as exc:
        Verifier(TrustList.from_engine(w.engine)).verify(token, at=AT)
    assert exc.value.reason is Reason.CODE_KEY_REVOKED
    assert revoke_person(w.engine, worker_id=w.worker) == 1


def test_kiosk_pulls_device_keys(tmp_path: Path, sqlite_url: str) -> None:
    from store.sync.pull import pull

    w = build_world(sqlite_url)
    key = ec.generate_private_key(ec.SECP256R1())
    _, dev = activate(w.engine, create_link(w.engine, worker_id=w.worker).token, at=AT)
    register_device_key(
        w.engine, binding_id=dev.binding_id, worker_id=w.worker, public_raw=raw_point(key.public_key())
    )
    local_url = f"sqlite:///{tmp_path / 'kiosk.db'}"
    upgrade(local_url)
    local = make_engine(local_url)
    pull(local, w.engine, today=AT.date())
    token = issue_device_code(key, subject=w.worker, at=AT)
    assert Verifier(TrustList.from_engine(local)).verify(token, at=AT).device
    revoke_binding(w.engine, dev.binding_id)
    pull(local, w.engine, today=AT.date())
    with pytest.raises(CodeError) as exc:
        Verifier(TrustList.from_engine(local)).verify(token, at=AT)
    assert exc.value.reason is Reason.CODE_KEY_REVOKED
