"""Enrollment: plain functions that create and change reference data, with validation.

Used by the admin app, imports, ``seed-demo`` and the tests alike, so a worker is enrolled the same
way everywhere. Each takes a keyword-only ``session``; the caller commits. Every change writes an
``AuditLog`` row naming the actor (ids and field names only, no sensitive values).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from store.db.models import (
    AuditLog,
    BankCard,
    Employer,
    Employment,
    FaceCheck,
    HealthCheck,
    HealthInstitution,
    IdentityDocument,
    Officer,
    OfficerAssignment,
    Project,
    Stamped,
    Worker,
)
from store.rules.validation import (
    birth_date_of,
    mask_card_number,
    mask_id_number,
    sex_of,
    validate_card_number,
    validate_mobile,
    validate_name,
    validate_person,
)
from store.timeutil import DEFAULT_ZONE, utcnow

SYSTEM = "system"


def _parents_first(session: Session, *parents: object) -> None:
    """Flush pending parent rows first: without ORM relationships the unit of work does not order
    inserts by foreign key, and SQLite checks foreign keys on every statement."""
    if any(p in session.new for p in parents):
        session.flush()


def audit(
    session: Session, actor: str, action: str, table: str, row_id: uuid.UUID | None, detail: str = ""
) -> None:
    session.add(AuditLog(actor=actor, action=action, table_name=table, row_id=row_id, detail=detail or None))


# The add_* functions below read alike (validate, build the row, add it, audit it) by design: each row
# type has its own fields and checks, and a caller reads here which fields it takes; audit() is shared.
def add_employer(
    *, session: Session, name: str, credit_code: str | None = None, actor: str = SYSTEM
) -> Employer:
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
    timezone: str = DEFAULT_ZONE,
    polygon: str | None = None,
    actor: str = SYSTEM,
) -> Project:
    p = Project(
        name=validate_name(name),
        latitude=latitude,
        longitude=longitude,
        radius_m=radius_m,
        address=address,
        timezone=timezone,
        polygon=polygon,
    )
    session.add(p)
    audit(session, actor, "create", "project", p.id)
    return p


# Every add_* below reads alike (keyword fields into one row, add, audit, return): one table each.
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
    *,
    session: Session,
    worker: Worker,
    bank_name: str,
    card_number: str,
    holder_name: str | None = None,
    actor: str = SYSTEM,
) -> tuple[BankCard, list[str]]:
    """A card in the worker's own name (wages go to his own account). Returns the card and warnings."""
    from store.errors import ValidationError

    number, warnings = validate_card_number(card_number)
    _parents_first(session, worker)
    holder = (holder_name or worker.name).strip()
    if holder != worker.name:
        raise ValidationError(
            "holder_name",
            "持卡人必须是工人本人",
            "The card holder must be the worker himself (wages go to his own account)",
        )
    card = BankCard(
        worker_id=worker.id,
        bank_name=bank_name,
        card_number=number,
        card_masked=mask_card_number(number),
        holder_name=holder,
        luhn_ok=not warnings,
    )
    worker.has_bank_card = True
    session.add(card)
    session.add(worker)
    audit(session, actor, "create", "bankcard", card.id)
    return card, warnings


def add_health_institution(
    *, session: Session, name: str, district: str | None = None, actor: str = SYSTEM
) -> HealthInstitution:
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
            "institution",
            "请选择体检机构，或选择“其他”并填写名称",
            "Pick a health-check institution, or 'other' with its name",
        )
    if valid_until is not None and valid_until < checked_on:
        raise ValidationError(
            "valid_until", "有效期不能早于体检日期", "Valid-until cannot be before the check date"
        )
    _parents_first(session, worker, institution)
    h = HealthCheck(
        worker_id=worker.id,
        institution_id=institution.id if institution else None,
        institution_other=None if institution else institution_other,
        checked_on=checked_on,
        passed=passed,
        valid_until=valid_until,
        result_note=result_note,
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
        raise ValidationError(
            "end_date", "结束日期不能早于开始日期", "End date cannot be before the start date"
        )
    _parents_first(session, worker, employer, project)
    e = Employment(
        worker_id=worker.id,
        employer_id=employer.id,
        project_id=project.id,
        team=team,
        trade=trade,
        start_date=start_date,
        end_date=end_date,
    )
    session.add(e)
    audit(session, actor, "create", "employment", e.id)
    return e


def confirm_employment(
    *, session: Session, employment: Employment, at: datetime | None = None, actor: str = SYSTEM
) -> None:
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
    *,
    session: Session,
    officer: Officer,
    project: Project,
    start_date: date | None = None,
    end_date: date | None = None,
    actor: str = SYSTEM,
) -> OfficerAssignment:
    _parents_first(session, officer, project)
    a = OfficerAssignment(
        officer_id=officer.id, project_id=project.id, start_date=start_date, end_date=end_date
    )
    session.add(a)
    audit(session, actor, "create", "officerassignment", a.id)
    return a


