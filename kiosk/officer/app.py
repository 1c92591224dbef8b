"""The officer's Textual app (way B, 方式二): one factory for the CLI and the tests.

``build_app(config, store_engine, frame_source, verifier, ...)`` builds a ``KioskApp``; ``run_app(args)``
opens the configured store, camera and trust list and runs it (``kiosk run``).

How it works
- Two modes: ``locked`` (the start) and ``officer``. The officer unlocks by showing his own officer
  code to the camera or the scanner (``store.rules.unlock.check_officer``); then picks the project when he is
  assigned to several (``ProjectPicker``). F2 or ``[kiosk] lock_idle_s`` without a scan locks again.
- Nothing blocks the UI thread. A thread worker reads the camera: while locked it decodes frames
  looking for an officer code; while unlocked it gives every frame to the ``Gate`` (decode, de-dupe,
  verify, the durable sign-in commit). It also downscales each frame into half-block lines for the
  preview, the detected code outlined. Results come back as messages. Unlock checks, typed codes,
  counters run in their own thread workers.
- Sync with the shared database is ``store.sync.rounds.SyncWorker`` (its own daemon thread): a round as soon as
  the kiosk records something, when the shared database announces a change, on demand (F6) and every
  ``[sync] interval_s``. Its reports come back as ``SyncChanged`` messages; the app has no timer of its own.
- A dead camera never freezes the screen: the source reports its state (connected / reconnecting /
  failed) by callback, shown with what to do; after a failure the worker tries again every
  ``CAMERA_RETRY_S``. Quitting cancels every worker; the camera loop sees it, and releases the source
  in ``finally`` (a source blocked waiting to reconnect is told to stop first).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
from textual import work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.worker import get_current_worker

from kiosk import cvlog
from kiosk.camera.decoders import ChainDecoder, Decoded, Decoder, Look, make_decoder
from kiosk.camera.dedupe import Deduper
from kiosk.camera.sources import Frame, FrameSource, SourceError, SourceState
from kiosk.officer.screens.dialogs import HelpScreen, ProjectPicker, QuitScreen
from kiosk.officer.screens.locked import LockedScreen
from kiosk.officer.screens.officer import OfficerScreen
from kiosk.officer.widgets import Localized, utcnow
from kiosk.officer.widgets.attempts import AttemptRow, AttemptsList
from kiosk.officer.widgets.camera import CameraPreview, ImagePreview, ScannerInput, terminal_has_images
from kiosk.officer.widgets.pixels import fit, halfblock_strips
from kiosk.officer.widgets.status import CameraStatus, Counters, Counts, SyncStatus, SyncView
from store.errors import StoreError
from store.reasons import Outcome

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from kiosk.config import Config
    from kiosk.gate import Gate, GateEvent
    from store.codes.keys import IssuerPrivateKey
    from store.codes.tokens import Verifier
    from store.rules.signin import SignInService
    from store.rules.unlock import ProjectChoice, Unlock, UnlockRefused
    from store.sync.rounds import SyncReport, SyncWorker
    from store.sync.state import SyncStatus as StoreSyncStatus

#: a camera: a FrameSource (opened by the app), or a function making one opened (``open_source``)
CameraSpec = FrameSource | Callable[[Callable[[SourceState, str], None]], FrameSource] | None

log = logging.getLogger(__name__)

PREVIEW_FPS = 24.0
CAMERA_RETRY_S = 10.0
COUNTS_EVERY_S = 30.0
OUTLINE_HOLD_S = 1.0


@dataclass(frozen=True, slots=True)
class Session:
    officer_id: uuid.UUID
    officer_name: str
    projects: tuple[ProjectChoice, ...]
    project: ProjectChoice


class KioskApp(App[None]):
    """The kiosk: locked screen, officer screen and dialogs over one store, camera and trust list."""

    CSS_PATH = "app.tcss"
    TITLE = "工地班前签到 / Site sign-in"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "help", show=False),
        Binding("f2", "lock", show=False),
        Binding("f3", "change_project", show=False),
        Binding("f4", "language", show=False),
        Binding("f5", "way_a", show=False),
        Binding("f6", "sync_now", show=False),
        Binding("ctrl+q", "quit", show=False, priority=True),
    ]

    lang: reactive[str] = reactive("zh", init=False)

    # --- messages from the workers ---------------------------------------------------------------

    class Preview(Message):
        """A downscaled frame, ready to draw (half-block lines, or a picture for textual-image); a newer
        one replaces one not yet drawn."""

        def __init__(self, strips: list[Strip], picture: Any = None) -> None:
            super().__init__()
            self.strips = strips
            self.picture = picture

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, KioskApp.Preview)

    class CameraChanged(Message):
        def __init__(self, state: str, detail: str = "") -> None:
            super().__init__()
            self.state = state
            self.detail = detail

    class CodeSeen(Message):
        """While locked: a code in front of the camera (maybe the officer's)."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    class UnlockChecked(Message):
        def __init__(self, outcome: Unlock | UnlockRefused, text: str, how: str = "camera") -> None:
            super().__init__()
            self.outcome = outcome
            self.text = text  # the officer's code: the gate must not take it for a worker's
            self.how = how  # camera or scanner (for the kiosk's event log)

    class Attempted(Message):
        """A sign-in attempt, durable in the store; ``face`` is the enrolled photo, decoded."""

        def __init__(self, event: GateEvent, face: np.ndarray | None) -> None:
            super().__init__()
            self.event = event
            self.face = face

    class RecentLoaded(Message):
        def __init__(self, rows: list[AttemptRow]) -> None:
            super().__init__()
            self.rows = rows

    class CountsLoaded(Message):
        def __init__(self, counts: Counts) -> None:
            super().__init__()
            self.counts = counts

    class SyncChanged(Message):
        def __init__(self, view: SyncView) -> None:
            super().__init__()
            self.view = view

    class Failed(Message):
        """A background step failed with an error the officer should see (a locked database, …)."""

        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(
        self,
        *,
        config: Config,
        engine: Engine,
        camera: CameraSpec,
        verifier: Verifier,
        kiosk_id: uuid.UUID | None = None,
        clock: Callable[[], datetime] = utcnow,
        decoder: Decoder | None = None,
        issuer_key: IssuerPrivateKey | None = None,
        sync: SyncWorker | None = None,
        sync_status: Callable[[], StoreSyncStatus] | None = None,
        demo: bool = False,
        image_preview: bool = False,
        shared: tuple[Engine, str] | None = None,
        notices: Sequence[str] = (),
    ) -> None:
        super().__init__()
        #: the shared database (engine, url): way-A arrivals are read there, as they happen
        self.shared = shared
        #: warnings for the officer, shown once the screen is up (a key that could not be loaded, …)
        self.notices = tuple(notices)
        #: real pixels with textual-image (only when ``terminal_has_images()`` said so)
        self.image_preview = image_preview
        self.config = config
        self.engine = engine
        self.camera = camera
        self.verifier = verifier
        self.kiosk_id = kiosk_id
        self.now = clock
        self.demo = demo
        self.issuer_key = issuer_key
        #: the background sync (started at mount, stopped at unmount); None: this kiosk is local only
        self.sync_worker = sync
        self.sync_status_fn = sync_status
        self._service: SignInService | None = None  # made at the first unlock (keeps the start light)
        # the camera's worker runs only the chain's quick pass on each frame (a few ms); a frame in which
        # it detected a code it could not read goes to the retry worker, which runs the rest of the
        # chain (up to its time budget) on the latest such frame, so the picture never waits for it.
        # A ``decoder`` given by the caller (tests) is used alone, as it is.
        # (both made in their workers, not here: the screen shows before pyzbar and OpenCV load)
        self.decoder: Decoder | None = decoder
        self._retries_on = decoder is None
        self._retry_cond = threading.Condition()
        self._retry_next: tuple[Frame, Look] | None = None
        #: frames retried by the retry worker, and those of them it read (for the benchmark and tests)
        self.retries = self.retries_read = 0
        #: live pictures drawn (``bench/tui.py``'s preview_fps)
        self.previews_drawn = 0
        self.tz = config.policy.timezone
        self.session: Session | None = None
        self.gate: Gate | None = None
        self.preview_cells: tuple[int, int] = (40, 12)
        self.camera_state = "connecting" if camera is not None else "none"
        self.counts = Counts()
        self.sync_view = SyncView()
        self.last_activity = time.monotonic()
        self._source: FrameSource | None = None
        self._outline: tuple[float, tuple[tuple[int, int], ...], str] = (0.0, (), "seen")
        self._unlock_dedupe = Deduper(config.camera.dedupe_window_s)
        self._camera_down = False  # for the event log: camera lost / back
        # set when no code the camera saw while locked waits for its unlock check: until then the camera
        # loop reads no further frame (a folder or a file would otherwise play on, and the workers' codes
        # right after the officer's would be read as locked frames and lost)
        self._unlock_settled = threading.Event()
        self._unlock_settled.set()
        #: set when the camera worker has ended and closed its source (wait on it after ``run``)
        self.camera_released = threading.Event()
        if camera is None:
            self.camera_released.set()
        self.set_reactive(KioskApp.lang, config.language)

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
        self._opencv_log = (
            cvlog.silence()
        )  # the camera's state is said in our status line, not over the screen
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
            if self._retries_on:
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
        self._stop_source()
        if self.sync_worker is not None:
            self.sync_worker.stop()
        if (before := getattr(self, "_opencv_log", None)) is not None:
            cvlog.restore(before)

    def _stop_source(self) -> None:
        stop = getattr(self._source, "stop", None)
        if callable(stop):
            stop()

    # --- the camera ------------------------------------------------------------------------------

    def _on_source_state(self, state: SourceState, detail: str) -> None:
        """Called by the source, from the camera thread."""
        self.post_message(self.CameraChanged(str(state), detail))

    def _open_camera(self) -> FrameSource:
        cam = self.camera
        if callable(cam) and not isinstance(cam, FrameSource):
            return cam(self._on_source_state)
        assert cam is not None
        cam.on_state = self._on_source_state
        cam.open()
        return cam

    @work(thread=True, exclusive=True, exit_on_error=False, group="camera", description="camera")
    def camera_loop(self) -> None:
        """Read frames until cancelled: unlock codes while locked, sign-ins while unlocked."""
        try:
            self._camera_loop()
        finally:
            self.camera_released.set()

    def _camera_loop(self) -> None:
        worker = get_current_worker()
        next_preview = 0.0
        while not worker.is_cancelled:
            source: FrameSource | None = None
            try:
                source = self._open_camera()
                self._source = source
                while not worker.is_cancelled:
                    frame = source.read()
                    if frame is None:
                        if source.state in (SourceState.ENDED, SourceState.FAILED):
                            break
                        time.sleep(0.05)
                        continue
                    try:
                        drew = self._handle_frame(frame)
                    except StoreError as exc:  # a locked or unreachable store: say so, keep reading
                        self.post_message(self.Failed(_cause(exc).message(self.lang)))
                        drew = False
                    while not self._unlock_settled.wait(0.05) and not worker.is_cancelled:
                        pass  # an unlock is being checked: the next frame is for its outcome
                    now = time.monotonic()
                    if drew or now >= next_preview:
                        self._post_preview(frame)
                        # on a schedule, not "a period after this one": a 30 fps camera then gives
                        # PREVIEW_FPS pictures a second, not every second frame (15)
                        period = 1.0 / PREVIEW_FPS
                        next_preview = max(next_preview + period, now - period)
            except SourceError as exc:
                self.post_message(self.CameraChanged("failed", exc.message(self.lang)))
            except Exception as exc:  # a broken frame or decoder must not end the kiosk
                self.post_message(self.Failed(f"{type(exc).__name__}: {exc}"))
            finally:
                if source is not None:
                    source.close()
                self._source = None
            if source is not None and source.state is SourceState.ENDED:
                return  # a file or folder played to its end: the scanner still works
            deadline = time.monotonic() + CAMERA_RETRY_S
            while not worker.is_cancelled and time.monotonic() < deadline:
                time.sleep(0.1)

    def _quick(self, frame: Frame) -> list[Decoded]:
        """The camera worker's read of a frame; one worth more work is handed to the retry worker."""
        decoder = self.decoder
        if decoder is None:  # the quick pass needs no fallback readers (pyzbar, OpenCV): not loaded here
            decoder = self.decoder = make_decoder(self.config.camera.decoder, fallback=False)
        if not isinstance(decoder, ChainDecoder):
            return decoder(frame.image)
        look = decoder.quick(frame.image)
        if look.worth_retrying and self._retries_on:
            with self._retry_cond:
                self._retry_next = (frame, look)  # the latest such frame: an older one waiting is dropped
                self._retry_cond.notify()
        return look.found

    def _gate_decode(self, image: np.ndarray) -> list[Decoded]:
        """The gate's decoder (the camera worker decodes and hands the gate what it read, so unused)."""
        return self._quick(Frame(image=image, index=0, t=time.monotonic(), source="gate"))

    # in the camera's group: it lives as long as the camera's worker (started after it: not exclusive)
    @work(thread=True, exit_on_error=False, group="camera", description="decoder retries")
    def retry_loop(self) -> None:
        """The rest of the decoder chain, on the latest frame the camera worker could not read; what it
        reads goes the way of any frame's codes (unlock check, or the gate), by message. Ends with the
        camera's worker."""
        worker = get_current_worker()
        reader: ChainDecoder | None = None  # its own (a decoder keeps per-frame state), made when needed
        while not worker.is_cancelled and not (self.camera_released.is_set() and self._retry_next is None):
            with self._retry_cond:
                if self._retry_next is None:
                    self._retry_cond.wait(0.2)
                job, self._retry_next = self._retry_next, None
            if job is None:
                continue
            frame, look = job
            try:
                reader = reader or make_decoder(self.config.camera.decoder)
                found = reader.retry(frame.image, look)
                self.retries += 1
                self.retries_read += bool(found)
                if found:
                    self._handle_found(frame, found)
            except StoreError as exc:
                self.post_message(self.Failed(exc.message(self.lang)))
            except Exception as exc:  # a broken frame or decoder must not end the kiosk
                self.post_message(self.Failed(f"{type(exc).__name__}: {exc}"))

    def _handle_frame(self, frame: Frame) -> bool:
        """Decode (and sign in); True when there is something new to outline."""
        return self._handle_found(frame, self._quick(frame))

    def _handle_found(self, frame: Frame, found: list[Decoded]) -> bool:
        """The codes read in a frame (by the camera worker, or by the retry worker): while locked an
        unlock check, else sign-ins through the gate. True when there is something new to outline."""
        gate = self.gate
        if gate is None:
            with self._retry_cond:
                new = [d for d in found if self._unlock_dedupe.is_new(d.text, frame.t)]
            for d in new:
                self._unlock_settled.clear()  # the camera reads on once this code's unlock check answered
                self.post_message(self.CodeSeen(d.text))
            if found:
                self._outline = (time.monotonic(), found[0].points, "seen")
            return bool(found)
        events = gate.handle_decoded(frame, found)
        for ev in events:
            self.post_message(self.Attempted(ev, _face_image(ev)))
            if ev.decoded is not None:
                kind = {Outcome.SIGNED_IN: "ok", Outcome.ALREADY: "already"}.get(ev.result.outcome, "refused")
                self._outline = (time.monotonic(), ev.decoded.points, kind)
        if found and not events:
            last_t, _, kind = self._outline
            recent = time.monotonic() - last_t < OUTLINE_HOLD_S * 3
            self._outline = (time.monotonic(), found[0].points, kind if recent else "seen")
        return bool(events)

    def _post_preview(self, frame: Frame) -> None:
        cols, rows = self.preview_cells
        t, points, kind = self._outline
        if time.monotonic() - t > OUTLINE_HOLD_S:
            points = ()
        if self.image_preview:
            from PIL import Image

            rgb = fit(frame.image, cols * 8, rows * 8, outline=points, kind=kind)
            self.post_message(self.Preview([], Image.fromarray(rgb)))
            return
        self.post_message(
            self.Preview(halfblock_strips(fit(frame.image, cols, rows, outline=points, kind=kind)))
        )

    def on_kiosk_app_preview(self, message: Preview) -> None:
        self.previews_drawn += 1
        for screen in self.screen_stack:
            if message.picture is not None:
                for picture in screen.query(ImagePreview):
                    picture.show_picture(message.picture)
            else:
                for view in screen.query(CameraPreview):
                    view.show(message.strips)

    def on_kiosk_app_camera_changed(self, message: CameraChanged) -> None:
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
        for screen in self._mode_screens():
            for w in screen.query(CameraStatus):
                w.set_state(state)

    def _mode_screens(self) -> list[LockedScreen | OfficerScreen]:
        """The two full screens, those mounted (the officer screen is, once first unlocked)."""
        return [s for s in (self.locked_screen, self.officer_screen) if s.is_mounted]

    # --- unlocking -------------------------------------------------------------------------------

    def on_kiosk_app_code_seen(self, message: CodeSeen) -> None:
        if self.locked:
            self.check_unlock(message.text)
        else:
            self._unlock_settled.set()

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
            self.post_message(self.Failed(_cause(exc).message(self.lang)))
            self._unlock_settled.set()
            return
        except BaseException:
            self._unlock_settled.set()  # the camera must not wait for an answer that will not come
            raise
        self.post_message(self.UnlockChecked(outcome, text, how))

    def on_kiosk_app_unlock_checked(self, message: UnlockChecked) -> None:
        later = False
        try:
            later = self._unlock_checked(message)
        finally:
            if not later:  # else the project picker settles it when answered
                self._unlock_settled.set()

    def _unlock_checked(self, message: UnlockChecked) -> bool:
        """Refuse, unlock, or ask which project (True: the picker is up)."""
        from store.roster.events import EventKind
        from store.rules.unlock import UnlockRefused

        outcome = message.outcome
        if not self.locked:
            return False
        screen = self._locked_screen()
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
            if screen is not None:
                screen.show_message(text, kind="refused")
            self._ring(Outcome.REFUSED)
            return False
        if screen is not None:
            screen.show_message("")
        if len(outcome.projects) == 1:
            self._start(outcome, outcome.projects[0], message.text, how=message.how)
            return False

        def picked(choice: ProjectChoice | None) -> None:
            try:
                if choice is not None and self.locked:
                    self._start(outcome, choice, message.text, how=message.how)
            finally:
                self._unlock_settled.set()

        self.push_screen(ProjectPicker(outcome.projects), picked)
        return True

    def _start(
        self, unlock: Unlock, project: ProjectChoice, officer_code: str = "", how: str | None = None
    ) -> None:
        from kiosk.gate import Gate
        from store.roster.events import EventKind
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
        self.session = Session(unlock.officer_id, unlock.officer_name, unlock.projects, project)
        self.gate = Gate(
            service=self._service,
            verifier=self.verifier,
            project_id=project.id,
            kiosk_id=self.kiosk_id,
            officer_id=unlock.officer_id,
            dedupe_window_s=cfg.camera.dedupe_window_s,
            gate_photos=cfg.kiosk.gate_photos,
            decoder=self._gate_decode,
            clock=self.now,
        )
        if officer_code:  # still in front of the camera: not an attempt
            self.gate.dedupe.is_new(officer_code, time.monotonic())
        self.last_activity = time.monotonic()
        self.counts = Counts()
        self._refresh_counts()
        self.officer_screen.recent = []
        self.load_recent(project)
        if self.current_mode == "officer":
            self.officer_screen.on_screen_resume()  # a new project on the screen already showing
        else:
            self.switch_mode("officer")

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
        screen = self._locked_screen()
        if screen is not None:
            screen.show_message(_t(why, self.lang), kind="info")

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
            self.post_message(self.Failed(_cause(exc).message(self.lang)))
            return
        if event is not None:
            self.post_message(self.Attempted(event, _face_image(event)))

    # --- results ---------------------------------------------------------------------------------

    def on_kiosk_app_attempted(self, message: Attempted) -> None:
        r = message.event.result  # outcome and reason only: no worker, no code
        log.info("attempt %s %s", r.outcome.value, r.reason.value if r.reason else "-")
        self.last_activity = time.monotonic()
        officer = self._officer_screen()
        if officer is not None:
            officer.show_result(message.event.result, message.face)
        self._ring(message.event.result.outcome)
        self._refresh_counts()
        if self.sync_status_fn is not None:
            self.refresh_sync()  # one more to upload

    def _ring(self, outcome: Outcome) -> None:
        """The terminal bell: once for green, twice for amber, three times for red."""
        if not self.config.kiosk.bell:
            return
        times = {Outcome.SIGNED_IN: 1, Outcome.ALREADY: 2}.get(outcome, 3)
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
        self.post_message(self.RecentLoaded([AttemptRow(r.at, r.name, r.outcome, r.reason) for r in rows]))

    def on_kiosk_app_recent_loaded(self, message: RecentLoaded) -> None:
        self.officer_screen.recent = message.rows
        if self._officer_screen() is not None:
            self.officer_screen.query_one(AttemptsList).set_rows(message.rows)

    @work(thread=True, exclusive=True, exit_on_error=False, group="counts", description="counters")
    def load_counts(self, project: ProjectChoice) -> None:
        from store.roster.day import load_roster
        from store.timeutil import local_date

        try:
            roster = load_roster(self.engine, project.id, local_date(self.now(), project.timezone))
        except StoreError:
            return  # the counters stay as they were; the next refresh tries again
        c = roster.counts
        self.post_message(self.CountsLoaded(Counts(c.signed_in, c.expected, c.refused)))

    def on_kiosk_app_counts_loaded(self, message: CountsLoaded) -> None:
        self.counts = message.counts
        for screen in self._mode_screens():
            for w in screen.query(Counters):
                w.set_counts(message.counts)

    # --- sync ------------------------------------------------------------------------------------

    def _on_sync_report(self, report: SyncReport, st: StoreSyncStatus) -> None:
        """After every round of the SyncWorker, in its thread: keys and revocations may have come with the
        pull (the verifier re-reads them), and the sync line shows the new state."""
        if report.ok:
            try:
                self.verifier.reload()
            except Exception as exc:  # a busy store: the next round reloads
                self.post_message(self.Failed(f"{type(exc).__name__}: {exc}"))
        self.post_message(self.SyncChanged(_view_of(st)))

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
        self.on_kiosk_app_sync_changed(self.SyncChanged(self.sync_view))

    @work(thread=True, exclusive=True, exit_on_error=False, group="sync-status", description="sync status")
    def refresh_sync(self) -> None:
        self.post_message(self.SyncChanged(self._sync_view()))

    def _sync_view(self) -> SyncView:
        if self.sync_status_fn is None:
            return SyncView()
        try:
            st = self.sync_status_fn()
        except StoreError:
            return self.sync_view
        return _view_of(st)

    def on_kiosk_app_sync_changed(self, message: SyncChanged) -> None:
        view = message.view
        if view.kind == "running":  # the clock warning stays up while the next round runs
            view = dataclasses.replace(view, clock_drift_s=self.sync_view.clock_drift_s)
        else:
            self._clock_notice(view)
        self.sync_view = view
        for screen in self._mode_screens():
            for w in screen.query(SyncStatus):
                w.set_view(view)

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

    def on_kiosk_app_failed(self, message: Failed) -> None:
        """Where the officer looks: the card (unlocked) or the line under the prompt (locked)."""
        log.warning("shown to the officer: %s", message.text)
        if not self.locked and self._officer_screen() is not None:
            self.officer_screen.show_error(message.text)
            self._ring(Outcome.REFUSED)
        elif self._locked_screen() is not None:
            self.locked_screen.show_message(message.text, kind="refused")
        self.notify(message.text, severity="error", timeout=8, markup=False)

    # --- keys ------------------------------------------------------------------------------------

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_language(self) -> None:
        self.lang = "en" if self.lang == "zh" else "zh"

    def watch_lang(self, lang: str) -> None:
        for screen in self._mode_screens():
            screen.relabel()
        for w in self.screen.query(Localized):
            w.refresh(layout=True)

    async def action_quit(self) -> None:
        if isinstance(self.screen, QuitScreen):  # Ctrl+Q a second time: the obvious yes
            self.screen.dismiss(True)
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._log_quit()
                self._stop_source()
                self.workers.cancel_all()
                self.exit()

        self.push_screen(QuitScreen(), answered)

    def action_way_a(self) -> None:
        s, key = self.session, self.issuer_key
        if s is None or key is None or not _module_exists("kiosk.officer.way_a"):
            return
        from kiosk.officer.way_a import OfficerCodeScreen, code_source_for
        from store.rules.way_a import way_a_arrivals

        engine, project, shared = self.engine, s.project, self.shared

        def arrivals(on: date) -> list[Any]:
            """From the shared database as they happen; from the local store when it is out of reach."""
            from store.db.engine import translate_errors
            from store.errors import StoreError

            if shared is not None:
                try:
                    with translate_errors(shared[1]):
                        return way_a_arrivals(shared[0], project.id, on)
                except StoreError:
                    pass
            return way_a_arrivals(engine, project.id, on)

        live = None
        if shared is not None and shared[0].dialect.name == "postgresql":  # SQLite: the screen polls
            from store.sync.live import ChangeListener

            url = shared[1]
            live = lambda: ChangeListener(url)  # noqa: E731
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
                arrivals=arrivals,
                live=live,
                clock=self.now,
                timezone=project.timezone,
                lang=self.lang,
            )
        )

    # --- the kiosk's event log (store/roster/events.py) ---------------------------------------------------

    def log_event(self, kind: str, **fields: Any) -> None:
        """Add an event to the kiosk's log, in a thread worker: the log never holds up the screen."""
        self._write_event(kind, fields)

    @work(thread=True, exit_on_error=False, group="events", description="event log")
    def _write_event(self, kind: str, fields: dict[str, Any]) -> None:
        from store.roster.events import record_event

        with contextlib.suppress(StoreError):  # a busy store: the gate matters more than its log
            record_event(self.engine, kind, kiosk_id=self.kiosk_id, at=self.now(), **fields)

    def _log_quit(self) -> None:
        """Quitting is written at once (the workers are about to be cancelled)."""
        from store.roster.events import EventKind, record_event

        s = self.session
        with contextlib.suppress(StoreError):
            record_event(
                self.engine,
                EventKind.QUIT,
                kiosk_id=self.kiosk_id,
                at=self.now(),
                officer_id=s.officer_id if s else None,
                project_id=s.project.id if s else None,
            )

    # --- helpers ---------------------------------------------------------------------------------

    def _locked_screen(self) -> LockedScreen | None:
        return self.locked_screen if self.locked_screen.is_mounted else None

    def _officer_screen(self) -> OfficerScreen | None:
        # not while the app closes: its widgets are being removed, and a result still arriving from a
        # worker (durable already) has no card to go on
        screen = self.officer_screen
        return screen if screen.is_mounted and screen.query("#card") else None


