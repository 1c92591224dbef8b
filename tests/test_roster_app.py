"""The roster app driven with Pilot on seeded data: counts, live updates, filters, detail, exports."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select
from support.async_tests import run_async
from support.rosterdata import DAY, NOW, Site, build_site, populate_day, populated_site
from textual.message import Message
from textual.widgets import DataTable, Input, Select, Static, TabbedContent
from textual.widgets.data_table import ColumnKey

from kiosk.roster.app import RosterApp, make_app
from kiosk.roster.screens import EvacuationScreen, WorkerDetailScreen
from store.db.engine import make_engine
from store.db.models import Attendance, SignInAttempt
from store.projects import resolve_project
from store.reasons import Reason

SIZE = (120, 40)


ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def sqlite_site(sqlite_url: str) -> Iterator[Site]:
    """The roster site of support/rosterdata.py, on SQLite only (one engine for the snapshots)."""
    yield from populated_site(sqlite_url)


def app_for(site: Site, tmp_path: Path, poll_s: float = 3600.0, live: bool = False) -> RosterApp:
    from store.projects import list_projects

    project = resolve_project(site.engine, str(site.project_id))
    return make_app(
        site.engine,
        project,
        day=DAY,
        clock=lambda: NOW,
        poll_s=poll_s,
        export_dir=tmp_path,
        live=live,
        projects=list_projects(site.engine),
    )


class Waiter:
    """Collects the app's refreshes (via run_test's message_hook) so a test can await one that matches."""

    def __init__(self) -> None:
        self.loaded: list[RosterApp.RosterLoaded] = []
        self.event = asyncio.Event()

    def hook(self, message: Message) -> None:
        if isinstance(message, RosterApp.RosterLoaded):
            self.loaded.append(message)
            self.event.set()

    async def until(
        self, app: RosterApp, pilot: object, ok: Callable[[], bool], timeout: float = 60.0
    ) -> None:
        async def loop() -> None:
            while True:
                await self.event.wait()
                self.event.clear()
                await pilot.pause()  # type: ignore[attr-defined]  # let the app handle the message
                if ok():
                    return

        await asyncio.wait_for(loop(), timeout)


def row_of(app: RosterApp, name: str) -> str:
    assert app.roster is not None
    return next(r.row_key for r in app.roster.rows if r.name == name)


def status_cell(app: RosterApp, name: str) -> str:
    return str(app.query_one("#roster", DataTable).get_cell(row_of(app, name), "status"))


async def started(app: RosterApp, pilot: object) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()  # type: ignore[attr-defined]
    assert app.refreshes >= 1


@run_async
async def test_counts_equal_the_database(site: Site, tmp_path: Path) -> None:
    app = app_for(site, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        with site.engine.connect() as c:
            signed = c.execute(
                select(func.count())
                .select_from(Attendance)
                .where(Attendance.project_id == site.project_id, Attendance.work_date == DAY)
            ).scalar_one()  # type: ignore[arg-type]
            # Counted as in test_roster.py: the roster's numbers checked straight against the tables.
            refused = c.execute(
                select(func.count())
                .select_from(SignInAttempt)
                .where(
                    SignInAttempt.project_id == site.project_id,
                    SignInAttempt.work_date == DAY,  # type: ignore[arg-type]
                    SignInAttempt.outcome == "refused",
                )
            ).scalar_one()  # type: ignore[arg-type]
        counts = str(app.query_one("#counts", Static).render())
        assert f"已签到 {signed}" in counts and f"被拒 {refused}" in counts
        assert "应到 6" in counts and "未签到 3" in counts
        table = app.query_one("#roster", DataTable)
        # 7 workers in 4 employer/team groups
        assert table.row_count == 7 + 4
        assert status_cell(app, "张建国") == "已签到"
        assert str(table.get_cell(row_of(app, "赵大海"), "where")) == "A 手机"
        assert str(table.get_cell(row_of(app, "张建国"), "first")) == "07:02"
        assert str(table.get_cell(row_of(app, "孙未确"), "reason")) == Reason.EMPLOYMENT_NOT_CONFIRMED.zh


SIGN_IN_SCRIPT = """
import sys, uuid
from datetime import datetime
from store.db.engine import make_engine
from store.rules.signin import SignInService
engine = make_engine(sys.argv[1])
r = SignInService(engine).sign_in(uuid.UUID(sys.argv[2]), uuid.UUID(sys.argv[3]), at=datetime.fromisoformat(sys.argv[4]),
                                  kiosk_id=uuid.UUID(sys.argv[5]))