def confirm_employment_of_worker(
    *,
    session: Session,
    employment_id: uuid.UUID,
    worker_id: uuid.UUID,
    at: datetime | None = None,
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
        raise ValidationError(
            "employment", "该聘用记录不属于此工人", "This employment belongs to another worker"
        )
    if e.confirmed_at is None:
        confirm_employment(session=session, employment=e, at=at, actor=actor or f"worker:{worker_id}")
    return e


# --- administration: edits, documents, faces (the admin app, issue 10) ------------------------------


def update_fields(
    *, session: Session, row: Stamped, table: str, fields: dict[str, Any], actor: str = SYSTEM
) -> list[str]:
    """Set ``fields`` on ``row``; returns the names that changed (audited by name, never by value)."""
    changed = [k for k, v in fields.items() if getattr(row, k) != v]
    for k in changed:
        setattr(row, k, fields[k])
    if changed:
        session.add(row)
        audit(session, actor, "update", table, row.id, ",".join(sorted(changed)))
    return changed


def update_worker(
    *,
    session: Session,
    worker: Worker,
    name: str,
    ethnicity: str | None = None,
    address: str | None = None,
    mobile: str | None = None,
    actor: str = SYSTEM,
) -> list[str]:
    """Edit a worker's personal information. The identity number (and with it sex and birth date) is not
    editable. A new name undoes the real-name verification: it must be compared with the ID card again."""
    changed = update_fields(
        session=session,
        row=worker,
        table="worker",
        actor=actor,
        fields={
            "name": validate_name(name),
            "ethnicity": (ethnicity or "").strip() or None,
            "address": (address or "").strip() or None,
            "mobile": validate_mobile(mobile) if mobile and mobile.strip() else None,
        },
    )
    if "name" in changed and worker.realname_verified_at is not None:
        worker.realname_verified_at = None
        worker.realname_verified_by = None
        session.add(worker)
        audit(session, actor, "unverify", "worker", worker.id, "realname: name changed")
    return changed


def set_identity_images(
    *,
    session: Session,
    worker: Worker,
    front: bytes | None = None,
    back: bytes | None = None,
    issuing_authority: str | None = None,
    valid_from: date | None = None,
    valid_until: date | None = None,
    actor: str = SYSTEM,
) -> IdentityDocument:
    """Store the ID card's front and/or back image (JPEG) on the worker's identity document, and what the
    back says (签发机关, 有效期限) when given."""
    from store.errors import ValidationError

    if front is None and back is None and doc_fields_empty(issuing_authority, valid_from, valid_until):
        raise ValidationError(
            "front_image", "请提供身份证正面或反面图片", "Give the ID card's front or back image"
        )
    if valid_from and valid_until and valid_until < valid_from:
        raise ValidationError(
            "valid_until", "身份证有效期限的结束早于开始", "The ID card's validity ends before it starts"
        )
    _parents_first(session, worker)
    doc = session.exec(
        select(IdentityDocument)
        .where(IdentityDocument.worker_id == worker.id)
        .order_by(col(IdentityDocument.created_at).desc())
    ).first()
    if doc is None:
        doc = IdentityDocument(worker_id=worker.id)
        audit(session, actor, "create", "identitydocument", doc.id)
    given = {
        "front_image": front,
        "back_image": back,
        "issuing_authority": (issuing_authority or "").strip() or None,
        "valid_from": valid_from,
        "valid_until": valid_until,
    }
    for name, value in given.items():
        if value is not None:
            setattr(doc, name, value)
    session.add(doc)
    audit(
        session,
        actor,
        "update",
        "identitydocument",
        doc.id,
        ",".join(n for n, v in given.items() if v is not None),
    )
    return doc


def doc_fields_empty(*values: object) -> bool:
    return all(v is None or v == "" for v in values)


def add_face_check(
    *,
    session: Session,
    worker: Worker,
    photo: bytes,
    thumb: bytes | None,
    faces_found: int,
    actor: str = SYSTEM,
) -> FaceCheck:
    """A captured face photo (exactly one face, see kiosk/camera/face.py); its thumbnail goes on the worker
    for the officer to compare at the gate. Not yet a verification: see ``record_realname_verification``."""
    from store.errors import ValidationError

    if faces_found != 1:
        raise ValidationError("photo", "照片中必须恰好有一张人脸", "The photo must hold exactly one face")
    _parents_first(session, worker)
    fc = FaceCheck(worker_id=worker.id, photo=photo, faces_found=faces_found)
    worker.face_thumb = thumb
    session.add(fc)
    session.add(worker)
    audit(session, actor, "create", "facecheck", fc.id)
    return fc


def record_realname_verification(
    *, session: Session, worker: Worker, by: str, at: datetime | None = None
) -> FaceCheck:
    """实名认证 recorded after the administrator compared the face photo with the ID card photo: needs the
    ID card's front image and a face photo on file; marks the latest face check verified by whom, when."""
    from store.errors import ValidationError

    doc = session.exec(
        select(IdentityDocument).where(
            IdentityDocument.worker_id == worker.id, col(IdentityDocument.front_image).is_not(None)
        )
    ).first()
    if doc is None:
        raise ValidationError(
            "front_image", "缺少身份证正面图片，无法认证", "No ID card front image: cannot verify"
        )
    fc = session.exec(
        select(FaceCheck)
        .where(FaceCheck.worker_id == worker.id, col(FaceCheck.photo).is_not(None))
        .order_by(col(FaceCheck.created_at).desc())
    ).first()
    if fc is None:
        raise ValidationError("photo", "缺少人脸照片，请先采集", "No face photo: capture one first")
    when = at or utcnow()
    fc.verified, fc.verified_by, fc.verified_at = True, by, when
    session.add(fc)
    verify_realname(session=session, worker=worker, by=by, at=when)
    return fc


def set_institution_active(
    *, session: Session, institution: HealthInstitution, active: bool, actor: str = SYSTEM
) -> None:
    update_fields(
        session=session, row=institution, table="healthinstitution", fields={"active": active}, actor=actor
    )
