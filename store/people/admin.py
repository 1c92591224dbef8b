"""What the admin app reads: lists (ID numbers masked), one worker's file, and his readiness.

No UI here: ``kiosk/admin`` calls these from its worker threads. The readiness of a worker is the
sign-in rules of ``store/rules/signin.py`` (``load_facts`` + ``evaluate``), run for each project he is
employed on — the same functions the gate uses, not a copy — plus the enrollment steps that the
rules summarise (ID card images, a face photo).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import ColumnElement, func, or_
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from store.db.engine import session as open_session
from store.db.engine import translate_errors
from store.db.models import (  # the names enroll.py imports too: both work on the enrollment tables
    AuditLog,
    BankCard,
    BankCardSubmission,
    Employer,
    Employment,
    FaceCheck,
    HealthCheck,
    HealthCheckSubmission,
    HealthInstitution,
    IdentityDocument,
    Officer,
    OfficerAssignment,
    Project,
    RealnameSubmission,
    Reference,
    Worker,
)
from store.reasons import Reason
from store.rules.policy import Policy
from store.rules.signin import evaluate, load_facts
from store.rules.validation import normalise_id_number


@dataclass(frozen=True, slots=True)
class WorkerRow:
    """A worker as every list shows him: the ID number masked."""

    id: uuid.UUID
    name: str
    id_masked: str
    sex: str
    birth_date: date
    mobile: str | None
    verified: bool
    has_bank_card: bool


def _live(model: type[Reference]) -> ColumnElement[bool]:
    return col(model.deleted_at).is_(None)


def list_workers(engine: Engine, query: str = "", *, limit: int = 500) -> list[WorkerRow]:
    """Workers whose name contains ``query``, or whose ID number ends with it (last 4) or is it (full
    number), or whose mobile is it; all when empty. Sorted by name."""
    q = query.strip()
    stmt = select(Worker).where(_live(Worker))
    if q:
        conds = [col(Worker.name).contains(q), col(Worker.id_last4) == q.upper(), col(Worker.mobile) == q]
        full = normalise_id_number(q)
        if len(full) == 18:
            conds.append(col(Worker.id_number) == full)
        stmt = stmt.where(or_(*conds))
    stmt = stmt.order_by(col(Worker.name), col(Worker.id)).limit(limit)
    with translate_errors(str(engine.url)), open_session(engine) as s:
        return [
            WorkerRow(
                w.id,
                w.name,
                w.id_number_masked,
                w.sex,
                w.birth_date,
                w.mobile,
                w.realname_verified_at is not None,
                w.has_bank_card,
            )
            for w in s.exec(stmt)
        ]


@dataclass(slots=True)
class WorkerFile:
    """One worker's enrollment as the admin sees it (masked; images reduced to whether they exist)."""

    worker: Worker
    id_front: bool = False
    id_back: bool = False
    face_photos: int = 0
    face_verified_by: str | None = None
    face_verified_at: datetime | None = None
    bank_cards: list[BankCard] = field(default_factory=list)
    health: list[HealthCheck] = field(default_factory=list)
    employments: list[tuple[Employment, str, str]] = field(default_factory=list)  # (row, employer, project)
    #: what he submitted from his phone and waits for review: (kind "realname"/"bank_card", submitted at)
    waiting: list[tuple[str, datetime]] = field(default_factory=list)


def worker_file(engine: Engine, worker_id: uuid.UUID) -> WorkerFile | None:
    with translate_errors(str(engine.url)), open_session(engine) as s:
        w = s.get(Worker, worker_id)
        if w is None:
            return None
        f = WorkerFile(worker=w)
        for front, back in s.exec(
            select(
                col(IdentityDocument.front_image).is_not(None), col(IdentityDocument.back_image).is_not(None)
            ).where(IdentityDocument.worker_id == worker_id)
        ):
            f.id_front, f.id_back = f.id_front or bool(front), f.id_back or bool(back)
        for fc in s.exec(
            select(FaceCheck).where(FaceCheck.worker_id == worker_id).order_by(col(FaceCheck.created_at))
        ):
            f.face_photos += 1
            if fc.verified:
                f.face_verified_by, f.face_verified_at = fc.verified_by, fc.verified_at
        f.bank_cards = list(s.exec(select(BankCard).where(BankCard.worker_id == worker_id)))
        for b in f.bank_cards:
            s.expunge(b)
            b.card_number = None  # the screen never holds the full number
        f.health = list(
            s.exec(
                select(HealthCheck)
                .where(HealthCheck.worker_id == worker_id, _live(HealthCheck))
                .order_by(col(HealthCheck.checked_on).desc())
            )
        )
        rows = s.exec(
            select(Employment, Employer.name, Project.name)
            .join(Employer, col(Employer.id) == Employment.employer_id)
            .join(Project, col(Project.id) == Employment.project_id)
            .where(Employment.worker_id == worker_id, _live(Employment))
            .order_by(col(Employment.start_date))
        )
        f.employments = [(e, en, pn) for e, en, pn in rows]
        for kind, model in (
            ("realname", RealnameSubmission),
            ("bank_card", BankCardSubmission),
            ("health", HealthCheckSubmission),
        ):
            f.waiting += [
                (kind, at)
                for at in s.exec(
                    select(model.submitted_at).where(model.worker_id == worker_id, model.status == "pending")
                )
            ]  # Status.PENDING
        return f


