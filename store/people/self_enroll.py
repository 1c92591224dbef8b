"""The worker's own enrollment from his phone (一、前置步骤 of the seed manual): what he submits, checked
here, with no UI — the phone service's pages call these.

- 个人信息采集 (``submit_realname``): both sides of his ID card and a face photo (exactly one face, the
  detector of ``store/people/faces.py``), his identity number and name checked as the administrator's form
  checks them (``store/rules/validation.py``). It waits as 待审核 (``Status.PENDING``) until an administrator
  approves it (``store/people/review.py``), which records the real-name verification.
- 银行卡 (``submit_bank_card``): bank from the list, card number (a Luhn failure must be confirmed),
  the holder is the worker himself; waits for review like the real-name information.
- 健康体检 (``submit_health_check``): institution from the list or 其他 with its name, date, result and
  a photo of the report; waits for review like the bank card (issue 27), then the sign-in rules judge it.
- 聘用信息确认 (``my_employments``, ``confirm_my_employment``): the employments waiting for him;
  confirming goes through ``store.people.enroll.confirm_employment_of_worker``, the function ``kiosk phone
  confirm`` uses, audited as ``worker:<id>``.
- What still stops him (``progress``): every sign-in rule of ``store.rules.signin.evaluate`` for each project
  he is employed on (via ``store.people.admin.readiness``), with the state of each step beside it.

Every uploaded picture is decoded and re-encoded (``store/people/images.py``) before it is kept. Each function
takes a keyword-only ``session`` and raises a ``ValidationError`` (zh/en, naming the field) before it
adds anything, so a refused submission leaves nothing behind; the caller commits. Every write is
audited as ``worker:<id>``; the audit never holds the values.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import cast

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from store.db.engine import session as open_session
from store.db.engine import translate_errors
from store.db.models import (
    BankCard,
    BankCardSubmission,
    Employer,
    Employment,
    HealthCheckSubmission,
    HealthInstitution,
    Project,
    RealnameSubmission,
    Submission,
    Worker,
)
from store.errors import ValidationError
from store.people.admin import Readiness, readiness
from store.people.enroll import audit, confirm_employment_of_worker
from store.people.faces import detect_faces_in_photo, thumbnail
from store.people.images import MAX_BYTES, require_sharp, sanitise_image
from store.rules.policy import Policy
from store.rules.validation import (
    F_CARD,
    F_ID,
    F_NAME,
    birth_date_of,
    mask_card_number,
    mask_id_number,
    sex_of,
    validate_bank_name,
    validate_card_number,
    validate_id_number,
    validate_name,
    validate_text,
)

F_FRONT, F_BACK, F_FACE, F_REPORT = "front_image", "back_image", "face_photo", "report_image"
F_INSTITUTION, F_OTHER, F_CHECKED_ON, F_EMPLOYMENT = (
    "institution",
    "institution_other",
    "checked_on",
    "employment",
)
MAX_OTHER_CHARS = 64
#: how each uploaded picture is named in its messages
WHAT: dict[str, tuple[str, str]] = {
    F_FRONT: ("身份证正面（人像面）照片", "The ID card front (photo side)"),
    F_BACK: ("身份证反面（国徽面）照片", "The ID card back (emblem side)"),
    F_FACE: ("人脸照片", "The face photo"),
    F_REPORT: ("体检报告照片", "The report photo"),
}


def shrink_upload(data: bytes | None, field: str, max_bytes: int = MAX_BYTES) -> bytes | None:
    """An uploaded picture decoded and re-encoded at the size kept (``sanitise_image``), before any
    database transaction opens: the seconds a large photo takes must not hold the write lock (SQLite)
    or a row lock. The ``submit_*`` functions check the small result again, cheaply. None stays None."""
    if not data:
        return None
    return sanitise_image(data, field=field, what=WHAT[field], max_bytes=max_bytes).jpeg


class Status(StrEnum):
    """Where a submission stands."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"

    @property
    def zh(self) -> str:
        return _STATUS[self][0]

    @property
    def en(self) -> str:
        return _STATUS[self][1]


