"""The officer's Textual app (way B, 方式二): one factory for the CLI and the tests.

``build_app(services, camera)`` builds a ``KioskApp`` over the services ``kiosk.wiring`` builds from the
config (the store, the code verifier, the sync, ...); ``kiosk run`` (``kiosk.cli.run_cmd``) runs it.

How it works
- Two modes: ``locked`` (the start) and ``officer``. The officer unlocks by showing his own officer
  code to the camera or the scanner (``store.rules.unlock.check_officer``); then picks the project when he is
  assigned to several (``ProjectPicker``). F2 or ``[kiosk] lock_idle_s`` without a scan locks again.
- Nothing blocks the UI thread. The camera's frames are read in thread workers by ``CameraFeed``
  (``kiosk.officer.feed``): unlock codes while locked, sign-ins through the ``Gate`` while unlocked, and
  the preview. Results come back as messages (``kiosk.officer.messages``). Unlock checks, typed codes,
  counters run in their own thread workers.
- Sync with the shared database is ``store.sync.rounds.SyncWorker`` (its own daemon thread): a round as soon as
  the kiosk records something, when the shared database announces a change, on demand (F6) and every
  ``[sync] interval_s``. Its reports come back as ``SyncChanged`` messages; the app has no timer of its own.
- The app holds the state the screens show as reactive attributes (``lang``, ``camera_state``,
  ``counts``, ``sync_view``, ``session``, ``recent``, ``shown``, ``picture``, ``unlock_note``); the
  screens and widgets watch them (``kiosk.officer.screens``), the app never queries their widgets.
- Quitting cancels every worker; the camera loop sees it, and releases the source in ``finally`` (a
  source blocked waiting to reconnect is told to stop first).
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import logging
import threading
import time
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.reactive import reactive, var

from kiosk import cvlog
from kiosk.i18n import both
from kiosk.i18n import t as _t
from kiosk.officer.feed import CameraFeed, CameraSpec, cause, face_image
from kiosk.officer.messages import (
    Attempted,
    CameraChanged,
    CodeSeen,
    CountsLoaded,
    Failed,
    Preview,
    RecentLoaded,
    SyncChanged,
    UnlockChecked,
)
from kiosk.officer.screens.dialogs import HelpScreen, ProjectPicker, QuitScreen
from kiosk.officer.screens.locked import LockedScreen
from kiosk.officer.screens.officer import OfficerScreen
from kiosk.officer.session import Session
from kiosk.officer.widgets import OfficerView
from kiosk.officer.widgets.attempts import AttemptRow
from kiosk.officer.widgets.result_card import Shown
from kiosk.officer.widgets.scanner import ScannerInput
from kiosk.officer.widgets.status import Counts, SyncView
from store.errors import StoreError
from store.reasons import Outcome

if TYPE_CHECKING:
    from kiosk.camera.decoders import Decoder
    from kiosk.gate import Gate
    from kiosk.wiring import Services
    from store.rules.signin import SignInService
    from store.rules.unlock import ProjectChoice, Unlock
    from store.sync.rounds import SyncReport
    from store.sync.state import SyncStatus as StoreSyncStatus

__all__ = ["CameraSpec", "KioskApp", "build_app"]

log = logging.getLogger(__name__)

COUNTS_EVERY_S = 30.0


class KioskApp(App[None]):
    """The kiosk: locked screen, officer screen and dialogs over one store, camera and trust list."""

    CSS_PATH = "app.tcss"
    TITLE = both("title")
    ENABLE_COMMAND_PALETTE = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "help", show=False),
        Binding("f2", "lock", show=False),
        Binding("f3", "change_project", show=False),
        Binding("f4", "language", show=False),
        Binding("f5", "way_a", show=False),
        Binding("f6", "sync_now", show=False),
        Binding("f7", "direction", show=False),
        Binding("ctrl+q", "quit", show=False, priority=True),
    ]

    # --- the state the screens and widgets follow (they watch it; the app never queries them) ---------

    lang: reactive[str] = reactive("zh", init=False)
    #: the camera's state (``SourceState``'s value, or "none": no camera, scanner only)
    camera_state: var[str] = var("none", always_update=True)
    #: today's counters of the project signed in for
    counts: var[Counts] = var(Counts(), always_update=True)
    #: the sync line
    sync_view: var[SyncView] = var(SyncView(), always_update=True)
    #: the officer and project signed in for; None: locked
    session: var[Session | None] = var(None)
    #: the day's last attempts at this kiosk, read from the store at unlock
    recent: var[tuple[AttemptRow, ...]] = var((), always_update=True)
    #: the latest result (or error) for the officer screen's card
    shown: var[Shown | None] = var(None, always_update=True)
    #: the latest picture of the camera, for the preview of the screens showing (a stream: each one new)
    picture: var[Preview | None] = var(None, always_update=True)
    #: what a scan means at this gate (direction.GateMode's value: in / out / auto), switched with F7
    gate_mode: var[str] = var("in")
    #: the line under the locked screen's prompt: (text, kind); kind is "refused", "info" or ""
    unlock_note: var[tuple[str, str]] = var(("", ""), always_update=True)

    def __init__(
        self,
        services: Services,
        camera: CameraSpec,
        *,
        decoder: Decoder | None = None,
        image_preview: bool = False,
    ) -> None:
        super().__init__()
        #: the shared database (engine, url): way-A arrivals are read there, as they happen
        self.shared = services.shared
        #: warnings for the officer, shown once the screen is up (a key that could not be loaded, …)
        self.notices = services.notices
        #: real pixels with textual-image (only when ``terminal_has_images()`` said so)
        self.image_preview = image_preview
        #: what the app runs on (``kiosk.wiring``): the fields below are read from it
        self.services = services
        config = services.config
        self.config = config
        self.engine = services.engine
        self.camera = camera
        self.verifier = services.verifier
        self.kiosk_id = services.kiosk_id
        self.now = services.clock
        self.demo = services.demo
        self.issuer_key = services.issuer_key
        #: the background sync (started at mount, stopped at unmount); None: this kiosk is local only
        self.sync_worker = services.sync
        self.sync_status_fn = services.sync_status
        self._service: SignInService | None = None  # made at the first unlock (keeps the start light)
        #: live pictures drawn (``bench/tui.py``'s preview_fps)
        self.previews_drawn = 0
        self.tz = config.policy.timezone
        self.set_reactive(KioskApp.session, None)
        self.gate: Gate | None = None
        self.preview_cells: tuple[int, int] = (40, 12)
        self.set_reactive(KioskApp.camera_state, "connecting" if camera is not None else "none")
        self.set_reactive(KioskApp.counts, Counts())
        self.set_reactive(KioskApp.sync_view, SyncView())
        self.last_activity = time.monotonic()
        self._camera_down = False  # for the event log: camera lost / back
        #: events waiting for the event-log worker (appended on the UI thread, written in order)
        self._pending_events: collections.deque[tuple[str, datetime, dict[str, Any]]] = collections.deque()
        self._events_lock = threading.Lock()
        self._opencv_log: cvlog.Silenced | None = None  # OpenCV's logging while the app runs (silenced)
        #: set when the camera worker has ended and closed its source (wait on it after ``run``)
        self.camera_released = threading.Event()
        if camera is None:
            self.camera_released.set()
        self.feed = CameraFeed(
            self,
            camera=camera,
            decoder=decoder,
            decoder_spec=config.camera.decoder,
            dedupe_window_s=config.camera.dedupe_window_s,
            released=self.camera_released,
        )
        self.set_reactive(KioskApp.lang, config.language)
        self.set_reactive(KioskApp.gate_mode, config.kiosk.direction)

    # --- modes -----------------------------------------------------------------------------------

    @property
    def locked(self) -> bool:
        return self.gate is None

    def on_mount(self) -> None:
        log.info(
            "officer screen up (demo=%s, camera=%s, sync=%s)",
            self.demo,
            self.camera is not None,
            self.sync_worker is not None,
        )
        # the camera's state is said in our status line, not over the screen
        self._opencv_log = cvlog.silence()
        for notice in self.notices:
            self.notify(notice, severity="warning", timeout=30, markup=False)
        way_a = self.issuer_key is not None and _module_exists("kiosk.officer.way_a")
        self.locked_screen = LockedScreen(tz=self.tz)
        self.officer_screen = OfficerScreen(tz=self.tz, card_s=self.config.kiosk.card_s, way_a=way_a)
        self.add_mode("locked", lambda: self.locked_screen)
        self.add_mode("officer", lambda: self.officer_screen)
        self.switch_mode("locked")
        if self.camera is not None:
            self.camera_loop()
            if self.feed.retries_on:
                self.retry_loop()
        else:
            self._set_camera("none")
        idle = self.config.kiosk.lock_idle_s
        self.set_interval(min(5.0, idle / 2) if idle else 5.0, self._check_idle)
        self.set_interval(COUNTS_EVERY_S, self._refresh_counts)
        self.refresh_sync()
        if self.sync_worker is not None:
            self.sync_worker.on_report = self._on_sync_report
            self.sync_worker.start()

    def on_unmount(self) -> None:
        self.feed.stop_source()
        if self.sync_worker is not None:
            self.sync_worker.stop()
        if self._opencv_log is not None:
            cvlog.restore(self._opencv_log)

    # --- the camera ------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="camera", description="camera")
    def camera_loop(self) -> None:
        """The camera's worker (``CameraFeed.run_camera``): unlock codes while locked, sign-ins while unlocked."""
        self.feed.run_camera()

    # in the camera's group: it lives as long as the camera's worker (started after it: not exclusive)
    @work(thread=True, exit_on_error=False, group="camera", description="decoder retries")
    def retry_loop(self) -> None:
        """The decoder's retry worker (``CameraFeed.run_retries``); ends with the camera's worker."""
        self.feed.run_retries()

    @property
    def retries(self) -> int:
        """Frames retried by the retry worker (for the benchmark and tests)."""
        return self.feed.retries

    @property
    def retries_read(self) -> int:
        """Frames the retry worker read a code in."""
        return self.feed.retries_read

    def on_preview(self, message: Preview) -> None:
        self.previews_drawn += 1
        self.picture = message

    def on_camera_changed(self, message: CameraChanged) -> None:
        self._set_camera(message.state)

    def _set_camera(self, state: str) -> None:
        from store.roster.events import EventKind

        if state in ("reconnecting", "failed") and not self._camera_down:
            self._camera_down = True
            self.log_event(EventKind.CAMERA_LOST, reason=state)
        elif state == "connected" and self._camera_down:
            self._camera_down = False
            self.log_event(EventKind.CAMERA_BACK)
        if state != self.camera_state:
            log.info("camera %s", state)
        self.camera_state = state

    # --- unlocking -------------------------------------------------------------------------------

    def on_code_seen(self, message: CodeSeen) -> None:
        if self.locked:
            self.check_unlock(message.text)
        else:
            self.feed.unlock_answered()

    @work(thread=True, exit_on_error=False, group="unlock", description="unlock")
    def check_unlock(self, text: str, how: str = "camera") -> None:
        from store.rules.unlock import check_officer

        cfg = self.config
        project = uuid.UUID(cfg.kiosk.project) if cfg.kiosk.project else None
        try:
            outcome = check_officer(
                self.engine,
                self.verifier,
                text,
                project_id=project,
                kiosk_lat=cfg.kiosk.latitude,
                kiosk_lon=cfg.kiosk.longitude,
                timezone=self.tz,
                at=self.now(),
            )
        except StoreError as exc:
            self.post_message(Failed(cause(exc).message(self.lang)))
            self.feed.unlock_answered()
            return
        except BaseException:
            self.feed.unlock_answered()  # the camera must not wait for an answer that will not come
            raise
        self.post_message(UnlockChecked(outcome, text, how))

    def on_unlock_checked(self, message: UnlockChecked) -> None:
        later = False
        try:
            later = self._unlock_checked(message)
        finally:
            if not later:  # else the project picker settles it when answered
                self.feed.unlock_answered()

    def _unlock_checked(self, message: UnlockChecked) -> bool:
        """Refuse, unlock, or ask which project (True: the picker is up)."""
        from store.roster.events import EventKind
        from store.rules.unlock import UnlockRefused

        outcome = message.outcome
        if not self.locked:
            return False
        if isinstance(outcome, UnlockRefused):
            self.log_event(
                EventKind.UNLOCK_REFUSED,
                officer_id=outcome.officer_id,
                how=message.how,
                reason=outcome.reason.value,
            )
            colon = ": " if self.lang == "en" else "："
            text = f"{_t('unlock_refused', self.lang)}{colon}{outcome.message(self.lang)}"
            if outcome.officer_name:
                text = f"{outcome.officer_name} · {text}"
            self.unlock_note = (text, "refused")
            self._ring(Outcome.REFUSED)
            return False
        self.unlock_note = ("", "")
        if len(outcome.projects) == 1:
            self._start(outcome, outcome.projects[0], message.text, how=message.how)
            return False

        def picked(choice: ProjectChoice | None) -> None:
            try:
                if choice is not None and self.locked:
                    self._start(outcome, choice, message.text, how=message.how)
            finally:
                self.feed.unlock_answered()

        self.push_screen(ProjectPicker(outcome.projects), picked)
        return True

    def _start(
        self, unlock: Unlock, project: ProjectChoice, officer_code: str = "", how: str | None = None
    ) -> None:
        from kiosk.gate import Gate
        from store.roster.events import EventKind
        from store.rules.direction import GateMode
        from store.rules.signin import SignInService

        cfg = self.config
        before = self.session
        if before is None:
            self.log_event(EventKind.UNLOCK, officer_id=unlock.officer_id, project_id=project.id, how=how)
        elif before.project.id != project.id:
            self.log_event(
                EventKind.PROJECT_CHANGED,
                officer_id=unlock.officer_id,
                project_id=project.id,
                how="key",
                detail=f"{before.project.id} -> {project.id}",
            )
        if self._service is None:
            self._service = SignInService(self.engine, cfg.sign_in_policy())
        self.recent = ()  # until load_recent has read them
        self.session = Session(unlock.officer_id, unlock.officer_name, unlock.projects, project)
        self.gate = Gate(
            service=self._service,
            verifier=self.verifier,
            project_id=project.id,
            kiosk_id=self.kiosk_id,
            officer_id=unlock.officer_id,
            dedupe_window_s=cfg.camera.dedupe_window_s,
            gate_photos=cfg.kiosk.gate_photos,
            decoder=self.feed.decode_for_gate,
            clock=self.now,
            mode=GateMode(self.gate_mode),
            repeat_window_s=cfg.kiosk.repeat_window_min * 60,
        )
        if officer_code:  # still in front of the camera: not an attempt
            self.gate.dedupe.is_new(officer_code, time.monotonic())
        self.last_activity = time.monotonic()
        self.counts = Counts()
        self._refresh_counts()
        self.load_recent(project)
        if self.current_mode != "officer":  # else a new project on the screen already showing
            self.switch_mode("officer")

    def action_direction(self) -> None:
        """F7: the next gate mode, 进场 → 出场 → 自动 (shown large in the header; the next scan follows it)."""
        from store.rules.direction import GateMode

        mode = GateMode(self.gate_mode).next()
        self.gate_mode = mode.value
        if self.gate is not None:
            self.gate.mode = mode
        self.last_activity = time.monotonic()

    def action_lock(self, why: str = "locked_by_key") -> None:
        from store.roster.events import EventKind

        if self.locked:
            return
        s = self.session
        self.log_event(
            EventKind.LOCK,
            officer_id=s.officer_id if s else None,
            project_id=s.project.id if s else None,
            how="idle" if why == "locked_idle" else "key",
        )
        self.gate = None
        self.session = None
        while len(self.screen_stack) > 1:
            self.pop_screen()
        self.switch_mode("locked")
        self.unlock_note = (_t(why, self.lang), "info")

    def _check_idle(self) -> None:
        idle = self.config.kiosk.lock_idle_s
        if not self.locked and idle > 0 and time.monotonic() - self.last_activity > idle:
            self.action_lock("locked_idle")

    def action_change_project(self) -> None:
        from store.rules.unlock import Unlock

        s = self.session
        if s is None or self.locked:
            self.notify(_t("project_locked", self.lang), timeout=5, markup=False)
            return
        if len(s.projects) < 2:  # say why nothing happens
            self.notify(_t("project_only_one", self.lang, name=s.project.name), timeout=6, markup=False)
            return

        def picked(choice: ProjectChoice | None) -> None:
            if choice is not None and self.session is not None:
                self._start(Unlock(s.officer_id, s.officer_name, s.projects), choice)

        self.push_screen(ProjectPicker(s.projects), picked)

    # --- typed codes (keyboard-wedge scanner) ----------------------------------------------------

    def on_input_submitted(self, event: ScannerInput.Submitted) -> None:
        text = event.value.strip()
        event.input.clear()
        if not text:
            return
        if self.locked:
            self.check_unlock(text, "scanner")
        else:
            self.last_activity = time.monotonic()
            self.sign_in_text(text)

    @work(thread=True, exit_on_error=False, group="signin", description="typed code")
    def sign_in_text(self, text: str) -> None:
        gate = self.gate
        if gate is None:
            return
        try:
            event = gate.handle_text(text)
        except StoreError as exc:  # not recorded: the officer must know
            self.post_message(Failed(cause(exc).message(self.lang)))
            return
        if event is not None:
            self.post_message(Attempted(event, face_image(event)))

    # --- results ---------------------------------------------------------------------------------

    def on_attempted(self, message: Attempted) -> None:
        r = message.event.result  # outcome and reason only: no worker, no code
        log.info("attempt %s %s", r.outcome.value, r.reason.value if r.reason else "-")
        self.last_activity = time.monotonic()
        self.shown = Shown(message.event.result, message.face)
        self._ring(message.event.result.outcome)
        self._refresh_counts()
        if self.sync_status_fn is not None:
            self.refresh_sync()  # one more to upload

    def _ring(self, outcome: Outcome) -> None:
        """The terminal bell: once for green, twice for amber, three times for red."""
        if not self.config.kiosk.bell:
            return
        times = {Outcome.SIGNED_IN: 1, Outcome.SIGNED_OUT: 1, Outcome.ALREADY: 2}.get(outcome, 3)
        self.bell()
        for i in range(1, times):
            self.set_timer(0.25 * i, self.bell)

    def _refresh_counts(self) -> None:
        if self.session is not None:
            self.load_counts(self.session.project)

    @work(thread=True, exclusive=True, exit_on_error=False, group="recent", description="last attempts")
    def load_recent(self, project: ProjectChoice) -> None:
        """The day's last attempts at this kiosk (after a restart the list is not empty)."""
        from store.roster.recent import recent_attempts
        from store.timeutil import local_date

        try:
            rows = recent_attempts(
                self.engine, project.id, local_date(self.now(), project.timezone), kiosk_id=self.kiosk_id
            )
        except StoreError:
            return
        self.post_message(RecentLoaded([AttemptRow(r.at, r.name, r.outcome, r.reason) for r in rows]))

    def on_recent_loaded(self, message: RecentLoaded) -> None:
        self.recent = tuple(message.rows)

    @work(thread=True, exclusive=True, exit_on_error=False, group="counts", description="counters")
    def load_counts(self, project: ProjectChoice) -> None:
        from store.roster.day import load_roster
        from store.timeutil import local_date

        try:
            roster = load_roster(self.engine, project.id, local_date(self.now(), project.timezone))
        except StoreError:
            return  # the counters stay as they were; the next refresh tries again
        c = roster.counts
        self.post_message(CountsLoaded(Counts(c.signed_in, c.expected, c.refused, c.on_site)))

    def on_counts_loaded(self, message: CountsLoaded) -> None:
        self.counts = message.counts

    # --- sync ------------------------------------------------------------------------------------

    def _on_sync_report(self, report: SyncReport, st: StoreSyncStatus) -> None:
        """After every round of the SyncWorker, in its thread: keys and revocations may have come with the
        pull (the verifier re-reads them), and the sync line shows the new state."""
        if report.ok:
            try:
                self.verifier.reload()
            except Exception as exc:  # a busy store: the next round reloads
                self.post_message(Failed(f"{type(exc).__name__}: {exc}"))
        self.post_message(SyncChanged(_view_of(st)))

    def action_sync_now(self) -> None:
        """F6: sync at once (the SyncWorker runs it in its own thread)."""
        if self.sync_worker is None:
            self.notify(_t("sync_local", self.lang), timeout=3)
            return
        self.sync_worker.sync_now()
        self.sync_view = SyncView(
            kind="running",
            last_ok=self.sync_view.last_ok,
            offline_since=self.sync_view.offline_since,
            pending=self.sync_view.pending,
        )
        self.on_sync_changed(SyncChanged(self.sync_view))

    @work(thread=True, exclusive=True, exit_on_error=False, group="sync-status", description="sync status")
    def refresh_sync(self) -> None:
        self.post_message(SyncChanged(self._sync_view()))

    def _sync_view(self) -> SyncView:
        if self.sync_status_fn is None:
            return SyncView()
        try:
            st = self.sync_status_fn()
        except StoreError:
            return self.sync_view
        return _view_of(st)

    def on_sync_changed(self, message: SyncChanged) -> None:
        view = message.view
        if view.kind == "running":  # the clock warning stays up while the next round runs
            view = dataclasses.replace(view, clock_drift_s=self.sync_view.clock_drift_s)
        else:
            self._clock_notice(view)
        self.sync_view = view

    def _clock_notice(self, view: SyncView) -> None:
        """A clock out of step with the shared database: said once in full, then kept on the sync line."""
        drift = view.clock_drift_s
        if drift is not None and self.sync_view.clock_drift_s is None:
            from store.sync.clock import drift_message

            self.notify(
                drift_message(drift, self.config.policy.clock_skew_s, self.lang),
                severity="warning",
                timeout=60,
            )

    def on_failed(self, message: Failed) -> None:
        """Where the officer looks: the card (unlocked) or the line under the prompt (locked)."""
        log.warning("shown to the officer: %s", message.text)
        if not self.locked and self._officer_screen() is not None:
            self.shown = Shown(error=message.text)
            self._ring(Outcome.REFUSED)
        elif self.locked_screen.is_mounted:
            self.unlock_note = (message.text, "refused")
        self.notify(message.text, severity="error", timeout=8, markup=False)

    # --- keys ------------------------------------------------------------------------------------

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_language(self) -> None:
        self.lang = "en" if self.lang == "zh" else "zh"

    async def action_quit(self) -> None:
        if isinstance(self.screen, QuitScreen):  # Ctrl+Q a second time: the obvious yes
            self.screen.dismiss(True)
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._log_quit()
                self.feed.stop_source()
                self.workers.cancel_all()
                self.exit()

        self.push_screen(QuitScreen(), answered)

    def action_way_a(self) -> None:
        s, key = self.session, self.issuer_key
        if key is None or not _module_exists("kiosk.officer.way_a"):
            # F5 never does nothing: say why and how to turn it on
            self.notify(_t("way_a_no_key", self.lang), severity="warning", timeout=15, markup=False)
            return
        if s is None:
            self.notify(_t("way_a_locked", self.lang), timeout=5, markup=False)
            return
        from kiosk.officer.way_a import OfficerCodeScreen, arrivals_for, code_source_for, live_for

        project = s.project
        self.push_screen(
            OfficerCodeScreen(
                project_id=project.id,
                project_name=project.name,
                officer_name=s.officer_name,
                code_source=code_source_for(
                    key,
                    officer_id=s.officer_id,
                    project_id=project.id,
                    validity_s=self.config.codes.validity_s,
                ),
                arrivals=arrivals_for(self.engine, project.id, self.shared),
                live=live_for(self.shared),
                clock=self.now,
                timezone=project.timezone,
                lang=self.lang,
            )
        )

    # --- the kiosk's event log (store/roster/events.py) ---------------------------------------------------

    def log_event(self, kind: str, **fields: Any) -> None:
        """Add an event to the kiosk's log, in a thread worker: the log never holds up the screen. The
        time is taken now, and the events are written in the order they happened (one queue, drained
        under one lock, whichever worker thread gets there first)."""
        self._pending_events.append((kind, self.now(), fields))
        self._write_events()

    @work(thread=True, exit_on_error=False, group="events", description="event log")
    def _write_events(self) -> None:
        self._drain_events()

    def _drain_events(self) -> None:
        """Write the waiting events, oldest first (on whichever thread calls it)."""
        from store.roster.events import record_event

        with self._events_lock:
            while self._pending_events:
                kind, at, fields = self._pending_events.popleft()
                with contextlib.suppress(StoreError):  # a busy store: the gate matters more than its log
                    record_event(self.engine, kind, kiosk_id=self.kiosk_id, at=at, **fields)

    def _log_quit(self) -> None:
        """Quitting is written at once, after any event still waiting (the workers are about to be
        cancelled)."""
        from store.roster.events import EventKind

        s = self.session
        fields = {"officer_id": s.officer_id if s else None, "project_id": s.project.id if s else None}
        self._pending_events.append((EventKind.QUIT, self.now(), fields))
        self._drain_events()

    # --- helpers ---------------------------------------------------------------------------------

    def _officer_screen(self) -> OfficerScreen | None:
        # not while the app closes: its widgets are being removed, and a result still arriving from a
        # worker (durable already) has no card to go on
        screen = self.officer_screen
        return screen if screen.is_mounted and screen.query("#card") else None


def _view_of(st: StoreSyncStatus) -> SyncView:
    kind = {"synced": "ok", "offline": "offline"}.get(st.state, "local")
    drift = st.clock_drift_s if st.clock_drifting else None  # shown only beyond [policy] clock_skew_s
    return SyncView(
        kind=kind,
        last_ok=st.last_success_at,
        offline_since=st.offline_since,
        pending=st.pending_total,
        clock_drift_s=drift,
    )


def _module_exists(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def _is_an_officer_view(app: KioskApp) -> OfficerView:
    """Never called: mypy checks here that the app gives its widgets what they read (``OfficerView``)."""
    return app


def build_app(
    services: Services,
    camera: CameraSpec,
    *,
    decoder: Decoder | None = None,
    image_preview: bool = False,
) -> KioskApp:
    """The officer app over ``services`` (``kiosk.wiring``: a migrated store, a code verifier, the sync,
    ...) and a camera (unopened source or opener; None: scanner only). ``decoder``: one decoder used
    alone (tests); ``image_preview``: real pixels (``terminal_has_images()``). The same factory serves
    ``kiosk run``, ``kiosk demo`` and the tests."""
    return KioskApp(services, camera, decoder=decoder, image_preview=image_preview)
