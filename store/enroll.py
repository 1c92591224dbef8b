"""Enrollment: plain functions that create and change reference data, with validation.

Used by the admin app, imports, ``seed-demo`` and the tests alike, so a worker is enrolled the same
way everywhere. Each takes a keyword-only ``session``; the caller commits. Every change writes an
``AuditLog`` row naming the actor (ids and field names only, no sensitive values).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlmodel import Session

from store.models import (
    AuditLog,
    BankCard,
    Employer,
    Employment,
    HealthCheck,
    HealthInstitution,
    Officer,
    OfficerAssignment,
    Project,
    Worker,
)
from store.timeutil import utcnow
from store.validation import (
    birth_date_of,
    mask_card_number,
    mask_id_number,
    sex_of,
    validate_card_number,
    validate_mobile,
    validate_name,
    validate_person,
)

SYSTEM = "system"


def _parents_first(session: Session, *parents: object) -> None:
    """Flush pending parent rows first: without ORM relationships the unit of work does not order
    inserts by foreign key, and SQLite checks foreign keys on every statement."""
    if any(p in session.new for p in parents):
        session.flush()


def audit(session: Session, actor: str, action: str, table: str, row_id: uuid.UUID | None, detail: str = "") -> None:
    session.add(AuditLog(actor=actor, action=action, table_name=table, row_id=row_id, detail=detail or None))


def add_employer(*, session: Session, name: str, credit_code: str | None = None, actor: str = SYSTEM) -> Employer:
    e = Employer(name=validate_name(name), credit_code=credit_code)
    session.add(e)
    audit(session, actor, "create", "employer", e.id)
    return e


def add_project(
    *,
    session: Session,
    name: str,
    latitude: float | None = None,
    longitude: float | None = None,
    radius_m: float = 150.0,
    address: str | None = None,
    timezone: str = "Asia/Shanghai",
    polygon: str | None = None,
    actor: str = SYSTEM,
) -> Project:
    p = Project(
        name=validate_name(name), latitude=latitude, longitude=longitude, radius_m=radius_m,
        address=address, timezone=timezone, polygon=polygon,
    )
    session.add(p)
    audit(session, actor, "create", "project", p.id)
    return p


def add_worker(
    *,
    session: Session,
    id_number: str,
    name: str,
    sex: str | None = None,
    birth_date: date | None = None,
    ethnicity: str | None = None,
    address: str | None = None,
    mobile: str | None = None,
    actor: str = SYSTEM,
) -> Worker:
    """A worker from his identity number; sex and birth date default to what the number says and must
    agree with it when given."""
    number = validate_person(id_number, sex=sex, birth_date=birth_date)
    w = Worker(
        name=validate_name(name),
        sex=sex or sex_of(number),
        birth_date=birth_date or birth_date_of(number),
        ethnicity=ethnicity,
        address=address,
        mobile=validate_mobile(mobile) if mobile else None,
        id_number=number,
        id_number_masked=mask_id_number(number),
        id_last4=number[-4:],
    )
    session.add(w)
    audit(session, actor, "create", "worker", w.id)
    return w


def verify_realname(*, session: Session, worker: Worker, by: str, at: datetime | None = None) -> None:
    """实名认证: the administrator compared the face with the ID card photo."""
    worker.realname_verified_at = at or utcnow()
    worker.realname_verified_by = by
    session.add(worker)
    audit(session, by, "verify", "worker", worker.id, "realname")


def add_bank_card(
    *, session: Session, worker: Worker, bank_name: str, card_number: str, holder_name: str | None = None,
    actor: str = SYSTEM,
) -> tuple[BankCard, list[str]]:
    """A card in the worker's own name (wages go to his own account). Returns the card and warnings."""
    from store.errors import ValidationError

    number, warnings = validate_card_number(card_number)
    _parents_first(session, worker)
    holder = (holder_name or worker.name).strip()
    if holder != worker.name:
        raise ValidationError(
            "holder_name", "持卡人必须是工人本人", "The card holder must be the worker himself (wages go to his own account)"
        )
    card = BankCard(
        worker_id=worker.id, bank_name=bank_name, card_number=number, card_masked=mask_card_number(number),
        holder_name=holder, luhn_ok=not warnings,
    )
    worker.has_bank_card = True
    session.add(card)
    session.add(worker)
    audit(session, actor, "create", "bankcard", card.id)
    return card, warnings