_STATUS = {
    Status.PENDING: ("待审核", "Waiting for review"),
    Status.APPROVED: ("已通过", "Approved"),
    Status.REJECTED: ("未通过", "Rejected"),
    Status.SUPERSEDED: ("已被新的提交取代", "Replaced by a newer submission"),
}


class LuhnUnconfirmed(ValidationError):
    """The card number fails the Luhn check and the worker has not confirmed it is right: ask him."""


def worker_actor(worker_id: uuid.UUID) -> str:
    """How the audit log names a worker acting himself (the same as ``kiosk phone confirm``)."""
    return f"worker:{worker_id}"


def _worker(session: Session, worker_id: uuid.UUID) -> Worker:
    w = session.get(Worker, worker_id)
    if w is None or w.deleted_at is not None:
        raise ValidationError("worker", "查无此工人，请联系管理员", "No such worker: ask the administrator")
    return w


# --- 个人信息采集 ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IdentityNumber:
    """What an identity number says: checked, with the sex and birth date it holds."""

    number: str
    masked: str
    sex: str  # "M" / "F"
    birth_date: date


def read_id_number(raw: str, *, today: date | None = None) -> IdentityNumber:
    """The identity number checked as the administrator's form checks it (checksum, region, birth date),
    with the sex and birth date read from it."""
    number = validate_id_number(raw, today=today)
    return IdentityNumber(number, mask_id_number(number), sex_of(number), birth_date_of(number))


def _one_face(data: bytes | None, max_bytes: int) -> tuple[bytes, bytes]:
    """The face photo re-encoded and its thumbnail, when it holds exactly one face."""
    what = WHAT[F_FACE]
    clean = sanitise_image(data, field=F_FACE, what=what, max_bytes=max_bytes)
    require_sharp(clean, field=F_FACE, what=what)
    faces = detect_faces_in_photo(clean.bgr)
    if not faces:
        raise ValidationError(
            F_FACE,
            "人脸照片中没有找到人脸：请正对镜头，光线充足，重新拍摄",
            "No face found in the face photo: face the camera in good light and take it again",
        )
    if len(faces) > 1:
        raise ValidationError(
            F_FACE,
            f"人脸照片中有{len(faces)}张人脸，只能有本人一人，请重新拍摄",
            f"The face photo shows {len(faces)} faces: only you may be in it, take it again",
        )
    return clean.jpeg, thumbnail(clean.bgr, faces[0])


def submit_realname(
    *,
    session: Session,
    worker_id: uuid.UUID,
    id_number: str,
    name: str,
    front: bytes | None,
    back: bytes | None,
    face: bytes | None,
    today: date | None = None,
    max_bytes: int = MAX_BYTES,
) -> RealnameSubmission:
    """个人信息采集 by the worker: checked in full, then kept as 待审核 for an administrator.

    The identity number must be valid and be the one he is enrolled with; once his real name is
    verified, the name must be the verified one (a new name is the administrator's to change). Both ID
    card photos and the face photo are re-encoded; the face photo must hold exactly one face. A newer
    submission replaces one still waiting. ``max_bytes`` lowers the size limit of each photo."""
    worker = _worker(session, worker_id)
    number = read_id_number(id_number, today=today).number
    if worker.id_number is not None and number != worker.id_number:
        raise ValidationError(
            F_ID,
            "身份证号码与登记的不一致，请核对；如登记有误，请联系管理员",
            "The ID number is not the one you are enrolled with: check it, or ask the administrator",
        )
    typed = validate_name(name)
    if worker.realname_verified_at is not None and typed != worker.name:
        raise ValidationError(
            F_NAME,
            f"姓名与已实名认证的姓名“{worker.name}”不一致；如需改名，请联系管理员",
            f"The name differs from your verified name '{worker.name}': to change it, ask the administrator",
        )
    # Front and back are two images, each with its own field and words: two calls, not a loop.
    front_jpeg = _sharp_card(front, F_FRONT, WHAT[F_FRONT], max_bytes)
    back_jpeg = _sharp_card(back, F_BACK, WHAT[F_BACK], max_bytes)
    face_jpeg, thumb = _one_face(face, max_bytes)
    _supersede(session, RealnameSubmission, worker_id)
    # Keyword fields into one row, like enroll's add_* functions: this table's columns.
    sub = RealnameSubmission(
        worker_id=worker_id,
        name=typed,
        front_image=front_jpeg,
        back_image=back_jpeg,
        face_photo=face_jpeg,
        face_thumb=thumb,
    )
    session.add(sub)
    audit(session, worker_actor(worker_id), "submit", "realnamesubmission", sub.id)
    return sub


