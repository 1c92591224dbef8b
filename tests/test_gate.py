"""The gate: frames and typed codes → dedupe → verify → sign in, on real databases."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import qrcode
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from kiosk.camera.decoders import make_decoder
from kiosk.camera.dedupe import Deduper
from kiosk.camera.photo import gate_photo
from kiosk.camera.simulate import phone_frame
from kiosk.camera.sources import Frame
from kiosk.gate import Gate, GateEvent
from store.codes.keys import IssuerPrivateKey
from store.codes.tokens import TrustList, Verifier, issue_code
from store.db.engine import make_engine
from store.db.models import Attendance, GatePhoto, SignInAttempt
from store.people.seed import seed_demo
from store.reasons import Outcome, Reason, Role
from store.rules.signin import SignInService, code_hash

SIZE = (640, 480)


@dataclass
class Site:
    engine: Engine
    project: uuid.UUID
    key: IssuerPrivateKey
    eligible: list[uuid.UUID]
    examples: dict[str, list[str]]
    officer: uuid.UUID

    def code(self, worker: uuid.UUID, *, role: Role = Role.WORKER, at: datetime | None = None) -> str:
        return issue_code(self.key, role=role, subject=worker, at=at)

    def gate(self, **kw: object) -> Gate:
        args: dict[str, object] = {
            "service": SignInService(self.engine),
            "verifier": Verifier(TrustList.of_keys(self.key)),
            "project_id": self.project,
            "kiosk_id": uuid.uuid4(),
        }
        args.update(kw)
        return Gate(**args)  # type: ignore[arg-type]


def make_site(engine: Engine) -> Site:
    summary = seed_demo(engine, workers=60, projects=1, examples=10, seed=5)
    ex = summary["examples"]
    return Site(
        engine=engine,
        project=uuid.UUID(summary["examples_project"]),
        key=IssuerPrivateKey.generate(),
        eligible=[uuid.UUID(w) for w in ex["eligible"]],
        examples=ex,
        officer=uuid.UUID(summary["officers"][0]["id"]),
    )


@pytest.fixture
def site(engine: Engine) -> Site:
    return make_site(engine)


def frame_of(text: str | None, index: int = 0, t: float | None = None, **kw: object) -> Frame:
    image = phone_frame(text, size=SIZE, seed=index, **kw)  # type: ignore[arg-type]
    return Frame(image=image, index=index, t=time.monotonic() if t is None else t, source="test")


def attempts(engine: Engine) -> list[SignInAttempt]:
    with Session(engine) as s:
        return list(s.exec(select(SignInAttempt)))


def test_a_frame_signs_a_worker_in_durably(site: Site) -> None:
    gate = site.gate()
    worker = site.eligible[0]
    token = site.code(worker)
    [ev] = gate.handle_frame(frame_of(token))
    assert ev.result.outcome is Outcome.SIGNED_IN
    assert ev.worker_id == worker and ev.frame == 0 and ev.source == "test"
    assert ev.decoded is not None and ev.decoded.text == token
    assert 0 < ev.latency_ms < 10_000
    with Session(site.engine) as s:
        att = s.exec(select(Attendance).where(Attendance.worker_id == worker)).one()
        attempt = s.get(SignInAttempt, ev.result.attempt_id)
        assert attempt is not None and att.kiosk_id == gate.kiosk_id
        assert attempt.code_hash == code_hash(token)
    line = ev.as_json()
    assert line["worker"] == str(worker) and line["outcome"] == "signed_in" and line["reason"] is None
    assert line["message_zh"] == "签到成功" and line["message_en"] == "Signed in"
    assert token not in str(line)


def test_same_code_in_consecutive_frames_makes_one_attempt(site: Site) -> None:
    gate = site.gate(dedupe_window_s=3.0)
    token = site.code(site.eligible[0])
    t0 = time.monotonic()
    events = [ev for i in range(5) for ev in gate.handle_frame(frame_of(token, i, t=t0 + 0.1 * i))]
    assert [e.result.outcome for e in events] == [Outcome.SIGNED_IN]
    assert len(attempts(site.engine)) == 1
    # shown again after the window: one more attempt, an "already", no second attendance
    later = gate.handle_frame(frame_of(token, 9, t=t0 + 0.4 + 3.5))
    assert [e.result.outcome for e in later] == [Outcome.ALREADY]
    with Session(site.engine) as s:
        assert len(list(s.exec(select(Attendance)))) == 1


def test_deduper_window_slides_while_the_code_stays_in_view() -> None:
    d = Deduper(window_s=3.0)
    assert d.is_new("A", 0.0)
    assert not d.is_new("A", 2.0)
    assert not d.is_new("A", 4.5)  # seen 2.5 s ago: still the same showing
    assert d.is_new("B", 4.5)
    assert d.is_new("A", 8.0)
    zero = Deduper(window_s=0)
    assert zero.is_new("A", 1.0) and zero.is_new("A", 1.5)


def test_hostile_codes_are_refused_and_the_loop_goes_on(site: Site) -> None:
    gate = site.gate()
    payloads: list[str | bytes] = [
        bytes(range(256)),  # binary
        "X" * 3000,  # 3 KB of text
        b"\xff\xfe\xc3\x28 caf\xe9 \x80",  # not UTF-8
        "https://weixin.qq.com/r/6A9zMxrEZ5CkrT5-9xtK",  # another app's code
        "SJM1:" + "A" * 157,  # looks like ours, is not
    ]
    events: list[GateEvent] = []
    for i, data in enumerate(payloads):
        q = qrcode.QRCode(border=4, box_size=3)
        q.add_data(data)
        q.make(fit=True)
        grey = np.array(q.make_image().convert("L"))
        image = np.dstack([grey] * 3)
        events += gate.handle_frame(Frame(image=image, index=i, t=time.monotonic(), source="hostile"))
    assert len(events) == len(payloads)
    assert all(e.result.outcome is Outcome.REFUSED and e.result.reason is Reason.CODE_INVALID for e in events)
    assert all(e.worker_id is None for e in events)
    # and a genuine code right after still signs in
    [ok] = gate.handle_frame(frame_of(site.code(site.eligible[1]), 99))
    assert ok.result.outcome is Outcome.SIGNED_IN
    rows = attempts(site.engine)
    assert len(rows) == len(payloads) + 1
    assert all(r.code_hash and len(r.code_hash) == 64 for r in rows)  # a hash, never the payload


def test_refusals_name_their_reason(site: Site) -> None:
    gate = site.gate()
    no_card = uuid.UUID(site.examples["NO_BANK_CARD"][0])
    officer_code = site.code(site.officer, role=Role.OFFICER)
    stale = site.code(site.eligible[2], at=datetime.now(UTC) - timedelta(minutes=10))
    other_key = issue_code(IssuerPrivateKey.generate(), role=Role.WORKER, subject=site.eligible[3])
    no_card_code = site.code(no_card)
    want = {
        no_card_code: Reason.NO_BANK_CARD,
        officer_code: Reason.CODE_WRONG_ROLE,
        stale: Reason.CODE_EXPIRED,
        other_key: Reason.CODE_UNKNOWN_KEY,
    }
    for token, reason in want.items():
        ev = gate.handle_text(token)
        assert ev is not None and ev.result.reason is reason, reason
        assert ev.source == "keyboard" and ev.decoded is None
    assert gate.handle_frame(frame_of(no_card_code, 5)) == []  # the same code seconds later: a repeat


def test_an_expired_code_names_the_worker_its_signature_proves(site: Site) -> None:
    gate = site.gate()
    stale = site.code(site.eligible[8], at=datetime.now(UTC) - timedelta(minutes=10))
    ev = gate.handle_text(stale)
    assert ev is not None and ev.result.reason is Reason.CODE_EXPIRED
    card = ev.result.worker
    assert card is not None and card.id == uuid.UUID(str(site.eligible[8]))
    assert ev.result.message("zh") == f"{card.name}的建设码已过期，请让他刷新手机上的码后重新出示"
    assert ev.result.message("en") == (
        f"{card.name}'s code has expired: ask him to refresh it on his phone and show it again"
    )
    with Session(site.engine) as s:  # the attempt names him too
        row = s.exec(select(SignInAttempt).where(SignInAttempt.id == ev.result.attempt_id)).one()
    assert row.worker_id == card.id and row.reason == Reason.CODE_EXPIRED.value
    # a forged code (another key) proves nobody: no name
    forged = issue_code(
        IssuerPrivateKey.generate(),
        role=Role.WORKER,
        subject=site.eligible[9],
        at=datetime.now(UTC) - timedelta(minutes=10),
    )
    bad = gate.handle_text(forged)
    assert bad is not None and bad.result.worker is None and bad.result.reason is Reason.CODE_UNKNOWN_KEY


def test_typed_codes_share_the_dedupe_with_the_camera(site: Site) -> None:
    gate = site.gate()
    token = site.code(site.eligible[4])
    t = time.monotonic()
    [ev] = gate.handle_frame(frame_of(token, t=t))
    assert ev.result.outcome is Outcome.SIGNED_IN
    assert gate.handle_text(token + "\r\n", t=t + 1) is None
    assert gate.handle_text("   ") is None
    typed = gate.handle_text(site.code(site.eligible[5]) + "\n")
    assert typed is not None and typed.result.outcome is Outcome.SIGNED_IN and typed.frame == 0


def test_gate_photo_is_kept_with_the_attempt_or_not_at_all(site: Site) -> None:
    gate = site.gate()
    [ev] = gate.handle_frame(
        Frame(image=phone_frame(site.code(site.eligible[6]), seed=2), index=0, source="cam")
    )
    with Session(site.engine) as s:
        photo = s.exec(select(GatePhoto).where(GatePhoto.attempt_id == ev.result.attempt_id)).one()
    assert photo.width == 640 and photo.height == 360 and photo.jpeg[:2] == b"\xff\xd8"
    off = site.gate(gate_photos=False)
    [ev2] = off.handle_frame(frame_of(site.code(site.eligible[7]), 1))
    with Session(site.engine) as s:
        assert s.exec(select(GatePhoto).where(GatePhoto.attempt_id == ev2.result.attempt_id)).first() is None
    [typed] = [e for e in [gate.handle_text("not a code")] if e]
    with Session(site.engine) as s:  # typed input has no frame, so no photo
        assert (
            s.exec(select(GatePhoto).where(GatePhoto.attempt_id == typed.result.attempt_id)).first() is None
        )


def _readable(jpeg: bytes) -> list[str]:
    """Every code the kiosk's whole decoder chain (and its retries) can read from a stored photo."""
    import cv2

    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    return [d.text for d in make_decoder("zxingcpp")(image)]


