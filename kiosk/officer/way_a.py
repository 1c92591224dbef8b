"""The officer's code on the kiosk (way A, 方式一): a large QR for workers' phones, and who arrived.

``OfficerCodeScreen`` is a mode of the officer screen: it shows the officer's current personal code
for the chosen project as a QR drawn in the terminal (black on white whatever the terminal's theme,
so a phone camera reads it off the laptop screen), with a visible countdown. A new code is made
``renew_before_s`` seconds before the current one expires, so a worker who scans at the last moment
still holds a valid code while his phone talks to the server. Beside it, the day's way-A arrivals on
the project, newest first, read from the store by a thread worker (every ``poll_s`` seconds, and at
once when ``store/sync/live.py`` reports a change: PostgreSQL LISTEN/NOTIFY, or its poll on SQLite).

Everything it needs is passed in: ``code_source(at) -> ShownCode`` mints the code (the app builds it
with ``code_source_for``), ``arrivals(on) -> list[Arrival]`` reads the list (``store.rules.way_a.way_a_arrivals``),
``live()`` makes a ``store.sync.live.ChangeListener`` (optional), and ``clock`` gives the time (tests
inject one); ``arrivals_for`` and ``live_for`` make the last two for the app. The screen never touches
the database on the UI thread.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, ClassVar, Protocol

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Label, ProgressBar, Static
from textual.worker import get_current_worker

from kiosk.i18n import both, t
from kiosk.qr_terminal import qr_lines, qr_matrix
from store.timeutil import DEFAULT_ZONE, as_utc, local_date, local_hms, utcnow, zone

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from store.codes.keys import IssuerPrivateKey
    from store.rules.way_a import Arrival

Clock = Callable[[], datetime]


log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ShownCode:
    """A code on screen: its text (what the QR holds) and when it stops being valid."""

    token: str
    issued_at: datetime
    expires_at: datetime


class Listener(Protocol):
    """What the screen needs of ``store.sync.live.ChangeListener``."""

    def start(self) -> object: ...
    def wait(self, timeout: float) -> bool: ...
    def close(self) -> None: ...


CodeSource = Callable[[datetime], ShownCode]
ArrivalSource = Callable[[date], "list[Arrival]"]


class OfficerCodeScreen(Screen[None]):
    """The officer's QR with its countdown, and the day's way-A arrivals."""

    CSS_PATH = "way_a.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        # keys written as the officer's other screens write them (Esc, N), not Textual's "escape"
        Binding("escape", "app.pop_screen", both("way_a.back"), key_display="Esc"),
        Binding("n", "renew", both("way_a.renew"), key_display="N"),
    ]

    class ArrivalsLoaded(Message):
        """The thread worker read the day's arrivals."""

        def __init__(self, rows: list[Arrival]) -> None:
            super().__init__()
            self.rows = rows

    class Changed(Message):
        """The shared database changed: read the arrivals again."""

    class ArrivalsFailed(Message):
        def __init__(self, error: str) -> None:
            super().__init__()
            self.error = error

    def __init__(
        self,
        *,
        project_id: uuid.UUID,
        project_name: str,
        officer_name: str,
        code_source: CodeSource,
        arrivals: ArrivalSource,
        clock: Clock = utcnow,
        timezone: str = DEFAULT_ZONE,
        renew_before_s: float = 20.0,
        poll_s: float = 3.0,
        lang: str = "zh",
        live: Callable[[], Listener] | None = None,
        name: str | None = None,
    ) -> None:
        super().__init__(name=name)
        self.project_id = project_id
        # The options kept as attributes, one a line (as gate.Gate and SyncWorker do).
        self.project_name = project_name
        self.officer_name = officer_name
        self.code_source = code_source
        self.arrivals_source = arrivals
        self.clock = clock
        self.tz = timezone
        self.renew_before_s = renew_before_s
        self.poll_s = poll_s
        self.lang = lang
        self.live = live
        self.code: ShownCode | None = None
        self.renewals = 0
        self.loads = 0  # how many times the arrivals were read (tests wait on it)
        self.arrival_rows: list[Arrival] = []

    # --- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        # the code alone on the left, as tall as the terminal allows; everything else shrinks beside it
        with Horizontal(id="body"):
            with Vertical(id="code-pane"):
                yield Static("", id="qr", markup=False)
            with Vertical(id="arrivals-pane"):
                yield Label(t("way_a.title", self.lang), id="title")
                yield Label(f"{self.project_name} · {self.officer_name}", id="who", markup=False)
                yield Label("", id="countdown")
                yield ProgressBar(total=100, show_eta=False, show_percentage=False, id="left")
                yield Label(t("way_a.keys", self.lang), id="keys-hint")
                yield Label(t("way_a.arrivals", self.lang, n=0), id="arrivals-title", markup=False)
                yield DataTable(id="arrivals", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#arrivals", DataTable)
        for key in ("time", "name", "dist", "id"):  # the ID number last: the first to go past the edge
            table.add_column(t(f"way_a.{key}", self.lang), key=key)
        self.renew()
        self.set_interval(1.0, self.tick)
        self.refresh_arrivals()
        if self.live is not None:
            self.watch_changes()

    # --- the code ----------------------------------------------------------------------------

    def action_renew(self) -> None:
        self.renew()

    def renew(self) -> None:
        """Make a new code now and draw it."""
        from store.errors import StoreError

        qr = self.query_one("#qr", Static)
        try:
            self.code = self.code_source(as_utc(self.clock()))
        except StoreError as exc:
            self.code = None
            qr.update(t("way_a.error", self.lang, e=exc.message(self.lang)))
            qr.add_class("error")
            return
        qr.remove_class("error")
        self.renewals += 1
        self._draw()
        self.tick()

    def _draw(self) -> None:
        if self.code is None:
            return
        big, border, footer = self._fit()
        self.query_one(Footer).display = footer
        self.query_one("#keys-hint").display = not footer
        self.query_one("#qr", Static).update("\n".join(qr_text(self.code.token, big=big, border=border)))

    def _fit(self) -> tuple[bool, int, bool]:
        """How the code is drawn so that it is always whole: (twice the size, quiet-zone modules, footer).

        Twice the size (a module = two cells side by side) when the terminal has the room; else half
        blocks with a quiet zone of 2 modules, else 1 (the white pane around it adds to it), and the
        footer gives way to a line of keys beside the code before the code gets smaller."""
        if self.code is None:
            return False, 2, True
        n = len(qr_matrix(self.code.token, border=0))
        height, width = self.size.height, self.size.width
        if height >= n + 4 + 1 and width >= 2 * (n + 4) + 40:
            return True, 2, True
        for border, footer in ((2, True), (1, True), (2, False), (1, False)):
            if -(-(n + 2 * border) // 2) + footer <= height:
                return False, border, footer
        return False, 1, False

    def on_resize(self) -> None:
        self._draw()

    def seconds_left(self) -> float:
        if self.code is None:
            return 0.0
        return (as_utc(self.code.expires_at) - as_utc(self.clock())).total_seconds()

    def tick(self) -> None:
        """Once a second: renew when due, else update the countdown."""
        if self.code is None:
            return
        left = self.seconds_left()
        if left <= self.renew_before_s:
            self.renew()
            return
        validity = max(1.0, (as_utc(self.code.expires_at) - as_utc(self.code.issued_at)).total_seconds())
        self.query_one("#countdown", Label).update(
            t("way_a.left", self.lang, s=int(left), r=int(self.renew_before_s))
        )
        self.query_one("#left", ProgressBar).update(progress=max(0.0, 100.0 * left / validity))

    # --- the arrivals ------------------------------------------------------------------------

    def today(self) -> date:
        return local_date(self.clock(), self.tz)

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="way-a-arrivals",
        description="read the day's way-A arrivals",
    )
    # Each worker is a @work of its own group (arrivals, live below): Textual's decorator shape.
    def refresh_arrivals(self) -> None:
        from store.errors import StoreError

        try:
            rows = self.arrivals_source(self.today())
        except StoreError as exc:
            self.post_message(self.ArrivalsFailed(exc.message(self.lang)))
            return
        except Exception as exc:
            log.exception("reading the way-A arrivals failed")
            self.post_message(self.ArrivalsFailed((str(exc).splitlines() or [type(exc).__name__])[0]))
            return
        self.post_message(self.ArrivalsLoaded(rows))

    def on_officer_code_screen_arrivals_loaded(self, msg: ArrivalsLoaded) -> None:
        self.arrival_rows = msg.rows
        self.loads += 1
        table = self.query_one("#arrivals", DataTable)
        table.clear()
        tz = zone(self.tz)
        for a in msg.rows:
            dist = "" if a.distance_m is None else f"{a.distance_m:.0f} m"
            table.add_row(
                *map(Text, (local_hms(a.at, tz), a.name, dist, a.id_masked)),
                key=str(a.attendance_id),
            )
        self.query_one("#arrivals-title", Label).update(t("way_a.arrivals", self.lang, n=len(msg.rows)))
        self._schedule_poll()

    @work(
        thread=True,
        exclusive=True,
        exit_on_error=False,
        group="way-a-live",
        description="listen for changes of the shared database",
    )
    def watch_changes(self) -> None:
        """Wake the list when the database changes (PostgreSQL NOTIFY, store/sync/live.py); ends with the screen."""
        assert self.live is not None
        worker = get_current_worker()
        listener = self.live()
        try:
            listener.start()
            while not worker.is_cancelled:
                if listener.wait(1.0) and not worker.is_cancelled:
                    self.post_message(self.Changed())
        finally:
            listener.close()

    def on_officer_code_screen_changed(self, _msg: Changed) -> None:
        self.refresh_arrivals()

    def on_officer_code_screen_arrivals_failed(self, msg: ArrivalsFailed) -> None:
        self.query_one("#arrivals-title", Label).update(t("way_a.read_error", self.lang, e=msg.error))
        self._schedule_poll()

    def _schedule_poll(self) -> None:
        if self.poll_s > 0 and self.is_mounted:
            self.set_timer(self.poll_s, self.refresh_arrivals)


def qr_text(token: str, *, big: bool = False, border: int = 2) -> list[str]:
    """The QR as lines of text, dark modules drawn (show black on white): half blocks, or full blocks
    two cells wide per module when ``big`` (twice the size, still square on a 1:2 terminal cell)."""
    if not big:
        return qr_lines(token, border=border)
    return ["".join("██" if dark else "  " for dark in row) for row in qr_matrix(token, border=border)]


def code_source_for(
    key: IssuerPrivateKey, *, officer_id: uuid.UUID, project_id: uuid.UUID, validity_s: int = 120
) -> CodeSource:
    """A ``CodeSource`` issuing the officer's code for the project with the issuer ``key`` (store/codes/keys.py)."""
    from store.codes.tokens import issue_code
    from store.reasons import Role

    def make(at: datetime) -> ShownCode:
        at = as_utc(at).replace(microsecond=0)  # codes carry whole seconds
        token = issue_code(
            key, role=Role.OFFICER, subject=officer_id, project=project_id, at=at, validity_s=validity_s
        )
        return ShownCode(token=token, issued_at=at, expires_at=at + timedelta(seconds=validity_s))

    return make


def arrivals_for(engine: Engine, project_id: uuid.UUID, shared: tuple[Engine, str] | None) -> ArrivalSource:
    """An ``ArrivalSource`` for the project: from the shared database (engine, url) as they happen; from
    the local store when there is none or it is out of reach."""
    from store.db.engine import translate_errors
    from store.errors import ReadRefused, StoreError
    from store.rules.way_a import way_a_arrivals

    def arrivals(on: date) -> list[Arrival]:
        if shared is not None:
            try:
                with translate_errors(shared[1]):
                    return way_a_arrivals(shared[0], project_id, on)
            except ReadRefused:
                raise  # the login may not read them: say so (the local store has not the phones' arrivals)
            except StoreError:
                pass  # out of reach: what this kiosk knows
        return way_a_arrivals(engine, project_id, on)

    return arrivals


def live_for(shared: tuple[Engine, str] | None) -> Callable[[], Listener] | None:
    """A maker of change listeners on the shared database when it is PostgreSQL (None: the screen polls)."""
    if shared is None or shared[0].dialect.name != "postgresql":
        return None
    from store.sync.live import ChangeListener

    url = shared[1]
    return lambda: ChangeListener(url)