def _sharp_card(data: bytes | None, field: str, what: tuple[str, str], max_bytes: int) -> bytes:
    """One side of the ID card re-encoded, refused when too blurred to read."""
    clean = sanitise_image(data, field=field, what=what, max_bytes=max_bytes)
    require_sharp(clean, field=field, what=what)
    return clean.jpeg


SubmissionModel = type[RealnameSubmission] | type[BankCardSubmission] | type[HealthCheckSubmission]


def _supersede(session: Session, model: SubmissionModel, worker_id: uuid.UUID) -> None:
    """A submission still waiting is replaced by the new one (and its images are not kept)."""
    waiting = session.exec(
        select(model)
        .where(model.worker_id == worker_id, model.status == Status.PENDING.value)
        .with_for_update()
    )
    for old in waiting:
        old.status = Status.SUPERSEDED.value
        clear_sensitive(old)
        session.add(old)
        audit(session, worker_actor(worker_id), "supersede", cast(str, model.__tablename__), old.id)


def clear_sensitive(sub: Submission) -> None:
    """Drop the images and the full card number of a decided or replaced submission."""
    if isinstance(sub, RealnameSubmission):
        sub.front_image = sub.back_image = sub.face_photo = sub.face_thumb = None
    elif isinstance(sub, BankCardSubmission):
        sub.card_number = None
    elif isinstance(sub, HealthCheckSubmission):
        sub.report_image = None


# --- 银行卡 ------------------------------------------------------------------------------------------


def submit_bank_card(
    *,
    session: Session,
    worker_id: uuid.UUID,
    bank_name: str,
    card_number: str,
    luhn_confirmed: bool = False,
) -> BankCardSubmission:
    """A card to add (or to replace his card with), in his own name, waiting for review.

    A number that fails the Luhn check is refused with ``LuhnUnconfirmed`` until the worker confirms
    it is right (some banks' cards do not use Luhn): then it is kept with the warning on it."""
    _worker(session, worker_id)
    bank = validate_bank_name(bank_name)
    number, warnings = validate_card_number(card_number)
    if warnings and not luhn_confirmed:
        raise LuhnUnconfirmed(
            F_CARD,
            "银行卡号校验未通过，请核对卡号；如确认无误，请勾选“卡号无误”后再提交",
            "The card number fails the check-digit test: check it; if it is right, tick 'the number is right' "
            "and submit again",
        )
    _supersede(session, BankCardSubmission, worker_id)
    sub = BankCardSubmission(
        worker_id=worker_id,
        bank_name=bank,
        card_number=number,
        card_masked=mask_card_number(number),
        luhn_ok=not warnings,
    )
    session.add(sub)
    audit(session, worker_actor(worker_id), "submit", "bankcardsubmission", sub.id)
    return sub


# --- 健康体检 ----------------------------------------------------------------------------------------


#: the oldest health check a worker may declare (days back from today): an older one is no longer news
MAX_CHECK_AGE_DAYS = 365


