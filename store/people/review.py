"""The administrator's review of what workers submitted from their phones (store/people/self_enroll.py).

``review_queue`` lists what is waiting, oldest first: real-name information (个人信息采集: ID card
photos and face), bank cards and health checks (健康体检, issue 27). ``realname_review``,
``bankcard_review`` and ``health_review`` give one item in full (images for the side-by-side comparison;
the card only masked; the report's photo). ``approve`` and ``reject`` decide, in
the caller's session, each decision audited with the administrator's name:

- approving real-name information stores the ID card photos on his identity document and the face
  photo as a face check (its thumbnail for the gate), takes the name he typed when it differs from an
  unverified record, and records the real-name verification (``store.people.enroll``'s functions, the same
  as the admin app's);
- approving a bank card replaces the card on file with it (holder: the worker himself);
- approving a health check records it as a ``HealthCheck`` with its report photo (``HealthReport``):
  from then on the sign-in rules count it;
- rejecting keeps the reason, which the worker then sees on his phone.

Either way the submission's images and full card number are dropped: approved data lives on in the
enrollment tables, rejected data is not kept.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import TypeVar, cast

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from store.db.engine import session as open_session
from store.db.engine import translate_errors
from store.db.models import (
    BankCard,
    BankCardSubmission,
    HealthCheckSubmission,
    HealthInstitution,
    HealthReport,
    RealnameSubmission,
    Worker,
)
from store.errors import StoreError, ValidationError
from store.people.enroll import (
    add_bank_card,
    add_face_check,
    add_health_check,
    audit,
    record_realname_verification,
    set_identity_images,
    update_fields,
)
from store.people.self_enroll import Status, clear_sensitive
from store.timeutil import utcnow

MAX_REASON_CHARS = 200


class ReviewKind(StrEnum):
    REALNAME = "realname"
    BANK_CARD = "bank_card"
    HEALTH = "health"


AnySubmission = RealnameSubmission | BankCardSubmission | HealthCheckSubmission
MODELS: dict[
    ReviewKind, type[RealnameSubmission] | type[BankCardSubmission] | type[HealthCheckSubmission]
] = {
    ReviewKind.REALNAME: RealnameSubmission,
    ReviewKind.BANK_CARD: BankCardSubmission,
    ReviewKind.HEALTH: HealthCheckSubmission,
}

#: the reasons an administrator picks most often (the worker sees the Chinese and the English)
REJECT_REASONS: tuple[tuple[str, str], ...] = (
    ("照片模糊或不完整，请重新拍摄", "The photos are blurred or cut off: take them again"),
    ("人脸照片与身份证照片不是同一人", "The face photo and the ID card photo are not the same person"),
    ("身份证已过期，请使用有效身份证", "The ID card has expired: use a valid one"),
    ("姓名与身份证不一致", "The name does not match the ID card"),
    ("银行卡号有误，请核对后重新提交", "The card number is wrong: check it and submit again"),
    ("银行卡不在本人名下", "The card is not in your own name"),
    (
        "体检报告照片看不清，请重新拍摄结论页",
        "The report photo cannot be read: photograph the result page again",
    ),
    (
        "体检报告与填写的机构、日期或结论不符",
        "The report does not match the institution, date or result you gave",
    ),
)


def reason_text(reason: str | None, lang: str = "zh") -> str:
    """A rejection reason in the worker's language: a listed reason in both, a typed one as typed."""
    if not reason:
        return ""
    for zh, en in REJECT_REASONS:
        if reason == zh:
            return en if lang == "en" else zh
    return reason


@dataclass(frozen=True, slots=True)
class QueueItem:
    """One waiting submission, as the queue lists it (the ID number masked, a card masked)."""

    kind: ReviewKind
    id: uuid.UUID
    worker_id: uuid.UUID
    worker_name: str
    id_masked: str
    submitted_at: datetime
    summary: str  # real-name: the name typed; a card: bank and masked number


def review_queue(engine: Engine, *, limit: int = 500) -> list[QueueItem]:
    """Everything waiting for review, oldest first."""
    items: list[QueueItem] = []
    with translate_errors(str(engine.url)), open_session(engine) as s:
        for kind, model in MODELS.items():
            rows = s.exec(
                select(model, Worker.name, Worker.id_number_masked)
                .join(Worker, col(Worker.id) == model.worker_id)
                .where(model.status == Status.PENDING.value)
                .order_by(col(model.submitted_at))
                .limit(limit)
            )
            for sub, name, masked in rows:
                if isinstance(sub, RealnameSubmission):
                    summary = sub.name
                elif isinstance(sub, HealthCheckSubmission):
                    summary = f"{_institution(s, sub)} {sub.checked_on.isoformat()} {_verdict(sub.passed)}"
                else:
                    assert isinstance(sub, BankCardSubmission)
                    summary = f"{sub.bank_name} {sub.card_masked}"
                items.append(QueueItem(kind, sub.id, sub.worker_id, name, masked, sub.submitted_at, summary))
    items.sort(key=lambda i: (i.submitted_at, str(i.id)))
    return items[:limit]