def _t(key: str, lang: str, **fields: object) -> str:
    from kiosk.i18n import t

    return t(key, lang, **fields)


def _cause(exc: StoreError) -> StoreError:
    """What to show under the card's "not recorded" title (the gate's NotRecorded wraps the store's error)."""
    return getattr(exc, "cause", None) or exc


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


def _face_image(event: GateEvent) -> np.ndarray | None:
    """The enrolled face photo of the worker, decoded (in the worker thread), or None."""
    w = event.result.worker
    if w is None or not w.face_thumb:
        return None
    import cv2

    image = cv2.imdecode(np.frombuffer(w.face_thumb, np.uint8), cv2.IMREAD_COLOR)
    return image if image is not None and image.size else None


def build_app(
    config: Config,
    store_engine: Engine,
    frame_source: CameraSpec,
    verifier: Verifier,
    *,
    kiosk_id: uuid.UUID | None = None,
    clock: Callable[[], datetime] = utcnow,
    decoder: Decoder | None = None,
    issuer_key: IssuerPrivateKey | None = None,
    sync: SyncWorker | None = None,
    sync_status: Callable[[], StoreSyncStatus] | None = None,
    demo: bool = False,
    image_preview: bool = False,
    shared: tuple[Engine, str] | None = None,
    notices: Sequence[str] = (),
) -> KioskApp:
    """The officer app over a migrated store, a camera (unopened source or opener; None: scanner only)
    and a code verifier. The same factory serves ``kiosk run``, ``kiosk demo`` and the tests."""
    return KioskApp(
        config=config,
        engine=store_engine,
        camera=frame_source,
        verifier=verifier,
        kiosk_id=kiosk_id,
        clock=clock,
        decoder=decoder,
        issuer_key=issuer_key,
        sync=sync,
        sync_status=sync_status,
        demo=demo,
        image_preview=image_preview,
        shared=shared,
        notices=notices,
    )