def submit_health_check(
    *,
    session: Session,
    worker_id: uuid.UUID,
    checked_on: date,
    passed: bool,
    institution_id: uuid.UUID | None = None,
    institution_other: str | None = None,
    report: bytes | None = None,
    today: date | None = None,
    max_bytes: int = MAX_BYTES,
) -> HealthCheckSubmission:
    """健康体检 declared by the worker: an institution from the list (active) or 其他 with its name, the
    date (not in the future, at most ``MAX_CHECK_AGE_DAYS`` back), the result and a photo of the report
    (required: re-encoded, kept in the shared database only). It waits as 待审核 for an administrator
    (``store/people/review.py``), like the bank card: the sign-in rules see it only once approved, so a
    worker cannot declare himself fit and sign in at once. Institutions that report directly send their
    results to the administrator, who enters them in the admin app (no photo from the worker); anything
    the worker declares himself comes with the report's photo. Audited as the worker."""
    _worker(session, worker_id)
    other = (institution_other or "").strip()
    if institution_id is not None:
        institution = session.get(HealthInstitution, institution_id)
        if institution is None or institution.deleted_at is not None or not institution.active:
            raise ValidationError(
                F_INSTITUTION, "请从列表中选择体检机构", "Choose the institution from the list"
            )
        other = ""
    elif not other:
        raise ValidationError(
            F_OTHER,
            "请选择体检机构，或选择“其他”并填写机构名称",
            "Choose the institution, or 'other' and type its name",
        )
    elif len(other) > MAX_OTHER_CHARS:
        raise ValidationError(
            F_OTHER,
            f"机构名称过长（最多{MAX_OTHER_CHARS}字）",
            f"The institution's name is too long (at most {MAX_OTHER_CHARS} characters)",
        )
    else:
        other = validate_text(other, F_OTHER, ("机构名称", "The institution's name"))
    day = today or date.today()
    if checked_on > day:
        raise ValidationError(
            F_CHECKED_ON, "体检日期不能晚于今天", "The date of the check cannot be after today"
        )
    if checked_on < day - timedelta(days=MAX_CHECK_AGE_DAYS):
        raise ValidationError(
            F_CHECKED_ON,
            "体检日期早于一年前，请重新体检后再提交",
            "The check is more than a year old: have a new check, then submit it",
        )
    if not report:
        raise ValidationError(
            F_REPORT, "请拍摄体检报告（结论页）照片", "Take a photo of the report (the page with the result)"
        )
    image = sanitise_image(report, field=F_REPORT, what=WHAT[F_REPORT], max_bytes=max_bytes).jpeg
    _supersede(session, HealthCheckSubmission, worker_id)
    sub = HealthCheckSubmission(
        worker_id=worker_id,
        institution_id=institution_id if not other else None,
        institution_other=other or None,
        checked_on=checked_on,
        passed=passed,
        report_image=image,
    )
    session.add(sub)
    audit(session, worker_actor(worker_id), "submit", "healthchecksubmission", sub.id)
    return sub


# --- 聘用信息确认 ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EmploymentView:
    """One of his employments as his phone shows it."""

    id: uuid.UUID
    employer: str
    project: str
    team: str
    trade: str
    start_date: date
    end_date: date | None
    confirmed_at: datetime | None

    @property
    def waiting(self) -> bool:
        return self.confirmed_at is None


def my_employments(session: Session, worker_id: uuid.UUID, *, on: date | None = None) -> list[EmploymentView]:
    """His live employments that have not ended by ``on`` (today): waiting ones first, then by start."""
    day = on or date.today()
    rows = session.exec(
        select(Employment, Employer.name, Project.name)
        .join(Employer, col(Employer.id) == Employment.employer_id)
        .join(Project, col(Project.id) == Employment.project_id)
        .where(Employment.worker_id == worker_id, col(Employment.deleted_at).is_(None))
    )
    out = [
        EmploymentView(e.id, employer, project, e.team, e.trade, e.start_date, e.end_date, e.confirmed_at)
        for e, employer, project in rows
        if e.end_date is None or e.end_date >= day
    ]
    return sorted(out, key=lambda v: (not v.waiting, v.start_date, v.project))


def confirm_my_employment(*, session: Session, worker_id: uuid.UUID, employment_id: uuid.UUID) -> Employment:
    """聘用信息确认 on his phone: the same function as ``kiosk phone confirm`` (his own employment only;
    the time is recorded once; audited as ``worker:<id>``)."""
    return confirm_employment_of_worker(
        session=session, employment_id=employment_id, worker_id=worker_id, actor=worker_actor(worker_id)
    )


# --- what still stops him ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SubmissionView:
    """His latest submission of a kind, as his phone shows it."""

    id: uuid.UUID
    status: Status
    submitted_at: datetime
    decided_at: datetime | None
    reject_reason: str | None
    summary: str = ""  # a bank card: bank and masked number


