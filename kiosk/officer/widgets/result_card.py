"""The large result card: green 签到成功, amber 今日已签到 07:02, red 签到失败 with the reason.

It shows a ``store.rules.signin.SignInResult`` (what the gate returns) until ``card_s`` seconds pass or the
next result replaces it; then it goes back to "show your code". The full ID number never reaches it:
``WorkerCard.id_masked`` is all it has.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from kiosk.officer.widgets import Localized
from store.reasons import Outcome, Reason
from store.timeutil import DEFAULT_ZONE, local_time

if TYPE_CHECKING:
    import numpy as np

    from store.rules.signin import SignInResult

KIND = {
    Outcome.SIGNED_IN: "ok",
    Outcome.SIGNED_OUT: "ok",
    Outcome.ALREADY: "already",
    Outcome.REFUSED: "refused",
}


@dataclass(frozen=True, eq=False)
class Shown:
    """What the app puts on the card (its ``shown``): an attempt's result with the enrolled photo, or
    the error of a step that recorded nothing. Each one is new: the same result twice shows twice."""

    result: SignInResult | None = None
    face: np.ndarray | None = None
    error: str | None = None


class ResultCard(Localized):
    DEFAULT_CSS = """
    ResultCard { height: 2fr; padding: 0 1; content-align: center middle; }
    """

    def __init__(self, *, tz: str = DEFAULT_ZONE, id: str | None = None) -> None:
        super().__init__(id=id)
        self.tz = tz
        self.result: SignInResult | None = None
        self.checking = False
        self.error: str | None = None  # the store failed: nothing was recorded

    @property
    def kind(self) -> str:
        if self.error is not None:
            return "refused"
        return KIND[self.result.outcome] if self.result is not None else "idle"

    def show_error(self, text: str) -> None:
        """Red, "not recorded", and why (a locked or unreachable store)."""
        self.result, self.error, self.checking = None, text, False
        self._restyle()

    def show(self, result: SignInResult | None) -> None:
        self.result, self.error, self.checking = result, None, False
        self._restyle()

    def _restyle(self) -> None:
        for k in ("ok", "already", "refused", "idle"):
            self.set_class(self.kind == k, f"-{k}")
        self.refresh()

    def render(self) -> RenderableType:
        r = self.result
        if self.error is not None:
            return Group(Text(self.t("not_recorded"), style="bold"), Text(""), Text(self.error))
        if r is None:
            title = Text(self.t("checking" if self.checking else "waiting"), style="bold")
            return Group(title, Text(""), Text(self.t("waiting_hint"), style="dim"))
        lines: list[RenderableType] = []
        if r.outcome is Outcome.SIGNED_IN:
            lines.append(Text(self.t("signed_in"), style="bold"))
        elif r.outcome is Outcome.SIGNED_OUT or r.left_at is not None:
            when = local_time(r.left_at or r.at, self.tz)
            lines.append(
                Text(
                    self.t("signed_out" if r.outcome is Outcome.SIGNED_OUT else "already_out", time=when),
                    style="bold",
                )
            )
            if r.no_entry:
                lines.append(Text(self.t("out_no_entry"), style="bold"))
        elif r.outcome is Outcome.ALREADY:
            when = local_time(r.first_at or r.at, self.tz)
            key = "already_where" if r.first_kiosk else "already"
            lines.append(Text(self.t(key, time=when, where=r.first_kiosk or ""), style="bold"))
        else:
            lines.append(Text(self.t("refused"), style="bold"))
            if r.reason is not None:
                other = "zh" if self.lang == "en" else "en"
                named = r.reason is Reason.CODE_EXPIRED and r.worker is not None  # whose code: say his name
                said = r.message if named else r.reason.message
                lines.append(Text(said(self.lang), style="bold"))
                lines.append(Text(said(other)))
        w = r.worker
        table = Table.grid(padding=(0, 1))
        table.add_column(style="dim", no_wrap=True)
        table.add_column()
        if w is not None:
            table.add_row(self.t("f_name"), Text(w.name, style="bold"))
            table.add_row(self.t("f_id"), Text(w.id_masked))
            if r.outcome is not Outcome.REFUSED or w.employer:
                if w.employer:
                    table.add_row(self.t("f_employer"), Text(w.employer))
                team = " · ".join(x for x in (w.team, w.trade) if x)
                if team:
                    table.add_row(f"{self.t('f_team')}/{self.t('f_trade')}", Text(team))
        table.add_row(self.t("f_time"), local_time(r.at, self.tz, "%H:%M:%S"))
        return Group(*lines, Text(""), table)
