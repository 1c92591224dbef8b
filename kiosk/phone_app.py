"""``kiosk code phone``: a terminal standing in for the worker's phone (随申办 个人建设码 page).

It shows the worker's current personal code as a QR (black on white whatever the terminal's theme),
a countdown, and makes a new code when the current one expires — what the phone page does. Point the
kiosk's webcam at this screen to try way B without a phone, or use it in the demo.

Everything it needs is passed in: the issuer key, the worker, the validity and a ``clock`` (tests
inject one and call ``tick()`` instead of waiting). Signing a code takes microseconds, so it happens
on the UI thread; the key is loaded by the command before the app starts.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Footer, ProgressBar, Static

from kiosk.i18n import both, t
from kiosk.qr_terminal import qr_lines
from store.codes.tokens import DEFAULT_VALIDITY_S, issue_code, parse_code
from store.reasons import Role
from store.timeutil import DEFAULT_ZONE, as_utc, local_hms, utcnow, zone

if TYPE_CHECKING:
    from store.codes.keys import IssuerPrivateKey

Clock = Callable[[], datetime]


class PhoneApp(App[None]):
    """The worker's phone: his current code as a QR with a countdown, renewed when it expires."""

    CSS_PATH = "phone_app.tcss"
    TITLE = f"{t('phone_app.window_title')} · {t('phone_app.window_title', 'en')}"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "renew", both("phone_app.renew")),
        Binding("q", "quit", both("phone_app.quit")),
    ]

    def __init__(
        self,
        key: IssuerPrivateKey,
        *,
        subject: uuid.UUID,
        role: Role = Role.WORKER,
        project: uuid.UUID | None = None,
        validity_s: int = DEFAULT_VALIDITY_S,
        clock: Clock = utcnow,
        lang: str = "zh",
        timezone: str = DEFAULT_ZONE,
    ) -> None:
        super().__init__()
        self.key = key
        self.subject = subject
        self.role = Role(role)
        self.project = project
        self.validity_s = validity_s
        self.clock = clock
        self.lang = lang
        self.tz = zone(timezone)
        self.token = ""
        self.expires_at = datetime.min
        self.renewals = 0

    def compose(self) -> ComposeResult:
        with Vertical(id="page"):
            yield Static(t("phone_app.title", self.lang), id="title")
            who = "officer" if self.role is Role.OFFICER else "worker"
            yield Static(t(f"phone_app.{who}", self.lang, id=str(self.subject)[-12:]), id="who")
            yield Static("", id="qr")
            yield Static("", id="countdown")
            yield ProgressBar(total=self.validity_s, show_eta=False, show_percentage=False, id="left")
        yield Footer()

    def on_mount(self) -> None:
        self.renew()
        self.set_interval(0.5, self.tick)

    def renew(self) -> None:
        """Make a new code now and show it."""
        at = as_utc(self.clock())
        self.token = issue_code(
            self.key,
            role=self.role,
            subject=self.subject,
            project=self.project,
            at=at,
            validity_s=self.validity_s,
        )
        self.expires_at = parse_code(self.token).expires_at
        self.renewals += 1
        self.query_one("#qr", Static).update("\n".join(qr_lines(self.token)))
        self._show_countdown(at)

    def tick(self) -> None:
        """Called twice a second: renew an expired code, else update the countdown."""
        now = as_utc(self.clock())
        if now >= self.expires_at:
            self.renew()
        else:
            self._show_countdown(now)

    def seconds_left(self, now: datetime | None = None) -> int:
        now = as_utc(now or self.clock())
        return max(0, int((self.expires_at - now).total_seconds() + 0.999))

    def _show_countdown(self, now: datetime) -> None:
        left = self.seconds_left(now)
        until = local_hms(self.expires_at, self.tz)
        countdown = self.query_one("#countdown", Static)
        countdown.update(t("phone_app.left", self.lang, s=left, until=until))
        countdown.set_class(left <= 10, "ending")
        self.query_one("#left", ProgressBar).update(progress=left)

    def action_renew(self) -> None:
        self.renew()
