"""Values from data are shown as text, never read as Rich/Textual markup (issue 19 item 4).

A worker named ``[/]`` once killed ``kiosk roster`` with MarkupError when the evacuation list opened,
and a trade ``[/]`` crashed the officer's result card. Here every name the screens show — workers,
employers, teams, trades, projects, officers, kiosks — is markup-like, and each screen is driven
through: the officer screen (green, amber, the attempts list, way A), the roster (table, filters,
refused tab, a worker's detail, the evacuation list, both languages) and the admin app (lists,
a worker's file and readiness, the reference screens). The text must show literally.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine
from support.async_tests import run_async
from support.officer_app import frozen, officer_code, scan, settle
from support.rosterdata import DAY, NOW, Site, build_site, populate_day
from textual.app import App

from kiosk.demo import Demo, make_demo
from kiosk.roster.app import make_app
from kiosk.roster.screens import EvacuationScreen, WorkerDetailScreen
from store.db.engine import make_engine, write_session
from store.db.models import Employer, Employment, Kiosk, Officer, Project, Worker
from store.people.seed import ELIGIBLE
from store.projects import resolve_project

pytestmark = pytest.mark.timeout(120)

#: each would raise MarkupError, or change what is shown, if parsed as markup
NAME = "[/]王[b]"
EMPLOYER = "[/]甲公司[red]"
TEAM = "[bold]班[/bold][/]"
TRADE = "[/]"
PROJECT = "[@click=app.quit]项目[/]"
KIOSK = "[/]1号门"
OFFICER = "[link=x]签到员[/]"


def poison(engine: Engine) -> None:
    """Every name in the store becomes markup-like (each row its own, so lists still tell them apart)."""
    with write_session(engine) as s:
        s.execute(update(Worker).values(name=NAME + Worker.name))
        s.execute(update(Employer).values(name=EMPLOYER + Employer.name))
        s.execute(update(Employment).values(team=TEAM, trade=TRADE))
        s.execute(update(Project).values(name=PROJECT + Project.name))
        s.execute(update(Kiosk).values(name=KIOSK))
        s.execute(update(Officer).values(name=OFFICER + Officer.name))


def shown(app: App[Any]) -> str:
    lines = ("".join(seg.text for seg in strip) for strip in app.screen._compositor.render_strips())
    return re.sub(r"\s+", "", "".join(lines))


# --- the officer screen ----------------------------------------------------------------------------


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    d = make_demo(tmp_path, workers=60, clock=frozen)
    poison(d.engine)
    yield d
    d.engine.dispose()


@run_async
async def test_officer_screen_shows_markup_like_names_as_text(demo: Demo) -> None:
    from kiosk.officer.app import build_app
    from kiosk.officer.way_a import OfficerCodeScreen

    app = build_app(
        demo.services(clock=frozen, issuer_key=demo.officer_key, shared=(demo.engine, str(demo.engine.url))),
        None,
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await scan(app, pilot, officer_code(demo))
        assert app.current_mode == "officer"
        assert "[@click=app.quit]" in shown(app)  # the project's name in the header
        worker = demo.examples(ELIGIBLE)[0]
        await scan(app, pilot, demo.code(worker, age_s=30))
        text = shown(app)
        assert NAME in text and TRADE in text and "[/]甲公司[red]" in text, text  # the green card
        await scan(app, pilot, demo.code(worker))  # amber: 今日已签到 with the kiosk's name
        assert "今日已签到" in shown(
            app
        )  # amber (the demo names no kiosk: kiosk names are seen on the roster)
        await pilot.press("f5")
        await settle(app, pilot)
        assert isinstance(app.screen, OfficerCodeScreen)
        assert "[link=x]签到员[/]" in shown(app) and "[@click=app.quit]" in shown(app)
        await pilot.press("escape")
        await settle(app, pilot)
        await pilot.press("f4")  # English: everything drawn again
        await settle(app, pilot)
        assert NAME in shown(app), shown(app)  # on the list of the last attempts
        assert app.is_running  # nothing crashed, the click-markup did not quit it


@run_async
async def test_project_picker_shows_markup_like_project_names_as_text(demo: Demo) -> None:
    from kiosk.officer.app import build_app
    from store.reasons import Role

    chief = next(o for o in demo.summary["officers"] if len(o["projects"]) == 2)
    app = build_app(demo.services(clock=frozen), None)
    async with app.run_test(size=(80, 24)) as pilot:
        await scan(app, pilot, demo.code(uuid.UUID(chief["id"]), role=Role.OFFICER))
        assert shown(app).count("[@click=app.quit]") == 2, shown(app)  # both projects in the picker
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.current_mode == "officer" and app.is_running


# --- the roster ------------------------------------------------------------------------------------


@pytest.fixture
def site(sqlite_url: str) -> Iterator[Site]:
    engine = make_engine(sqlite_url)
    s = build_site(engine)
    populate_day(s)
    poison(engine)
    yield s
    engine.dispose()


@run_async
async def test_roster_shows_markup_like_names_as_text(site: Site, tmp_path: Path) -> None:
    project = resolve_project(site.engine, str(site.project_id))
    app = make_app(
        site.engine, project, day=DAY, clock=lambda: NOW, poll_s=3600.0, export_dir=tmp_path, live=False
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        text = shown(app)
        assert NAME in text and "[@click=app.quit]" in text and "[/]甲公司[red]" in text, text
        await pilot.press("v")  # the evacuation list
        await pilot.pause()
        assert isinstance(app.screen, EvacuationScreen)
        assert NAME in shown(app) and TRADE in shown(app) and KIOSK in shown(app)
        await pilot.press("escape")
        await pilot.press("enter")  # the cursor's row: a group row; go down to a worker
        await pilot.press("down", "enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, WorkerDetailScreen)
        assert NAME in shown(app) and "[bold]班[/bold][/]" in shown(app)
        await pilot.press("escape")
        await pilot.press("t")  # the refused tab: names, teams, kiosks
        await pilot.pause()
        assert KIOSK in shown(app) and NAME in shown(app), shown(app)
        await pilot.press("t", "t", "l")  # past the event log, back to the roster, in English
        await pilot.pause()
        assert NAME in shown(app)
        await pilot.press("tab", "tab", "tab", "tab", "enter")  # the team filter's options are names too
        await pilot.pause()
        await pilot.press("escape")
        assert app.is_running


# --- the admin app ---------------------------------------------------------------------------------


@run_async
async def test_admin_shows_markup_like_names_as_text(site: Site) -> None:
    from kiosk.admin.app import build_app
    from kiosk.config import Config

    app = build_app(site.engine, Config(), actor="[/]管理员")
    async with app.run_test(size=(160, 50)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert NAME in shown(app)
        await pilot.press("enter")  # the worker's file and readiness
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "[/]甲公司[red]" in shown(app)
        for key in ("f2", "f3", "f4", "f5", "f6", "f7"):
            await pilot.press(key)
            await app.workers.wait_for_complete()
            await pilot.pause()
        await pilot.press("f2")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "[@click=app.quit]" in shown(app)
        assert app.is_running