@dataclass(frozen=True, slots=True)
class RealnameReview:
    """Real-name information in full for the comparison: what he typed beside what is enrolled."""

    id: uuid.UUID
    worker_id: uuid.UUID
    status: Status
    submitted_at: datetime
    name_typed: str
    name_enrolled: str
    verified: bool
    id_masked: str
    sex: str
    birth_date: date
    front_image: bytes | None
    back_image: bytes | None
    face_photo: bytes | None


@dataclass(frozen=True, slots=True)
class BankCardReview:
    id: uuid.UUID
    worker_id: uuid.UUID
    status: Status
    submitted_at: datetime
    holder: str
    id_masked: str
    bank_name: str
    card_masked: str
    luhn_ok: bool
    replaces: str | None  # the card on file, masked, that approval replaces


def realname_review(engine: Engine, submission_id: uuid.UUID) -> RealnameReview:
    with translate_errors(str(engine.url)), open_session(engine) as s:
        sub = _get(s, RealnameSubmission, submission_id)
        w = _worker_of(s, sub.worker_id)
        return RealnameReview(
            sub.id,
            w.id,
            Status(sub.status),
            sub.submitted_at,
            sub.name,
            w.name,
            w.realname_verified_at is not None,
            w.id_number_masked,
            w.sex,
            w.birth_date,
            sub.front_image,
            sub.back_image,
            sub.face_photo,
        )


def bankcard_review(engine: Engine, submission_id: uuid.UUID) -> BankCardReview:
    with translate_errors(str(engine.url)), open_session(engine) as s:
        sub = _get(s, BankCardSubmission, submission_id)
        w = _worker_of(s, sub.worker_id)
        card = s.exec(
            select(BankCard).where(BankCard.worker_id == w.id).order_by(col(BankCard.created_at).desc())
        ).first()
        return BankCardReview(
            sub.id,
            w.id,
            Status(sub.status),
            sub.submitted_at,
            w.name,
            w.id_number_masked,
            sub.bank_name,
            sub.card_masked,
            sub.luhn_ok,
            f"{card.bank_name} {card.card_masked}" if card else None,
        )


def _institution(s: Session, sub: HealthCheckSubmission) -> str:
    """The institution's name as the worker chose it: from the list, or 其他 with the name he typed."""
    if sub.institution_id is not None:
        inst = s.get(HealthInstitution, sub.institution_id)
        return inst.name if inst is not None else "?"
    return f"其他 / other: {sub.institution_other or ''}"


def _verdict(passed: bool) -> str:
    return "合格 / fit" if passed else "不合格 / not fit"


@dataclass(frozen=True, slots=True)
class HealthReview:
    """A declared health check in full: what he chose and typed, beside the report's photo."""

    id: uuid.UUID
    worker_id: uuid.UUID
    status: Status
    submitted_at: datetime
    name: str
    id_masked: str
    institution: str
    from_list: bool  # the institution is one on the list (not 其他)
    checked_on: date
    passed: bool
    report_image: bytes | None


def health_review(engine: Engine, submission_id: uuid.UUID) -> HealthReview:
    with translate_errors(str(engine.url)), open_session(engine) as s:
        sub = _get(s, HealthCheckSubmission, submission_id)
        w = _worker_of(s, sub.worker_id)
        return HealthReview(
            sub.id,
            w.id,
            Status(sub.status),
            sub.submitted_at,
            w.name,
            w.id_number_masked,
            _institution(s, sub),
            sub.institution_id is not None,
            sub.checked_on,
            sub.passed,
            sub.report_image,
        )


S = TypeVar("S", RealnameSubmission, BankCardSubmission, HealthCheckSubmission)


def _get(s: Session, model: type[S], submission_id: uuid.UUID) -> S:
    sub = s.get(model, submission_id)
    if sub is None:
        raise StoreError("查无此提交，请刷新", "No such submission: refresh")
    return sub


