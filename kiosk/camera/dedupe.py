"""De-duplication: the same code seen in consecutive frames makes one attempt.

A worker holds his phone up for a second or three; the camera sees his code in every frame. A text
seen again within ``window_s`` seconds of the last time it was seen is a repeat (the window slides
while the code stays in view), so one showing makes one attempt and a fast repeat at most an
``already`` later. Times are ``time.monotonic()`` seconds (the frames' arrival times). Thread-safe.
"""

from __future__ import annotations

import threading
import time


class Deduper:
    def __init__(self, window_s: float = 3.0) -> None:
        self.window_s = window_s
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def is_new(self, text: str, t: float | None = None) -> bool:
        """True when ``text`` was not seen in the last ``window_s`` seconds; records the sighting."""
        now = time.monotonic() if t is None else t
        with self._lock:
            last = self._last.get(text)
            self._last[text] = now if last is None else max(last, now)
            if len(self._last) > 256:
                self._prune(now)
            return last is None or now - last > self.window_s

    def _prune(self, now: float) -> None:
        for k in [k for k, v in self._last.items() if now - v > self.window_s]:
            del self._last[k]

    def forget(self, text: str) -> None:
        """The attempt for ``text`` was not recorded (a locked store, a full disk): the next sighting retries."""
        with self._lock:
            self._last.pop(text, None)

    def clear(self) -> None:
        with self._lock:
            self._last.clear()
