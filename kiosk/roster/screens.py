"""The roster's dialogs: a worker's detail and the evacuation list."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from sqlalchemy.engine import Engine
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from kiosk.i18n import label, t
from store.errors import StoreError
from store.projects import ProjectInfo
from store.roster.day import Evacuation, reason_message, where_label
from store.roster.history import WorkerDetail, worker_detail
from store.timeutil import local_time


class WorkerDetailScreen(ModalScreen[None]):
    """A worker's last 30 days on the project, his masked ID number and his refused attempts."""

    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("escape,q,enter", "dismiss_screen", label("roster.close")),
    ]

    class Loaded(Message):
        def __init__(self, detail: WorkerDetail | None, error: str | None = None) -> None:
            super().__init__()
            self.detail = detail
            self.error = error

    def __init__(
        self, engine: Engine, project: ProjectInfo, worker_id: uuid.UUID, day: date, lang: str
    ) -> None:
        super().__init__()
        self.engine, self.project, self.worker_id, self.day, self.lang = engine, project, worker_id, day, lang
        self.detail: WorkerDetail | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="detail"):
            yield Static(t("roster.loading", self.lang), id="detail-head")
            yield Static(id="detail-days-title", classes="section")
            yield DataTable(id="detail-days", cursor_type="none")
            yield Static(id="detail-refused-title", classes="section")
            yield DataTable(id="detail-refused", cursor_type="none")
            yield Static(
                Text.assemble(("Esc", "bold reverse"), f" {t('roster.close', self.lang)}"), classes="keys"
            )

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, exit_on_error=False, description="worker detail")
    def load(self) -> None:
        try:
            detail = worker_detail(self.engine, self.project.id, self.worker_id, self.day)
        except StoreError as exc:
            self.post_message(self.Loaded(None, exc.message(self.lang)))
            return
        self.post_message(self.Loaded(detail))

    def on_worker_detail_screen_loaded(self, msg: Loaded) -> None:
        lang, tz = self.lang, self.project.timezone
        head = self.query_one("#detail-head", Static)
        if msg.detail is None:
            head.update(Text(msg.error or "", style="bold red"))
            return
        d = self.detail = msg.detail
        head.update(
            Text.assemble(
                (d.name, "bold"),
                "  ",
                d.id_masked,
                "  ",
                t(f"roster.sex_{d.sex}", lang) if d.sex in ("M", "F") else d.sex,
                "\n",
                f"{t('roster.col_employer', lang)}：{d.employer or '—'}  {t('roster.col_team', lang)}：{d.team or '—'}  "
                f"{t('roster.col_trade', lang)}：{d.trade or '—'}",
            )
        )
        self.query_one("#detail-days-title", Static).update(
            f"{t('roster.detail_days', lang)}（{d.since.isoformat()} – {d.until.isoformat()}）："
            f"{t('roster.detail_present', lang)} {len(d.days)}"
        )
        # Two tables (days, refused) filled alike: other columns and rows each.
        days = self.query_one("#detail-days", DataTable)
        days.clear(columns=True)
        days.add_columns(
            t("roster.col_date", lang),
            t("roster.col_first", lang),
            t("roster.col_way", lang),
            t("roster.col_kiosk", lang),
        )
        for r in d.days:
            days.add_row(
                *map(
                    Text,
                    (
                        r.work_date.isoformat(),
                        local_time(r.first_at, tz),
                        r.way,
                        where_label(r.way, r.kiosk, lang),
                    ),
                )
            )
        self.query_one("#detail-refused-title", Static).update(
            f"{t('roster.detail_refused', lang)}：{len(d.refused) or t('roster.detail_none', lang)}"
        )
        refused = self.query_one("#detail-refused", DataTable)
        refused.clear(columns=True)
        refused.add_columns(
            t("roster.col_time", lang),
            t("roster.col_way", lang),
            t("roster.col_kiosk", lang),
            t("roster.col_reason", lang),
        )
        for a in d.refused:
            refused.add_row(
                *map(Text, (local_time(a.at, tz, "%m-%d %H:%M"), a.way, where_label(a.way, a.kiosk, lang))),
                Text(reason_message(a.reason, lang), style="red"),
            )

    def action_dismiss_screen(self) -> None:
        self.dismiss(None)


