"""Test helper: a worker made eligible to sign in, the way the admin app makes him (store/people/enroll.py):
real name verified, a bank card, a passed health check and a confirmed employment on the project."""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import Session

from store.db.models import Employer, Employment, HealthInstitution, Project, Worker
from store.people import enroll


def make_eligible(
    s: Session,
    worker: Worker,
    *,
    employer: Employer,
    project: Project,
    today: date,
    institution: HealthInstitution | None = None,
    institution_other: str | None = None,
    result_note: str | None = None,
    bank_name: str = "中国工商银行",
    card_number: str = "6222020200112233445",
    team: str = "钢筋班组",
    trade: str = "钢筋工",
    checked_days_ago: int = 30,
    employed_days_ago: int = 100,
) -> Employment:
    """Everything ``worker`` needs to sign in on ``project``; returns his (confirmed) employment."""
    enroll.verify_realname(session=s, worker=worker, by="admin")
    enroll.add_bank_card(session=s, worker=worker, bank_name=bank_name, card_number=card_number)
    enroll.add_health_check(
        session=s,
        worker=worker,
        checked_on=today - timedelta(days=checked_days_ago),
        institution=institution,
        institution_other=institution_other,
        result_note=result_note,
    )
    e = enroll.add_employment(
        session=s,
        worker=worker,
        employer=employer,
        project=project,
        team=team,
        trade=trade,
        start_date=today - timedelta(days=employed_days_ago),
    )
    enroll.confirm_employment(session=s, employment=e)
    return e