def add_health_institution(*, session: Session, name: str, district: str | None = None, actor: str = SYSTEM) -> HealthInstitution:
    h = HealthInstitution(name=validate_name(name), district=district)
    session.add(h)
    audit(session, actor, "create", "healthinstitution", h.id)
    return h


def add_health_check(
    *,
    session: Session,
    worker: Worker,
    checked_on: date,
    institution: HealthInstitution | None = None,
    institution_other: str | None = None,
    passed: bool = True,
    valid_until: date | None = None,
    result_note: str | None = None,
    actor: str = SYSTEM,
) -> HealthCheck:
    from store.errors import ValidationError

    if institution is None and not (institution_other or "").strip():
        raise ValidationError(
            "institution", "请选择体检机构，或选择“其他”并填写名称", "Pick a health-check institution, or 'other' with its name"
        )
    if valid_until is not None and valid_until < checked_on:
        raise ValidationError("valid_until", "有效期不能早于体检日期", "Valid-until cannot be before the check date")
    _parents_first(session, worker, institution)
    h = HealthCheck(
        worker_id=worker.id, institution_id=institution.id if institution else None,
        institution_other=None if institution else institution_other, checked_on=checked_on,
        passed=passed, valid_until=valid_until, result_note=result_note,
    )
    session.add(h)
    audit(session, actor, "create", "healthcheck", h.id)
    return h


def add_employment(
    *,
    session: Session,
    worker: Worker,
    employer: Employer,
    project: Project,
    team: str,
    trade: str,
    start_date: date,
    end_date: date | None = None,
    actor: str = SYSTEM,
) -> Employment:
    from store.errors import ValidationError

    if end_date is not None and end_date < start_date:
        raise ValidationError("end_date", "结束日期不能早于开始日期", "End date cannot be before the start date")
    _parents_first(session, worker, employer, project)
    e = Employment(
        worker_id=worker.id, employer_id=employer.id, project_id=project.id, team=team, trade=trade,
        start_date=start_date, end_date=end_date,
    )
    session.add(e)
    audit(session, actor, "create", "employment", e.id)
    return e


def confirm_employment(*, session: Session, employment: Employment, at: datetime | None = None, actor: str = SYSTEM) -> None:
    """聘用信息确认: the worker confirmed his employment (on his phone, or in person)."""
    employment.confirmed_at = at or utcnow()
    session.add(employment)
    audit(session, actor, "confirm", "employment", employment.id)


def add_officer(*, session: Session, name: str, mobile: str | None = None, actor: str = SYSTEM) -> Officer:
    o = Officer(name=validate_name(name), mobile=validate_mobile(mobile) if mobile else None)
    session.add(o)
    audit(session, actor, "create", "officer", o.id)
    return o


def assign_officer(
    *, session: Session, officer: Officer, project: Project, start_date: date | None = None,
    end_date: date | None = None, actor: str = SYSTEM,
) -> OfficerAssignment:
    _parents_first(session, officer, project)
    a = OfficerAssignment(officer_id=officer.id, project_id=project.id, start_date=start_date, end_date=end_date)
    session.add(a)
    audit(session, actor, "create", "officerassignment", a.id)
    return a


def confirm_employment_of_worker(
    *, session: Session, employment_id: uuid.UUID, worker_id: uuid.UUID, at: datetime | None = None,
    actor: str | None = None,
) -> Employment:
    """聘用信息确认 by the worker himself (his phone, his verified code): the employment must be his.

    Confirming again keeps the first confirmation time. The actor recorded is ``worker:<id>``.
    """
    from store.errors import ValidationError

    e = session.get(Employment, employment_id)
    if e is None or e.deleted_at is not None:
        raise ValidationError("employment", "查无此聘用记录", "No such employment")
    if e.worker_id != worker_id:
        raise ValidationError("employment", "该聘用记录不属于此工人", "This employment belongs to another worker")
    if e.confirmed_at is None:
        confirm_employment(session=session, employment=e, at=at, actor=actor or f"worker:{worker_id}")
    return e
