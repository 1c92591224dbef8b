"""The admin app's writes: one named function per thing an administrator saves, taking the engine and ids.

Each opens its own committed write transaction (``write``), loads the rows it needs by id (``need``: a row
another administrator removed meanwhile is a ``StoreError``, not a crash) and calls the enrollment or
review function that validates and audits the change (``store/people/enroll.py``, ``store/people/review.py``),
so a change saved in the admin app is audited exactly as the same change made by an import or a test.
A unique-key conflict (an ID number or a name already there) becomes a ``StoreError`` the dialog shows.

Called from the admin screens' thread workers, never on the UI thread. Each function hands its keywords
through to the enrollment function by name: the parameter lists repeat by shape from one function to the
next (and to ``enroll.py``), on purpose, so each write's signature is typed and readable where it stands.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session

from store.db.engine import translate_errors, write_session
from store.db.models import Employer, Employment, HealthInstitution, Officer, Project, Worker
from store.errors import StoreError
from store.people import enroll
from store.people.review import ReviewKind, approve, reject
from store.rules.validation import validate_name

R = TypeVar("R")
M = TypeVar("M")


def write(engine: Engine, fn: Callable[[Session], R]) -> R:
    """Run ``fn(session)`` in one committed write transaction."""
    from sqlalchemy.exc import IntegrityError

    try:
        with translate_errors(str(engine.url)), write_session(engine) as s:
            return fn(s)
    except IntegrityError as exc:
        raise StoreError(
            "与已有记录重复（例如身份证号码或名称已登记），未保存",
            "Duplicates an existing record (an ID number or a name already there): not saved",
        ) from exc


def need(s: Session, model: type[M], key: uuid.UUID) -> M:
    """The row, or a StoreError when it is gone (another administrator removed it meanwhile)."""
    row = s.get(model, key)
    if row is None:
        raise StoreError(
            "记录不存在（可能已被删除），请刷新", "The record no longer exists (removed meanwhile?): refresh"
        )
    return row


# --- reference data ---------------------------------------------------------------------------------


# Each add_* write has the shape of its enroll.add_* (the keywords handed on by name): one per table.
def add_project(
    engine: Engine,
    *,
    name: str,
    address: str | None,
    latitude: float | None,
    longitude: float | None,
    radius_m: float,
    timezone: str,
    actor: str,
) -> uuid.UUID:
    return write(
        engine,
        lambda s: (
            enroll.add_project(
                session=s,
                name=name,
                address=address,
                latitude=latitude,
                longitude=longitude,
                radius_m=radius_m,
                timezone=timezone,
                actor=actor,
            ).id
        ),
    )


def edit_project(engine: Engine, project_id: uuid.UUID, fields: dict[str, Any], *, actor: str) -> list[str]:
    """Changes the project's fields given (the audit names the fields that changed)."""
    return _update(engine, Project, "project", project_id, fields, actor)


def add_employer(engine: Engine, *, name: str, credit_code: str | None, actor: str) -> uuid.UUID:
    return write(
        engine, lambda s: enroll.add_employer(session=s, name=name, credit_code=credit_code, actor=actor).id
    )


def edit_employer(
    engine: Engine, employer_id: uuid.UUID, *, name: str, credit_code: str | None, actor: str
) -> list[str]:
    return _update(
        engine,
        Employer,
        "employer",
        employer_id,
        {"name": validate_name(name), "credit_code": credit_code},
        actor,
    )


def _update(
    engine: Engine,
    model: type[Project | Employer],
    table: str,
    row_id: uuid.UUID,
    fields: dict[str, Any],
    actor: str,
) -> list[str]:
    return write(
        engine,
        lambda s: enroll.update_fields(
            session=s, row=need(s, model, row_id), table=table, fields=fields, actor=actor
        ),
    )


def add_officer(engine: Engine, *, name: str, mobile: str | None, actor: str) -> uuid.UUID:
    return write(engine, lambda s: enroll.add_officer(session=s, name=name, mobile=mobile, actor=actor).id)


def assign_officer(
    engine: Engine,
    officer_id: uuid.UUID,
    project_id: uuid.UUID,
    *,
    start_date: date | None,
    end_date: date | None,
    actor: str,
) -> uuid.UUID:
    return write(
        engine,
        lambda s: (
            enroll.assign_officer(
                session=s,
                officer=need(s, Officer, officer_id),
                project=need(s, Project, project_id),
                actor=actor,
                start_date=start_date,
                end_date=end_date,
            ).id
        ),
    )


def add_institution(engine: Engine, *, name: str, district: str | None, actor: str) -> uuid.UUID:
    return write(
        engine,
        lambda s: enroll.add_health_institution(session=s, name=name, district=district, actor=actor).id,
    )


def toggle_institution(engine: Engine, institution_id: uuid.UUID, *, actor: str) -> None:
    """Active becomes inactive and back (an inactive one is not offered when recording a check)."""

    def flip(s: Session) -> None:
        row = need(s, HealthInstitution, institution_id)
        enroll.set_institution_active(session=s, institution=row, active=not row.active, actor=actor)

    write(engine, flip)


# --- workers ----------------------------------------------------------------------------------------


