"""The supervisor's live roster: `kiosk roster [--db URL] [--project ID] [--date YYYY-MM-DD]`.

The app gets its store (an Engine), the project and a clock passed in (``make_app`` builds it for the
CLI and the tests alike). Every refresh is a thread worker that reads the roster with a few set-based
queries (``store.roster.day``) and posts one ``RosterLoaded`` message; when it is handled the next refresh
is scheduled with ``set_timer`` (dolphie's pattern), so refreshes never pile up. On PostgreSQL a
``LISTEN`` on the revision channel (``store.sync.live.ChangeListener``) wakes a refresh at once; polling
(every ``poll_s``) stays as the fallback and is the only way on SQLite. A refresh first compares a
cheap fingerprint of the day's attendance and refusals and skips the full read when nothing changed
(a full read is still forced every ``full_every`` polls, for reference data).

Updates keep the cursor, the scroll position and the filters: when the visible rows are the same
workers in the same order only changed cells are rewritten; otherwise the table is rebuilt and the
cursor is put back on the same worker and the scroll offset restored.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from sqlalchemy.engine import Engine
from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.css.query import NoMatches
from textual.message import Message
from textual.timer import Timer
from textual.widgets import DataTable, Footer, Input, Select, Static, TabbedContent, TabPane
from textual.widgets.data_table import ColumnKey
from textual.worker import Worker, WorkerState, get_current_worker

from kiosk.i18n import t
from kiosk.roster.screens import EvacuationScreen, KeysHelpScreen, ProjectPickScreen, WorkerDetailScreen
from store.errors import StoreError
from store.projects import ProjectInfo, today_of
from store.roster.day import (
    Roster,
    RosterReader,
    RosterRow,
    Status,
    evacuation,
    filter_rows,
    group_counts,
    reason_message,
    revision_mark,
    where_label,
)
from store.roster.events import EventKind, EventRow, describe, detail_text, project_events
from store.roster.refused import RefusedAttempt, refused_attempts
from store.rules.direction import method_label
from store.timeutil import local_time, utcnow

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
#: what matters first (at 80 columns: name, status, first sign-in, where, trade); group rows carry the team in
#: the name column and the employer in its own; the wide columns have a width and cut their values with …
COLUMNS = ("name", "status", "first", "where", "trade", "id", "employer", "reason")
REFUSED_COLUMNS = ("time", "name", "reason", "team", "way", "kiosk", "id", "employer")
WIDTHS = {"where": 12, "trade": 10, "employer": 20, "team": 10, "kiosk": 12}
EVENT_COLUMNS = ("time", "kiosk", "event", "officer", "how", "detail")
#: a table cell before it becomes Text: plain text, or (text, style)
Cell = str | tuple[str, str]


def as_text(cell: Cell) -> Text:
    """DataTable parses a ``str`` as markup each time it measures it (four times slower for 5 000 rows,
    and a name with brackets would be read as markup): cells go in as ``Text``."""
    return Text(cell[0], style=cell[1]) if isinstance(cell, tuple) else Text(cell)


#: rows that leave the view are removed one by one up to this many; more, and the table is rebuilt
MAX_REMOVALS = 40
STATUS_STYLE = {Status.SIGNED_IN: "bold green", Status.NOT_YET: "dim", Status.REFUSED: "bold red"}


class RosterApp(App[None]):
    """The roster of one project on one work date (today, following midnight, unless a date is given)."""

    CSS_PATH = "roster.tcss"
    TITLE = "kiosk roster"
    ENABLE_COMMAND_PALETTE = False  # F1 lists every key; the footer's room goes to the roster's own

    #: in the footer's order, most needed first (a narrow terminal cuts the end); F1 lists them all
    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("f1", "help", "key_help", key_display="F1"),
        Binding("slash", "focus_search", "key_search"),
        Binding("t", "switch_tab", "key_tab"),
        Binding("v", "evacuation", "key_evac"),
        Binding("d", "export('daily')", "key_daily"),
        Binding("m", "export('monthly')", "key_monthly"),
        Binding("r", "export('refused')", "key_refused"),
        Binding("c", "clear_filters", "key_clear"),
        Binding("p", "pick_project", "key_project"),
        Binding("l", "toggle_language", "key_lang"),
        Binding("q", "quit", "key_quit"),
        Binding("f5", "refresh_now", "key_refresh", show=False, key_display="F5"),
        Binding("escape", "leave_search", "key_leave", show=False),
    ]

    class RosterLoaded(Message):
        """A refresh finished: the roster and the day's refused attempts, or None when unchanged."""

        def __init__(
            self,
            roster: Roster | None,
            refused: list[RefusedAttempt] | None,
            error: str | None = None,
            events: list[EventRow] | None = None,
        ) -> None:
            super().__init__()
            self.roster = roster
            self.refused = refused
            self.error = error
            self.events = events  # the kiosks' event log of the day (read on every refresh: it is small)

    def __init__(
        self,
        engine: Engine,
        project: ProjectInfo,
        *,
        day: date | None = None,
        lang: str = "zh",
        clock: Clock = utcnow,
        poll_s: float = 2.0,
        full_every: int = 15,
        export_dir: Path | None = None,
        live: bool = True,
        projects: list[ProjectInfo] | None = None,
        pick: bool = False,
    ) -> None:
        super().__init__()
        self.engine = engine
        self.projects = projects or [project]
        self._pick_at_start = pick
        self.project = project
        self.fixed_day = day
        self.lang = lang
        self.clock = clock
        self.poll_s = poll_s
        self.full_every = max(1, full_every)
        self.export_dir = export_dir or Path.cwd()
        self.roster: Roster | None = None
        self._reader = RosterReader(engine, project.id)
        self.refused: list[RefusedAttempt] = []
        self.events: list[EventRow] = []
        self.refreshes = 0  # completed refreshes (tests wait on it)
        self.error: str | None = None
        self.updated_at: datetime | None = None  # the last refresh that read the database
        self._polls = 0
        self._timer: Timer | None = None
        self._live = live
        self._shown_keys: list[str] = []
        self._shown_cells: dict[str, tuple[Cell, ...]] = {}
        self._teams: tuple[str, ...] = ()
        self._trades: tuple[str, ...] = ()

    # --- layout ----------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static(id="title")
        yield Static(id="counts")
        with TabbedContent(id="tabs"):
            with TabPane(t("roster.tab_roster", self.lang), id="tab-roster"):
                with Horizontal(id="filters"):
                    yield Input(placeholder=t("roster.search", self.lang), id="search", compact=True)
                    yield Select[str](
                        self._status_options(),
                        prompt=t("roster.all_status", self.lang),
                        id="status",
                        compact=True,
                    )
                    yield Select[str]([], prompt=t("roster.all_teams", self.lang), id="team", compact=True)
                    yield Select[str]([], prompt=t("roster.all_trades", self.lang), id="trade", compact=True)
                yield DataTable(id="roster", cursor_type="row", zebra_stripes=False)
                yield Static(id="shown")
            with TabPane(t("roster.tab_refused", self.lang), id="tab-refused"):
                yield DataTable(id="refused", cursor_type="row")
            with TabPane(t("roster.tab_events", self.lang), id="tab-events"):
                yield DataTable(id="events", cursor_type="row")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._apply_language()
        self.query_one("#roster", DataTable).focus()
        self._render_header()
        self.refresh_roster(full=True)
        if self._live and self.engine.dialect.name == "postgresql":
            self.listen()
        if self._pick_at_start:
            self.action_pick_project()

    @property
    def day(self) -> date:
        return self.fixed_day or today_of(self.project, self.clock())

    def _status_options(self) -> list[tuple[str, str]]:
        return [(s.label(self.lang), s.value) for s in Status]

    # --- refreshing ------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="refresh", description="roster refresh")
    def refresh_roster(self, full: bool = False) -> None:
        day = self.day
        try:
            events = project_events(self.engine, self.project.id, day, day, self.project.timezone)
            current = self.roster
            if (
                not full
                and current is not None
                and current.day == day
                and revision_mark(self.engine, self.project.id, day) == current.mark
            ):
                self.post_message(self.RosterLoaded(None, None, events=events))
                return
            roster = self._reader.load(day)
            refused = refused_attempts(self.engine, self.project.id, day, day)
            if get_current_worker().is_cancelled:
                return  # a newer refresh (exclusive) supersedes this one
        except StoreError as exc:
            self.post_message(self.RosterLoaded(None, None, exc.message(self.lang)))
            return
        except Exception as exc:
            self.post_message(self.RosterLoaded(None, None, unexpected(exc, self.lang)))
            return
        self.post_message(self.RosterLoaded(roster, refused, events=events))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A refresh that died anyway (an error outside its try) still reports, and the polling goes on."""
        if event.worker.group == "refresh" and event.state == WorkerState.ERROR:
            error = event.worker.error
            self.post_message(
                self.RosterLoaded(None, None, unexpected(error or RuntimeError("?"), self.lang))
            )

    def on_roster_app_roster_loaded(self, msg: RosterLoaded) -> None:
        try:
            self._take_refresh(msg)
        except NoMatches:
            return  # the app is closing (its widgets are gone): a last refresh's report has nowhere to go

    def _take_refresh(self, msg: RosterLoaded) -> None:
        self.error = msg.error
        if msg.error is None:
            self.updated_at = self.clock()
        if msg.roster is not None:
            self.roster = msg.roster
            self.refused = msg.refused or []
            self._update_filters()
            self._render_roster()
            self._render_refused()
        if msg.events is not None and msg.events != self.events:
            self.events = msg.events
            self._render_events()
        self.refreshes += 1
        self._render_header()
        self._polls += 1
        if self._timer is not None:  # a refresh woken by NOTIFY or F5: still one poll chain
            self._timer.stop()
        self._timer = self.set_timer(self.poll_s, self._poll, name="roster poll")

    def _poll(self) -> None:
        self.refresh_roster(full=self._polls % self.full_every == 0)

    def action_refresh_now(self) -> None:
        self.refresh_roster(full=True)

    @work(thread=True, exclusive=True, exit_on_error=False, group="listen", description="LISTEN for changes")
    def listen(self) -> None:
        """PostgreSQL: wake a refresh at each NOTIFY of the revision counter (store.sync.live). Polling stays."""
        from store.sync.live import ChangeListener

        worker = get_current_worker()
        with ChangeListener(self.engine.url.render_as_string(hide_password=False)) as live:
            while not worker.is_cancelled:
                if live.wait(timeout=1.0) and not worker.is_cancelled:
                    self.call_from_thread(self.refresh_roster)

    # --- rendering -------------------------------------------------------------------------------

    def _render_header(self) -> None:
        lang = self.lang
        # the time of the last good read, never "now": numbers from a failed refresh are never shown as current
        when = local_time(self.updated_at, self.project.timezone, "%H:%M:%S") if self.updated_at else "–"
        title = Text.assemble(
            (t("roster.app_title", lang), "bold"),
            "  ",
            (self.project.name, "bold cyan"),
            "  ",
            self.day.isoformat(),
            "  ",
            (f"{t('roster.updated', lang)} {when}", "dim"),
        )
        if self.error:
            retry = t("roster.retrying", lang, s=f"{self.poll_s:g}")
            title.append(f"  ⚠ {t('roster.offline', lang)} · {retry}: {self.error}", style="bold yellow")
        self.query_one("#title", Static).update(title)
        c = self.roster.counts if self.roster else None
        stale = bool(self.error) and c is not None
        parts: list[Any] = []
        for key, value, style in (
            ("expected", c.expected if c else "–", "bold"),
            ("signed_in", c.signed_in if c else "–", "bold green"),
            ("on_site", c.on_site if c else "–", "bold green"),
            ("left", c.left if c else "–", "bold"),
            ("not_yet", c.not_yet if c else "–", "bold yellow"),
            ("refused", c.refused if c else "–", "bold red"),
        ):
            parts += [f"{t(f'roster.{key}', lang)} ", (str(value), "dim strike" if stale else style), "    "]
        if stale:
            parts.append((t("roster.stale", lang, at=when), "bold yellow"))
        self.query_one("#counts", Static).update(Text.assemble(*parts))

    def _roster_filters(self) -> dict[str, Any]:
        status = self.query_one("#status", Select).value
        team = self.query_one("#team", Select).value
        trade = self.query_one("#trade", Select).value
        return {
            "status": Status(status) if isinstance(status, str) else None,
            "team": team if isinstance(team, str) else None,
            "trade": trade if isinstance(trade, str) else None,
            "search": self.query_one("#search", Input).value,
        }

    def visible_rows(self) -> list[RosterRow]:
        return filter_rows(self.roster.rows, **self._roster_filters()) if self.roster else []

    def _update_filters(self) -> None:
        assert self.roster is not None
        teams = tuple(sorted({r.team for r in self.roster.rows if r.team}))
        trades = tuple(sorted({r.trade for r in self.roster.rows if r.trade}))
        for sel_id, values, attr in (("#team", teams, "_teams"), ("#trade", trades, "_trades")):
            if values == getattr(self, attr):
                continue
            setattr(self, attr, values)
            sel = self.query_one(sel_id, Select)
            keep = sel.value
            with sel.prevent(Select.Changed):
                sel.set_options([(Text(v), v) for v in values])
                if isinstance(keep, str) and keep in values:
                    sel.value = keep

    def _cells(self, row: RosterRow) -> tuple[Cell, ...]:
        """A worker's cells as plain values (cheap to compare on every refresh); ``as_text`` makes them
        ``Text`` when they go into the table."""
        lang, tz = self.lang, self.project.timezone
        left = row.left_at is not None and row.status is Status.SIGNED_IN
        return (
            row.name,
            (t("roster.left", lang), "bold") if left else (row.status.label(lang), STATUS_STYLE[row.status]),
            local_time(row.first_at, tz),
            f"{row.way} {where_label(row.way, row.kiosk, lang)}" if row.first_at else "",
            row.trade,
            row.id_masked,
            "",
            f"{t('roster.out_at', lang)} {local_time(row.left_at, tz)} {method_label(row.left_method, lang)}"
            if left
            else reason_message(row.last_reason, lang)
            if row.status is Status.REFUSED
            else "",
        )

    def filtered(self) -> bool:
        f = self._roster_filters()
        return any(f[k] for k in ("status", "team", "trade")) or bool(f["search"].strip())

    def _display_rows(self) -> list[tuple[str, tuple[Cell, ...]]]:
        rows = self.visible_rows()
        counts = group_counts(rows)
        # the counts are of the rows shown
        mark = f" {t('roster.filtered', self.lang)}" if self.filtered() else ""
        out: list[tuple[str, tuple[Cell, ...]]] = []
        group: tuple[str, str] | None = None
        for r in rows:
            if (r.employer, r.team) != group:
                group = (r.employer, r.team)
                signed, total = counts[group]
                out.append(
                    (
                        f"group:{r.employer}|{r.team}",
                        (
                            (r.team or "—", "bold"),
                            (f"{signed}/{total}{mark}", "bold"),
                            "",
                            "",
                            "",
                            "",
                            (r.employer or "—", "bold"),
                            "",
                        ),
                    )
                )
            out.append((r.row_key, self._cells(r)))
        return out

    def _render_roster(self) -> None:
        """Show the filtered rows, keeping the cursor on its worker and the scroll offset.

        The same rows: only changed cells are rewritten. Rows only left the view (a status filter and a
        sign-in): they are removed. Anything else: the table is rebuilt (5 000 rows take a second).
        """
        table = self.query_one("#roster", DataTable)
        display = self._display_rows()
        keys = [k for k, _ in display]
        old_keys = self._shown_keys
        cursor_key = old_keys[table.cursor_row] if 0 <= table.cursor_row < len(old_keys) else None
        scroll_x, scroll_y = table.scroll_x, table.scroll_y
        wanted = set(keys)
        few = 0 < len(old_keys) - len(keys) <= MAX_REMOVALS  # remove_row re-indexes the table: O(rows) each
        if few and wanted <= self._shown_cells.keys() and keys == [k for k in old_keys if k in wanted]:
            for key in old_keys:
                if key not in wanted:
                    table.remove_row(key)
                    del self._shown_cells[key]
            self._shown_keys = old_keys = keys
        if keys == old_keys:
            for key, cells in display:
                old = self._shown_cells.get(key)
                if old != cells:
                    for col, a, b in zip(COLUMNS, old or (), cells, strict=False):
                        if a != b:
                            self._set_cell(table, key, col, as_text(b))
                    self._shown_cells[key] = cells
        else:
            table.clear()
            for key, cells in display:
                table.add_row(*map(as_text, cells), key=key)
            self._shown_keys = keys
            self._shown_cells = dict(display)
        if cursor_key in self._shown_cells and table.cursor_row != keys.index(cursor_key):
            table.move_cursor(row=keys.index(cursor_key), scroll=False)
        if (table.scroll_x, table.scroll_y) != (scroll_x, scroll_y):
            table.scroll_to(scroll_x, scroll_y, animate=False, immediate=True)
        n = sum(1 for k in keys if not k.startswith("group:"))
        total = len(self.roster.rows) if self.roster else 0
        shown = t("roster.shown", self.lang).format(n=n, total=total)
        if self.filtered():
            shown += f" · {t('roster.filtered_note', self.lang)}"
        self.query_one("#shown", Static).update(Text(shown))

    @staticmethod
    def _set_cell(table: DataTable[Any], key: str, col: str, value: Text) -> None:
        """Rewrite one cell; widen its column only when the value is wider than the column (DataTable
        would otherwise measure the whole column, 5 000 cells, on every narrower value)."""
        width = value.cell_len
        column = table.columns.get(ColumnKey(col))
        table.update_cell(key, col, value, update_width=column is not None and width > column.content_width)

    def _render_refused(self) -> None:
        table = self.query_one("#refused", DataTable)
        lang, tz = self.lang, self.project.timezone
        cursor = table.cursor_row
        table.clear()
        for a in self.refused:
            table.add_row(
                *map(Text, (local_time(a.at, tz, "%H:%M:%S"), a.name or t("roster.unknown_worker", lang))),
                Text(reason_message(a.reason, lang), style="red"),
                *map(Text, (a.team, a.way, where_label(a.way, a.kiosk, lang), a.id_masked, a.employer)),
                key=str(a.id),
            )
        if self.refused:
            table.move_cursor(row=min(cursor, len(self.refused) - 1), scroll=False)

    def _render_events(self) -> None:
        table = self.query_one("#events", DataTable)
        lang, tz = self.lang, self.project.timezone
        table.clear()
        for e in reversed(self.events):  # newest first, like the refused tab
            style = "red" if e.kind in _ALARMS else ""
            table.add_row(
                Text(local_time(e.at, tz, "%H:%M:%S")),
                Text(e.kiosk),
                Text(e.kind_label(lang), style=style),
                Text(e.officer),
                Text(describe(e, lang)),
                Text(detail_text(e, lang, self.project.timezone), style="dim"),
                key=str(e.id),
            )

    def _apply_language(self) -> None:
        lang = self.lang
        roster = self.query_one("#roster", DataTable)
        roster.clear(columns=True)
        for key in COLUMNS:
            roster.add_column(t(f"roster.col_{key}", lang), key=key, width=WIDTHS.get(key))
        refused = self.query_one("#refused", DataTable)
        refused.clear(columns=True)
        for key in REFUSED_COLUMNS:
            refused.add_column(t(f"roster.col_{key}", lang), key=key, width=WIDTHS.get(key))
        events = self.query_one("#events", DataTable)
        events.clear(columns=True)
        for key in EVENT_COLUMNS:
            events.add_column(t(f"roster.col_{key}", lang), key=key, width=WIDTHS.get(key))
        self._shown_keys, self._shown_cells = [], {}
        self.query_one("#search", Input).placeholder = t("roster.search", lang)
        status = self.query_one("#status", Select)
        keep = status.value
        with status.prevent(Select.Changed):
            status.set_options(self._status_options())
            status.value = keep
        for sel_id, key in (("#status", "all_status"), ("#team", "all_teams"), ("#trade", "all_trades")):
            self.query_one(sel_id, Select).prompt = t(f"roster.{key}", lang)
        tabs = self.query_one("#tabs", TabbedContent)
        tabs.get_tab("tab-roster").label = t("roster.tab_roster", lang)
        tabs.get_tab("tab-refused").label = t("roster.tab_refused", lang)
        tabs.get_tab("tab-events").label = t("roster.tab_events", lang)
        for key, bindings in list(self._bindings.key_to_bindings.items()):
            self._bindings.key_to_bindings[key] = [
                dataclasses.replace(b, description=t(f"roster.{_BINDING_TEXT[b.action]}", lang))
                if b.action in _BINDING_TEXT
                else b
                for b in bindings
            ]
        self.refresh_bindings()

    # --- filters ---------------------------------------------------------------------------------

    @on(Input.Changed, "#search")
    @on(Select.Changed)
    def _filter_changed(self) -> None:
        if self.roster is not None:
            self._render_roster()

    def action_focus_search(self) -> None:
        self.query_one("#tabs", TabbedContent).active = "tab-roster"
        self.query_one("#search", Input).focus()

    def action_clear_filters(self) -> None:
        self.query_one("#search", Input).value = ""
        for sel_id in ("#status", "#team", "#trade"):
            self.query_one(sel_id, Select).clear()
        self.query_one("#roster", DataTable).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.query_one("#roster", DataTable).focus()

    def action_leave_search(self) -> None:
        """Escape: out of the search box (what was typed stays, the keys work again)."""
        if isinstance(self.focused, Input):
            self.query_one("#roster", DataTable).focus()

    def action_switch_tab(self) -> None:
        """The next tab (花名册 → 被拒记录 → … → 花名册), its table focused."""
        tabs = self.query_one("#tabs", TabbedContent)
        panes = [pane.id for pane in tabs.query(TabPane) if pane.id]
        if not panes:
            return
        now = panes.index(tabs.active) if tabs.active in panes else -1
        tabs.active = panes[(now + 1) % len(panes)]
        table = tabs.get_pane(tabs.active).query(DataTable)
        if table:
            table.first().focus()

    def action_help(self) -> None:
        rows = [
            (b.key_display or _key_name(b.key), _long_text(b.action, self.lang))
            for b in self.BINDINGS
            if isinstance(b, Binding) and b.action in _BINDING_TEXT
        ]
        self.push_screen(KeysHelpScreen(t("roster.help_title", self.lang), rows, self.lang))

    def action_pick_project(self) -> None:
        def picked(project: ProjectInfo | None) -> None:
            if project is not None and project.id != self.project.id:
                self.switch_project(project)

        self.push_screen(ProjectPickScreen(self.projects, self.project, self.lang), picked)

    def switch_project(self, project: ProjectInfo) -> None:
        """Show another project: its own reader, filters cleared, a full read."""
        self.project = project
        self._reader = RosterReader(self.engine, project.id)
        self.roster, self.refused = None, []
        self._teams = self._trades = ()
        self._shown_keys, self._shown_cells = [], {}
        self.query_one("#roster", DataTable).clear()
        self.query_one("#refused", DataTable).clear()
        self.action_clear_filters()
        self._render_header()
        self.refresh_roster(full=True)

    # --- actions ---------------------------------------------------------------------------------

    def action_toggle_language(self) -> None:
        self.lang = "en" if self.lang == "zh" else "zh"
        self._apply_language()
        self._render_header()
        if self.roster is not None:
            self._render_roster()
            self._render_refused()
        self._render_events()

    @on(DataTable.RowSelected, "#roster")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        key = event.row_key.value
        if key is None or key.startswith("group:") or self.roster is None:
            return
        self.open_detail(key)

    def open_detail(self, row_key: str) -> None:
        assert self.roster is not None
        row = next((r for r in self.roster.rows if r.row_key == row_key), None)
        if row is not None:
            self.push_screen(
                WorkerDetailScreen(self.engine, self.project, row.worker_id, self.day, self.lang)
            )

    @on(DataTable.RowSelected, "#refused")
    def _refused_selected(self, event: DataTable.RowSelected) -> None:
        attempt = next((a for a in self.refused if str(a.id) == event.row_key.value), None)
        if attempt is not None and attempt.worker_id is not None and attempt.name:
            self.push_screen(
                WorkerDetailScreen(self.engine, self.project, attempt.worker_id, self.day, self.lang)
            )

    def action_evacuation(self) -> None:
        if self.roster is not None:
            self.push_screen(
                EvacuationScreen(
                    evacuation(self.roster, self.clock()), self.lang, self.clock, self.export_dir
                )
            )

    def action_export(self, kind: str) -> None:
        self.run_export(kind)

    @work(thread=True, exit_on_error=False, group="export", description="export")
    def run_export(self, kind: str) -> None:
        from store.roster.exports import default_name, export_daily, export_monthly, export_refused

        day, lang = self.day, self.lang
        try:
            if kind == "daily":
                out = self.export_dir / default_name("daily", self.project, day.isoformat(), "xlsx")
                path, n = export_daily(self.engine, self.project.id, day, out, "xlsx", lang)
            elif kind == "monthly":
                out = self.export_dir / default_name("monthly", self.project, f"{day:%Y-%m}", "xlsx")
                path, n = export_monthly(self.engine, self.project.id, day.year, day.month, out, "xlsx", lang)
            else:
                out = self.export_dir / default_name("refused", self.project, f"{day:%Y-%m}", "xlsx")
                path, n = export_refused(
                    self.engine, self.project, day.replace(day=1), day, out, "xlsx", lang
                )
        except StoreError as exc:
            self.call_from_thread(
                self.notify,
                exc.message(lang),
                title=t("roster.export_failed", lang),
                severity="error",
                markup=False,
            )
            return
        self.call_from_thread(self.notify, f"{path} ({n})", title=t("roster.exported", lang), markup=False)


def unexpected(exc: BaseException, lang: str) -> str:
    """What the screen says of a refresh that failed for a reason no closer code knew: the database's own
    first line, translated when it is a database error."""
    from sqlalchemy.exc import DatabaseError

    from store.db.engine import translate_errors

    if isinstance(exc, DatabaseError):
        try:
            with translate_errors(""):
                raise exc
        except StoreError as translated:
            return translated.message(lang)
        except DatabaseError:
            pass
    log.exception("roster refresh failed", exc_info=exc)
    first = (str(exc).splitlines() or [type(exc).__name__])[0]
    return t("roster.refresh_failed", lang, e=first)


def _long_text(action: str, lang: str) -> str:
    """What F1 says of a key: the longer words when there are some, else the footer's."""
    from kiosk.i18n import MESSAGES

    key = "roster." + _BINDING_TEXT[action].replace("key_", "long_", 1)
    return t(key if key in MESSAGES else f"roster.{_BINDING_TEXT[action]}", lang)