print(r.outcome.value)
"""


async def sign_in_elsewhere(site: Site, name: str, at: datetime) -> str:
    """A sign-in written by another process (the gate kiosk), with the real SignInService."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        SIGN_IN_SCRIPT,
        site.engine.url.render_as_string(hide_password=False),
        str(site.workers[name]),
        str(site.project_id),
        at.isoformat(),
        str(site.kiosk_id),
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    return out.decode().strip()


@run_async
async def test_a_sign_in_from_another_process_shows_up_live(site: Site, tmp_path: Path) -> None:
    waiter = Waiter()
    app = app_for(site, tmp_path, poll_s=0.2)
    async with app.run_test(size=SIZE, message_hook=waiter.hook) as pilot:
        await started(app, pilot)
        # filter, cursor and scroll set by the supervisor must survive the update
        await pilot.click("#search")
        await pilot.press(*"国")
        await pilot.pause()
        table = app.query_one("#roster", DataTable)
        table.focus()
        table.move_cursor(row=table.get_row_index(row_of(app, "陈国强")))
        await pilot.pause()
        assert status_cell(app, "陈国强") == "未签到"
        assert (
            await sign_in_elsewhere(site, "陈国强", datetime(2026, 11, 1, 23, 50, tzinfo=UTC)) == "signed_in"
        )
        await waiter.until(app, pilot, lambda: status_cell(app, "陈国强") == "已签到")
        assert str(table.get_cell(row_of(app, "陈国强"), "first")) == "07:50"
        assert "已签到 4" in str(app.query_one("#counts", Static).render())
        assert app.query_one("#search", Input).value == "国"
        assert table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value == row_of(app, "陈国强")


@run_async
async def test_postgres_notify_wakes_the_roster_without_polling(pg_url: str, tmp_path: Path) -> None:
    engine = make_engine(pg_url)
    site = build_site(engine)
    populate_day(site)
    waiter = Waiter()
    app = app_for(site, tmp_path, poll_s=3600.0, live=True)  # polling would take an hour
    try:
        async with app.run_test(size=SIZE, message_hook=waiter.hook) as pilot:
            await waiter.until(app, pilot, lambda: app.roster is not None)  # the first refresh
            await sign_in_elsewhere(site, "王小明", datetime(2026, 11, 1, 23, 57, tzinfo=UTC))
            await waiter.until(
                app, pilot, lambda: app.roster is not None and status_cell(app, "王小明") == "已签到"
            )
    finally:
        engine.dispose()


@run_async
async def test_cursor_stays_on_the_worker_when_rows_change(sqlite_site: Site, tmp_path: Path) -> None:
    site = sqlite_site
    waiter = Waiter()
    app = app_for(site, tmp_path, poll_s=0.2)
    async with app.run_test(size=(120, 14), message_hook=waiter.hook) as pilot:
        await started(app, pilot)
        table = app.query_one("#roster", DataTable)
        target = row_of(app, "王小明")
        table.move_cursor(row=table.get_row_index(target))
        await pilot.pause()
        scroll = table.scroll_y
        # 刘德华 signs in: a row above changes, the group counts change, the cursor must stay on 王小明
        await sign_in_elsewhere(site, "刘德华", datetime(2026, 11, 1, 23, 55, tzinfo=UTC))
        await waiter.until(app, pilot, lambda: status_cell(app, "刘德华") == "已签到")
        assert table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value == target
        assert table.scroll_y == scroll
        # with a status filter the row leaves the view; the cursor stays on the same worker
        app.query_one("#status", Select).value = "not_yet"
        await pilot.pause()
        table.move_cursor(row=table.get_row_index(target))
        await sign_in_elsewhere(site, "陈国强", datetime(2026, 11, 1, 23, 56, tzinfo=UTC))
        await waiter.until(app, pilot, lambda: app.roster is not None and app.roster.counts.signed_in == 5)
        names = {r.name for r in app.visible_rows()}
        assert names == {"王小明"}
        assert table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value == target


