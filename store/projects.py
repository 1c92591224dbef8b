"""Project look-ups, one home for every front end: the list of projects, the one a user names, and the
projects a worker or an officer may sign in on.

- ``list_projects`` / ``projects_on``: the live (not deleted) projects by name, as ``ProjectInfo``
  (id, name, time zone): the roster, the CLI, the setup wizard and the admin's pick lists;
- ``project_rows``: the same projects as full ``Project`` rows (address, position, radius), for the
  admin's project table and form;
- ``resolve_project``: the project named by ``--project`` (an id, the start of one, or its name);
- ``worker_projects`` / ``officer_projects``: the projects a worker is employed on, or an officer is
  assigned to, on a given day (the phone service).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, or_
from sqlalchemy import select as core_select
from sqlalchemy.engine import Connection, Engine
from sqlmodel import col, select

from store.db.engine import session, translate_errors
from store.db.models import Employment, OfficerAssignment, Project
from store.errors import StoreError
from store.rules.signin import officer_assigned
from store.timeutil import DEFAULT_ZONE, local_date

PRJ = cast(Table, cast(Any, Project).__table__).c


@dataclass(frozen=True, slots=True)
class ProjectInfo:
    id: uuid.UUID
    name: str
    timezone: str


def project_info(conn: Connection, project_id: uuid.UUID) -> ProjectInfo:
    """One project by id (deleted or not); an unknown id is a StoreError."""
    row = conn.execute(core_select(PRJ.id, PRJ.name, PRJ.timezone).where(PRJ.id == project_id)).first()
    if row is None:
        raise StoreError(f"项目不存在：{project_id}", f"Unknown project: {project_id}")
    return ProjectInfo(row.id, row.name, row.timezone or DEFAULT_ZONE)


def projects_on(conn: Connection) -> list[ProjectInfo]:
    """The live projects by name, read on an open connection."""
    rows = conn.execute(
        core_select(PRJ.id, PRJ.name, PRJ.timezone).where(PRJ.deleted_at.is_(None)).order_by(PRJ.name)
    ).all()
    return [ProjectInfo(r.id, r.name, r.timezone or DEFAULT_ZONE) for r in rows]


def list_projects(engine: Engine) -> list[ProjectInfo]:
    """The live projects by name."""
    with translate_errors(str(engine.url)), engine.connect() as conn:
        return projects_on(conn)


def project_rows(engine: Engine) -> list[Project]:
    """The live projects by name, as full rows (the admin's project table)."""
    with translate_errors(str(engine.url)), session(engine) as s:
        return list(
            s.exec(select(Project).where(col(Project.deleted_at).is_(None)).order_by(col(Project.name)))
        )


def resolve_project(engine: Engine, project: str | None) -> ProjectInfo:
    """The project named by ``--project``: its id, a unique beginning of its id (the 8 characters the
    admin shows), or its name; the only one when there is exactly one and none is named."""
    projects = list_projects(engine)
    if project and project.strip():
        return match_project(projects, project)
    if len(projects) == 1:
        return projects[0]
    if not projects:
        raise StoreError("数据库中没有项目", "There is no project in the database")
    names = project_list(projects)
    raise StoreError(
        f"请用 --project 指定项目（编号开头或名称）：{names}",
        f"Pick a project with --project (the start of its id, or its name): {names}",
    )


def match_project(projects: list[ProjectInfo], project: str) -> ProjectInfo:
    """One of ``projects`` by id, unique id prefix (hyphens optional) or exact name."""
    text = project.strip()
    by_name = [p for p in projects if p.name == text]
    if len(by_name) == 1:
        return by_name[0]
    key = text.lower().replace("-", "")
    by_id = [p for p in projects if key and p.id.hex.startswith(key)]
    if len(by_id) == 1 and not by_name:
        return by_id[0]
    if len(by_id) + len(by_name) > 1:
        names = project_list(by_name + by_id)
        raise StoreError(
            f"“{text}”对应多个项目，请多写几位编号：{names}",
            f"'{text}' matches several projects, give more of the id: {names}",
        )
    names = project_list(projects)
    raise StoreError(f"项目不存在：{text}（现有：{names}）", f"Unknown project: {text} (there are: {names})")


def project_list(projects: list[ProjectInfo], limit: int = 10) -> str:
    """``1a2b3c4d 名称; …``: short ids a user can type back to --project."""
    more = f"; … (+{len(projects) - limit})" if len(projects) > limit else ""
    return "; ".join(f"{str(p.id)[:8]} {p.name}" for p in projects[:limit]) + more


def worker_projects(engine: Engine, worker_id: uuid.UUID, on: date) -> list[Project]:
    """The projects the worker has a current (not ended, not deleted) employment on that day."""
    stmt = (
        select(Project)
        .join(Employment, col(Employment.project_id) == col(Project.id))
        .where(
            Employment.worker_id == worker_id,
            col(Employment.deleted_at).is_(None),
            col(Project.deleted_at).is_(None),
            or_(col(Employment.start_date).is_(None), col(Employment.start_date) <= on),
            or_(col(Employment.end_date).is_(None), col(Employment.end_date) >= on),
        )
        .distinct()
        .order_by(col(Project.name))
    )
    with translate_errors(str(engine.url)), session(engine) as s:
        return list(s.exec(stmt).all())


def officer_projects(engine: Engine, officer_id: uuid.UUID, on: date) -> list[Project]:
    """The projects the officer is assigned to that day."""
    with translate_errors(str(engine.url)), session(engine) as s:
        ids = s.exec(
            select(OfficerAssignment.project_id)
            .where(OfficerAssignment.officer_id == officer_id, col(OfficerAssignment.deleted_at).is_(None))
            .distinct()
        ).all()
        out = []
        for pid in ids:
            p = s.get(Project, pid)
            if p is not None and p.deleted_at is None and officer_assigned(s, officer_id, pid, on):
                out.append(p)
        return sorted(out, key=lambda p: p.name)


def today_of(project: ProjectInfo, now: datetime) -> date:
    """The project's work date at instant ``now``."""
    return local_date(now, project.timezone)
