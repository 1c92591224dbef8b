"""The camera feed of the officer app: the camera worker, the decoder's retry worker, the preview.

``CameraFeed`` runs in the app's thread workers (``KioskApp.camera_loop`` and ``KioskApp.retry_loop``)
and talks to the app only by messages (``kiosk.officer.messages``):
- The camera worker opens the source and reads frames until cancelled. While the app is locked it
  decodes each frame looking for an officer code (``CodeSeen``; it reads no further frame until the app
  says the unlock check answered, ``unlock_answered``); while unlocked it gives what it read to the
  app's ``Gate`` (decode, de-dupe, verify, the durable sign-in commit: ``Attempted``). It downscales
  frames into half-block lines for the preview (``Preview``, at most ``PREVIEW_FPS`` a second), the
  detected code outlined.
- It runs only the decoder chain's quick pass on each frame (a few ms); a frame in which it detected a
  code it could not read goes to the retry worker, which runs the rest of the chain (up to its time
  budget) on the latest such frame, so the picture never waits for it. A decoder given by the caller
  (tests) is used alone, as it is. Both are made in their workers: the screen shows before pyzbar and
  OpenCV load. Nothing here imports OpenCV, numpy or a decoder when the app starts: they load in the
  camera's worker, with its first frame (issue 29: the screen is up in a second).
- A dead camera never freezes the screen: the source reports its state by callback (``CameraChanged``);
  after a failure the worker tries again every ``CAMERA_RETRY_S``. A cancelled worker releases the
  source in ``finally`` (``stop_source`` first tells a source blocked waiting to reconnect to stop).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from textual.worker import get_current_worker

from kiosk.camera.dedupe import Deduper
from kiosk.camera.frames import Frame, FrameSource, SourceError, SourceState
from kiosk.officer.messages import Attempted, CameraChanged, CodeSeen, Failed, Preview
from kiosk.widgets.pixels import fit, halfblock_strips
from store.errors import StoreError
from store.reasons import Outcome

if TYPE_CHECKING:
    import numpy as np
    from textual.message import Message

    from kiosk.camera.decoders import Decoded, Decoder, Look
    from kiosk.gate import Gate, GateEvent

#: a camera: a FrameSource (opened by the feed), or a function making one opened (``open_source``)
CameraSpec = FrameSource | Callable[[Callable[[SourceState, str], None]], FrameSource] | None

PREVIEW_FPS = 24.0
CAMERA_RETRY_S = 10.0
OUTLINE_HOLD_S = 1.0


class FeedHost(Protocol):
    """What the feed reads from the app (from its worker threads) and how it answers."""

    @property
    def gate(self) -> Gate | None: ...  # None: locked

    @property
    def lang(self) -> str: ...

    @property
    def preview_cells(self) -> tuple[int, int]: ...  # the preview widget's size, in cells

    @property
    def image_preview(self) -> bool: ...  # real pixels (textual-image), else half-blocks

    def post_message(self, message: Message) -> bool: ...


class CameraFeed:
    """The camera's frames turned into unlock codes, sign-ins through the gate, and preview pictures."""

    def __init__(
        self,
        host: FeedHost,
        *,
        camera: CameraSpec,
        decoder: Decoder | None,
        decoder_spec: str,
        dedupe_window_s: float,
        released: threading.Event,
    ) -> None:
        self.host = host
        self.camera = camera
        self.decoder = decoder
        self.decoder_spec = decoder_spec
        #: the retry worker runs only with the default chain (a decoder given by the caller is used alone)
        self.retries_on = decoder is None
        #: set when the camera worker has ended and closed its source
        self.released = released
        #: frames retried by the retry worker, and those of them it read (for the benchmark and tests)
        self.retries = self.retries_read = 0
        self._retry_cond = threading.Condition()
        self._retry_next: tuple[Frame, Look] | None = None
        self._source: FrameSource | None = None
        self._outline: tuple[float, tuple[tuple[int, int], ...], str] = (0.0, (), "seen")
        self._unlock_dedupe = Deduper(dedupe_window_s)
        # set when no code the camera saw while locked waits for its unlock check: until then the camera
        # loop reads no further frame (a folder or a file would otherwise play on, and the workers' codes
        # right after the officer's would be read as locked frames and lost)
        self._unlock_settled = threading.Event()
        self._unlock_settled.set()

    def unlock_answered(self) -> None:
        """The unlock check of the last code seen has answered (or will not): the camera reads on."""
        self._unlock_settled.set()

    def stop_source(self) -> None:
        """Tell a source blocked waiting to reconnect to stop (quitting)."""
        stop = getattr(self._source, "stop", None)
        if callable(stop):
            stop()

    # --- the camera worker -------------------------------------------------------------------------

    def _on_source_state(self, state: SourceState, detail: str) -> None:
        """Called by the source, from the camera thread."""
        self.host.post_message(CameraChanged(str(state), detail))

    def _open_camera(self) -> FrameSource:
        cam = self.camera
        if callable(cam) and not isinstance(cam, FrameSource):
            return cam(self._on_source_state)
        assert cam is not None
        cam.on_state = self._on_source_state
        cam.open()
        return cam

    def run_camera(self) -> None:
        """Read frames until the current worker is cancelled: unlock codes while locked, sign-ins while
        unlocked. Sets ``released`` when done."""
        try:
            self._camera_loop()
        finally:
            self.released.set()

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
                    if next_preview == 0.0:  # the first picture shows before the decoders load
                        self._post_preview(frame)
                        next_preview = time.monotonic() + 1.0 / PREVIEW_FPS
                    try:
                        drew = self._handle_frame(frame)
                    except StoreError as exc:  # a locked or unreachable store: say so, keep reading
                        self.host.post_message(Failed(cause(exc).message(self.host.lang)))
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
                self.host.post_message(CameraChanged("failed", exc.message(self.host.lang)))
            except Exception as exc:  # a broken frame or decoder must not end the kiosk
                self.host.post_message(Failed(f"{type(exc).__name__}: {exc}"))
            finally:
                if source is not None:
                    source.close()
                self._source = None
            if source is not None and source.state is SourceState.ENDED:
                return  # a file or folder played to its end: the scanner still works
            deadline = time.monotonic() + CAMERA_RETRY_S
            while not worker.is_cancelled and time.monotonic() < deadline:
                time.sleep(0.1)

    # --- decoding ----------------------------------------------------------------------------------

    def _quick(self, frame: Frame) -> list[Decoded]:
        """The camera worker's read of a frame; one worth more work is handed to the retry worker."""
        # The decoders (zxing-cpp, OpenCV, numpy) load here, in the camera's worker, when the first frame
        # comes: the locked screen is drawn before them (issue 29).
        from kiosk.camera.decoders import ChainDecoder, make_decoder

        decoder = self.decoder
        if decoder is None:  # the quick pass needs no fallback readers (pyzbar, OpenCV): not loaded here
            decoder = self.decoder = make_decoder(self.decoder_spec, fallback=False)
        if not isinstance(decoder, ChainDecoder):
            return decoder(frame.image)
        look = decoder.quick(frame.image)
        if look.worth_retrying and self.retries_on:
            with self._retry_cond:
                self._retry_next = (frame, look)  # the latest such frame: an older one waiting is dropped
                self._retry_cond.notify()
        return look.found

    def decode_for_gate(self, image: np.ndarray) -> list[Decoded]:
        """The gate's decoder (the camera worker decodes and hands the gate what it read, so unused)."""
        return self._quick(Frame(image=image, index=0, t=time.monotonic(), source="gate"))

    def run_retries(self) -> None:
        """The rest of the decoder chain, on the latest frame the camera worker could not read; what it
        reads goes the way of any frame's codes (unlock check, or the gate), by message. Ends with the
        camera's worker (or when the current worker is cancelled)."""
        from kiosk.camera.decoders import ChainDecoder, make_decoder  # in the worker: see _quick

        worker = get_current_worker()
        reader: ChainDecoder | None = None  # its own (a decoder keeps per-frame state), made when needed
        while not worker.is_cancelled and not (self.released.is_set() and self._retry_next is None):
            with self._retry_cond:
                if self._retry_next is None:
                    self._retry_cond.wait(0.2)
                job, self._retry_next = self._retry_next, None
            if job is None:
                continue
            frame, look = job
            try:
                reader = reader or make_decoder(self.decoder_spec)
                found = reader.retry(frame.image, look)
                self.retries += 1
                self.retries_read += bool(found)
                if found:
                    self._handle_found(frame, found)
            except StoreError as exc:
                self.host.post_message(Failed(exc.message(self.host.lang)))
            except Exception as exc:  # a broken frame or decoder must not end the kiosk
                self.host.post_message(Failed(f"{type(exc).__name__}: {exc}"))

    def _handle_frame(self, frame: Frame) -> bool:
        """Decode (and sign in); True when there is something new to outline."""
        return self._handle_found(frame, self._quick(frame))

    def _handle_found(self, frame: Frame, found: list[Decoded]) -> bool:
        """The codes read in a frame (by the camera worker, or by the retry worker): while locked an
        unlock check, else sign-ins through the gate. True when there is something new to outline."""
        gate = self.host.gate
        if gate is None:
            with self._retry_cond:
                new = [d for d in found if self._unlock_dedupe.is_new(d.text, frame.t)]
            for d in new:
                self._unlock_settled.clear()  # the camera reads on once this code's unlock check answered
                self.host.post_message(CodeSeen(d.text))
            if found:
                self._outline = (time.monotonic(), found[0].points, "seen")
            return bool(found)
        events = gate.handle_decoded(frame, found)
        for ev in events:
            self.host.post_message(Attempted(ev, face_image(ev)))
            if ev.decoded is not None:
                kind = {Outcome.SIGNED_IN: "ok", Outcome.SIGNED_OUT: "ok", Outcome.ALREADY: "already"}.get(
                    ev.result.outcome, "refused"
                )
                self._outline = (time.monotonic(), ev.decoded.points, kind)
        if found and not events:
            last_t, _, kind = self._outline
            recent = time.monotonic() - last_t < OUTLINE_HOLD_S * 3
            self._outline = (time.monotonic(), found[0].points, kind if recent else "seen")
        return bool(events)

    # --- the preview -------------------------------------------------------------------------------

    def _post_preview(self, frame: Frame) -> None:
        cols, rows = self.host.preview_cells
        t, points, kind = self._outline
        if time.monotonic() - t > OUTLINE_HOLD_S:
            points = ()
        if self.host.image_preview:
            from PIL import Image

            rgb = fit(frame.image, cols * 8, rows * 8, outline=points, kind=kind)
            self.host.post_message(Preview([], Image.fromarray(rgb)))
            return
        self.host.post_message(
            Preview(halfblock_strips(fit(frame.image, cols, rows, outline=points, kind=kind)))
        )


def cause(exc: StoreError) -> StoreError:
    """What to show under the card's "not recorded" title (the gate's NotRecorded wraps the store's error)."""
    return getattr(exc, "cause", None) or exc


def face_image(event: GateEvent) -> np.ndarray | None:
    """The enrolled face photo of the worker, decoded (in the worker thread), or None."""
    w = event.result.worker
    if w is None or not w.face_thumb:
        return None
    # in the camera's worker, after a sign-in: OpenCV and numpy are loaded by then (see _quick)
    import cv2
    import numpy as np

    image = cv2.imdecode(np.frombuffer(w.face_thumb, np.uint8), cv2.IMREAD_COLOR)
    return image if image is not None and image.size else None