# The shape of add_project above, on purpose: the keywords of enroll.add_worker handed on by name.
def add_worker(
    engine: Engine,
    *,
    id_number: str,
    name: str,
    sex: str | None,
    birth_date: date | None,
    ethnicity: str | None,
    address: str | None,
    mobile: str | None,
    actor: str,
) -> uuid.UUID:
    return write(
        engine,
        lambda s: (
            enroll.add_worker(
                session=s,
                id_number=id_number,
                name=name,
                sex=sex,
                birth_date=birth_date,
                ethnicity=ethnicity,
                address=address,
                mobile=mobile,
                actor=actor,
            ).id
        ),
    )


def edit_worker(
    engine: Engine, worker_id: uuid.UUID, *, name: str, ethnicity: str, address: str, mobile: str, actor: str
) -> list[str]:
    return write(
        engine,
        lambda s: enroll.update_worker(
            session=s,
            worker=need(s, Worker, worker_id),
            name=name,
            ethnicity=ethnicity,
            address=address,
            mobile=mobile,
            actor=actor,
        ),
    )


def set_identity_images(
    engine: Engine,
    worker_id: uuid.UUID,
    *,
    front: bytes | None,
    back: bytes | None,
    issuing_authority: str | None = None,
    valid_from: date | None = None,
    valid_until: date | None = None,
    actor: str,
) -> uuid.UUID:
    return write(
        engine,
        lambda s: (
            enroll.set_identity_images(
                session=s,
                worker=need(s, Worker, worker_id),
                front=front,
                back=back,
                issuing_authority=issuing_authority,
                valid_from=valid_from,
                valid_until=valid_until,
                actor=actor,
            ).id
        ),
    )


def add_face_photo(
    engine: Engine, worker_id: uuid.UUID, *, photo: bytes, thumb: bytes, faces_found: int, actor: str
) -> None:
    write(
        engine,
        lambda s: enroll.add_face_check(
            session=s,
            worker=need(s, Worker, worker_id),
            photo=photo,
            thumb=thumb,
            faces_found=faces_found,
            actor=actor,
        ),
    )


def record_realname_verification(engine: Engine, worker_id: uuid.UUID, *, by: str) -> None:
    write(
        engine,
        lambda s: enroll.record_realname_verification(session=s, worker=need(s, Worker, worker_id), by=by),
    )


def add_bank_card(
    engine: Engine,
    worker_id: uuid.UUID,
    *,
    bank_name: str,
    card_number: str,
    holder_name: str | None,
    actor: str,
) -> list[str]:
    """The card's warnings (a failed Luhn check: it is saved all the same)."""
    return write(
        engine,
        lambda s: enroll.add_bank_card(
            session=s,
            worker=need(s, Worker, worker_id),
            bank_name=bank_name,
            card_number=card_number,
            holder_name=holder_name,
            actor=actor,
        ),
    )[1]


def add_health_check(
    engine: Engine,
    worker_id: uuid.UUID,
    *,
    checked_on: date,
    institution_id: uuid.UUID | None,
    institution_other: str | None,
    passed: bool,
    valid_until: date | None,
    result_note: str | None,
    actor: str,
) -> uuid.UUID:
    """``institution_id`` one of the list, or None with ``institution_other`` the name typed."""
    return write(
        engine,
        lambda s: (
            enroll.add_health_check(
                session=s,
                worker=need(s, Worker, worker_id),
                checked_on=checked_on,
                institution=None if institution_id is None else need(s, HealthInstitution, institution_id),
                institution_other=institution_other,
                passed=passed,
                valid_until=valid_until,
                result_note=result_note,
                actor=actor,
            ).id
        ),
    )


def add_employment(
    engine: Engine,
    worker_id: uuid.UUID,
    *,
    employer_id: uuid.UUID,
    project_id: uuid.UUID,
    team: str,
    trade: str,
    start_date: date,
    end_date: date | None,
    actor: str,
) -> uuid.UUID:
    return write(
        engine,
        lambda s: (
            enroll.add_employment(
                session=s,
                worker=need(s, Worker, worker_id),
                employer=need(s, Employer, employer_id),
                project=need(s, Project, project_id),
                team=team,
                trade=trade,
                start_date=start_date,
                end_date=end_date,
                actor=actor,
            ).id
        ),
    )


def confirm_employment_in_person(engine: Engine, employment_id: uuid.UUID, *, actor: str) -> uuid.UUID:
    """The worker confirmed it at the admin's desk: audited as "<actor> (in person)"."""

    def confirm(s: Session) -> uuid.UUID:
        e = need(s, Employment, employment_id)
        enroll.confirm_employment(session=s, employment=e, actor=f"{actor} (in person)")
        return e.id

    return write(engine, confirm)


# --- the review queue -------------------------------------------------------------------------------


def approve_submission(engine: Engine, kind: ReviewKind, submission_id: uuid.UUID, *, by: str) -> None:
    write(engine, lambda s: approve(session=s, kind=kind, submission_id=submission_id, by=by))


def reject_submission(
    engine: Engine, kind: ReviewKind, submission_id: uuid.UUID, *, by: str, reason: str
) -> None:
    write(engine, lambda s: reject(session=s, kind=kind, submission_id=submission_id, by=by, reason=reason))