def test_a_stored_gate_photo_carries_no_code(site: Site) -> None:
    """Issue 19: every gate photo decoded to the full, valid code. Now each code in view is painted over,
    repeats and a second phone included, before the photo is stored."""
    gate = site.gate()
    a, b = site.eligible[0], site.eligible[1]
    ca, cb = site.code(a), site.code(b)
    frames = [
        phone_frame(ca, seed=3),
        np.hstack(
            [
                phone_frame(cb, size=(640, 720), seed=4, angle=0, scale=0.8),
                phone_frame(ca, size=(640, 720), seed=5, angle=5, scale=0.8),  # a's code again: a repeat
            ]
        ),
    ]
    events = [
        e for i, f in enumerate(frames) for e in gate.handle_frame(Frame(image=f, index=i, source="cam"))
    ]
    assert [e.worker_id for e in events] == [a, b]
    with Session(site.engine) as s:
        photos = [
            s.exec(select(GatePhoto).where(GatePhoto.attempt_id == e.result.attempt_id)).one() for e in events
        ]
    for photo in photos:
        assert photo.jpeg[:2] == b"\xff\xd8" and _readable(photo.jpeg) == []
    assert _readable(gate_photo(frames[0], check=False)[0]) == [ca]  # type: ignore[index]  # unmasked