def images_of(engine: Engine, worker_id: uuid.UUID) -> tuple[bytes | None, bytes | None]:
    """(ID card front image, latest face photo) for the administrator's comparison."""
    with translate_errors(str(engine.url)), open_session(engine) as s:
        front = s.exec(
            select(IdentityDocument.front_image).where(
                IdentityDocument.worker_id == worker_id,
                col(IdentityDocument.front_image).is_not(None),
            )
        ).first()
        photo = s.exec(
            select(FaceCheck.photo)
            .where(FaceCheck.worker_id == worker_id, col(FaceCheck.photo).is_not(None))
            .order_by(col(FaceCheck.created_at).desc())
        ).first()
        return front, photo


# --- readiness -------------------------------------------------------------------------------------


#: the rule names of store/rules/signin.py's evaluate(), in words
RULE_LABELS: dict[str, tuple[str, str]] = {
    "worker": ("已登记", "Enrolled"),
    "realname": ("实名信息完整并已认证", "Real-name information complete and verified"),
    "bank_card": ("本人银行卡", "Bank card in his own name"),
    "health": ("健康体检有效", "Valid health check"),
    "employment": ("本项目聘用已确认且在期内", "Confirmed, current employment on the project"),
    "age": ("年龄符合用工规定", "Age allowed by site policy"),
}


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    zh: str
    en: str
    passed: bool
    reason: Reason | None = None  # the sign-in rule's refusal, when it fails


@dataclass(frozen=True, slots=True)
class Readiness:
    """Whether a worker would be signed in on a project on a date, and what is missing."""

    project_id: uuid.UUID | None
    project_name: str | None
    on: date
    checks: tuple[Check, ...]
    steps: tuple[Check, ...] = ()  # enrollment steps behind the real-name rule

    @property
    def ready(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def missing(self) -> list[Check]:
        return [c for c in (*self.checks, *self.steps) if not c.passed]


def readiness(engine: Engine, worker_id: uuid.UUID, policy: Policy, on: date) -> list[Readiness]:
    """For each project the worker is employed on (or none, when he has no employment), the verdict of
    every sign-in rule on ``on``."""
    with translate_errors(str(engine.url)), open_session(engine) as s:
        projects = list(
            s.exec(
                select(Project.id, Project.name)
                .join(Employment, col(Employment.project_id) == Project.id)
                .where(Employment.worker_id == worker_id, _live(Employment), _live(Project))
                .distinct()
                .order_by(Project.name)
            )
        )
        steps = _steps(s, worker_id)
        targets: list[tuple[uuid.UUID | None, str | None]] = [(p, n) for p, n in projects] or [(None, None)]
        out = []
        for pid, pname in targets:
            facts = load_facts(s, worker_id, pid or uuid.UUID(int=0), on)
            checks = tuple(
                Check(name, *RULE_LABELS.get(name, (name, name)), passed=reason is None, reason=reason)
                for name, reason in evaluate(facts, policy)
            )
            out.append(Readiness(pid, pname, on, checks, steps))
        return out


def _steps(s: Session, worker_id: uuid.UUID) -> tuple[Check, ...]:
    front = s.exec(
        select(func.count())
        .select_from(IdentityDocument)
        .where(
            IdentityDocument.worker_id == worker_id,
            col(IdentityDocument.front_image).is_not(None),
        )
    ).one()
    faces = s.exec(
        select(func.count())
        .select_from(FaceCheck)
        .where(FaceCheck.worker_id == worker_id, FaceCheck.faces_found == 1)
    ).one()
    return (
        Check("id_images", "身份证图片", "ID card images", passed=bool(front)),
        Check("face_photo", "人脸照片", "Face photo", passed=bool(faces)),
    )


# --- reference lists -------------------------------------------------------------------------------


def list_employers(engine: Engine) -> list[Employer]:
    with translate_errors(str(engine.url)), open_session(engine) as s:
        return list(s.exec(select(Employer).where(_live(Employer)).order_by(col(Employer.name))))


def list_institutions(engine: Engine, *, active_only: bool = False) -> list[HealthInstitution]:
    stmt = select(HealthInstitution).where(_live(HealthInstitution))
    if active_only:
        stmt = stmt.where(HealthInstitution.active)
    with translate_errors(str(engine.url)), open_session(engine) as s:
        return list(s.exec(stmt.order_by(HealthInstitution.name)))


def list_officers(engine: Engine) -> list[tuple[Officer, list[str]]]:
    """Officers with the names of the projects they are assigned to."""
    with translate_errors(str(engine.url)), open_session(engine) as s:
        officers = list(s.exec(select(Officer).where(_live(Officer)).order_by(col(Officer.name))))
        names: dict[uuid.UUID, list[str]] = {}
        for oid, pname in s.exec(
            select(OfficerAssignment.officer_id, Project.name)
            .join(Project, col(Project.id) == OfficerAssignment.project_id)
            .where(_live(OfficerAssignment))
            .order_by(Project.name)
        ):
            names.setdefault(oid, []).append(pname)
        return [(o, names.get(o.id, [])) for o in officers]


def recent_audit(engine: Engine, *, limit: int = 500) -> list[AuditLog]:
    """The latest audit records, newest first: who changed what (table, row, field names) and when."""
    with translate_errors(str(engine.url)), open_session(engine) as s:
        return list(s.exec(select(AuditLog).order_by(col(AuditLog.at).desc()).limit(limit)))