@run_async
async def test_filters_and_search(sqlite_site: Site, tmp_path: Path) -> None:
    app = app_for(sqlite_site, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)

        def shown() -> set[str]:
            return {r.name for r in app.visible_rows()}

        app.query_one("#status", Select).value = "signed_in"
        await pilot.pause()
        assert shown() == {"张建国", "李卫东", "赵大海"}
        assert app.query_one("#roster", DataTable).row_count == 3 + 2
        app.query_one("#team", Select).value = "钢筋班组"
        await pilot.pause()
        assert shown() == {"张建国", "李卫东"}
        await pilot.press("c")  # clear filters
        await pilot.pause()
        assert len(shown()) == 7
        app.query_one("#trade", Select).value = "木工"
        await pilot.pause()
        assert shown() == {"王小明"}
        await pilot.press("c")
        assert app.roster is not None
        last3 = next(r for r in app.roster.rows if r.name == "刘德华").id_last4[-3:]
        await pilot.press("slash", *last3)
        await pilot.pause()
        assert shown() == {"刘德华"}
        assert "显示 1" in str(app.query_one("#shown", Static).render())


@run_async
async def test_worker_detail(sqlite_site: Site, tmp_path: Path) -> None:
    app = app_for(sqlite_site, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        table = app.query_one("#roster", DataTable)
        table.move_cursor(row=table.get_row_index(row_of(app, "孙未确")))
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, WorkerDetailScreen)
        await screen.workers.wait_for_complete()
        await pilot.pause()
        assert screen.detail is not None and "*" in screen.detail.id_masked
        head = str(screen.query_one("#detail-head", Static).render())
        assert screen.detail.id_masked in head and "孙未确" in head
        refused = screen.query_one("#detail-refused", DataTable)
        assert refused.row_count == 1
        assert str(refused.get_row_at(0)[-1]) == Reason.EMPLOYMENT_NOT_CONFIRMED.zh
        await pilot.press("escape")
        table.move_cursor(row=table.get_row_index(row_of(app, "张建国")))
        await pilot.press("enter")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, WorkerDetailScreen)
        await screen.workers.wait_for_complete()
        await pilot.pause()
        assert screen.query_one("#detail-days", DataTable).row_count == 3  # 10-31, 11-01, 11-02


