"""What a phone is shown, built once for the page and for the JSON API alike: who I am (``me_payload``), my
code (``code_payload``), where my enrollment stands (``enroll_payload``). The routers (``pages``, ``api``,
``enroll``) call these and never each other."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from fastapi import Request

from kiosk.i18n import t
from kiosk.serve.context import ServeContext
from kiosk.serve.errors import ServeError
from kiosk.serve.security import device_key, limit
from store.people.phone import Device, Kind


def today(ctx: ServeContext) -> date:
    """The site's date now (``[policy] timezone``)."""
    from store.timeutil import local_date, utcnow

    return local_date(utcnow(), ctx.config.policy.timezone)


def enroll_payload(ctx: ServeContext, worker_id: uuid.UUID, lang: str) -> dict[str, Any]:
    """His four steps, each with its state and, when rejected, the administrator's reason."""
    from store.people.review import reason_text
    from store.people.self_enroll import progress

    p = progress(ctx.engine, worker_id, ctx.config.sign_in_policy(), today(ctx))
    steps = []
    for s in p.steps:
        sub = s.submission
        steps.append(
            {
                "step": s.key,
                "label": s.en if lang == "en" else s.zh,
                "state": s.state.value,
                "state_label": t(f"enroll.state.{s.state.value}", lang),
                "detail": s.detail,
                "waiting": s.waiting,
                "submitted_at": sub.submitted_at.isoformat() if sub else None,
                "status": sub.status.value if sub else None,
                "summary": sub.summary if sub else "",
                "reason": reason_text(sub.reject_reason, lang) if sub and sub.reject_reason else None,
            }
        )
    return {"name": p.worker_name, "id_masked": p.id_masked, "steps": steps, "ready": p.ready}


def me_payload(ctx: ServeContext, dev: Device, lang: str) -> dict[str, Any]:
    """Who I am; a worker's readiness per project and his enrollment, an officer's projects today."""
    from store.people.admin import readiness
    from store.people.phone import person
    from store.projects import officer_projects

    p = person(ctx.engine, dev)
    if p is None:
        raise ServeError(401, "device.revoked", code="device_revoked")
    on = today(ctx)
    out: dict[str, Any] = {
        "kind": p.kind.value,
        "name": p.name,
        "id_masked": p.id_masked,
        "date": on.isoformat(),
    }
    if p.kind is Kind.WORKER:
        projects = []
        for r in readiness(ctx.engine, p.id, ctx.config.sign_in_policy(), on):
            if r.project_id is None:
                continue
            projects.append(
                {
                    "project": str(r.project_id),
                    "name": r.project_name,
                    "ready": r.ready,
                    "checks": [
                        {
                            "name": c.name,
                            "label": c.en if lang == "en" else c.zh,
                            "passed": c.passed,
                            "reason": c.reason.value if c.reason else None,
                            "message": (c.reason.en if lang == "en" else c.reason.zh) if c.reason else None,
                        }
                        for c in r.checks
                    ],
                    "steps": [
                        {"name": c.name, "label": c.en if lang == "en" else c.zh, "passed": c.passed}
                        for c in r.steps
                    ],
                }
            )
        out["projects"] = projects
        out["enrollment"] = enroll_payload(ctx, p.id, lang)  # each step's state (issue 14)
    else:
        out["projects"] = [
            {"project": str(pr.id), "name": pr.name} for pr in officer_projects(ctx.engine, p.id, on)
        ]
    return out


def code_payload(
    ctx: ServeContext, request: Request, dev: Device, project: str | None = None
) -> dict[str, Any]:
    """My current code (counted against the phone's limit): a worker's, or an officer's naming one of
    today's projects (``project``, else his first)."""
    from kiosk.serve.qr import qr_svg
    from store.codes.tokens import issue_code
    from store.projects import officer_projects
    from store.reasons import Role
    from store.timeutil import utcnow

    limit(ctx.limits.code_device, device_key(request))
    if not ctx.key_usable:
        raise ServeError(503, "err.key_revoked", code="key_revoked")
    validity = ctx.config.codes.validity_s
    now = utcnow().replace(microsecond=0)
    project_id: uuid.UUID | None = None
    project_name: str | None = None
    projects: list[dict[str, str]] = []
    if dev.kind is Kind.WORKER:
        token = issue_code(ctx.key, role=Role.WORKER, subject=dev.subject_id, at=now, validity_s=validity)
    else:
        if not ctx.can_sign_officers:
            raise ServeError(409, "code.no_officer_key", code="no_officer_key")
        assigned = officer_projects(ctx.engine, dev.subject_id, today(ctx))
        if not assigned:
            raise ServeError(409, "code.no_project", code="no_project")
        projects = [{"project": str(p.id), "name": p.name} for p in assigned]
        chosen = next((p for p in assigned if str(p.id) == project), assigned[0])
        project_id, project_name = chosen.id, chosen.name
        token = issue_code(
            ctx.key,
            role=Role.OFFICER,
            subject=dev.subject_id,
            project=project_id,
            at=now,
            validity_s=validity,
        )
    expires = now + timedelta(seconds=validity)
    device: dict[str, Any] = {}
    if dev.kind is Kind.WORKER:  # what the page needs to sign the code itself (issue 27, routers/device.py)
        from store.codes.devices import live_kid

        device = {"subject": str(dev.subject_id), "device_kid": live_kid(ctx.engine, dev.binding_id)}
    return {
        **device,
        "kind": dev.kind.value,
        "token": token,
        "svg": qr_svg(token, label=t("code.title")),
        "issued_at": now.isoformat(),
        "expires_at": expires.isoformat(),
        "validity_s": validity,
        "renew_in_s": max(5, validity - 20),
        "server_time": utcnow().isoformat(),
        "project": str(project_id) if project_id else None,
        "project_name": project_name,
        "projects": projects,
    }


def code_status(ctx: ServeContext, dev: Device, lang: str) -> dict[str, Any]:
    """Who the code is for and whether he can sign in today (his projects' readiness)."""
    from store.people.admin import readiness
    from store.people.phone import person

    p = person(ctx.engine, dev)
    on = today(ctx)
    out: dict[str, Any] = {
        "name": p.name if p else "",
        "id_masked": p.id_masked if p else None,
        "date": on.isoformat(),
        "timezone": ctx.config.policy.timezone,  # the site's: the page tells a saved copy of another day
    }
    if dev.kind is not Kind.WORKER:
        return out
    ready, missing = False, []
    for r in readiness(ctx.engine, dev.subject_id, ctx.config.sign_in_policy(), on):
        if r.project_id is None:
            continue
        if r.ready:
            ready = True
        for c in r.checks:
            if not c.passed:
                text = (
                    (c.reason.en if lang == "en" else c.reason.zh)
                    if c.reason
                    else (c.en if lang == "en" else c.zh)
                )
                if text not in missing:
                    missing.append(text)
    if ready:
        out["status"] = t("code.can_sign", lang)
    else:
        out["status"] = t("code.cannot_sign", lang) + ("；" if lang != "en" else "; ").join(
            missing or [t("home.no_project", lang)]
        )
    out["ready"] = ready
    return out


__all__ = ["code_payload", "code_status", "enroll_payload", "me_payload", "today"]