def test_a_photo_whose_code_cannot_be_hidden_is_not_kept(site: Site) -> None:
    image = phone_frame(site.code(site.eligible[2]), seed=6)
    assert gate_photo(image) is None  # no corners given: the code is still readable, so no photo
    assert gate_photo(image, hide=[((0, 0), (1, 0), (1, 1))]) is None  # corners elsewhere


def test_corpus_photos_keep_no_readable_code(qr_corpus: Path) -> None:
    """Real QR photos (other systems' codes, cameras, angles, glare): masked where the decoder found them,
    none is readable by the whole decoder chain afterwards; most are still kept as evidence."""
    import json

    import cv2

    decode = make_decoder("zxingcpp")
    read = kept = 0
    for line in (qr_corpus / "manifest.jsonl").read_text().splitlines():
        image = cv2.imread(str(qr_corpus / json.loads(line)["file"]), cv2.IMREAD_COLOR)
        found = decode(image) if image is not None else []
        if not found:
            continue
        read += 1
        photo = gate_photo(image, hide=[d.points for d in found])
        if photo is not None:
            kept += 1
            assert _readable(photo[0]) == [], line
    assert read > 150 and kept >= 0.9 * read, (read, kept)


def test_two_workers_in_one_frame_are_both_signed_in(site: Site) -> None:
    a, b = site.eligible[8], site.eligible[9]
    image = np.hstack(
        [
            phone_frame(site.code(a), size=(640, 720), seed=1, angle=0, scale=0.8),
            phone_frame(site.code(b), size=(640, 720), seed=2, angle=3, scale=0.8),
        ]
    )
    events = site.gate().handle_frame(Frame(image=image, index=0, source="cam"))
    assert sorted(str(e.worker_id) for e in events) == sorted([str(a), str(b)])
    assert all(e.result.outcome is Outcome.SIGNED_IN for e in events)