class EvacuationScreen(ModalScreen[None]):
    """Who is on site now, per employer and team with counts; ``p`` exports it as a printable file."""

    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("escape,q,v", "dismiss_screen", label("roster.close")),
        Binding("p,e", "export", label("roster.evac_export")),
    ]

    def __init__(self, ev: Evacuation, lang: str, clock: Callable[[], datetime], export_dir: Path) -> None:
        super().__init__()
        self.ev, self.lang, self.clock, self.export_dir = ev, lang, clock, export_dir
        self.exported: Path | None = None

    def compose(self) -> ComposeResult:
        lang = self.lang
        with Vertical(id="evacuation"):
            yield Static(
                Text.assemble(
                    (t("roster.evac_title", lang), "bold"),
                    "  ",
                    self.ev.project.name,
                    "  ",
                    local_time(self.ev.made_at or self.clock(), self.ev.project.timezone, "%Y-%m-%d %H:%M"),
                    "  ",
                    (f"{t('roster.evac_total', lang)} {self.ev.total}", "bold green"),
                    "  ",
                    f"{t('roster.evac_left', lang)} {self.ev.left}",
                ),
                id="evac-head",
            )
            yield DataTable(id="evac-groups", cursor_type="row")
            yield Static(
                Text.assemble(
                    ("p", "bold reverse"),
                    f" {t('roster.evac_export', lang)}    ",
                    ("Esc", "bold reverse"),
                    f" {t('roster.close', lang)}",
                ),
                id="evac-keys",
            )

    def on_mount(self) -> None:
        lang, tz = self.lang, self.ev.project.timezone
        table = self.query_one("#evac-groups", DataTable)
        # the wide columns get a width (their values are cut with …) so the list fits 100 columns
        for key, width in (
            ("employer", 16),
            ("team", 10),
            ("name", None),
            ("id", None),
            ("trade", 8),
            ("first", None),
            ("kiosk", 12),
        ):
            table.add_column(t(f"roster.col_{key}", lang), width=width)
        if not self.ev.groups:
            table.add_row(t("roster.evac_none", lang), "", "", "", "", "", "")
        for g in self.ev.groups:
            table.add_row(
                Text(g.employer or "—", style="bold"),
                Text(g.team or "—", style="bold"),
                Text(f"{t('roster.col_count', lang)} {g.count}", style="bold green"),
                "",
                "",
                "",
                "",
            )
            for r in g.rows:
                table.add_row(
                    "",
                    "",
                    *map(
                        Text,
                        (
                            r.name,
                            r.id_masked,
                            r.trade,
                            local_time(r.first_at, tz),
                            where_label(r.way, r.kiosk, lang),
                        ),
                    ),
                )
        table.focus()

    def action_dismiss_screen(self) -> None:
        self.dismiss(None)

    def action_export(self) -> None:
        self.export()

    @work(thread=True, exclusive=True, exit_on_error=False, description="evacuation export")
    def export(self) -> None:
        from store.roster.exports import default_name, export_evacuation

        now = self.clock()
        stamp = local_time(now, self.ev.project.timezone, "%Y-%m-%d-%H%M")
        out = self.export_dir / default_name("evacuation", self.ev.project, stamp, "html")
        try:
            path = export_evacuation(self.ev, out, lang=self.lang, now=now)
        except StoreError as exc:
            self.app.call_from_thread(
                self.app.notify,
                exc.message(self.lang),
                severity="error",
                markup=False,
                title=t("roster.export_failed", self.lang),
            )
            return
        self.exported = path
        self.app.call_from_thread(
            self.app.notify, str(path), title=t("roster.exported", self.lang), markup=False
        )


class KeysHelpScreen(ModalScreen[None]):
    """F1: every key of the roster, in the current language (the footer shows what fits)."""

    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("escape,q,f1,enter", "dismiss_screen", label("roster.close")),
    ]

    def __init__(self, title: str, rows: list[tuple[str, str]], lang: str) -> None:
        super().__init__()
        self.title_text, self.rows, self.lang = title, rows, lang

    def compose(self) -> ComposeResult:
        lang = self.lang
        body = Text()
        rows = [*self.rows, ("Enter", t("roster.help_enter", lang)), ("Tab", t("roster.help_tabkey", lang))]
        width = max(len(k) for k, _ in rows)
        for key, what in rows:
            body.append(f" {key:<{width}} ", style="bold reverse")
            body.append(f"  {what}\n")
        with Vertical(id="keys-help"):
            yield Static(Text(self.title_text, style="bold"), classes="dialog-title")
            yield Static(body, id="keys-body")
            yield Static(
                Text.assemble(("Esc", "bold reverse"), f" {t('roster.close', lang)}"), classes="keys"
            )

    def action_dismiss_screen(self) -> None:
        self.dismiss(None)


class ProjectPickScreen(ModalScreen[ProjectInfo | None]):
    """Key p (and at start when several projects and none named): which project's roster to show."""

    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("escape", "cancel", label("roster.key_cancel")),
    ]

    def __init__(self, projects: list[ProjectInfo], current: ProjectInfo, lang: str) -> None:
        super().__init__()
        self.projects, self.current, self.lang = projects, current, lang

    def compose(self) -> ComposeResult:
        from textual.widgets import OptionList
        from textual.widgets.option_list import Option

        with Vertical(id="project-pick"):
            yield Static(Text(t("roster.pick_title", self.lang), style="bold"), classes="dialog-title")
            yield OptionList(
                *[
                    Option(Text.assemble((str(p.id)[:8], "dim"), "  ", p.name), id=str(p.id))
                    for p in self.projects
                ],
                id="project-list",
            )
            yield Static(t("roster.pick_hint", self.lang), classes="keys")

    def on_mount(self) -> None:
        from textual.widgets import OptionList

        options = self.query_one(OptionList)
        index = next((i for i, p in enumerate(self.projects) if p.id == self.current.id), 0)
        options.highlighted = index
        options.focus()

    def on_option_list_option_selected(self, event: Any) -> None:
        self.dismiss(self.projects[event.option_index])

    def action_cancel(self) -> None:
        self.dismiss(None)
