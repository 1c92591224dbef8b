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
from kiosk.i18n import label, t
from store.errors import StoreError


class PhoneLinkScreen(Dialog[None]):
    """Makes the link when it opens (in a thread worker) and shows it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        ("escape", "close", label("admin.key.close")),
        ("x", "revoke", label("admin.key.revoke_phone")),
    ]

    def __init__(
        self, *, worker_id: uuid.UUID | None = None, officer_id: uuid.UUID | None = None, lang: str = "zh"
    ) -> None:
        super().__init__(lang=lang)
        self.worker_id, self.officer_id = worker_id, officer_id

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="form"):
            yield Static(t("admin.phone.title", self.lang), id="form-title")
            yield Static(t("admin.phone.making_the_link", self.lang), id="phone-qr")
            yield Static("", id="phone-url")
            yield Static("", id="phone-bindings")
            with Horizontal(id="form-buttons"):
                yield Button(t("admin.phone.revoke_phone", self.lang), id="revoke", variant="error")
                yield Button(t("admin.phone.close", self.lang), id="close", variant="primary")

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
            f"{escape(link.name)}：{t('admin.phone.scan_or_open', self.lang)}\n{escape(url)}\n"
            f"{t('admin.phone.good_until', self.lang)} {app.local(link.expires_at)}"
        )
        self.show_bindings(rows)

    def show_bindings(self, rows: list[Any]) -> None:
        app = admin_of(self)
        lines = [t("admin.phone.bound_phones", self.lang)]
        for r in rows:
            state = (
                t("admin.phone.active", self.lang)
                if r.active
                else t("admin.phone.revoked", self.lang) + f" {app.local(r.revoked_at)}"
            )
            lines.append(f"· {app.local(r.created_at)}  {state}")
        if not rows:
            lines.append(t("admin.phone.none", self.lang))
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
            t("admin.phone.revoked_n", self.lang, n=n),
        )
        self.app.call_from_thread(
            self.query_one("#phone-qr", Static).update, t("admin.phone.the_link_was_revoked", self.lang)
        )

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        self.dismiss(None)
