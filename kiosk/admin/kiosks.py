"""The kiosks and the refused pushes of the admin app (issue 24): F10 and F11.

- ``KiosksScreen`` (F10): every kiosk key — name, the kiosk's id (its first 8 characters, what
  ``kiosk kiosk approve`` takes), its status in words, its projects by name, when the service last heard
  from it (site time). ``n`` issues a one-time enrollment token for the projects ticked (shown as text and,
  when the window has room, as a QR the kiosk's camera reads), ``a`` approves a pending key (or changes an
  approved one's projects), ``x`` revokes after a question, ``j`` opens the refused pushes.
- ``RejectionsScreen`` (F11): what the site service refused of the kiosks' pushes, newest first — when
  (site time), which kiosk, what kind of row, why and what to do (in words, never the code) — unsettled,
  settled or all (``f``); ``s`` settles the chosen one, ``A`` every unsettled one, each after a question.

Every write goes through ``store/sync/keys.py`` and is audited there with the administrator's name; reads
and writes run in thread workers. Long values are cut with "…", never silently.
"""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from rich.cells import cell_len
from rich.markup import escape
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, DataTable, Footer, Header, SelectionList, Static
from textual.widgets.selection_list import Selection

from kiosk.admin.base import Row, TableScreen, admin_of
from kiosk.admin.forms import ConfirmScreen, Dialog
from kiosk.i18n import MESSAGES, label, pair, t
from store.errors import StoreError

#: the widest a cell gets (terminal cells); longer values end in "…"
NAME_W, PROJECTS_W, REASON_W, KIOSK_W = 20, 36, 30, 16
#: rows the token dialog needs besides its QR code (title, token, how, projects, until, buttons, border)
TOKEN_TEXT_ROWS = 12


def clip(text: str, width: int) -> str:
    """``text`` in at most ``width`` terminal cells, ending in "…" when cut (CJK counts double)."""
    if cell_len(text) <= width:
        return text
    out, used = [], 0
    for ch in text:
        w = cell_len(ch)
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + "…"


def status_word(status: str, lang: str) -> str:
    key = f"admin.kiosks.status.{status}"
    return t(key, lang) if key in MESSAGES else status


def reason_pair(code: str) -> tuple[str, str]:
    """What a ``pushrejection.reason`` code means and what to do, in Chinese and English."""
    key = f"admin.reason.{code}"
    return pair(key) if key in MESSAGES else pair("admin.reason.other", code=code)


def table_word(table: str, lang: str) -> str:
    key = f"admin.push_table.{table}"
    return t(key, lang) if key in MESSAGES else table


# --- choosing projects, showing a token -----------------------------------------------------------------


