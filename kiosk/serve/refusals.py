"""What the way-A page says when the service refuses a sign-in (issue 27): 签到失败, the reason with the
project it is about (an officer's code of another project names that project), and a link to the step
that fixes it (the enrollment step of a missing document; none for a place or a code, which the worker
fixes where he stands)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kiosk.i18n import t
from store.reasons import Reason

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from store.rules.way_a import WayAResult

#: the page where each refusal is put right
FIX_URL: dict[Reason, str] = {
    Reason.REALNAME_INCOMPLETE: "/enroll/realname",
    Reason.NO_BANK_CARD: "/enroll/bank",
    Reason.NO_HEALTH_CHECK: "/enroll/health",
    Reason.HEALTH_CHECK_FAILED: "/enroll/health",
    Reason.HEALTH_CHECK_EXPIRED: "/enroll/health",
    Reason.NOT_EMPLOYED_ON_PROJECT: "/enroll/employment",
    Reason.EMPLOYMENT_NOT_CONFIRMED: "/enroll/employment",
    Reason.EMPLOYMENT_NOT_STARTED: "/enroll/employment",
    Reason.EMPLOYMENT_ENDED: "/enroll/employment",
    Reason.AGE_POLICY: "/",
    Reason.WORKER_UNKNOWN: "/",
}
#: refusals about the place, said for the project of the officer's code
PLACE = {Reason.OUTSIDE_RANGE, Reason.LOCATION_INACCURATE, Reason.OFFICER_NOT_ASSIGNED}


def refusal_help(engine: Engine, result: WayAResult, message: str, lang: str) -> dict[str, Any]:
    """The refusal card's title, message (naming the project) and the link that fixes it."""
    from store.db.engine import session
    from store.db.models import Project

    out: dict[str, Any] = {"title": t("signin.failed", lang), "message": message}
    if result.reason in PLACE and result.project_id is not None:
        with session(engine) as s:
            p = s.get(Project, result.project_id)
        if p is not None:
            out["project_name"] = p.name
            out["message"] = t("signin.for_project", lang, project=p.name, message=message)
    url = FIX_URL.get(result.reason) if result.reason else None
    if url:
        out["fix_url"] = url
        out["fix_label"] = t("signin.fix", lang)
    return out
