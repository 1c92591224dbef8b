"""The last 20 attempts at this kiosk, newest first: time, name, outcome, reason (the app's ``recent``,
read at unlock, then each new result the officer screen adds)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime

from rich.console import RenderableType
from rich.text import Text

from kiosk.officer.widgets import Localized
from store.reasons import Outcome, Reason
from store.timeutil import DEFAULT_ZONE, local_time

KEEP = 20


@dataclass(frozen=True, slots=True)
class AttemptRow:
    at: datetime
    name: str | None
    outcome: Outcome
    reason: Reason | None = None


STYLE = {
    Outcome.SIGNED_IN: ("✔", "green"),
    Outcome.SIGNED_OUT: ("⇥", "green"),
    Outcome.ALREADY: ("●", "yellow"),
    Outcome.REFUSED: ("✘", "red"),
}
LABEL = {
    Outcome.SIGNED_IN: "a_ok",
    Outcome.SIGNED_OUT: "a_out",
    Outcome.ALREADY: "a_already",
    Outcome.REFUSED: "a_refused",
}


class AttemptsList(Localized):
    DEFAULT_CSS = (
        "AttemptsList { height: 1fr; overflow: hidden; text-wrap: nowrap; text-overflow: ellipsis; }"
    )

    def __init__(self, *, tz: str = DEFAULT_ZONE, id: str | None = None) -> None:
        super().__init__(id=id)
        self.tz = tz
        self.rows: deque[AttemptRow] = deque(maxlen=KEEP)

    def on_mount(self) -> None:
        self.watch(self.app, "recent", self._recent)

    def _recent(self, rows: tuple[AttemptRow, ...]) -> None:
        """The day's last attempts, as the app read them from the store at unlock."""
        self.set_rows(list(rows))

    def add(self, row: AttemptRow) -> None:
        self.rows.appendleft(row)
        self.refresh()

    def set_rows(self, rows: list[AttemptRow]) -> None:
        self.rows = deque(rows[:KEEP], maxlen=KEEP)
        self.refresh()

    def render(self) -> RenderableType:
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(self.t("attempts"), style="bold")
        if not self.rows:
            text.append("\n" + self.t("no_attempts"), style="dim")
        for r in self.rows:
            mark, colour = STYLE[r.outcome]
            at = local_time(r.at, self.tz, "%H:%M:%S")
            text.append(f"\n{at} ")
            text.append(f"{mark} {self.t(LABEL[r.outcome])}", style=colour)
            text.append(f" {r.name or self.t('unknown_person')}")
            if r.reason is not None:
                text.append(f" {r.reason.message(self.lang)}", style="dim")
        return text