def latest_submission(
    session: Session, model: SubmissionModel, worker_id: uuid.UUID
) -> SubmissionView | None:
    row = session.exec(
        select(model)
        .where(model.worker_id == worker_id, model.status != Status.SUPERSEDED.value)
        .order_by(col(model.submitted_at).desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    summary = ""
    if isinstance(row, BankCardSubmission):
        summary = f"{row.bank_name} {row.card_masked}"
    elif isinstance(row, HealthCheckSubmission):
        summary = f"{row.checked_on.isoformat()} {'合格 / fit' if row.passed else '不合格 / not fit'}"
    return SubmissionView(
        row.id, Status(row.status), row.submitted_at, row.decided_at, row.reject_reason, summary
    )


class StepState(StrEnum):
    DONE = "done"  # the sign-in rule passes
    PENDING = "pending"  # submitted, waiting for review
    REJECTED = "rejected"  # the latest submission was rejected: see the reason
    TODO = "todo"  # nothing yet, or what is there does not count (expired, failed…)


@dataclass(frozen=True, slots=True)
class Step:
    """One enrollment step on his home page."""

    key: str  # realname / bank_card / health / employment
    zh: str
    en: str
    state: StepState
    submission: SubmissionView | None = None  # realname and bank_card: the latest one
    detail: str = ""  # e.g. the card on file (masked)
    waiting: int = 0  # employment: how many wait for his confirmation


@dataclass(frozen=True, slots=True)
class Progress:
    """His enrollment steps and, per project, the verdict of every sign-in rule (``store.rules.signin.evaluate``)."""

    worker_name: str
    id_masked: str
    steps: tuple[Step, ...]
    projects: tuple[Readiness, ...]

    def step(self, key: str) -> Step:
        return next(s for s in self.steps if s.key == key)

    @property
    def ready(self) -> bool:
        """He would be signed in today on every project he is employed on (and there is one)."""
        employed = [r for r in self.projects if r.project_id is not None]
        return bool(employed) and all(r.ready for r in employed)


STEP_LABELS: dict[str, tuple[str, str]] = {
    "realname": ("个人信息采集", "Personal information"),
    "bank_card": ("银行卡", "Bank card"),
    "health": ("健康体检", "Health check"),
    "employment": ("聘用信息确认", "Confirm employment"),
}


def progress(engine: Engine, worker_id: uuid.UUID, policy: Policy, on: date) -> Progress:
    """Where he stands on ``on``: read fresh each time, so the home page follows every step at once."""
    projects = readiness(
        engine, worker_id, policy, on
    )  # store.rules.signin.load_facts + evaluate per project
    passed: dict[str, bool] = {}
    for r in projects:
        for c in r.checks:
            passed[c.name] = passed.get(c.name, True) and c.passed
    with translate_errors(str(engine.url)), open_session(engine) as s:
        w = _worker(s, worker_id)
        realname = latest_submission(s, RealnameSubmission, worker_id)
        bank = latest_submission(s, BankCardSubmission, worker_id)
        card = s.exec(
            select(BankCard).where(BankCard.worker_id == worker_id).order_by(col(BankCard.created_at).desc())
        ).first()
        waiting = sum(1 for e in my_employments(s, worker_id, on=on) if e.waiting)
        steps = (
            _step("realname", passed.get("realname", False), realname),
            _step(
                "bank_card",
                passed.get("bank_card", False),
                bank,
                detail=f"{card.bank_name} {card.card_masked}" if card else "",
            ),
            _step(
                "health", passed.get("health", False), latest_submission(s, HealthCheckSubmission, worker_id)
            ),
            Step(
                "employment",
                *STEP_LABELS["employment"],
                state=StepState.DONE if passed.get("employment", False) and not waiting else StepState.TODO,
                waiting=waiting,
            ),
        )
        return Progress(w.name, w.id_number_masked, steps, tuple(projects))


def _step(key: str, done: bool, sub: SubmissionView | None, detail: str = "") -> Step:
    if done:
        state = StepState.DONE
    elif sub is not None and sub.status is Status.PENDING:
        state = StepState.PENDING
    elif sub is not None and sub.status is Status.REJECTED:
        state = StepState.REJECTED
    else:
        state = StepState.TODO
    return Step(key, *STEP_LABELS[key], state=state, submission=sub, detail=detail)
