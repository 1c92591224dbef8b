"""The small widgets around the card: clock, camera state, sync state, counters, key bar; the camera
state, the sync state and the counters follow the app's reactive attributes of those names."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from kiosk import i18n
from kiosk.officer.widgets import Localized
from store.timeutil import DEFAULT_ZONE, local_time


class Clock(Localized):
    """Local date and time of the site, from the app's clock (frozen in snapshot tests)."""

    DEFAULT_CSS = "Clock { width: auto; height: 1; }"

    def __init__(self, *, tz: str = DEFAULT_ZONE, id: str | None = None) -> None:
        super().__init__(id=id)
        self.tz = tz

    def on_mount(self) -> None:
        self.set_interval(1.0, self.refresh)

    def render(self) -> RenderableType:
        return Text(local_time(self.kiosk.now(), self.tz, "%m-%d %H:%M:%S"), style="bold")


CAMERA_KEYS = {
    "connecting": "cam_connecting",
    "connected": "cam_connected",
    "reconnecting": "cam_reconnecting",
    "failed": "cam_failed",
    "ended": "cam_ended",
    "none": "cam_none",
}


class CameraStatus(Localized):
    """Connected / reconnecting / failed, and what to do about it (the app's ``camera_state``)."""

    DEFAULT_CSS = "CameraStatus { width: auto; height: 1; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.state = "connecting"

    def on_mount(self) -> None:
        self.watch(self.app, "camera_state", self.set_state)

    def set_state(self, state: str) -> None:
        self.state = state
        for s in CAMERA_KEYS:
            self.set_class(s == state, f"-{s}")
        self.refresh(layout=True)

    def render(self) -> RenderableType:
        mark = {"connected": "●", "reconnecting": "◌", "failed": "✖", "connecting": "◌"}.get(self.state, "○")
        return Text(f"{mark} {self.t(CAMERA_KEYS.get(self.state, 'cam_none'))}")


@dataclass(frozen=True, slots=True)
class SyncView:
    """What the sync line shows: ``local`` (no shared database), ``ok``, ``running``, ``offline``."""

    kind: str = "local"
    last_ok: datetime | None = None
    offline_since: datetime | None = None
    pending: int = 0
    #: seconds the kiosk's clock is ahead of the shared database's, when more than allowed (else None)
    clock_drift_s: float | None = None


class SyncStatus(Localized):
    """The sync line (the app's ``sync_view``)."""

    DEFAULT_CSS = "SyncStatus { width: auto; height: 1; }"

    def __init__(self, *, tz: str = DEFAULT_ZONE, id: str | None = None) -> None:
        super().__init__(id=id)
        self.tz = tz
        self.view = SyncView()

    def on_mount(self) -> None:
        self.set_interval(5.0, self.refresh)  # "synced 12 s ago" ages
        self.watch(self.app, "sync_view", self.set_view)

    def set_view(self, view: SyncView) -> None:
        self.view = view
        self.set_class(view.kind == "offline", "-offline")
        self.set_class(view.clock_drift_s is not None, "-clock")
        self.refresh(layout=True)

    def _ago(self, at: datetime) -> str:
        s = max(0, int((self.kiosk.now() - at).total_seconds()))
        if s < 120:
            return self.t("ago_s", n=s)
        if s < 7200:
            return self.t("ago_m", n=s // 60)
        return self.t("ago_h", n=s // 3600)

    def render(self) -> RenderableType:
        v = self.view
        if v.kind == "running":
            text = self.t("sync_running")
        elif v.kind == "offline":
            since = local_time(v.offline_since, self.tz) if v.offline_since else "?"
            text = self.t("sync_offline", since=since)
        elif v.kind == "ok":
            text = self.t("sync_ok", ago=self._ago(v.last_ok)) if v.last_ok else self.t("sync_never")
        else:
            text = self.t("sync_local")
        if v.pending and v.kind != "local":
            text += " · " + self.t("sync_pending", n=v.pending)
        if v.clock_drift_s is not None:
            from store.sync.clock import short_warning

            text += " · " + short_warning(v.clock_drift_s, self.lang)
        return Text(f"⇅ {text}")


@dataclass(frozen=True, slots=True)
class Counts:
    signed_in: int = 0
    expected: int = 0
    refused: int = 0
    on_site: int = 0  # signed in and not left (出场)


class Counters(Localized):
    """On site now (signed in, not left) / signed in / expected today (as the roster counts them, once synced) / refused at this gate: the kiosk holds
    only its own attempts (pushed, never pulled), so its refusals are this gate's, not the whole site's.
    Follows the app's ``counts``."""

    DEFAULT_CSS = "Counters { height: auto; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.counts = Counts()

    def on_mount(self) -> None:
        self.watch(self.app, "counts", self.set_counts)

    def set_counts(self, counts: Counts) -> None:
        self.counts = counts
        self.refresh()

    def render(self) -> RenderableType:
        c = self.counts
        grid = Table.grid(expand=True)
        cells = [
            (Text(f"{c.on_site}", style="bold green"), self.t("c_on_site")),
            (Text(f"{c.signed_in}", style="bold"), self.t("c_signed")),
            (Text(f"{c.expected}", style="bold"), self.t("c_expected")),
            (Text(f"{c.refused}", style="bold red"), self.t("c_refused")),
        ]
        if self.size.width < 44:  # narrow (80×24): on site, expected, refused; signed in is on the roster
            del cells[1]
        for _ in cells:
            grid.add_column(justify="center", ratio=1)
        grid.add_row(*(value for value, _ in cells))
        grid.add_row(*(label for _, label in cells))
        return grid


class GateModeBadge(Localized):
    """What a scan means at this gate, large in the header: 进场 / 出场 / 自动 (F7 switches it). Follows the
    app's ``gate_mode``."""

    DEFAULT_CSS = """
    GateModeBadge { width: auto; height: 1; padding: 0 2; margin-right: 1; text-style: bold; }
    GateModeBadge.-in { background: #1e7b34; color: white; }
    GateModeBadge.-out { background: #0a58ca; color: white; }
    GateModeBadge.-auto { background: #6f42c1; color: white; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.mode = "in"

    def on_mount(self) -> None:
        self.watch(self.app, "gate_mode", self.set_mode)

    def set_mode(self, mode: str) -> None:
        self.mode = mode
        for m in ("in", "out", "auto"):
            self.set_class(m == mode, f"-{m}")
        self.refresh(layout=True)

    def render(self) -> RenderableType:
        zh, en = (i18n.t(f"mode_{self.mode}", lang) for lang in ("zh", "en"))
        return Text(f"▶ {zh} {en} ◀" if self.lang == "zh" else f"▶ {en} {zh} ◀")


class KeyBar(Localized):
    """The keys of the screen, in the current language (a Footer cannot switch languages)."""

    DEFAULT_CSS = "KeyBar { height: 1; width: 1fr; }"

    def __init__(self, keys: list[tuple[str, str]], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.keys = keys

    def render(self) -> RenderableType:
        text = Text(no_wrap=True, overflow="ellipsis")
        for key, label in self.keys:
            text.append(f" {key} ", style="reverse")
            text.append(f" {self.t(label)}  ")
        return text
