"""The worker's own enrollment (store/people/self_enroll.py) and the administrator's review (store/people/review.py):
each step from the phone's point of view, what the gate's rules then say, and every bad input refused
with nothing saved. Every person is synthetic."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import cv2
import numpy as np
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select
from support.enroll_world import (
    ADMIN,
    POLICY,
    TODAY,
    Site,
    face_jpeg,
    face_rgb,
    huge_photo,
    id_number,
    jpeg,
    luhn_card,
    no_face_jpeg,
    text_renamed_jpg,
    two_faces_jpeg,
)

from store.db.engine import make_engine, session, write_session
from store.db.models import (
    AuditLog,
    BankCard,
    BankCardSubmission,
    Employment,
    FaceCheck,
    HealthCheck,
    HealthCheckSubmission,
    HealthReport,
    IdentityDocument,
    RealnameSubmission,
    Worker,
)
from store.errors import StoreError, ValidationError
from store.people.enroll import (
    add_bank_card,
    verify_realname,
)
from store.people.review import (
    REJECT_REASONS,
    ReviewKind,
    approve,
    bankcard_review,
    health_review,
    realname_review,
    reason_text,
    reject,
    review_queue,
)
from store.people.self_enroll import (
    LuhnUnconfirmed,
    Status,
    StepState,
    confirm_my_employment,
    my_employments,
    progress,
    read_id_number,
    submit_bank_card,
    submit_health_check,
)
from store.reasons import Reason
from store.timeutil import utcnow


@pytest.fixture
def site(engine: Engine) -> Site:
    return Site(engine)


def rule(p, name: str) -> Reason | None:  # type: ignore[no-untyped-def]
    return next(c.reason for c in p.projects[0].checks if c.name == name)


# --- 个人信息采集 ---------------------------------------------------------------------------------------


def test_realname_waits_for_review_then_verifies_him(site: Site) -> None:
    before = site.progress()
    assert before.step("realname").state is StepState.TODO
    assert rule(before, "realname") is Reason.REALNAME_INCOMPLETE

    sub = site.realname()
    assert sub.status == Status.PENDING.value
    p = site.progress()
    assert p.step("realname").state is StepState.PENDING
    assert p.step("realname").submission is not None
    assert (
        rule(p, "realname") is Reason.REALNAME_INCOMPLETE
    )  # waiting is not verified: the gate still refuses
    assert site.count(IdentityDocument) == 0 and site.count(FaceCheck) == 0

    queue = review_queue(site.engine)
    assert [(q.kind, q.id) for q in queue] == [(ReviewKind.REALNAME, sub.id)]
    assert queue[0].id_masked == "*" * 14 + site.number[-4:]  # the last four only (issue 19)
    full = realname_review(site.engine, sub.id)
    assert full.sex == "M" and full.birth_date == date(1985, 3, 14)
    for image in (full.front_image, full.back_image, full.face_photo):
        assert (
            image is not None and cv2.imdecode(np.frombuffer(image, np.uint8), cv2.IMREAD_COLOR) is not None
        )

    with write_session(site.engine) as s:
        approve(session=s, kind=ReviewKind.REALNAME, submission_id=sub.id, by=ADMIN)

    w = site.worker()
    assert w.realname_verified_at is not None and w.realname_verified_by == ADMIN
    assert w.face_thumb is not None
    with session(site.engine) as s:
        doc = s.exec(select(IdentityDocument).where(IdentityDocument.worker_id == site.worker_id)).one()
        assert doc.front_image and doc.back_image
        fc = s.exec(select(FaceCheck).where(FaceCheck.worker_id == site.worker_id)).one()
        assert fc.verified and fc.verified_by == ADMIN and fc.faces_found == 1
        kept = s.get(RealnameSubmission, sub.id)
        assert kept is not None and kept.status == Status.APPROVED.value and kept.decided_by == ADMIN
        assert (
            kept.front_image is None and kept.back_image is None and kept.face_photo is None
        )  # not kept twice
        actors = {(a.actor, a.action, a.table_name) for a in s.exec(select(AuditLog))}
    assert (f"worker:{site.worker_id}", "submit", "realnamesubmission") in actors
    assert (ADMIN, "approve", "realnamesubmission") in actors
    assert (ADMIN, "verify", "worker") in actors
    p = site.progress()
    assert p.step("realname").state is StepState.DONE and rule(p, "realname") is None
    assert review_queue(site.engine) == []


def test_the_id_number_tells_sex_and_birth_date() -> None:
    n = read_id_number(id_number(date(1992, 11, 30), 482), today=TODAY)  # 17th digit 2: a woman
    assert (n.sex, n.birth_date) == ("F", date(1992, 11, 30))
    assert n.masked == "*" * 14 + n.number[-4:]  # the last four only (issue 19)


def _refused(site: Site, field: str, zh: str, en: str, **kw: object) -> None:
    audits = site.audit_count()
    with pytest.raises(ValidationError) as err:
        site.realname(**kw)
    assert err.value.field == field
    assert zh in err.value.zh and en in err.value.en
    assert site.count(RealnameSubmission) == 0 and site.audit_count() == audits  # nothing half-saved


def test_a_wrong_check_character_is_refused(site: Site) -> None:
    bad = site.number[:-1] + ("1" if site.number[-1] != "1" else "2")
    _refused(site, "id_number", "校验位错误", "wrong check character", id_number=bad)


def test_another_persons_number_is_refused(site: Site) -> None:
    _refused(
        site,
        "id_number",
        "与登记的不一致",
        "not the one you are enrolled with",
        id_number=id_number(date(1990, 1, 2), 246),
    )


def test_a_name_that_disagrees_with_the_verified_one_is_refused(site: Site) -> None:
    with write_session(site.engine) as s:
        w = s.get(Worker, site.worker_id)
        assert w is not None
        verify_realname(session=s, worker=w, by=ADMIN)
    _refused(site, "name", "与已实名认证的姓名", "differs from your verified name", name="王建华")


def test_an_empty_name_is_refused(site: Site) -> None:
    _refused(site, "name", "姓名不能为空", "Name must not be empty", name="  ")


def test_a_text_file_renamed_jpg_is_refused(site: Site) -> None:
    _refused(site, "front_image", "不是图片文件", "is not a picture", front=text_renamed_jpg())


def test_a_40_mb_photo_is_refused(site: Site) -> None:
    _refused(site, "back_image", "文件太大（40.0 MB）", "too large (40.0 MB", back=huge_photo(40))


def test_a_face_photo_with_two_faces_is_refused(site: Site) -> None:
    _refused(site, "face_photo", "有2张人脸", "shows 2 faces", face=two_faces_jpeg())


def test_a_face_photo_with_no_face_is_refused(site: Site) -> None:
    _refused(site, "face_photo", "没有找到人脸", "No face found", face=no_face_jpeg())


def test_a_missing_photo_is_refused(site: Site) -> None:
    _refused(site, "face_photo", "请选择人脸照片", "choose a photo", face=None)


def test_an_unverified_worker_may_correct_his_name_and_approval_takes_it(site: Site) -> None:
    sub = site.realname(name="王建國")
    assert realname_review(site.engine, sub.id).name_enrolled == "王建国"
    with write_session(site.engine) as s:
        approve(session=s, kind=ReviewKind.REALNAME, submission_id=sub.id, by=ADMIN)
    w = site.worker()
    assert w.name == "王建國" and w.realname_verified_at is not None


def test_a_large_phone_photo_of_one_face_is_one_face(site: Site) -> None:
    """A 12-megapixel photo is looked at at webcam size: at full stored size the cascade also sees faces
    in hair and cloth."""
    from PIL import Image

    big = jpeg(Image.fromarray(face_rgb()).resize((4000, 3000)))
    sub = site.realname(face=big)
    assert sub.face_thumb is not None


def test_a_portrait_photo_stored_sideways_by_the_phone_is_turned_upright(site: Site) -> None:
    """Phones save a portrait photo as landscape pixels plus an EXIF orientation: the face is found only
    once the picture is turned as the phone meant it."""
    from PIL import Image

    from store.people.faces import detect_faces

    upright = Image.fromarray(face_rgb())
    sideways = upright.transpose(Image.Transpose.ROTATE_90)  # what the sensor wrote
    exif = sideways.getexif()
    exif[0x0112] = 6  # "rotate 90° clockwise to view"
    raw = jpeg(sideways, exif=exif.tobytes())
    assert not detect_faces(cv2.cvtColor(np.asarray(sideways), cv2.COLOR_RGB2BGR))  # as stored: no face
    sub = site.realname(face=raw)
    assert sub.face_photo is not None and b"Exif" not in sub.face_photo


def test_a_new_submission_replaces_the_waiting_one(site: Site) -> None:
    first = site.realname()
    second = site.realname()
    with session(site.engine) as s:
        old = s.get(RealnameSubmission, first.id)
        assert old is not None and old.status == Status.SUPERSEDED.value and old.face_photo is None
    assert [q.id for q in review_queue(site.engine)] == [second.id]
    with write_session(site.engine) as s, pytest.raises(StoreError, match="already decided"):
        approve(session=s, kind=ReviewKind.REALNAME, submission_id=first.id, by=ADMIN)


def test_a_rejection_reaches_the_worker_with_its_reason(site: Site) -> None:
    sub = site.realname()
    with write_session(site.engine) as s, pytest.raises(ValidationError, match="Give the reason"):
        reject(session=s, kind=ReviewKind.REALNAME, submission_id=sub.id, by=ADMIN, reason=" ")
    zh, en = REJECT_REASONS[0]
    with write_session(site.engine) as s:
        reject(session=s, kind=ReviewKind.REALNAME, submission_id=sub.id, by=ADMIN, reason=zh)
    step = site.progress().step("realname")
    assert step.state is StepState.REJECTED
    assert step.submission is not None and step.submission.reject_reason == zh
    assert reason_text(step.submission.reject_reason, "en") == en
    assert reason_text("卡号少一位", "en") == "卡号少一位"  # typed by the administrator: as typed
    with session(site.engine) as s:
        kept = s.get(RealnameSubmission, sub.id)
        assert kept is not None and kept.front_image is None and kept.face_photo is None
        assert (
            s.exec(select(AuditLog).where(AuditLog.action == "reject", AuditLog.actor == ADMIN)).one().detail
            is None
        )
    assert site.worker().realname_verified_at is None
    with write_session(site.engine) as s, pytest.raises(StoreError, match="already decided"):
        approve(session=s, kind=ReviewKind.REALNAME, submission_id=sub.id, by=ADMIN)


# --- 银行卡 -------------------------------------------------------------------------------------------


def _card(site: Site, number: str, bank: str = "中国建设银行", confirmed: bool = False) -> BankCardSubmission:
    with write_session(site.engine) as s:
        sub = submit_bank_card(
            session=s, worker_id=site.worker_id, bank_name=bank, card_number=number, luhn_confirmed=confirmed
        )
        s.flush()
        s.expunge(sub)
        return sub


def test_a_bank_card_waits_then_replaces_the_one_on_file(site: Site) -> None:
    with write_session(site.engine) as s:
        w = s.get(Worker, site.worker_id)
        assert w is not None
        add_bank_card(
            session=s, worker=w, bank_name="中国银行", card_number=luhn_card("621700000000000"), actor=ADMIN
        )
    number = luhn_card()
    sub = _card(site, f"{number[:4]} {number[4:8]} {number[8:]}")
    assert sub.card_masked == number[:4] + "*" * (len(number) - 8) + number[-4:] and sub.luhn_ok
    review = bankcard_review(site.engine, sub.id)
    assert (
        review.holder == "王建国" and review.replaces is not None and review.replaces.startswith("中国银行")
    )
    assert (
        site.progress().step("bank_card").state is StepState.DONE
    )  # the old card counts until the new one is approved
    with write_session(site.engine) as s:
        approve(session=s, kind=ReviewKind.BANK_CARD, submission_id=sub.id, by=ADMIN)
    with session(site.engine) as s:
        cards = list(s.exec(select(BankCard).where(BankCard.worker_id == site.worker_id)))
        assert [(c.bank_name, c.card_number, c.holder_name) for c in cards] == [
            ("中国建设银行", number, "王建国")
        ]
        kept = s.get(BankCardSubmission, sub.id)
        assert kept is not None and kept.card_number is None and kept.status == Status.APPROVED.value
    step = site.progress().step("bank_card")
    assert step.state is StepState.DONE and step.detail == f"中国建设银行 {sub.card_masked}"
    assert number not in step.detail


def test_a_new_workers_card_counts_only_once_approved(site: Site) -> None:
    sub = _card(site, luhn_card())
    p = site.progress()
    assert p.step("bank_card").state is StepState.PENDING and rule(p, "bank_card") is Reason.NO_BANK_CARD
    with write_session(site.engine) as s:
        approve(session=s, kind=ReviewKind.BANK_CARD, submission_id=sub.id, by=ADMIN)
    assert rule(site.progress(), "bank_card") is None and site.worker().has_bank_card


def test_a_bad_check_digit_must_be_confirmed(site: Site) -> None:
    number = luhn_card()
    bad = number[:-1] + str((int(number[-1]) + 1) % 10)
    with pytest.raises(LuhnUnconfirmed) as err:
        _card(site, bad)
    assert err.value.field == "card_number" and "校验未通过" in err.value.zh and "check-digit" in err.value.en
    assert site.count(BankCardSubmission) == 0
    sub = _card(site, bad, confirmed=True)
    assert not sub.luhn_ok and not bankcard_review(site.engine, sub.id).luhn_ok


@pytest.mark.parametrize(
    ("number", "bank", "field", "en"),
    [
        ("6222abc", "中国建设银行", "card_number", "digits only"),
        ("62220202", "中国建设银行", "card_number", "12 to 19 digits"),
        (luhn_card(), "某某地下钱庄", "bank_name", "Choose the bank from the list"),
    ],
)
def test_bad_card_input_is_refused(site: Site, number: str, bank: str, field: str, en: str) -> None:
    with pytest.raises(ValidationError) as err:
        _card(site, number, bank=bank)
    assert err.value.field == field and en in err.value.en
    assert site.count(BankCardSubmission) == 0


def test_the_queue_is_oldest_first_across_kinds(site: Site) -> None:
    card = _card(site, luhn_card())
    real = site.realname()
    items = review_queue(site.engine)
    assert [(i.kind, i.id) for i in items] == [
        (ReviewKind.BANK_CARD, card.id),
        (ReviewKind.REALNAME, real.id),
    ]
    assert all(luhn_card() not in i.summary for i in items)


# --- 健康体检 -----------------------------------------------------------------------------------------


def _health(site: Site, **kw: object) -> HealthCheckSubmission:
    args: dict[str, object] = dict(
        worker_id=site.worker_id,
        checked_on=TODAY - timedelta(days=3),
        passed=True,
        institution_id=site.institution_id,
        report=face_jpeg(),
        today=TODAY,
    )
    args.update(kw)
    with write_session(site.engine) as s:
        h = submit_health_check(session=s, **args)  # type: ignore[arg-type]
        s.flush()
        s.expunge(h)
        return h


def test_a_declared_health_check_waits_for_review_then_counts(site: Site) -> None:
    """Issue 27: a worker cannot declare himself fit and sign in at once."""
    assert rule(site.progress(), "health") is Reason.NO_HEALTH_CHECK
    sub = _health(site)
    assert sub.institution_id == site.institution_id and sub.institution_other is None
    p = site.progress()
    assert rule(p, "health") is Reason.NO_HEALTH_CHECK and p.step("health").state is StepState.PENDING
    assert site.count(HealthCheck) == 0
    queue = review_queue(site.engine)
    assert [(q.kind, q.id) for q in queue] == [(ReviewKind.HEALTH, sub.id)]
    assert "合格" in queue[0].summary
    review = health_review(site.engine, sub.id)
    assert review.from_list and review.report_image is not None and review.report_image[:2] == b"\xff\xd8"
    with write_session(site.engine) as s:
        approve(session=s, kind=ReviewKind.HEALTH, submission_id=sub.id, by=ADMIN)
    p = site.progress()
    assert rule(p, "health") is None and p.step("health").state is StepState.DONE
    with session(site.engine) as s:
        h = s.exec(select(HealthCheck).where(HealthCheck.worker_id == site.worker_id)).one()
        assert h.passed and h.checked_on == TODAY - timedelta(days=3)
        rep = s.exec(select(HealthReport).where(HealthReport.health_check_id == h.id)).one()
        assert rep.image[:2] == b"\xff\xd8"
        kept = s.get(HealthCheckSubmission, sub.id)
        assert kept is not None and kept.status == "approved" and kept.report_image is None
        actors = {(a.actor, a.table_name) for a in s.exec(select(AuditLog))}
        assert (f"worker:{site.worker_id}", "healthchecksubmission") in actors
        assert (ADMIN, "healthcheck") in actors


def test_a_rejected_health_check_shows_the_reason(site: Site) -> None:
    sub = _health(site)
    with write_session(site.engine) as s:
        reject(
            session=s,
            kind=ReviewKind.HEALTH,
            submission_id=sub.id,
            by=ADMIN,
            reason="体检报告照片看不清，请重新拍摄结论页",
        )
    step = site.progress().step("health")
    assert step.state is StepState.REJECTED and step.submission is not None
    assert site.count(HealthCheck) == 0


def test_other_institution_with_its_name_and_a_failed_result(site: Site) -> None:
    sub = _health(site, institution_id=None, institution_other="  崇明某卫生院 ", passed=False)
    assert sub.institution_other == "崇明某卫生院" and sub.institution_id is None
    assert not health_review(site.engine, sub.id).from_list
    with write_session(site.engine) as s:
        approve(session=s, kind=ReviewKind.HEALTH, submission_id=sub.id, by=ADMIN)
    assert rule(site.progress(), "health") is Reason.HEALTH_CHECK_FAILED


def test_a_newer_health_check_replaces_the_waiting_one(site: Site) -> None:
    first = _health(site)
    second = _health(site, checked_on=TODAY)
    assert [q.id for q in review_queue(site.engine)] == [second.id]
    with session(site.engine) as s:
        old = s.get(HealthCheckSubmission, first.id)
        assert old is not None and old.status == "superseded" and old.report_image is None


@pytest.mark.parametrize(
    ("kw", "field", "en"),
    [
        ({"institution_id": None, "institution_other": ""}, "institution_other", "type its name"),
        ({"institution_id": None, "institution_other": "某\u202e医院"}, "institution_other", "U+202E"),
        ({"checked_on": TODAY + timedelta(days=1)}, "checked_on", "cannot be after today"),
        ({"checked_on": TODAY - timedelta(days=366)}, "checked_on", "more than a year old"),
        ({"report": None}, "report_image", "Take a photo of the report"),
        ({"report": text_renamed_jpg()}, "report_image", "is not a picture"),
        ({"institution_id": uuid.uuid4()}, "institution", "from the list"),
    ],
)
def test_bad_health_input_is_refused(site: Site, kw: dict[str, object], field: str, en: str) -> None:
    audits = site.audit_count()
    with pytest.raises(ValidationError) as err:
        _health(site, **kw)
    assert err.value.field == field and en in err.value.en
    assert site.count(HealthCheckSubmission) == 0 and site.audit_count() == audits


def test_a_check_exactly_a_year_old_is_taken(site: Site) -> None:
    assert _health(site, checked_on=TODAY - timedelta(days=365)).checked_on == TODAY - timedelta(days=365)


def test_a_retired_institution_is_refused(site: Site) -> None:
    with pytest.raises(ValidationError, match="from the list"):
        _health(site, institution_id=site.retired_id)


# --- 聘用信息确认 -------------------------------------------------------------------------------------


def test_he_confirms_his_own_employment_once(site: Site) -> None:
    with session(site.engine) as s:
        mine = my_employments(s, site.worker_id, on=TODAY)
    assert [(e.id, e.employer, e.project, e.team, e.trade, e.waiting) for e in mine] == [
        (site.employment_id, "上海某建设有限公司", "浦东某项目", "木工班", "木工", True)
    ]
    assert site.progress().step("employment").waiting == 1
    with write_session(site.engine) as s:
        first = confirm_my_employment(
            session=s, worker_id=site.worker_id, employment_id=site.employment_id
        ).confirmed_at
    with write_session(site.engine) as s:
        again = confirm_my_employment(
            session=s, worker_id=site.worker_id, employment_id=site.employment_id
        ).confirmed_at
    assert first is not None and again == first
    with session(site.engine) as s:
        rows = list(
            s.exec(select(AuditLog).where(AuditLog.table_name == "employment", AuditLog.action == "confirm"))
        )
    assert [(a.actor, a.row_id) for a in rows] == [(f"worker:{site.worker_id}", site.employment_id)]
    p = site.progress()
    assert rule(p, "employment") is None and p.step("employment").state is StepState.DONE


def test_an_employment_that_is_not_his_is_refused(site: Site) -> None:
    audits = site.audit_count()
    with write_session(site.engine) as s, pytest.raises(ValidationError) as err:
        confirm_my_employment(session=s, worker_id=site.worker_id, employment_id=site.others_employment_id)
    assert "不属于此工人" in err.value.zh and "belongs to another worker" in err.value.en
    with session(site.engine) as s:
        e = s.get(Employment, site.others_employment_id)
        assert e is not None and e.confirmed_at is None
    assert site.audit_count() == audits


def test_everything_done_makes_him_ready(site: Site) -> None:
    sub = site.realname()
    card = _card(site, luhn_card())
    health = _health(site)
    with write_session(site.engine) as s:
        approve(session=s, kind=ReviewKind.HEALTH, submission_id=health.id, by=ADMIN)
        confirm_my_employment(session=s, worker_id=site.worker_id, employment_id=site.employment_id)
        approve(session=s, kind=ReviewKind.REALNAME, submission_id=sub.id, by=ADMIN)
    assert not site.progress().projects[0].ready and not site.progress().ready  # the card still waits
    with write_session(site.engine) as s:
        approve(session=s, kind=ReviewKind.BANK_CARD, submission_id=card.id, by=ADMIN)
    p = site.progress()
    assert p.projects[0].ready and p.ready and all(step.state is StepState.DONE for step in p.steps)


def test_a_worker_with_no_employment_is_not_ready(site: Site) -> None:
    p = progress(site.engine, site.other_id, POLICY, TODAY)
    assert not p.ready
    with write_session(site.engine) as s:
        e = s.get(Employment, site.others_employment_id)
        assert e is not None
        e.deleted_at = utcnow()
        s.add(e)
    p = progress(site.engine, site.other_id, POLICY, TODAY)
    assert [r.project_id for r in p.projects] == [None] and not p.ready
    assert rule(p, "employment") is Reason.NOT_EMPLOYED_ON_PROJECT
    assert p.step("employment").state is StepState.TODO


# --- the schema -----------------------------------------------------------------------------------


def test_submissions_never_reach_a_kiosk() -> None:
    from store.sync.pull import PULLED

    assert not {RealnameSubmission, BankCardSubmission, HealthCheckSubmission, HealthReport} & set(PULLED)


# Opens and disposes its own PostgreSQL engine, like the test below (each stands alone).
@pytest.mark.postgres
def test_review_on_postgres(pg_url: str) -> None:
    engine = make_engine(pg_url)
    try:
        site = Site(engine)
        sub = site.realname()
        card = _card(site, luhn_card())
        assert [i.id for i in review_queue(engine)] == [sub.id, card.id]
        with write_session(engine) as s:
            approve(session=s, kind=ReviewKind.REALNAME, submission_id=sub.id, by=ADMIN)
            reject(
                session=s,
                kind=ReviewKind.BANK_CARD,
                submission_id=card.id,
                by=ADMIN,
                reason=REJECT_REASONS[4][0],
            )
        p = site.progress()
        assert p.step("realname").state is StepState.DONE and p.step("bank_card").state is StepState.REJECTED
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_two_administrators_approving_at_once_record_it_once(pg_url: str) -> None:
    """On PostgreSQL the submission's row is locked for the decision: one approval wins, the other is told."""
    import threading

    engine = make_engine(pg_url)
    try:
        site = Site(engine)
        sub = site.realname()
        start = threading.Barrier(2)
        outcomes: list[str] = []

        def decide(by: str) -> None:
            start.wait()
            try:
                with write_session(engine) as s:
                    approve(session=s, kind=ReviewKind.REALNAME, submission_id=sub.id, by=by)
                outcomes.append("approved")
            except StoreError as exc:
                outcomes.append(exc.en)

        threads = [threading.Thread(target=decide, args=(f"admin {i}",)) for i in (1, 2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert len(outcomes) == 2 and outcomes.count("approved") == 1, outcomes
        assert any("already decided" in o for o in outcomes), outcomes
        assert site.count(FaceCheck) == 1 and site.count(IdentityDocument) == 1
    finally:
        engine.dispose()
