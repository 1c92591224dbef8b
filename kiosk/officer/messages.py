"""The messages the officer app's workers post to it (camera feed, unlock check, sign-ins, counters, sync).

Every worker runs in a thread and touches no widget: it posts one of these to the app, whose handler
(``on_<name>`` in ``kiosk.officer.app``) updates the app's reactive state on the UI thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual.message import Message

if TYPE_CHECKING:
    import numpy as np
    from textual.strip import Strip

    from kiosk.gate import GateEvent
    from kiosk.officer.widgets.attempts import AttemptRow
    from kiosk.officer.widgets.status import Counts, SyncView
    from store.rules.unlock import Unlock, UnlockRefused


@dataclass(eq=False)
class Preview(Message):
    """A downscaled frame, ready to draw (half-block lines, or a picture for textual-image); a newer
    one replaces one not yet drawn."""

    strips: list[Strip]
    picture: Any = None

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, Preview)


@dataclass(eq=False)
class CameraChanged(Message):
    """The camera's state (``SourceState``'s value: connected, reconnecting, failed, …)."""

    state: str
    detail: str = ""


@dataclass(eq=False)
class CodeSeen(Message):
    """While locked: a code in front of the camera (maybe the officer's)."""

    text: str


@dataclass(eq=False)
class UnlockChecked(Message):
    """The answer of an unlock check: the officer and his projects, or why not."""

    outcome: Unlock | UnlockRefused
    #: the officer's code: the gate must not take it for a worker's
    text: str
    #: camera or scanner (for the kiosk's event log)
    how: str = "camera"


@dataclass(eq=False)
class Attempted(Message):
    """A sign-in attempt, durable in the store; ``face`` is the enrolled photo, decoded."""

    event: GateEvent
    face: np.ndarray | None


@dataclass(eq=False)
class RecentLoaded(Message):
    """The day's last attempts at this kiosk, read from the store at unlock."""

    rows: list[AttemptRow]


@dataclass(eq=False)
class CountsLoaded(Message):
    counts: Counts


@dataclass(eq=False)
class SyncChanged(Message):
    view: SyncView


@dataclass(eq=False)
class Failed(Message):
    """A background step failed with an error the officer should see (a locked database, …)."""

    text: str
