"""The gate: camera frame → decode → de-duplicate → verify the code → sign in, with no UI.

One ``Gate`` per unlocked session (a project, a kiosk, an officer). The headless loop
(``kiosk run --headless``) and the officer screen both feed it: ``handle_frame`` with camera frames
(from one thread: the decoder keeps per-frame state), ``handle_text`` with lines typed by a
keyboard-wedge scanner (any thread). Each attempt becomes a ``GateEvent`` holding the sign-in
service's result, committed before the event is returned; ``latency_ms`` runs from the frame's arrival
to that durable commit.

Anything that is not a genuine, current worker code — binary junk, a 3 KB text, another app's QR, an
officer's code — is a refused attempt with its CODE_* reason, recorded like every attempt (the code's
SHA-256, never the code), and the loop goes on. A line of bytes that is not UTF-8 is a CODE_INVALID
attempt (``handle_bytes``). When the store cannot record an attempt (locked by another program past
the busy timeout, a full disk) the gate raises ``NotRecorded`` with the reason and forgets the code,
so the next sighting of it tries again; nothing is shown green without a durable record. The gate photo (the frame, ~640 px JPEG,
every code in it painted over: kiosk/camera/photo.py) goes with the attempt unless switched off. Nothing here logs a code, a face or a frame.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np

from kiosk.camera.decoders import Decoded, Decoder, make_decoder
from kiosk.camera.dedupe import Deduper
from kiosk.camera.photo import gate_photo
from kiosk.camera.sources import Frame
from store.codes.tokens import CodeError, Verifier
from store.errors import StoreError
from store.reasons import Reason, Role, Way
from store.rules.direction import REPEAT_WINDOW_S, DirectionService, GateMode
from store.rules.signin import SignInResult, SignInService
from store.timeutil import DEFAULT_ZONE, utcnow

KEYBOARD = "keyboard"


class NotRecorded(StoreError):
    """The store could not record the attempt: the officer must know, and the scan is to be retried."""

    def __init__(self, cause: StoreError, *, source: str, frame: int, at: datetime) -> None:
        super().__init__(f"未记录：{cause.zh}", f"Not recorded: {cause.en}")
        self.cause = cause
        self.source = source
        self.frame = frame
        self.at = at

    def as_json(self) -> dict[str, Any]:
        """The headless loop's line for it (the same keys as an attempt's)."""
        return {
            "t": self.at.isoformat(),
            "source": self.source,
            "frame": self.frame,
            "worker": None,
            "outcome": "not_recorded",
            "reason": type(self.cause).__name__,
            "message_zh": self.zh,
            "message_en": self.en,
            "latency_ms": None,
        }


@dataclass(frozen=True, slots=True)
class GateEvent:
    """One attempt at the gate and its durable result."""

    t: datetime  # when the attempt was made (UTC)
    source: str
    frame: int
    result: SignInResult
    latency_ms: float  # frame arrival → durable commit
    decoded: Decoded | None = None  # None for typed input

    @property
    def worker_id(self) -> uuid.UUID | None:
        return self.result.worker.id if self.result.worker is not None else None

    def as_json(self, tz: str = DEFAULT_ZONE) -> dict[str, Any]:
        """The line ``kiosk run --headless`` prints (no code, no name, no ID number)."""
        r = self.result
        return {
            "t": self.t.isoformat(),
            "source": self.source,
            "frame": self.frame,
            "worker": str(self.worker_id) if self.worker_id else None,
            "outcome": r.outcome.value,
            "reason": r.reason.value if r.reason is not None else None,
            "message_zh": r.message("zh", tz),
            "message_en": r.message("en", tz),
            "latency_ms": round(self.latency_ms, 2),
        }


class Gate:
    """Turns frames and typed codes into sign-ins for one project, kiosk and officer."""

    def __init__(
        self,
        *,
        service: SignInService,
        verifier: Verifier,
        project_id: uuid.UUID,
        kiosk_id: uuid.UUID | None = None,
        officer_id: uuid.UUID | None = None,
        dedupe_window_s: float = 3.0,
        gate_photos: bool = True,
        decoder: Decoder | str = "zxingcpp",
        clock: Callable[[], datetime] = utcnow,
        mode: GateMode = GateMode.IN,
        repeat_window_s: float = REPEAT_WINDOW_S,
    ) -> None:
        # The options kept as attributes, one a line (as SyncWorker and way_a's screen do).
        self.service = service
        self.verifier = verifier
        self.project_id = project_id
        self.kiosk_id = kiosk_id
        self.officer_id = officer_id
        self.gate_photos = gate_photos
        self.decode: Decoder = make_decoder(decoder) if isinstance(decoder, str) else decoder
        self.dedupe = Deduper(dedupe_window_s)
        self.clock = clock
        #: 进场 / 出场 / 自动 (store/rules/direction.py); the officer switches it, the next scan follows
        self.mode = mode
        self.directions = DirectionService(service, repeat_window_s=repeat_window_s)
        self._typed = itertools.count()
        self._lock = threading.Lock()  # attempts one at a time: a typed code and a frame may race
        self._seen_lock = threading.Lock()  # the de-duplication window: two camera workers share it

    def handle_frame(self, frame: Frame) -> list[GateEvent]:
        """Every new code in the frame, signed in (or refused); repeats within the window skipped."""
        return self.handle_decoded(frame, self.decode(frame.image))

    def handle_decoded(self, frame: Frame, found: list[Decoded]) -> list[GateEvent]:
        """``handle_frame`` for codes already read from ``frame`` (the officer screen reads in two
        workers: the camera's and the retries'; either may call this)."""
        with self._seen_lock:
            codes = [d for d in found if self.dedupe.is_new(d.text, frame.t)]
        if not codes:
            return []
        # every code in view painted over (repeats too): a stored photo never carries a live code
        photo = gate_photo(frame.image, hide=[d.points for d in found]) if self.gate_photos else None
        events: list[GateEvent] = []
        for i, d in enumerate(codes):
            try:
                events.append(
                    self._attempt(
                        d.text, t=frame.t, source=frame.source, frame=frame.index, photo=photo, decoded=d
                    )
                )
            except NotRecorded:
                for later in codes[i + 1 :]:  # not tried: the next frame tries them
                    self.dedupe.forget(later.text)
                raise
        return events

    def handle_text(self, text: str, *, t: float | None = None, source: str = KEYBOARD) -> GateEvent | None:
        """A code typed by a keyboard-wedge scanner (the line without its Enter); None for a repeat."""
        t = time.monotonic() if t is None else t
        text = text.rstrip("\r\n")
        if not text.strip() or not self.dedupe.is_new(text, t):
            return None
        return self._attempt(text, t=t, source=source, frame=next(self._typed), photo=None, decoded=None)

    def handle_bytes(self, raw: bytes, *, t: float | None = None, source: str = KEYBOARD) -> GateEvent | None:
        """A line read as bytes from the scanner: decoded as UTF-8; a line that is not UTF-8 is a refused
        CODE_INVALID attempt (never a crash, and the codes before and after it still count)."""
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            t = time.monotonic() if t is None else t
            text = raw.decode("utf-8", "replace").rstrip("\r\n")
            if not self.dedupe.is_new(text, t):
                return None
            at = self.clock()
            with self._lock, self._recording(text, source=source, frame=-1, at=at):
                result = self._refuse(Reason.CODE_INVALID, at, text, None)
            return GateEvent(at, source, next(self._typed), result, (time.monotonic() - t) * 1000.0, None)
        return self.handle_text(text, t=t, source=source)

    def handle_image(self, image: np.ndarray, *, source: str = "image", index: int = 0) -> list[GateEvent]:
        """A single picture (for callers that have no Frame at hand)."""
        return self.handle_frame(Frame(image=image, index=index, t=time.monotonic(), source=source))

    def _attempt(
        self,
        text: str,
        *,
        t: float,
        source: str,
        frame: int,
        photo: tuple[bytes, int, int] | None,
        decoded: Decoded | None,
    ) -> GateEvent:
        at = self.clock()
        with self._lock, self._recording(text, source=source, frame=frame, at=at):
            try:
                who = self.verifier.verify(text, role=Role.WORKER, at=at)
            except CodeError as exc:
                result = self._refuse(exc.reason, at, text, photo, worker_id=exc.subject)
            else:
                result = self.directions.pass_gate(
                    self.mode,
                    who.subject,
                    self.project_id,
                    # the sign-in service's keywords, one a line (as enroll's add_employment spells its fields)
                    way=Way.B,
                    at=at,
                    kiosk_id=self.kiosk_id,
                    officer_id=self.officer_id,
                    kid=who.kid,
                    token=text,
                    photo=photo,
                    latency_from=t,
                )
        latency_ms = (time.monotonic() - t) * 1000.0
        return GateEvent(at, source, frame, result, latency_ms, decoded)

    @contextmanager
    def _recording(self, text: str, *, source: str, frame: int, at: datetime) -> Iterator[None]:
        """A store error while recording becomes NotRecorded, and the code may be tried again at once."""
        try:
            yield
        except NotRecorded:
            raise
        except StoreError as exc:
            self.dedupe.forget(text)
            raise NotRecorded(exc, source=source, frame=frame, at=at) from exc

    def _refuse(
        self,
        reason: Reason,
        at: datetime,
        text: str,
        photo: tuple[bytes, int, int] | None,
        worker_id: uuid.UUID | None = None,
    ) -> SignInResult:
        return self.service.record_refusal(
            reason,
            project_id=self.project_id,
            way=Way.B,
            at=at,
            kiosk_id=self.kiosk_id,
            officer_id=self.officer_id,
            worker_id=worker_id,  # a genuine but expired code's worker (CodeError.subject), else None
            token=text,
            photo=photo,
        )
