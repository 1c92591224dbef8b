"""What a frame source is, without OpenCV or numpy: its states, its error, a frame, the interface.

``kiosk.camera.sources`` implements the sources (and re-exports these names); this module is what the
officer screen imports when it starts, so the screen is drawn before OpenCV and numpy load in the
camera's worker (issue 29: a one-second start).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from store.errors import StoreError

if TYPE_CHECKING:
    import numpy as np


class SourceState(StrEnum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    FAILED = "failed"
    ENDED = "ended"


class SourceError(StoreError):
    """A frame source cannot be opened (or is lost for good); the message names it."""


@dataclass(slots=True)
class Frame:
    image: np.ndarray  # BGR uint8 (H×W×3)
    index: int
    t: float = field(default_factory=time.monotonic)  # time.monotonic() at arrival
    source: str = ""


StateCallback = Callable[[SourceState, str], None]


@runtime_checkable
class FrameSource(Protocol):
    name: str
    state: SourceState
    on_state: StateCallback | None

    def open(self) -> None: ...
    def read(self) -> Frame | None: ...
    def close(self) -> None: ...