class ProjectsDialog(Dialog[list[uuid.UUID] | None]):
    """Tick one or more projects (space), then 确定 OK; Escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [("escape", "cancel", label("admin.key.cancel"))]

    def __init__(
        self,
        title: str,
        projects: list[tuple[uuid.UUID, str]],
        *,
        ticked: frozenset[uuid.UUID] = frozenset(),
        lang: str = "zh",
    ) -> None:
        super().__init__(lang=lang)
        self.title_text, self.projects, self.ticked = title, projects, ticked

    def compose(self) -> ComposeResult:
        with Vertical(id="form"):
            yield Static(self.title_text, id="form-title", markup=False)
            yield Static(t("admin.kiosks.choose_projects", self.lang), id="form-note")
            yield SelectionList[str](
                *(
                    Selection(Text(f"{name}  {str(pid)[:8]}"), str(pid), pid in self.ticked)
                    for pid, name in self.projects
                ),
                id="project-list",
            )
            yield Static("", id="form-error")
            with Horizontal(id="form-buttons"):
                yield Button(t("admin.ok", self.lang), variant="primary", id="yes", compact=True)
                yield Button(t("admin.cancel", self.lang), id="no", compact=True)

    def on_mount(self) -> None:
        options = self.query_one("#project-list", SelectionList)
        options.focus()
        if options.option_count:
            options.highlighted = 0  # space ticks the first at once

    @on(Button.Pressed, "#yes")
    def action_ok(self) -> None:
        chosen = [uuid.UUID(v) for v in self.query_one("#project-list", SelectionList).selected]
        if not chosen:
            self.query_one("#form-error", Static).update(t("admin.kiosks.pick_one", self.lang))
            return
        self.dismiss(chosen)

    @on(Button.Pressed, "#no")
    def action_cancel(self) -> None:
        self.dismiss(None)


class TokenScreen(Dialog[None]):
    """A fresh enrollment token: the text to type, and its QR when the window has room for it."""

    BINDINGS: ClassVar[list[BindingType]] = [("escape,enter", "close", label("admin.key.close"))]

    def __init__(self, token: str, projects: list[str], until: str, *, lang: str = "zh") -> None:
        super().__init__(lang=lang)
        self.token, self.projects, self.until = token, projects, until

    def compose(self) -> ComposeResult:
        from kiosk.qr_terminal import qr_lines

        lines = qr_lines(self.token, border=2)
        room = self.app.size.height - TOKEN_TEXT_ROWS >= len(lines) and self.app.size.width - 6 >= len(
            lines[0]
        )
        with VerticalScroll(id="form"):
            yield Static(t("admin.kiosks.token_title", self.lang), id="form-title")
            yield Static(f"[b]{self.token}[/]", id="token-text")
            if room:
                yield Static("\n".join(lines), id="token-qr")
            else:
                yield Static(t("admin.kiosks.qr_no_room", self.lang), id="token-qr", classes="muted")
            yield Static(
                "\n".join(
                    (
                        t("admin.kiosks.token_how", self.lang, token=self.token),
                        t("admin.kiosks.token_for", self.lang, projects="、".join(self.projects)),
                        t("admin.kiosks.token_until", self.lang, until=self.until),
                    )
                ),
                id="form-note",
                markup=False,
            )
            with Horizontal(id="form-buttons"):
                yield Button(t("admin.phone.close", self.lang), id="close", variant="primary", compact=True)

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        self.dismiss(None)


# --- the kiosks -------------------------------------------------------------------------------------------


class KiosksScreen(TableScreen):
    HEADING: ClassVar[tuple[str, str]] = pair("admin.kiosks.heading")
    COLUMNS: ClassVar[list[tuple[str, str]]] = [
        pair("admin.kiosks.col_name"),
        pair("admin.kiosks.col_kiosk"),
        pair("admin.kiosks.col_status"),
        pair("admin.kiosks.col_projects"),
        pair("admin.kiosks.col_last_seen"),
    ]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("n", "enroll", label("admin.key.enroll_kiosk")),
        Binding("a", "approve", label("admin.key.approve_kiosk")),
        Binding("x", "revoke", label("admin.key.revoke_kiosk")),
        Binding("j", "app.switch_mode('rejections')", label("admin.key.rejections")),
        Binding("r", "refresh", label("admin.key.refresh")),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.keys: dict[str, Any] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(self.tr(*self.HEADING), classes="heading")
        yield DataTable(id="table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="detail", markup=False)
        yield Footer(compact=True)

    def rows(self) -> list[Row]:
        from store.projects import project_rows
        from store.sync.keys import list_keys, parse_projects

        names = {p.id: p.name for p in project_rows(self.admin.engine)}
        keys = list_keys(self.admin.engine)
        self.keys = {str(k.id): k for k in keys}
        gone = t("admin.kiosks.unknown_project", self.lang)
        out: list[Row] = []
        for k in keys:
            projects = "、".join(sorted(names.get(p, gone) for p in parse_projects(k.projects))) or "—"
            seen = self.admin.local(k.last_seen_at) if k.last_seen_at else t("admin.kiosks.never", self.lang)
            out.append(
                (
                    str(k.id),
                    [
                        clip(k.name, NAME_W),
                        str(k.kiosk_id)[:8],
                        status_word(k.status, self.lang),
                        clip(projects, PROJECTS_W),
                        seen,
                    ],
                )
            )
        return out

    def on_table_screen_loaded(self, message: TableScreen.Loaded) -> None:
        super().on_table_screen_loaded(message)
        self._describe(self.selected())

    @on(DataTable.RowHighlighted, "#table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._describe(str(event.row_key.value) if event.row_key.value is not None else None)

    def _describe(self, key: str | None) -> None:
        k = self.keys.get(key or "")
        detail = self.query_one("#detail", Static)
        if k is None:
            detail.update("" if self.keys else t("admin.kiosks.none", self.lang))
            return
        detail.update(
            t(
                "admin.kiosks.detail",
                self.lang,
                key_id=k.key_id[:16],
                approved=f"{self.admin.local(k.approved_at)} {k.approved_by or ''}".strip() or "—",
                revoked=f"{self.admin.local(k.revoked_at)} {k.revoked_by or ''}".strip() or "—",
            )
        )

    def action_refresh(self) -> None:
        self.reload()

    def _projects(self) -> list[tuple[uuid.UUID, str]]:
        from store.projects import project_rows

        return [(p.id, p.name) for p in project_rows(self.admin.engine)]

    def _pick(self, title: str, ticked: frozenset[uuid.UUID], then: Any) -> None:
        """Read the projects, then ask which (then(ids, names) with the ticked ones)."""

        def ask(projects: list[tuple[uuid.UUID, str]]) -> None:
            if not projects:
                self.notify(t("admin.kiosks.no_projects", self.lang), severity="warning")
                return
            names = dict(projects)

            def chosen(ids: list[uuid.UUID] | None) -> None:
                if ids:
                    then(ids, [names[i] for i in ids])

            self.app.push_screen(ProjectsDialog(title, projects, ticked=ticked, lang=self.lang), chosen)

        self.fetch(self._projects, ask)

    # --- enroll -----------------------------------------------------------------------------------------

    def action_enroll(self) -> None:
        self._pick(t("admin.kiosks.enroll_title", self.lang), frozenset(), self._enroll)

    @work(thread=True, exit_on_error=False, group="write", description="issue an enrollment token")
    def _enroll(self, ids: list[uuid.UUID], names: list[str]) -> None:
        from store.sync.keys import ENROLL_TTL_H, enrollment_expiry, issue_enrollment
        from store.timeutil import utcnow

        app = admin_of(self)
        at = utcnow()
        try:
            token = issue_enrollment(app.engine, ids, ttl_h=ENROLL_TTL_H, actor=app.actor, at=at)
        except StoreError as exc:
            self.app.call_from_thread(self.failed, exc)
            return
        until = app.local(enrollment_expiry(ENROLL_TTL_H, at=at))
        self.app.call_from_thread(
            self.app.push_screen, TokenScreen(token, sorted(names), until, lang=self.lang)
        )

    # --- approve, revoke --------------------------------------------------------------------------------

    def _chosen_key(self) -> Any:
        return self.keys.get(self.selected() or "")

    def action_approve(self) -> None:
        from store.sync.keys import REVOKED, parse_projects

        k = self._chosen_key()
        if k is None:
            return
        if k.status == REVOKED:
            self.notify(t("admin.kiosks.already_revoked", self.lang), severity="warning")
            return
        title = t("admin.kiosks.approve_title", self.lang, name=k.name)
        self._pick(
            title, parse_projects(k.projects), lambda ids, _names: self._approve(k.key_id, k.name, ids)
        )

    @work(thread=True, exit_on_error=False, group="write", description="approve a kiosk")
    def _approve(self, key_id: str, name: str, ids: list[uuid.UUID]) -> None:
        from store.sync.keys import approve

        app = admin_of(self)
        if self.done(lambda: approve(app.engine, key_id, ids, actor=app.actor)):
            self.app.call_from_thread(self.notify, t("admin.kiosks.approved", self.lang, name=escape(name)))
        self.app.call_from_thread(self.reload)

    def action_revoke(self) -> None:
        from store.sync.keys import REVOKED

        k = self._chosen_key()
        if k is None:
            return
        if k.status == REVOKED:
            self.notify(t("admin.kiosks.already_revoked", self.lang), severity="warning")
            return

        def answer(yes: bool | None) -> None:
            if yes:
                self._revoke(k.key_id, k.name)

        # the name is what the kiosk sent: text, never markup
        question = pair("admin.kiosks.revoke_question", name=escape(k.name), kiosk=str(k.kiosk_id)[:8])
        self.app.push_screen(ConfirmScreen(question, lang=self.lang), answer)

    @work(thread=True, exit_on_error=False, group="write", description="revoke a kiosk")
    def _revoke(self, key_id: str, name: str) -> None:
        from store.sync.keys import revoke

        app = admin_of(self)
        if self.done(lambda: revoke(app.engine, key_id, actor=app.actor)):
            self.app.call_from_thread(self.notify, t("admin.kiosks.revoked", self.lang, name=escape(name)))
        self.app.call_from_thread(self.reload)


# --- the refused pushes -----------------------------------------------------------------------------------

#: the filter ``f`` cycles through
FILTERS = ("unsettled", "settled", "all")


class RejectionsScreen(TableScreen):
    HEADING: ClassVar[tuple[str, str]] = pair("admin.rejections.heading", which="", n=0)
    COLUMNS: ClassVar[list[tuple[str, str]]] = [
        pair("admin.rejections.col_when"),
        pair("admin.rejections.col_kiosk"),
        pair("admin.rejections.col_table"),
        pair("admin.rejections.col_reason"),
        pair("admin.rejections.col_settled"),
    ]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "settle", label("admin.key.settle")),
        Binding("A", "settle_all", label("admin.key.settle_all")),
        Binding("f", "filter", label("admin.key.filter")),
        Binding("k", "app.switch_mode('kiosks')", label("admin.key.kiosks")),
        Binding("r", "refresh", label("admin.key.refresh")),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.which = FILTERS[0]
        self.found: dict[str, Any] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(self._heading(), id="rejections-heading", classes="heading")
        yield DataTable(id="table", cursor_type="row", zebra_stripes=True)
        yield Static("", id="detail", markup=False)
        yield Footer(compact=True)

    def _heading(self) -> str:
        which = t(f"admin.rejections.{self.which}", self.lang)
        return t("admin.rejections.heading", self.lang, which=which, n=len(self.found))

    def rows(self) -> list[Row]:
        from store.sync.keys import list_keys, rejections

        engine = self.admin.engine
        names = {k.kiosk_id: k.name for k in list_keys(engine)}
        got = rejections(
            engine, unsettled_only=self.which == "unsettled", settled_only=self.which == "settled", limit=500
        )
        self.found = {str(r.id): r for r in got}
        out: list[Row] = []
        for r in got:
            kiosk = names.get(r.kiosk_id) if r.kiosk_id else None
            if kiosk is None:
                kiosk = (
                    r.login.removeprefix("key:") if r.login else (str(r.kiosk_id)[:8] if r.kiosk_id else "—")
                )
            zh, en = reason_pair(r.reason)
            settled = (
                t(
                    "admin.rejections.settled_by",
                    self.lang,
                    at=self.admin.local(r.settled_at),
                    who=r.settled_by or "",
                )
                if r.settled_at
                else "—"
            )
            out.append(
                (
                    str(r.id),
                    [
                        self.admin.local(r.at),
                        clip(kiosk, KIOSK_W),
                        table_word(r.table_name, self.lang),
                        clip(self.tr(zh, en), REASON_W),
                        clip(settled, 28),
                    ],
                )
            )
        return out

    def on_table_screen_loaded(self, message: TableScreen.Loaded) -> None:
        super().on_table_screen_loaded(message)
        self.query_one("#rejections-heading", Static).update(self._heading())
        self._describe(self.selected())

    @on(DataTable.RowHighlighted, "#table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._describe(str(event.row_key.value) if event.row_key.value is not None else None)

    def _describe(self, key: str | None) -> None:
        """The whole reason of the chosen row, in both languages (the column may be cut)."""
        r = self.found.get(key or "")
        detail = self.query_one("#detail", Static)
        if r is None:
            detail.update(t("admin.rejections.none", self.lang))
            return
        zh, en = reason_pair(r.reason)
        detail.update(f"{zh}\n{en}")

    def action_refresh(self) -> None:
        self.reload()

    def action_filter(self) -> None:
        self.which = FILTERS[(FILTERS.index(self.which) + 1) % len(FILTERS)]
        self.query_one("#rejections-heading", Static).update(self._heading())
        self.reload()

    def action_settle(self) -> None:
        r = self.found.get(self.selected() or "")
        if r is None:
            return
        if r.settled_at is not None:
            self.notify(t("admin.rejections.already", self.lang), severity="warning")
            return
        self._ask(pair("admin.rejections.settle_question"), [r.id])

    def action_settle_all(self) -> None:
        from store.sync.keys import rejections

        def ask(unsettled: list[Any]) -> None:
            if not unsettled:
                self.notify(t("admin.rejections.none", self.lang), severity="warning")
                return
            # exactly those counted in the question, not any that arrive while it is asked
            self._ask(
                pair("admin.rejections.settle_all_question", n=len(unsettled)), [r.id for r in unsettled]
            )

        self.fetch(lambda: rejections(self.admin.engine, unsettled_only=True, limit=100_000), ask)

    def _ask(self, question: tuple[str, str], ids: list[uuid.UUID]) -> None:
        def answer(yes: bool | None) -> None:
            if yes:
                self._settle(ids)

        self.app.push_screen(ConfirmScreen(question, lang=self.lang), answer)

    @work(thread=True, exit_on_error=False, group="write", description="settle refused pushes")
    def _settle(self, ids: list[uuid.UUID]) -> None:
        from store.sync.keys import settle

        app = admin_of(self)
        n: list[int] = []
        if self.done(lambda: n.append(settle(app.engine, ids, actor=app.actor))):
            self.app.call_from_thread(self.notify, t("admin.rejections.settled_n", self.lang, n=n[0]))
        self.app.call_from_thread(self.reload)
