"""The phone-link dialog of the admin app (``l`` on the workers and officers screens): a fresh one-time
activation link for the chosen person, shown as a QR for his phone's camera, his phone bindings, and
``x`` to revoke them (``store/people/phone.py``; every link and revocation is audited)."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from rich.markup import escape
from textual import on, work
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Button, Static

from kiosk.admin.base import admin_of
from kiosk.admin.forms import Dialog
from store.errors import StoreError


class PhoneLinkScreen(Dialog[None]):
    """Makes the link when it opens (in a thread worker) and shows it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        ("escape", "close", "关闭 Close"),
        ("x", "revoke", "撤销手机绑定 Revoke"),
    ]

    def __init__(
        self, *, worker_id: uuid.UUID | None = None, officer_id: uuid.UUID | None = None, lang: str = "zh"
    ) -> None:
        super().__init__(lang=lang)
        self.worker_id, self.officer_id = worker_id, officer_id

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="form"):
            yield Static(
                self.tr("手机激活链接（一次有效）", "Phone activation link (works once)"), id="form-title"
            )
            yield Static(self.tr("正在生成…", "Making the link…"), id="phone-qr")
            yield Static("", id="phone-url")
            yield Static("", id="phone-bindings")
            with Horizontal(id="form-buttons"):
                yield Button(self.tr("撤销手机绑定", "Revoke phone"), id="revoke", variant="error")
                yield Button(self.tr("关闭", "Close"), id="close", variant="primary")

    def on_mount(self) -> None:
        self.make_link()

    @work(thread=True, exclusive=True, exit_on_error=False, group="phone", description="make a phone link")
    def make_link(self) -> None:
        from store.people.phone import create_link, list_bindings

        app = admin_of(self)
        try:
            link = create_link(
                app.engine,
                worker_id=self.worker_id,
                officer_id=self.officer_id,
                ttl_s=round(app.config.serve.link_ttl_h * 3600),
                actor=app.actor,
            )
            rows = list_bindings(app.engine, worker_id=self.worker_id, officer_id=self.officer_id)
        except StoreError as exc:
            self.app.call_from_thread(self.app.notify, f"{exc.zh}\n{exc.en}", severity="error", timeout=8)
            return
        url = link.url(app.config.serve.link_base())
        self.app.call_from_thread(self.show_link, link, url, rows)

    def show_link(self, link: Any, url: str, rows: list[Any]) -> None:
        from kiosk.qr_terminal import qr_lines

        app = admin_of(self)
        self.query_one("#phone-qr", Static).update("\n".join(qr_lines(url, border=2)))
        self.query_one("#phone-url", Static).update(
            f"{escape(link.name)}：{self.tr('用手机扫码或打开此链接', 'scan with the phone or open')}\n{escape(url)}\n"
            f"{self.tr('有效期至', 'Good until')} {app.local(link.expires_at)}"
        )
        self.show_bindings(rows)

    def show_bindings(self, rows: list[Any]) -> None:
        app = admin_of(self)
        lines = [self.tr("已绑定的手机：", "Bound phones:")]
        for r in rows:
            state = (
                self.tr("有效", "active")
                if r.active
                else self.tr("已撤销", "revoked") + f" {app.local(r.revoked_at)}"
            )
            lines.append(f"· {app.local(r.created_at)}  {state}")
        if not rows:
            lines.append(self.tr("（无）", "(none)"))
        self.query_one("#phone-bindings", Static).update("\n".join(lines))

    @on(Button.Pressed, "#revoke")
    def action_revoke(self) -> None:
        self._revoke()

    @work(
        thread=True, exclusive=True, exit_on_error=False, group="phone", description="revoke phone bindings"
    )
    def _revoke(self) -> None:
        from store.people.phone import list_bindings, revoke_person

        app = admin_of(self)
        try:
            n = revoke_person(
                app.engine, worker_id=self.worker_id, officer_id=self.officer_id, actor=app.actor
            )
            rows = list_bindings(app.engine, worker_id=self.worker_id, officer_id=self.officer_id)
        except StoreError as exc:
            self.app.call_from_thread(self.app.notify, f"{exc.zh}\n{exc.en}", severity="error", timeout=8)
            return
        self.app.call_from_thread(self.show_bindings, rows)
        self.app.call_from_thread(
            self.app.notify,
            self.tr(f"已撤销 {n} 部手机的绑定及未用链接", f"Revoked {n} phone(s) and the unused links"),
        )
        self.app.call_from_thread(
            self.query_one("#phone-qr", Static).update, self.tr("链接已作废", "The link was revoked")
        )

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        self.dismiss(None)