@run_async
async def test_refused_tab(sqlite_site: Site, tmp_path: Path) -> None:
    app = app_for(sqlite_site, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        await pilot.press("t")  # the key that switches 花名册 / 被拒记录
        await pilot.pause()
        assert app.query_one("#tabs", TabbedContent).active == "tab-refused"
        table = app.query_one("#refused", DataTable)
        assert table.has_focus and table.row_count == 2
        first, second = table.get_row_at(0), table.get_row_at(1)
        # the reason third, where 100 columns show it
        assert (
            str(first[0]) == "07:25:00"
            and str(first[1]) == "（未知）"
            and str(first[2]) == Reason.CODE_EXPIRED.zh
        )
        assert str(second[1]) == "孙未确" and str(second[5]) == "1号门"
        await pilot.press("t")  # the kiosks' event log, then round to the roster
        assert app.query_one("#tabs", TabbedContent).active == "tab-events"
        await pilot.press("t")
        assert app.query_one("#tabs", TabbedContent).active == "tab-roster"


@run_async
async def test_evacuation_and_exports(sqlite_site: Site, tmp_path: Path) -> None:
    app = app_for(sqlite_site, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        await pilot.press("v")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, EvacuationScreen)
        assert screen.ev.total == 3
        await pilot.press("p")
        await screen.workers.wait_for_complete()
        assert screen.exported is not None and screen.exported.exists()
        page = screen.exported.read_text(encoding="utf-8")
        assert "张建国" in page and "刘德华" not in page
        await pilot.press("escape")
        for key in "dmr":
            await pilot.press(key)
        await app.workers.wait_for_complete()
        files = sorted(p.name for p in tmp_path.glob("*.xlsx"))
        assert [f.split("-")[0] for f in files] == ["daily", "monthly", "refused"]
        monthly = load_workbook(next(tmp_path.glob("monthly-*.xlsx"))).active
        assert monthly is not None and monthly.cell(3, 2).value == "姓名"  # under the title and the source


@run_async
async def test_language_key(sqlite_site: Site, tmp_path: Path) -> None:
    app = app_for(sqlite_site, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        await pilot.press("l")
        await pilot.pause()
        assert "signed in 3" in str(app.query_one("#counts", Static).render())
        assert status_cell(app, "张建国") == "signed in"
        assert str(app.query_one("#roster", DataTable).get_cell(row_of(app, "赵大海"), "where")) == "A phone"
        await pilot.press("l")
        await pilot.pause()
        assert status_cell(app, "张建国") == "已签到"


# --- snapshots at 80×24 and 100×30 (the clock is frozen at 09:15 Shanghai on 2026-11-02) ------------

SNAP_SIZES = [(80, 24), (100, 30)]


async def _ready(pilot: object) -> None:
    app = pilot.app  # type: ignore[attr-defined]
    await app.workers.wait_for_complete()
    await pilot.pause()  # type: ignore[attr-defined]
    await app.screen.workers.wait_for_complete()
    await pilot.pause()  # type: ignore[attr-defined]


def _pressing(*keys: str) -> Callable[[object], Any]:
    async def before(pilot: object) -> None:
        await _ready(pilot)
        for key in keys:
            await pilot.press(key)  # type: ignore[attr-defined]
            await _ready(pilot)

    return before


# One test a screen, alike on purpose: each snapshot file is named after its test, so folding these into
# one parametrized test would rename (and so lose) every stored snapshot.
@pytest.mark.parametrize("size", SNAP_SIZES)
def test_snapshot_roster_zh(
    sqlite_site: Site, tmp_path: Path, snap_compare: Callable[..., bool], size: tuple[int, int]
) -> None:
    assert snap_compare(app_for(sqlite_site, tmp_path), terminal_size=size, run_before=_ready)


@pytest.mark.parametrize("size", SNAP_SIZES)
def test_snapshot_roster_en(
    sqlite_site: Site, tmp_path: Path, snap_compare: Callable[..., bool], size: tuple[int, int]
) -> None:
    assert snap_compare(app_for(sqlite_site, tmp_path), terminal_size=size, run_before=_pressing("l"))


@pytest.mark.parametrize("size", SNAP_SIZES)
def test_snapshot_refused_tab(
    sqlite_site: Site, tmp_path: Path, snap_compare: Callable[..., bool], size: tuple[int, int]
) -> None:
    assert snap_compare(app_for(sqlite_site, tmp_path), terminal_size=size, run_before=_pressing("t"))


@pytest.mark.parametrize("size", SNAP_SIZES)
def test_snapshot_roster_filtered(
    sqlite_site: Site, tmp_path: Path, snap_compare: Callable[..., bool], size: tuple[int, int]
) -> None:
    async def before(pilot: object) -> None:
        await _ready(pilot)
        pilot.app.query_one("#status", Select).value = "signed_in"  # type: ignore[attr-defined]
        await _ready(pilot)

    assert snap_compare(app_for(sqlite_site, tmp_path), terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SNAP_SIZES)
def test_snapshot_help(
    sqlite_site: Site, tmp_path: Path, snap_compare: Callable[..., bool], size: tuple[int, int]
) -> None:
    assert snap_compare(app_for(sqlite_site, tmp_path), terminal_size=size, run_before=_pressing("f1"))


@pytest.mark.parametrize("size", SNAP_SIZES)
def test_snapshot_project_picker(
    sqlite_site: Site, tmp_path: Path, snap_compare: Callable[..., bool], size: tuple[int, int]
) -> None:
    import dataclasses
    import uuid

    app = app_for(sqlite_site, tmp_path)
    # the picker shows the start of each id: fixed ones for the picture
    app.projects = [
        dataclasses.replace(p, id=uuid.UUID(int=(i + 1) * 0x1111 << 96)) for i, p in enumerate(app.projects)
    ]
    assert snap_compare(app, terminal_size=size, run_before=_pressing("p"))


@pytest.mark.parametrize("size", SNAP_SIZES)
def test_snapshot_worker_detail(
    sqlite_site: Site, tmp_path: Path, snap_compare: Callable[..., bool], size: tuple[int, int]
) -> None:
    async def before(pilot: object) -> None:
        await _ready(pilot)
        app = pilot.app  # type: ignore[attr-defined]
        table = app.query_one("#roster", DataTable)
        table.move_cursor(row=table.get_row_index(row_of(app, "张建国")))
        await pilot.press("enter")  # type: ignore[attr-defined]
        await _ready(pilot)

    assert snap_compare(app_for(sqlite_site, tmp_path), terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SNAP_SIZES)
def test_snapshot_evacuation(
    sqlite_site: Site, tmp_path: Path, snap_compare: Callable[..., bool], size: tuple[int, int]
) -> None:
    assert snap_compare(app_for(sqlite_site, tmp_path), terminal_size=size, run_before=_pressing("v"))


@pytest.mark.parametrize("size", SNAP_SIZES)
@run_async
async def test_the_roster_fits_and_its_header_stays(
    sqlite_site: Site, tmp_path: Path, size: tuple[int, int]
) -> None:
    """The counts above and the 显示 N / 共 N 人 line below are on screen, also after switching tabs,
    languages and moving the focus backwards (which once scrolled the header away for good)."""
    app = app_for(sqlite_site, tmp_path)
    async with app.run_test(size=size) as pilot:
        await started(app, pilot)

        def on_screen(selector: str) -> bool:
            r = app.query_one(selector).region
            return r.height > 0 and r.y >= 0 and r.bottom <= size[1]

        assert on_screen("#counts") and on_screen("#shown") and on_screen("#title")
        assert "显示 7 / 共 7 人" in str(app.query_one("#shown", Static).render())
        await pilot.press("t", "l", "shift+tab", "shift+tab", "t", "shift+tab")
        await pilot.pause()
        assert on_screen("#counts") and on_screen("#title")
        assert app.screen.scroll_y == 0
        table = app.query_one("#roster", DataTable)
        # the columns that matter are within the first 80 columns
        x = 0
        for key in ("name", "status", "first", "where"):
            x += table.columns[ColumnKey(key)].get_render_width(table)
        assert x <= size[0]


@run_async
async def test_keys_escape_leaves_search_and_filtered_group_counts_say_so(
    sqlite_site: Site, tmp_path: Path
) -> None:
    app = app_for(sqlite_site, tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await started(app, pilot)
        await pilot.press("slash", *"张")
        assert app.query_one("#search", Input).has_focus
        await pilot.press("escape")
        assert app.query_one("#roster", DataTable).has_focus
        await pilot.press("c")  # a key again, not typed into the box
        await pilot.pause()
        assert app.query_one("#search", Input).value == ""
        table = app.query_one("#roster", DataTable)
        group = next(k for k in app._shown_keys if k.startswith("group:") and "钢筋班组" in k)
        assert str(table.get_cell(group, "status")) == "2/2"
        app.query_one("#status", Select).value = "not_yet"
        await pilot.pause()
        shown = str(app.query_one("#shown", Static).render())
        assert "已筛选" in shown
        assert all(
            "筛选" in str(table.get_cell(k, "status")) for k in app._shown_keys if k.startswith("group:")
        )
        await pilot.press("f1")
        await pilot.pause()
        text = str(app.screen.query_one("#keys-body", Static).render())
        for key in ("F1", "/", "t", "v", "d", "m", "r", "c", "p", "l", "q", "F5", "Esc", "Enter"):
            assert f" {key} " in text, key


@run_async
async def test_project_picker_switches_the_roster(sqlite_site: Site, tmp_path: Path) -> None:
    from store.projects import list_projects

    projects = list_projects(sqlite_site.engine)
    first = next(p for p in projects if p.id == sqlite_site.project_id)
    app = make_app(
        sqlite_site.engine,
        first,
        day=DAY,
        clock=lambda: NOW,
        poll_s=3600.0,
        export_dir=tmp_path,
        live=False,
        projects=projects,
        pick=True,
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await started(app, pilot)
        from kiosk.roster.screens import ProjectPickScreen

        assert isinstance(app.screen, ProjectPickScreen)  # several projects, none named: asked first
        other = next(i for i, p in enumerate(projects) if p.id == sqlite_site.other_project_id)
        here = next(i for i, p in enumerate(projects) if p.id == sqlite_site.project_id)
        await pilot.press(*(["down"] * (other - here) if other > here else ["up"] * (here - other)), "enter")
        await started(app, pilot)
        await pilot.pause()
        assert app.project.id == sqlite_site.other_project_id
        assert app.roster is not None and app.roster.counts.expected == 0
        assert "测试项目二号地块" in str(app.query_one("#title", Static).render())


def test_cli_roster_errors_are_clear(
    sqlite_site: Site, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from kiosk.cli import main

    url = sqlite_site.engine.url.render_as_string(hide_password=False)
    assert main(["roster", "--db", url]) == 2  # two projects, not a terminal: which one?
    err = capsys.readouterr().err
    assert "--project" in err and str(sqlite_site.project_id)[:8] in err and "测试项目一号地块" in err
    assert main(["roster", "--db", url, "--project", "no-such"]) == 2
    assert "Unknown project" in capsys.readouterr().err
    assert (
        main(["roster", "--db", url, "--project", str(sqlite_site.project_id), "--date", "2026-02-30"]) == 2
    )
    err = capsys.readouterr().err
    assert "YYYY-MM-DD" in err and "Traceback" not in err
    assert main(["roster", "--db", str(tmp_path / "nothing" / "x.db")]) == 2


@run_async
async def test_database_gone_keeps_the_last_roster_and_the_evacuation_list(
    sqlite_site: Site, tmp_path: Path
) -> None:
    waiter = Waiter()
    app = app_for(sqlite_site, tmp_path, poll_s=0.2)
    async with app.run_test(size=SIZE, message_hook=waiter.hook) as pilot:
        await started(app, pilot)
        before = app.roster
        gone = make_engine("postgresql://postgres@127.0.0.1:1/nowhere")  # nothing listens on port 1
        app.engine = app._reader.engine = gone
        await waiter.until(app, pilot, lambda: app.error is not None)
        assert app.roster is before  # the last roster stays on screen
        title = str(app.query_one("#title", Static).render())
        assert "读取数据库失败 · 每 0.2 秒重试" in title and "更新于 09:15:00" in title
        assert "以上为 09:15:00 的数据" in str(app.query_one("#counts", Static).render())
        await pilot.press("v")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, EvacuationScreen) and screen.ev.total == 3
        await pilot.press("p")
        await screen.workers.wait_for_complete()
        assert screen.exported is not None and "张建国" in screen.exported.read_text(encoding="utf-8")
        gone.dispose()


def _left_early(site: Site) -> None:
    """李卫东 leaves at 08:30 (出场): the roster says 已离场 with the time, the evacuation list leaves him off."""
    from store.rules.direction import DirectionService

    assert site.service is not None
    DirectionService(site.service).sign_out(
        site.workers["李卫东"],
        site.project_id,
        at=datetime(2026, 11, 2, 0, 30, tzinfo=UTC),
        kiosk_id=site.kiosk_id,
    )


@pytest.mark.parametrize("size", SNAP_SIZES)
def test_snapshot_roster_with_departure(
    sqlite_site: Site, tmp_path: Path, snap_compare: Callable[..., bool], size: tuple[int, int]
) -> None:
    _left_early(sqlite_site)
    assert snap_compare(app_for(sqlite_site, tmp_path), terminal_size=size, run_before=_ready)


@pytest.mark.parametrize("size", SNAP_SIZES)
def test_snapshot_evacuation_with_departure(
    sqlite_site: Site, tmp_path: Path, snap_compare: Callable[..., bool], size: tuple[int, int]
) -> None:
    _left_early(sqlite_site)
    assert snap_compare(app_for(sqlite_site, tmp_path), terminal_size=size, run_before=_pressing("v"))


@run_async
async def test_evacuation_leaves_out_who_left(sqlite_site: Site, tmp_path: Path) -> None:
    _left_early(sqlite_site)
    app = app_for(sqlite_site, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        assert app.roster is not None
        c = app.roster.counts
        assert (c.signed_in, c.on_site, c.left) == (3, 2, 1)
        await pilot.press("v")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, EvacuationScreen)
        assert screen.ev.total == 2 and screen.ev.left == 1
        names = {r.name for g in screen.ev.groups for r in g.rows}
        assert "李卫东" not in names and "张建国" in names


@run_async
async def test_revoked_read_is_said_and_retried_until_granted_again(pg_url: str, tmp_path: Path) -> None:
    """The supervisor's login loses the right to read the attempts mid-session: the screen says so in words
    with what to do, shows the old figures as old, keeps retrying, and comes back live once it is granted."""
    import uuid as _uuid

    from sqlalchemy.engine import make_url

    admin = make_engine(pg_url)
    site = build_site(admin)
    populate_day(site)
    login = f"t_roster_{_uuid.uuid4().hex[:10]}"
    with admin.begin() as c:
        c.exec_driver_sql(f"CREATE ROLE {login} LOGIN")
        c.exec_driver_sql(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {login}")
    url = make_url(pg_url).set(username=login).render_as_string(hide_password=False)
    engine = make_engine(url)
    site_as_login = Site(engine, site.project_id, site.other_project_id, site.kiosk_id, site.workers)
    waiter = Waiter()
    app = app_for(site_as_login, tmp_path, poll_s=0.2)
    try:
        async with app.run_test(size=SIZE, message_hook=waiter.hook) as pilot:
            await waiter.until(app, pilot, lambda: app.roster is not None and app.error is None)
            with admin.begin() as c:
                c.exec_driver_sql(f"REVOKE SELECT ON signinattempt FROM {login}")
            await sign_in_elsewhere(site, "王小明", datetime(2026, 11, 1, 23, 57, tzinfo=UTC))
            await waiter.until(app, pilot, lambda: app.error is not None)
            title = str(app.query_one("#title", Static).render())
            assert (
                "无权读取 signinattempt" in title and "kiosk db roles" in title and "每 0.2 秒重试" in title
            )
            assert "以上为" in str(app.query_one("#counts", Static).render())
            failures = len(waiter.loaded)
            await waiter.until(app, pilot, lambda: len(waiter.loaded) >= failures + 2)  # still retrying
            assert app.error is not None
            with admin.begin() as c:
                c.exec_driver_sql(f"GRANT SELECT ON signinattempt TO {login}")
            await waiter.until(
                app, pilot, lambda: app.error is None and status_cell(app, "王小明") == "已签到"
            )
            assert "以上为" not in str(app.query_one("#counts", Static).render())
    finally:
        engine.dispose()
        with admin.begin() as c:
            c.exec_driver_sql(f"REASSIGN OWNED BY {login} TO postgres")
            c.exec_driver_sql(f"DROP OWNED BY {login}")
            c.exec_driver_sql(f"DROP ROLE {login}")
        admin.dispose()