def _worker_of(s: Session, worker_id: uuid.UUID) -> Worker:
    w = s.get(Worker, worker_id)
    if w is None or w.deleted_at is not None:
        raise StoreError("该工人已被删除", "The worker has been removed")
    return w


def _pending(s: Session, kind: ReviewKind, submission_id: uuid.UUID) -> AnySubmission:
    """The submission, locked for this decision, or a StoreError when someone decided it meanwhile."""
    model = MODELS[kind]
    sub = s.exec(select(model).where(model.id == submission_id).with_for_update()).first()
    assert sub is None or isinstance(sub, AnySubmission)
    if sub is None:
        raise StoreError("查无此提交，请刷新", "No such submission: refresh")
    if sub.status != Status.PENDING.value:
        status = Status(sub.status)
        raise StoreError(
            f"该提交已处理（{status.zh}），请刷新",
            f"This submission was already decided ({status.en}): refresh",
        )
    return sub


def approve(*, session: Session, kind: ReviewKind, submission_id: uuid.UUID, by: str) -> None:
    """Approve a waiting submission (see the module's docstring); audited as ``by``."""
    sub = _pending(session, kind, submission_id)
    worker = _worker_of(session, sub.worker_id)
    if isinstance(sub, RealnameSubmission):
        if worker.realname_verified_at is not None and sub.name != worker.name:
            raise StoreError(
                "该工人已实名认证且姓名不同，不能通过；请驳回",
                "The worker is verified under another name: reject it",
            )
        if (
            sub.face_photo is None or sub.front_image is None
        ):  # pragma: no cover - a pending one always has them
            raise StoreError("提交缺少照片，请驳回", "The submission lacks its photos: reject it")
        if sub.name != worker.name:
            update_fields(session=session, row=worker, table="worker", fields={"name": sub.name}, actor=by)
        set_identity_images(
            session=session, worker=worker, front=sub.front_image, back=sub.back_image, actor=by
        )
        add_face_check(
            session=session,
            worker=worker,
            photo=sub.face_photo,
            thumb=sub.face_thumb,
            faces_found=1,
            actor=by,
        )
        session.flush()
        record_realname_verification(session=session, worker=worker, by=by)
    elif isinstance(sub, HealthCheckSubmission):
        _approve_health(session, sub, worker, by)
    else:
        assert sub.card_number is not None
        for old in session.exec(select(BankCard).where(BankCard.worker_id == worker.id)):
            session.delete(old)
            audit(session, by, "delete", "bankcard", old.id, "replaced")
        add_bank_card(
            session=session, worker=worker, bank_name=sub.bank_name, card_number=sub.card_number, actor=by
        )
    _decide(session, sub, Status.APPROVED, by)


def reject(*, session: Session, kind: ReviewKind, submission_id: uuid.UUID, by: str, reason: str) -> None:
    """Reject a waiting submission with a reason the worker sees; audited as ``by``."""
    text = (reason or "").strip()
    if not text:
        raise ValidationError(
            "reason",
            "请填写驳回原因（工人会在手机上看到）",
            "Give the reason (the worker sees it on his phone)",
        )
    if len(text) > MAX_REASON_CHARS:
        raise ValidationError(
            "reason",
            f"驳回原因过长（最多{MAX_REASON_CHARS}字）",
            f"The reason is too long (at most {MAX_REASON_CHARS} characters)",
        )
    sub = _pending(session, kind, submission_id)
    sub.reject_reason = text
    _decide(session, sub, Status.REJECTED, by)


def _approve_health(session: Session, sub: HealthCheckSubmission, worker: Worker, by: str) -> None:
    """The declared check becomes his health check on record, with the report's photo beside it."""
    institution = session.get(HealthInstitution, sub.institution_id) if sub.institution_id else None
    check = add_health_check(
        session=session,
        worker=worker,
        checked_on=sub.checked_on,
        institution=institution,
        institution_other=sub.institution_other,
        passed=sub.passed,
        actor=by,
    )
    if sub.report_image is not None:
        session.flush()  # the check before its report (foreign key)
        rep = HealthReport(health_check_id=check.id, image=sub.report_image)
        session.add(rep)
        audit(session, by, "create", "healthreport", rep.id)


def _decide(session: Session, sub: AnySubmission, status: Status, by: str) -> None:
    sub.status = status.value
    sub.decided_at = utcnow()
    sub.decided_by = by
    clear_sensitive(sub)
    session.add(sub)
    action = "approve" if status is Status.APPROVED else "reject"
    audit(session, by, action, cast(str, sub.__tablename__), sub.id)
