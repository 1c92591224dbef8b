"""``kiosk setup``, driven with Pilot as a site administrator drives it: a full set-up against PostgreSQL,
every failure path (the shared database, the kiosk's name and project, the camera and the scanner,
saving and the first sync), re-running it on an existing config, and English."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url
from support.async_tests import run_async
from support.sync_helpers import make_site
from textual.widgets import Button, Input, ProgressBar, Select

from kiosk.camera.simulate import write_folder
from kiosk.config import load_config
from kiosk.setup.app import STEPS, SetupApp
from kiosk.setup.logic import SharedAddress, explain
from store.db.engine import make_engine, session
from store.db.migrate import upgrade_engine
from store.db.models import Kiosk
from store.db.schema import head
from store.people import enroll

pytestmark = pytest.mark.timeout(180)
SIZE = (100, 40)


@pytest.fixture(autouse=True)
def own_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIOSK_DATA_DIR", str(tmp_path / "data"))


async def settle(app: SetupApp, pilot: object) -> None:
    for _ in range(3):
        await app.workers.wait_for_complete()
        await pilot.pause()  # type: ignore[attr-defined]


async def fill(app: SetupApp, pilot: object, selector: str, text: str) -> None:
    """Click into a field, clear it and type (one key at a time, as a person does)."""
    await pilot.click(selector)  # type: ignore[attr-defined]
    app.query_one(selector, Input).value = ""
    await pilot.press(*list(text))  # type: ignore[attr-defined]
    assert app.query_one(selector, Input).value == text


async def click(app: SetupApp, pilot: object, selector: str) -> None:
    await settle(app, pilot)  # what was typed or chosen has landed (focus moves, layout) before the click
    await pilot.click(selector)  # type: ignore[attr-defined]
    await settle(app, pilot)


def step(app: SetupApp) -> str:
    return STEPS[app.step]


async def fill_postgres(app: SetupApp, pilot: object, url: str, **override: str) -> None:
    # The Postgres form's fields from a URL; a test below builds its expected values alike.
    u = make_url(url)
    values = {
        "host": u.host or "",
        "port": str(u.port or 5432),
        "database": u.database or "",
        "user": u.username or "",
        **override,
    }
    for key, value in values.items():
        await fill(app, pilot, f"#{key}", value)


async def to_shared(app: SetupApp, pilot: object) -> None:
    await click(app, pilot, "#next")
    assert step(app) == "shared"


def camera_folder(tmp_path: Path, token: str | None) -> Path:
    folder = tmp_path / "camera"
    write_folder([None, token], folder)
    return folder


@run_async
async def test_a_full_set_up_against_postgresql(tmp_path: Path, pg_url: str) -> None:
    shared = make_engine(pg_url)
    site = make_site(shared, workers=3)
    config = tmp_path / "conf" / "config.toml"
    app = SetupApp(config)
    async with app.run_test(size=SIZE) as pilot:
        assert "签到终端设置向导" in str(app.query_one("#title").render())
        await to_shared(app, pilot)
        await fill_postgres(app, pilot, pg_url)
        await click(app, pilot, "#test-shared")
        assert "连接成功" in app.result_text("shared-result")
        await click(app, pilot, "#next")
        assert step(app) == "kiosk"
        await fill(app, pilot, "#name", "East-gate")
        assert app.query_one("#project-select", Select).value == str(site.project)  # the only project
        await click(app, pilot, "#next")
        assert step(app) == "camera"
        await fill(app, pilot, "#source", str(camera_folder(tmp_path, "SJM1:ANYTESTCODE")))
        await click(app, pilot, "#test-camera")
        said = app.result_text("camera-result")
        assert "1280×720" in said and "个人建设码" in said and "SJM1" not in said  # never the code itself
        assert "▀" in "".join(
            str(s)
            for s in app.query_one("#preview").render_lines(app.query_one("#preview").region.reset_offset)
        )
        await click(app, pilot, "#next")
        assert step(app) == "finish"
        await click(app, pilot, "#finish")
        assert "设置完成" in app.result_text("finish-result"), app.result_text("finish-result")
        bar = app.query_one("#progress", ProgressBar)
        assert bar.total and bar.progress == bar.total
        assert app.finished is not None and app.finished.pulled > 10
        await click(app, pilot, "#finish")  # 完成: closes
    assert app.return_code == 0
    data = tomllib.loads(config.read_text(encoding="utf-8"))
    assert data["store"]["shared_url"].startswith("postgresql://postgres@127.0.0.1:")
    assert data["kiosk"] == {"name": "East-gate", "project": str(site.project)}
    assert oct(config.stat().st_mode & 0o777) == "0o600"
    cfg = load_config(config)
    local = make_engine(cfg.store.local())
    with local.connect() as conn:
        from store.db.schema import current

        assert current(conn) == head()
    local.dispose()
    with session(shared) as s:  # the kiosk is registered in the shared database, on its project
        kiosk = s.exec(select(Kiosk).where(Kiosk.name == "East-gate")).scalars().one()  # type: ignore[call-overload]
    assert kiosk.project_id == site.project
    shared.dispose()


@run_async
async def test_every_shared_database_failure_says_why(tmp_path: Path, pg_server: object, pg_url: str) -> None:
    empty_pg = pg_server.create(migrate=False)  # type: ignore[attr-defined]
    app = SetupApp(tmp_path / "config.toml")
    async with app.run_test(size=SIZE) as pilot:
        await to_shared(app, pilot)
        await click(app, pilot, "#test-shared")
        assert app.result_text("shared-result") == "请填写服务器地址"
        cases = [
            ({"port": "abc"}, "端口应为"),
            ({"port": "1"}, "拒绝连接"),
            ({"host": "no-such-host.invalid"}, "找不到服务器 no-such-host.invalid"),
            ({"user": "nobody_here"}, "用户 nobody_here 不存在"),
            ({"database": "no_such_db_x"}, "数据库 no_such_db_x 不存在"),
            ({"database": make_url(empty_pg).database or ""}, "尚未初始化"),
            ({}, "还没有项目"),  # migrated, but no project yet
        ]
        u = make_url(pg_url)
        good = {
            "host": u.host or "",
            "port": str(u.port or 5432),
            "database": u.database or "",
            "user": u.username or "",
        }
        await fill_postgres(app, pilot, pg_url)
        changed: dict[str, str] = {}
        for override, expected in cases:
            for key in set(changed) - set(override):  # put back what the last case changed
                await fill(app, pilot, f"#{key}", good[key])
            for key, value in override.items():
                await fill(app, pilot, f"#{key}", value)
            changed = override
            await click(app, pilot, "#test-shared")
            assert expected in app.result_text("shared-result"), (override, app.result_text("shared-result"))
            await click(app, pilot, "#next")
            assert step(app) == "shared" and app.result_text("shared-result") == "请先测试连接"
        # a SQLite file that is not there
        await click(app, pilot, "#kind-sqlite")
        await fill(app, pilot, "#path", str(tmp_path / "missing.db"))
        await click(app, pilot, "#test-shared")
        assert "文件不存在" in app.result_text("shared-result")
        # a good test, then the address changed: test again before going on
        good_file = tmp_path / "shared.db"
        engine = make_engine(f"sqlite:///{good_file}")
        upgrade_engine(engine)
        make_site(engine, workers=1)
        engine.dispose()
        await fill(app, pilot, "#path", str(good_file))
        await click(app, pilot, "#test-shared")
        assert "连接成功" in app.result_text("shared-result")
        await pilot.click("#path")
        await pilot.press("end", "x")  # one more character: not what was tested
        await click(app, pilot, "#next")
        assert step(app) == "shared" and app.result_text("shared-result") == "请先测试连接"
    text = explain('FATAL:  password authentication failed for user "gate1"', SharedAddress(user="gate1"))
    assert "密码不正确" in text[0] and "password is wrong" in text[1]


async def through_shared_sqlite(app: SetupApp, pilot: object, path: Path) -> None:
    await to_shared(app, pilot)
    await click(app, pilot, "#kind-sqlite")
    await fill(app, pilot, "#path", str(path))
    await click(app, pilot, "#test-shared")
    assert "连接成功" in app.result_text("shared-result"), app.result_text("shared-result")
    await click(app, pilot, "#next")
    assert step(app) == "kiosk"


def sqlite_site(path: Path, projects: int = 1) -> list[object]:
    engine = make_engine(f"sqlite:///{path}")
    upgrade_engine(engine)
    ids = [make_site(engine, workers=1).project]
    with session(engine) as s:
        for i in range(projects - 1):
            ids.append(
                enroll.add_project(session=s, name=f"第{i + 2}个项目", latitude=31.2, longitude=121.5).id
            )
        s.commit()
    engine.dispose()
    return ids


@run_async
async def test_name_project_camera_and_scanner_failures(tmp_path: Path) -> None:
    shared = tmp_path / "shared.db"
    projects = sqlite_site(shared, projects=2)
    app = SetupApp(tmp_path / "config.toml")
    async with app.run_test(size=SIZE) as pilot:
        await through_shared_sqlite(app, pilot, shared)
        app.query_one("#name", Input).value = ""
        await click(app, pilot, "#next")
        assert step(app) == "kiosk" and app.result_text("kiosk-result") == "请填写本机名称"
        await fill(app, pilot, "#name", "Gate-2")
        await click(app, pilot, "#next")
        assert (
            step(app) == "kiosk" and app.result_text("kiosk-result") == "请选择项目"
        )  # two projects: pick one
        await pilot.click("#project-select")  # the list opens: the second project
        await pilot.press("down", "down", "enter")  # past the prompt row
        chosen = app.query_one("#project-select", Select).value
        assert chosen in {str(p) for p in projects}
        await click(app, pilot, "#next")
        assert step(app) == "camera", app.result_text("kiosk-result")
        await click(app, pilot, "#next")
        assert step(app) == "camera" and app.result_text("camera-result") == "请先试一下摄像头或扫码枪"
        await fill(app, pilot, "#source", str(tmp_path / "no-camera-here"))
        await click(app, pilot, "#test-camera")
        assert "摄像头无法使用" in app.result_text("camera-result") and "扫码枪" in app.result_text(
            "camera-result"
        )
        await fill(app, pilot, "#source", str(camera_folder(tmp_path, None)))  # frames, no code
        await click(app, pilot, "#test-camera")
        assert "未读出二维码" in app.result_text("camera-result") and app.camera_ok
        # or the scanner instead
        await click(app, pilot, "#use-scanner")
        assert not app.query_one("#f-source").display and app.query_one("#f-scanner").display
        await click(app, pilot, "#next")
        assert step(app) == "camera" and app.result_text("camera-result") == "请先试一下摄像头或扫码枪"
        await pilot.press("enter")  # an empty line: nothing
        assert not app.scanner_ok
        await fill(app, pilot, "#scanner", "HELLO-123")
        await pilot.press("enter")
        await settle(app, pilot)
        assert app.result_text("camera-result") == "扫码枪正常：读到 9 个字符（其他二维码）"
        await click(app, pilot, "#next")
        assert step(app) == "finish"
        assert app.answers().camera_source == "" and app.answers().project_id == chosen


@run_async
async def test_saving_and_the_first_sync_can_fail_and_be_retried(tmp_path: Path) -> None:
    shared = tmp_path / "shared.db"
    sqlite_site(shared)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    app = SetupApp(blocker / "config.toml")  # cannot be written
    async with app.run_test(size=SIZE) as pilot:
        await through_shared_sqlite(app, pilot, shared)
        await click(app, pilot, "#next")
        await click(app, pilot, "#use-scanner")
        await fill(app, pilot, "#scanner", "X")
        await pilot.press("enter")
        await click(app, pilot, "#next")
        await click(app, pilot, "#finish")
        assert "未能完成" in app.result_text("finish-result") and "无法写入配置文件" in app.result_text(
            "finish-result"
        )
        assert str(app.query_one("#finish", Button).label) == "重试"
        # a good place, but the shared database goes away before the first sync
        app.config_path = tmp_path / "config.toml"
        moved = tmp_path / "moved.db"
        shared.rename(moved)
        await click(app, pilot, "#finish")
        assert "设置已保存，但第一次同步失败" in app.result_text("finish-result")
        assert (tmp_path / "config.toml").exists()
        shared.unlink(missing_ok=True)
        moved.rename(shared)  # back
        await click(app, pilot, "#finish")
        assert "设置完成" in app.result_text("finish-result"), app.result_text("finish-result")


@run_async
async def test_running_it_again_edits_the_existing_set_up(tmp_path: Path) -> None:
    shared = tmp_path / "shared.db"
    project = sqlite_site(shared, projects=2)[1]
    config = tmp_path / "config.toml"
    config.write_text(
        "# our site's kiosk: do not change the idle time\n"
        f'[store]\nshared_url = "sqlite:///{shared}"\n'
        f'[kiosk]\nname = "旧门"\nproject = "{project}"\nlock_idle_s = 120  # the site manager wants this\n'
        '[camera]\nsource = ""\n',
        encoding="utf-8",
    )
    app = SetupApp(config, existing=load_config(config))
    async with app.run_test(size=SIZE) as pilot:
        assert "已找到现有设置" in app.result_text("editing")
        await to_shared(app, pilot)
        assert app.query_one("#kind-sqlite").value and app.query_one("#path", Input).value == str(shared)
        await click(app, pilot, "#test-shared")
        await click(app, pilot, "#next")
        assert app.query_one("#name", Input).value == "旧门"
        assert app.query_one("#project-select", Select).value == str(project)  # kept
        await fill(app, pilot, "#name", "New-gate")
        await click(app, pilot, "#next")
        assert app.query_one("#use-scanner").value  # the scanner, as before
        await fill(app, pilot, "#scanner", "SJM1:XYZ")
        await pilot.press("enter")
        await click(app, pilot, "#next")
        await click(app, pilot, "#finish")
        assert "设置完成" in app.result_text("finish-result")
    text = config.read_text(encoding="utf-8")
    assert (
        "# our site's kiosk: do not change the idle time" in text and "# the site manager wants this" in text
    )
    cfg = load_config(config)
    assert cfg.kiosk.name == "New-gate" and cfg.kiosk.lock_idle_s == 120 and cfg.kiosk.project == str(project)
    assert cfg.camera.source == ""


async def to_finish_by_scanner(app: SetupApp, pilot: object, shared: Path, scan: tuple[str, ...]) -> None:
    """Through the steps to the last one, the scanner tried with the keys ``scan`` (one burst)."""
    await through_shared_sqlite(app, pilot, shared)
    await click(app, pilot, "#next")
    assert step(app) == "camera"
    await click(app, pilot, "#use-scanner")
    await pilot.click("#scanner")  # type: ignore[attr-defined]
    await pilot.press(*scan)  # type: ignore[attr-defined]
    await settle(app, pilot)


@run_async
async def test_close_after_a_good_set_up_exits_0_by_mouse_and_by_keys(tmp_path: Path) -> None:
    shared = tmp_path / "shared.db"
    sqlite_site(shared)
    for how in ("mouse", "keys"):
        app = SetupApp(tmp_path / f"{how}.toml")
        async with app.run_test(size=SIZE) as pilot:
            await to_finish_by_scanner(app, pilot, shared, (*"HELLO-123", "enter"))
            await click(app, pilot, "#next")
            assert step(app) == "finish" and app.focused is app.query_one("#finish")
            await pilot.press("enter")  # 保存设置并开始第一次同步
            await settle(app, pilot)
            assert "设置完成" in app.result_text("finish-result"), app.result_text("finish-result")
            assert str(app.query_one("#finish", Button).label) == "完成"
            assert app.focused is app.query_one("#finish")  # still on the button: Enter closes
            if how == "mouse":
                await pilot.click("#finish")
            else:
                await pilot.press("enter")
            await settle(app, pilot)
            assert app.return_value == 0, how  # it closed, saying all is well
        assert app.return_code == 0, how


@run_async
async def test_ctrl_q_before_the_set_up_is_done_exits_non_zero_and_says_so(tmp_path: Path) -> None:
    app = SetupApp(tmp_path / "config.toml")
    async with app.run_test(size=SIZE) as pilot:
        await to_shared(app, pilot)
        await pilot.press("ctrl+q")
        await pilot.pause()
    assert app.return_code == 1 and app.return_value == 1
    assert app.not_finished_message() is not None
    zh, en = app.not_finished_message() or ("", "")
    assert "设置未完成" in zh and "kiosk setup" in zh and "Set-up was not finished" in en
    assert not (tmp_path / "config.toml").exists()


@run_async
async def test_a_scanner_that_ends_with_tab_is_read_in_one_burst(tmp_path: Path) -> None:
    shared = tmp_path / "shared.db"
    sqlite_site(shared)
    app = SetupApp(tmp_path / "config.toml")
    async with app.run_test(size=SIZE) as pilot:
        await to_finish_by_scanner(app, pilot, shared, (*"HELLO-123", "tab"))
        assert app.scanner_ok, app.result_text("camera-result")
        assert app.result_text("camera-result") == "扫码枪正常：读到 9 个字符（其他二维码）"
        assert app.focused is app.query_one("#next")  # the Tab was the scan's end, then on to 下一步
        await pilot.press("enter")
        await settle(app, pilot)
        assert step(app) == "finish"


@run_async
async def test_fields_typed_in_one_burst_with_tabs_land_in_their_fields(tmp_path: Path) -> None:
    app = SetupApp(tmp_path / "config.toml")
    async with app.run_test(size=SIZE) as pilot:
        await to_shared(app, pilot)
        assert app.focused is app.query_one("#host")
        await pilot.press(*"db.site", "tab", *"5433", "tab", *"site", "tab", *"kiosk")
        await settle(app, pilot)
        got = [app.query_one(f"#{k}", Input).value for k in ("host", "port", "database", "user")]
        assert got == ["db.site", "5433", "site", "kiosk"]


@run_async
async def test_english_on_f4(tmp_path: Path) -> None:
    app = SetupApp(tmp_path / "config.toml")
    async with app.run_test(size=SIZE) as pilot:
        await to_shared(app, pilot)
        await click(app, pilot, "#test-shared")
        assert app.result_text("shared-result") == "请填写服务器地址"
        await pilot.press("f4")
        await pilot.pause()
        assert "Kiosk set-up · Step 2 of 5" in str(app.query_one("#title").render())
        assert app.result_text("shared-result") == "Fill in the server address"
        assert str(app.query_one("#test-shared", Button).label) == "Test the connection"
        await fill(app, pilot, "#host", "127.0.0.1")
        await fill(app, pilot, "#port", "1")
        await fill(app, pilot, "#database", "x")
        await fill(app, pilot, "#user", "y")
        await click(app, pilot, "#test-shared")
        assert "refused the connection" in app.result_text("shared-result")
        await pilot.press("f4")
        await pilot.pause()
        assert "拒绝连接" in app.result_text("shared-result")


def test_snapshot_shared_step_80x24(tmp_path: Path, snap_compare: object) -> None:
    """The shared-database step fits 80×24, with the reason of a failed test under the button."""

    async def before(pilot: object) -> None:
        app = pilot.app  # type: ignore[attr-defined]
        await click(app, pilot, "#next")
        await click(app, pilot, "#test-shared")

    assert snap_compare(SetupApp(tmp_path / "config.toml"), terminal_size=(80, 24), run_before=before)  # type: ignore[operator]


def test_snapshot_camera_step_english(tmp_path: Path, snap_compare: object) -> None:
    async def before(pilot: object) -> None:
        app = pilot.app  # type: ignore[attr-defined]
        await pilot.press("f4")  # type: ignore[attr-defined]
        app._go(STEPS.index("camera"))
        await settle(app, pilot)

    assert snap_compare(SetupApp(tmp_path / "config.toml"), terminal_size=(80, 24), run_before=before)  # type: ignore[operator]
