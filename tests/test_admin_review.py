"""The review queue of the admin app (F8), driven with Pilot: oldest first, the ID card photos and the face
side by side, approve after a question, reject with a reason (listed or typed) that the worker then
sees, every decision audited; and a snapshot. Every person is synthetic."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select
from support.admin_pilot import error_of, fill, settle
from support.async_tests import run_async
from support.enroll_world import ADMIN, Site, luhn_card
from textual.pilot import Pilot
from textual.widgets import Button, DataTable, Static

from kiosk.admin.app import AdminApp, build_app
from kiosk.admin.forms import ConfirmScreen, FormScreen
from kiosk.admin.review import ReviewScreen
from kiosk.config import Config
from kiosk.widgets.pixels import PixelView
from store.db.engine import session, write_session
from store.db.models import AuditLog, BankCardSubmission, RealnameSubmission, Worker
from store.people.review import REJECT_REASONS
from store.people.self_enroll import Status, StepState, submit_bank_card

SIZE = (120, 40)
CARD_AT = datetime(2026, 5, 30, 23, 5, tzinfo=UTC)  # 07:05 in Shanghai, the 31st
REALNAME_AT = datetime(2026, 5, 31, 0, 40, tzinfo=UTC)


class Queue:
    """A site whose worker submitted a bank card and then his real-name information."""

    def __init__(self, engine: Engine) -> None:
        self.site = Site(engine)
        self.card_number = luhn_card()
        with write_session(engine) as s:
            card = submit_bank_card(
                session=s,
                worker_id=self.site.worker_id,
                bank_name="中国建设银行",
                card_number=self.card_number,
            )
            card.submitted_at = CARD_AT
            self.card_id = card.id
        real = self.site.realname(name="王建國")
        with write_session(engine) as s:
            row = s.get(RealnameSubmission, real.id)
            assert row is not None
            row.submitted_at = REALNAME_AT
            s.add(row)
        self.realname_id = real.id


@pytest.fixture
def queue(engine: Engine) -> Queue:
    return Queue(engine)


def review(app: AdminApp) -> ReviewScreen:
    assert isinstance(app.screen, ReviewScreen), type(app.screen)
    return app.screen


def info(app: AdminApp) -> str:
    return str(review(app).query_one("#review-info", Static).render())


def table(app: AdminApp) -> DataTable[object]:
    return review(app).query_one("#queue", DataTable)


async def open_queue(pilot: Pilot[None]) -> None:
    await settle(pilot)
    await pilot.press("f8")
    await settle(pilot)
    await settle(pilot)


@run_async
async def test_approve_and_reject_from_the_queue(queue: Queue, engine: Engine) -> None:
    app = build_app(engine, Config(), actor=ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        await open_queue(pilot)
        t = table(app)
        assert t.row_count == 2
        assert [str(k.value) for k in t.rows] == [
            f"bank_card:{queue.card_id}",
            f"realname:{queue.realname_id}",
        ]
        assert "（2项）" in str(review(app).query_one("#review-heading", Static).render())
        text = info(app)
        assert "中国建设银行" in text and "王建国" in text and queue.card_number not in text
        assert queue.card_number[:4] + "*" in text and "新增" in text
        assert not review(app).query_one("#review-pictures").display  # a card has no pictures

        await pilot.press("down")
        await settle(pilot)
        text = info(app)
        assert "王建國" in text and "王建国" in text and "姓名不同" in text
        assert "1985-03-14" in text and "男" in text
        views = [review(app).query_one(f"#{wid}", PixelView) for wid in ("pic-front", "pic-back", "pic-face")]
        assert all(v.has_picture for v in views)

        # approve: a question first; cancelling it changes nothing
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        app.screen.query_one("#no", Button).press()
        await settle(pilot)
        assert table(app).row_count == 2
        # No, then yes: both answers of the dialog in turn (the real-name review below does the same).
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        app.screen.query_one("#yes", Button).press()
        await settle(pilot)
        await settle(pilot)
        assert table(app).row_count == 1
        assert "中国建设银行" in info(app)

        # reject: "other" with no text is said in the form, nothing saved; then a listed reason
        await pilot.press("r")
        await settle(pilot)
        form = await fill(pilot, reason="__other__", other="")
        assert isinstance(app.screen, FormScreen)
        assert "请填写原因" in error_of(form) and "type the reason" in error_of(form)
        with session(engine) as s:
            card = s.get(BankCardSubmission, queue.card_id)
            assert card is not None and card.status == Status.PENDING.value
        await fill(pilot, reason=REJECT_REASONS[4][0])
        await settle(pilot)
        assert table(app).row_count == 0
        assert "没有待审核" in info(app)
        await pilot.press("a")  # nothing chosen: said, nothing happens
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen)

    with session(engine) as s:
        w = s.get(Worker, queue.site.worker_id)
        assert w is not None and w.name == "王建國" and w.realname_verified_by == ADMIN
        card = s.get(BankCardSubmission, queue.card_id)
        assert (
            card is not None
            and card.status == Status.REJECTED.value
            and card.reject_reason == REJECT_REASONS[4][0]
        )
        assert card.card_number is None
        decisions = {(a.actor, a.action, a.table_name, a.row_id) for a in s.exec(select(AuditLog))}
    assert (ADMIN, "approve", "realnamesubmission", queue.realname_id) in decisions
    assert (ADMIN, "reject", "bankcardsubmission", queue.card_id) in decisions
    step = queue.site.progress().step("bank_card")
    assert step.state is StepState.REJECTED and step.submission is not None
    assert step.submission.reject_reason == REJECT_REASONS[4][0]


@run_async
async def test_a_typed_reason_and_a_decision_made_elsewhere_meanwhile(queue: Queue, engine: Engine) -> None:
    from store.people.review import ReviewKind, approve

    app = build_app(engine, Config(language="en"), actor=ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        await open_queue(pilot)
        assert "Bank card" in info(app) and "New (no card on file yet)" in info(app)
        with write_session(engine) as s:  # another administrator approves the card meanwhile
            approve(session=s, kind=ReviewKind.BANK_CARD, submission_id=queue.card_id, by="another admin")
        await pilot.press("a")
        await settle(pilot)
        app.screen.query_one("#yes", Button).press()
        await settle(pilot)
        await settle(pilot)
        assert table(app).row_count == 1  # said (already decided), and the queue read again
        await pilot.press("r")
        await settle(pilot)
        await fill(pilot, reason="__other__", other="身份证反面照片反光，请重拍")
        await settle(pilot)
        assert table(app).row_count == 0
    with session(engine) as s:
        sub = s.get(RealnameSubmission, queue.realname_id)
        assert (
            sub is not None and sub.reject_reason == "身份证反面照片反光，请重拍" and sub.face_photo is None
        )
        card = s.get(BankCardSubmission, queue.card_id)
        assert card is not None and card.decided_by == "another admin"


@run_async
async def test_compare_full_size_then_same_person_approves(queue: Queue, engine: Engine) -> None:
    from kiosk.admin.workers import VerifyScreen

    app = build_app(engine, Config(), actor=ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        await open_queue(pilot)
        await pilot.press("enter")  # the bank card: nothing to compare, the plain question
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        app.screen.query_one("#no", Button).press()
        await settle(pilot)
        await pilot.press("down", "v")
        await settle(pilot)
        assert isinstance(app.screen, VerifyScreen)
        assert app.screen.query_one("#pic-front", PixelView).has_picture
        assert app.screen.query_one("#pic-face", PixelView).has_picture
        app.screen.query_one("#no", Button).press()  # not sure: nothing decided
        await settle(pilot)
        assert table(app).row_count == 2
        # No, then yes, as for the bank card above: both answers of the dialog in turn.
        await pilot.press("v")
        await settle(pilot)
        assert isinstance(app.screen, VerifyScreen)
        app.screen.query_one("#yes", Button).press()
        await settle(pilot)
        await settle(pilot)
        assert table(app).row_count == 1
    with session(engine) as s:
        sub = s.get(RealnameSubmission, queue.realname_id)
        assert sub is not None and sub.status == Status.APPROVED.value and sub.decided_by == ADMIN


@run_async
async def test_what_a_worker_typed_is_shown_as_text_never_markup(engine: Engine) -> None:
    site = Site(engine)
    site.realname(name="[/]王[b]建国")
    app = build_app(engine, Config(), actor=ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        await open_queue(pilot)
        assert table(app).row_count == 1
        row = table(app).get_row_at(0)
        assert "[/]王[b]建国" in [str(c) for c in row]
        assert "[/]王[b]建国" in info(app)


@run_async
async def test_the_workers_file_says_what_waits_for_review(queue: Queue, engine: Engine) -> None:
    from textual.widgets import Input

    app = build_app(engine, Config(), actor=ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.screen.query_one("#search", Input).value = "王建国"
        await settle(pilot)
        text = str(app.screen.query_one("#file", Static).render())
        assert "王建国" in text
        assert "待审核: 个人信息（实名）" in text and "待审核: 银行卡" in text and "(F8)" in text


@pytest.mark.parametrize("size", [SIZE, (80, 24)])
def test_snapshot_review_queue(
    queue: Queue, engine: Engine, snap_compare: Callable[..., bool], size: tuple[int, int]
) -> None:
    app = build_app(engine, Config(), actor=ADMIN)

    async def before(pilot: Pilot[None]) -> None:
        await open_queue(pilot)
        await pilot.press("down")
        await settle(pilot)
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=before)


def test_unknown_item_key_is_an_error() -> None:
    from kiosk.admin.review import Item

    item = Item("realname", uuid.uuid4())
    assert Item.of(item.key) == item


@run_async
async def test_a_declared_health_check_is_reviewed_with_its_report(engine: Engine) -> None:
    """Issue 27: the worker's own health check waits in the queue beside its report's photo; approving
    records it (only then does it count at the gate)."""
    from datetime import timedelta

    from support.enroll_world import TODAY, id_card_jpeg

    from store.db.models import HealthCheck, HealthCheckSubmission
    from store.people.self_enroll import submit_health_check

    site = Site(engine)
    with write_session(engine) as s:
        sub = submit_health_check(
            session=s,
            worker_id=site.worker_id,
            checked_on=TODAY - timedelta(days=10),
            passed=True,
            institution_other="崇明某卫生院",
            report=id_card_jpeg("front"),
            today=TODAY,
        )
        sub_id = sub.id
    app = build_app(engine, Config(), actor=ADMIN)
    async with app.run_test(size=SIZE) as pilot:
        await open_queue(pilot)
        assert [str(k.value) for k in table(app).rows] == [f"health:{sub_id}"]
        text = info(app)
        assert "健康体检" in text and "崇明某卫生院" in text and "合格" in text and "不在列表中" in text
        report = review(app).query_one("#pic-report", PixelView)
        assert report.display and report.has_picture
        assert not review(app).query_one("#pic-face", PixelView).display
        await pilot.press("a")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        app.screen.query_one("#yes", Button).press()
        await settle(pilot)
        await settle(pilot)
        assert table(app).row_count == 0
    with session(engine) as s:
        h = s.exec(select(HealthCheck).where(HealthCheck.worker_id == site.worker_id)).one()
        assert h.institution_other == "崇明某卫生院" and h.passed
        done = s.get(HealthCheckSubmission, sub_id)
        assert done is not None and done.status == Status.APPROVED.value and done.report_image is None