def run_app(args: argparse.Namespace) -> int:
    """``kiosk run`` (not headless): the officer screen on the configured store, camera and keys."""
    from kiosk.background_sync import shared_url, sync_worker
    from kiosk.camera.sources import open_source
    from kiosk.cli.common import config_of
    from kiosk.local_store import open_local_store
    from kiosk.verifier import verifier_for
    from store.db.engine import make_engine
    from store.sync.identity import kiosk_identity
    from store.sync.rounds import status

    cfg = config_of(args)
    engine = open_local_store(cfg)
    try:
        if getattr(args, "project", None):  # --project: an id, the start of one, or the name, as everywhere
            from store.projects import resolve_project

            project = resolve_project(engine, args.project)
            cfg = cfg.model_copy(update={"kiosk": cfg.kiosk.model_copy(update={"project": str(project.id)})})
        kiosk_id = kiosk_identity(
            engine,
            kiosk_id=cfg.kiosk.id,
            name=cfg.kiosk.name,
            project_id=uuid.UUID(cfg.kiosk.project) if cfg.kiosk.project else None,
        )
        verifier = verifier_for(cfg, engine)
    except BaseException:
        engine.dispose()
        raise
    spec, w, h = cfg.camera.source, cfg.camera.width, cfg.camera.height

    def camera(on_state: Callable[[SourceState, str], None]) -> FrameSource:
        return open_source(spec, width=w, height=h, on_state=on_state)

    notices: list[str] = []
    issuer_key = None
    if cfg.codes.officer_key:  # the officer's code screen (way A): an officer-only key, never a full one
        from store.codes.keys import load_officer_key

        try:
            issuer_key = load_officer_key(cfg.codes.officer_key)
        except StoreError as exc:
            notices.append(exc.both())
    url = shared_url(cfg, getattr(args, "shared", None))
    shared = make_engine(url, create=False) if url else None
    worker = sync_worker(cfg, engine, url) if url else None
    if url is None:
        notices.append(
            f"{_t('sync_local', 'zh')}：{_t('no_shared', 'zh')}\n"
            f"{_t('sync_local', 'en')}: {_t('no_shared', 'en')}"
        )
    app = build_app(
        cfg,
        engine,
        camera if spec.strip() else None,
        verifier,
        kiosk_id=kiosk_id,  # "": scanner only
        sync=worker,
        sync_status=lambda: status(engine, clock_skew_s=cfg.policy.clock_skew_s),
        image_preview=terminal_has_images(),
        issuer_key=issuer_key,
        shared=(shared, url) if shared is not None and url else None,
        notices=notices,
    )
    try:
        app.run()
    finally:
        app.camera_released.wait(10)  # the camera thread finishes its frame (and commit), then closes
        if worker is not None:
            worker.stop()
        if shared is not None:
            shared.dispose()
        engine.dispose()
    return 0