def _key_name(key: str) -> str:
    return {"slash": "/", "escape": "Esc"}.get(
        key, key.upper() if key.startswith("f") and key[1:].isdigit() else key
    )


#: events shown in red: something the supervisor should look at
_ALARMS = frozenset(
    {EventKind.UNLOCK_REFUSED, EventKind.CAMERA_LOST, EventKind.SYNC_FAILED, EventKind.CLOCK_DRIFT}
)

_BINDING_TEXT = {
    "help": "key_help",
    "switch_tab": "key_tab",
    "pick_project": "key_project",
    "leave_search": "key_leave",
    "quit": "key_quit",
    "focus_search": "key_search",
    "evacuation": "key_evac",
    "export('daily')": "key_daily",
    "export('monthly')": "key_monthly",
    "export('refused')": "key_refused",
    "clear_filters": "key_clear",
    "refresh_now": "key_refresh",
    "toggle_language": "key_lang",
}


# The keywords of RosterApp.__init__ (less full_every): the one factory the CLI and the tests call.
def make_app(
    engine: Engine,
    project: ProjectInfo,
    *,
    day: date | None = None,
    lang: str = "zh",
    clock: Clock = utcnow,
    poll_s: float = 2.0,
    export_dir: Path | None = None,
    live: bool = True,
    projects: list[ProjectInfo] | None = None,
    pick: bool = False,
) -> RosterApp:
    """The one factory the CLI and the tests use. ``projects``: what the picker (key p) offers; ``pick``:
    open it at start (several projects and none named)."""
    return RosterApp(
        engine,
        project,
        day=day,
        lang=lang,
        clock=clock,
        poll_s=poll_s,
        export_dir=export_dir,
        live=live,
        projects=projects,
        pick=pick,
    )


__all__ = ["RosterApp", "make_app"]