def test_gate_on_both_engines(any_url: str, tmp_path: Path) -> None:
    engine = make_engine(any_url)
    try:
        site = make_site(engine)
        gate = site.gate(dedupe_window_s=0)
        token = site.code(site.eligible[0])
        outcomes = [e.result.outcome for i in range(2) for e in gate.handle_frame(frame_of(token, i))]
        assert outcomes == [Outcome.SIGNED_IN, Outcome.ALREADY]
        bad = gate.handle_text("\udcff garbage")  # a lone surrogate, as a non-UTF-8 scan may give
        assert bad is not None and bad.result.reason is Reason.CODE_INVALID
    finally:
        engine.dispose()


def test_a_frame_the_store_cannot_record_is_not_recorded_and_the_next_frame_retries(site: Site) -> None:
    """Locked by another program past the busy timeout: NotRecorded with the reason, no attempt, and the
    code is forgotten by the de-duplication, so the very next frame of it (within the window) signs in."""
    import sqlite3

    from kiosk.gate import NotRecorded
    from store.db.engine import sqlite_path
    from store.errors import DatabaseLocked

    path = sqlite_path(site.engine)
    if path is None:
        pytest.skip("a SQLite file is locked here")
    gate = site.gate(dedupe_window_s=3.0)
    token = site.code(site.eligible[7])
    t0 = time.monotonic()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(NotRecorded) as exc:
            gate.handle_frame(frame_of(token, 0, t=t0))
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert isinstance(exc.value.cause, DatabaseLocked) and "未记录" in exc.value.zh
    assert exc.value.as_json()["outcome"] == "not_recorded"
    assert attempts(site.engine) == []
    [ev] = gate.handle_frame(frame_of(token, 1, t=t0 + 0.2))
    assert ev.result.outcome is Outcome.SIGNED_IN
