"""The workers screen of the admin app: list and search (ID numbers masked), add and edit, ID card
images, face capture, real-name verification, bank card, health check, employment and its confirmation
in person, and the readiness panel (the sign-in rules of store/rules/signin.py, run for this worker now).

Every read and write runs in a thread worker; results come back as messages.
"""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from rich.markup import escape
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Button, DataTable, Footer, Header, Input, Static

from kiosk.admin.base import AdminScreen, fill_table
from kiosk.admin.forms import AnswerScreen, Field
from kiosk.i18n import label, pair, pick, t
from store.errors import StoreError, ValidationError
from store.people import admin_writes as writes
from store.rules.validation import BANKS

OTHER = "__other__"
#: (label, value): the label in both languages, "男 M"
SEX_OPTIONS = [(label("admin.person.m"), "M"), (label("admin.person.f"), "F")]


class WorkersScreen(AdminScreen):
    AUTO_FOCUS = "#workers"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "search", label("admin.key.search")),
        Binding("a", "add", label("admin.key.add")),
        Binding("e", "edit", label("admin.key.edit")),
        Binding("i", "id_images", label("admin.key.id_images")),
        Binding("k", "id_camera('front')", label("admin.key.id_front_by_camera"), show=False),
        Binding("K", "id_camera('back')", label("admin.key.id_back_by_camera"), show=False),
        Binding("f", "face", label("admin.key.face")),
        Binding("v", "verify", label("admin.key.verify")),
        Binding("b", "bank", label("admin.key.bank")),
        Binding("h", "health", label("admin.key.health")),
        Binding("m", "employ", label("admin.key.employ")),
        Binding("c", "confirm", label("admin.key.confirm")),
        Binding("l", "phone_link", label("admin.key.phone_link")),
    ]

    class Loaded(Message):
        def __init__(self, query: str, rows: list[Any]) -> None:
            super().__init__()
            self.query, self.rows = query, rows

    class Detail(Message):
        def __init__(self, worker_id: uuid.UUID, file: Any, ready: list[Any]) -> None:
            super().__init__()
            self.worker_id, self.file, self.ready = worker_id, file, ready

    def __init__(self) -> None:
        super().__init__()
        self.current: uuid.UUID | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="body"):
            with Vertical(id="left"):
                yield Input(
                    placeholder=t("admin.workers.search_placeholder", self.lang),
                    id="search",
                )
                yield DataTable(id="workers", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="right"):
                yield Static(t("admin.workers.no_worker_chosen", self.lang), id="file")
                yield Static("", id="readiness")
        yield Footer(compact=True)

    COLUMNS = (
        pair("admin.workers.name"),
        pair("admin.person.id_number"),
        pair("admin.person.sex"),
        pair("admin.person.born"),
        pair("admin.workers.mobile"),
        pair("admin.workers.verified"),
        pair("admin.workers.bank"),
    )

    def on_mount(self) -> None:
        self.reload()

    # --- the list --------------------------------------------------------------------------------

    def reload(self) -> None:
        self._load(self.query_one("#search", Input).value)

    @work(thread=True, exclusive=True, exit_on_error=False, group="load", description="list workers")
    def _load(self, query: str) -> None:
        from store.people.admin import list_workers

        self.post_read(lambda: list_workers(self.admin.engine, query), lambda rows: self.Loaded(query, rows))

    def on_workers_screen_loaded(self, message: Loaded) -> None:
        if message.query != self.query_one("#search", Input).value:
            return  # a slower answer to an older search
        table = self.query_one("#workers", DataTable)
        yes, no = "✓", "✗"
        rows = []
        for r in message.rows:
            sex = t("admin.person.m", self.lang) if r.sex == "M" else t("admin.person.f", self.lang)
            rows.append(
                (
                    str(r.id),
                    [
                        r.name,
                        r.id_masked,
                        sex,
                        r.birth_date.isoformat(),
                        r.mobile or "",
                        yes if r.verified else no,
                        yes if r.has_bank_card else no,
                    ],
                )
            )
        fill_table(table, [self.tr(zh, en) for zh, en in self.COLUMNS], rows)
        keys = [str(r.id) for r in message.rows]
        if self.current is not None and str(self.current) in keys:
            table.move_cursor(row=keys.index(str(self.current)))
            self.show(self.current)
        elif keys:
            table.move_cursor(row=0)

    @on(Input.Changed, "#search")
    def _search(self) -> None:
        self.reload()

    @on(Input.Submitted, "#search")
    def _searched(self) -> None:
        self.query_one("#workers", DataTable).focus()

    def action_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_phone_link(self) -> None:
        """A one-time activation link for the chosen worker's phone (kiosk serve), shown as a QR."""
        from kiosk.admin.phone import PhoneLinkScreen

        if self.current is None:
            self.notify(t("admin.workers.choose_a_worker_first", self.lang))
            return
        self.app.push_screen(PhoneLinkScreen(worker_id=self.current, lang=self.admin.lang))

    @on(DataTable.RowHighlighted, "#workers")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value is None:
            return
        self.current = uuid.UUID(str(event.row_key.value))
        self.show(self.current)

    # --- the worker's file and readiness ---------------------------------------------------------

    @work(thread=True, exclusive=True, exit_on_error=False, group="detail", description="a worker's file")
    def show(self, worker_id: uuid.UUID) -> None:
        from store.people.admin import readiness, worker_file

        engine = self.admin.engine
        self.post_read(
            lambda: (
                worker_file(engine, worker_id),
                readiness(engine, worker_id, self.admin.policy, self.admin.today()),
            ),
            lambda found: self.Detail(worker_id, *found),
        )

    def on_workers_screen_detail(self, message: Detail) -> None:
        if message.worker_id != self.current or message.file is None:
            return
        self.query_one("#file", Static).update(self._render_file(message.file))
        self.query_one("#readiness", Static).update(self._render_ready(message.ready))

    def _render_file(self, f: Any) -> str:
        w = f.worker
        lang = self.lang
        ok = {True: "✓", False: "✗"}
        lines = [
            f"[b]{escape(w.name)}[/]  {w.id_number_masked}",
            f"{t('admin.person.sex', lang)}: {t('admin.person.m', lang) if w.sex == 'M' else t('admin.person.f', lang)}   "
            f"{t('admin.person.born', lang)}: {w.birth_date}   {t('admin.workers.ethnicity', lang)}: {escape(w.ethnicity or '—')}",
            f"{t('admin.workers.address', lang)}: {escape(w.address or '—')}",
            f"{t('admin.workers.mobile', lang)}: {w.mobile or '—'}",
            f"{t('admin.workers.id_card_images', lang)}: {t('admin.workers.front', lang)} {ok[f.id_front]}  "
            f"{t('admin.workers.back', lang)} {ok[f.id_back]}   {t('admin.workers.face_photos', lang)}: {f.face_photos}",
        ]
        if w.realname_verified_at:
            lines.append(
                f"{t('admin.workers.real_name_verified', lang)}: ✓ {escape(w.realname_verified_by or '')} "
                f"{self.admin.local(w.realname_verified_at)}"
            )
        else:
            lines.append(f"{t('admin.workers.real_name_verified', lang)}: ✗")
        for b in f.bank_cards:
            warn = "" if b.luhn_ok else t("admin.workers.luhn_check_failed", lang)
            lines.append(f"{t('admin.workers.bank_card', lang)}: {escape(b.bank_name)} {b.card_masked}{warn}")
        for kind, at in f.waiting:  # submitted from his phone: F8 reviews it
            what = t(f"admin.review_kind.{kind}", lang)
            lines.append(
                f"[b yellow]{t('admin.workers.waiting_for_review', lang)}[/]: {what} {self.admin.local(at)} (F8)"
            )
        for h in f.health[:1]:
            result = t("admin.workers.fit", lang) if h.passed else t("admin.workers.not_fit", lang)
            until = f" → {h.valid_until}" if h.valid_until else ""
            lines.append(f"{t('admin.workers.health_check', lang)}: {h.checked_on}{until} {result}")
        for e, employer, project in f.employments:
            end = f"–{e.end_date}" if e.end_date else "–"
            conf = (
                (t("admin.workers.confirmed", lang) + self.admin.local(e.confirmed_at))
                if e.confirmed_at
                else t("admin.workers.not_confirmed", lang)
            )
            lines.append(
                f"{t('admin.workers.employment', lang)}: {escape(project)} / {escape(employer)} / {escape(e.team)} / "
                f"{escape(e.trade)} {e.start_date}{end} [{conf}]"
            )
        return "\n".join(lines)

    def _render_ready(self, ready: list[Any]) -> str:
        lang = self.admin.lang
        out = []
        for r in ready:
            where = r.project_name or t("admin.workers.no_project", self.lang)
            verdict = (
                t("admin.workers.ready_to_sign_in", self.lang)
                if r.ready
                else t("admin.workers.cannot_sign_in", self.lang)
            )
            out.append(f"\n[b]{t('admin.workers.readiness', self.lang)}[/] {escape(where)} {r.on}: {verdict}")
            for c in r.checks:
                label = pick(lang, c.zh, c.en)
                if c.passed:
                    out.append(f"  [green]✓[/] {label}")
                else:
                    why = c.reason.message(lang) if c.reason else ""
                    out.append(f"  [red]✗[/] {label} — {escape(why)}")
        if ready:
            out.append(f"[b]{t('admin.workers.enrollment_steps', self.lang)}[/]")
            for c in ready[0].steps:
                out.append(f"  {'[green]✓[/]' if c.passed else '[red]✗[/]'} {pick(lang, c.zh, c.en)}")
        return "\n".join(out)

    def _need_worker(self) -> uuid.UUID | None:
        if self.current is None:
            self.notify(t("admin.workers.choose_a_worker_first", self.lang), severity="warning")
        return self.current

    def changed(self, _result: Any = None) -> None:
        self.reload()

    # --- add and edit ----------------------------------------------------------------------------

    def action_add(self) -> None:
        from store.people.admin import list_workers
        from store.rules.validation import normalise_id_number
        from store.timeutil import parse_date

        engine, actor = self.admin.engine, self.admin.actor

        def save(v: dict[str, str]) -> uuid.UUID:
            birth = parse_date(v["birth_date"]) if v["birth_date"] else None
            if (
                list_workers(self.admin.engine, v["id_number"])
                and len(normalise_id_number(v["id_number"])) == 18
            ):
                raise ValidationError("id_number", *pair("admin.check.id_enrolled"))
            return writes.add_worker(
                engine,
                id_number=v["id_number"],
                name=v["name"],
                sex=v["sex"] or None,
                birth_date=birth,
                ethnicity=v["ethnicity"] or None,
                address=v["address"] or None,
                mobile=v["mobile"] or None,
                actor=actor,
            )

        def done(worker_id: uuid.UUID) -> None:
            self.current = worker_id
            self.query_one("#search", Input).value = ""
            self.reload()

        self.form(
            pair("admin.workers.add_title"),
            [
                Field("id_number", *pair("admin.field.id_number"), required=True),
                Field("name", *pair("admin.field.name"), required=True),
                Field(
                    "sex",
                    *pair("admin.field.sex_optional"),
                    options=SEX_OPTIONS,
                ),
                Field("birth_date", *pair("admin.field.birth_date_optional"), placeholder="YYYY-MM-DD"),
                Field("ethnicity", *pair("admin.field.ethnicity"), "汉族"),
                Field("address", *pair("admin.field.home_address")),
                Field("mobile", *pair("admin.field.mobile")),
            ],
            save,
            done,
        )

    # One worker's form, as every action here: the worker picked, the fields, a named write on save.
    def action_edit(self) -> None:
        from store.db.models import Worker

        wid = self._need_worker()
        if wid is None:
            return
        engine, actor = self.admin.engine, self.admin.actor

        def save(v: dict[str, str]) -> list[str]:
            return writes.edit_worker(
                engine,
                wid,
                name=v["name"],
                ethnicity=v["ethnicity"],
                address=v["address"],
                mobile=v["mobile"],
                actor=actor,
            )

        def ask(w: Worker) -> None:
            self.form(
                pair("admin.workers.edit_title"),
                [
                    Field("name", *pair("admin.field.name"), w.name, required=True),
                    Field("ethnicity", *pair("admin.field.ethnicity"), w.ethnicity or ""),
                    Field("address", *pair("admin.field.home_address"), w.address or ""),
                    Field("mobile", *pair("admin.field.mobile"), w.mobile or ""),
                ],
                save,
                self.changed,
                note=pair("admin.workers.edit_note"),
            )

        self.fetch(lambda: self.get(Worker, str(wid)), ask)

    # --- documents, face, verification -----------------------------------------------------------

    def action_id_images(self) -> None:
        from kiosk.camera.face import read_image_file
        from store.timeutil import parse_date

        wid = self._need_worker()
        if wid is None:
            return
        engine, actor = self.admin.engine, self.admin.actor

        def save(v: dict[str, str]) -> Any:
            front = read_image_file(v["front"]) if v["front"] else None
            back = read_image_file(v["back"]) if v["back"] else None
            valid_from = parse_date(v["valid_from"]) if v["valid_from"] else None
            valid_until = parse_date(v["valid_until"]) if v["valid_until"] else None
            return writes.set_identity_images(
                engine,
                wid,
                front=front,
                back=back,
                issuing_authority=v["authority"],
                valid_from=valid_from,
                valid_until=valid_until,
                actor=actor,
            )

        self.form(
            pair("admin.workers.id_images_title"),
            [
                Field("front", *pair("admin.field.front_image_file")),
                Field("back", *pair("admin.field.back_image_file")),
                Field("authority", *pair("admin.field.issuing_authority")),
                Field("valid_from", *pair("admin.field.valid_from"), placeholder="YYYY-MM-DD"),
                Field(
                    "valid_until",
                    *pair("admin.field.valid_until_long_term"),
                    placeholder="YYYY-MM-DD",
                ),
            ],
            save,
            self.changed,
            note=pair("admin.workers.id_images_note"),
        )

    def action_id_camera(self, side: str = "front") -> None:
        wid = self._need_worker()
        if wid is not None:
            self.notify(
                t("admin.workers.hold_id_front", self.lang)
                if side == "front"
                else t("admin.workers.hold_id_back", self.lang)
            )
            self._id_camera(wid, side)

    @work(
        thread=True, exclusive=True, exit_on_error=False, group="camera", description="photograph an ID card"
    )
    def _id_camera(self, wid: uuid.UUID, side: str) -> None:
        from kiosk.camera.face import grab_still

        try:
            jpeg = grab_still(self.admin.camera)
            front, back = (jpeg, None) if side == "front" else (None, jpeg)
            writes.set_identity_images(self.admin.engine, wid, front=front, back=back, actor=self.admin.actor)
        except StoreError as exc:
            self.app.call_from_thread(self.failed, exc)
            return
        self.app.call_from_thread(self.notify, t("admin.workers.id_card_image_saved", self.lang))
        self.show(wid)

    def action_face(self) -> None:
        wid = self._need_worker()
        if wid is not None:
            self.notify(t("admin.workers.face_the_camera", self.lang))
            self._face(wid)

    @work(thread=True, exclusive=True, exit_on_error=False, group="camera", description="capture a face")
    def _face(self, wid: uuid.UUID) -> None:
        from kiosk.camera.face import capture_from

        worker = get_current_worker_or_none()
        try:
            shot = capture_from(
                self.admin.camera,
                max_frames=self.admin.face_frames,
                cancelled=lambda: bool(worker and worker.is_cancelled),
            )
            writes.add_face_photo(
                self.admin.engine,
                wid,
                photo=shot.jpeg,
                thumb=shot.thumb,
                faces_found=shot.faces_found,
                actor=self.admin.actor,
            )
        except StoreError as exc:
            self.app.call_from_thread(self.failed, exc)
            return
        self.app.call_from_thread(self.notify, t("admin.workers.face_captured", self.lang))
        self.show(wid)

    def action_verify(self) -> None:
        from store.people.admin import images_of

        wid = self._need_worker()
        if wid is None:
            return

        def ask(images: tuple[bytes | None, bytes | None]) -> None:
            front, photo = images
            if front is None or photo is None:
                # both languages, short lines (a long CJK line wrapped in a toast lost a character)
                self.notify(
                    "\n".join(pair("admin.workers.verify_needs_pictures")),
                    severity="warning",
                    markup=False,
                )
                return

            def answer(yes: bool | None) -> None:
                if yes:
                    self._verify(wid)

            self.app.push_screen(VerifyScreen(front, photo, lang=self.admin.lang), answer)

        self.fetch(lambda: images_of(self.admin.engine, wid), ask)

    @work(thread=True, exit_on_error=False, group="write", description="record real-name verification")
    def _verify(self, wid: uuid.UUID) -> None:
        if not self.done(
            lambda: writes.record_realname_verification(self.admin.engine, wid, by=self.admin.actor)
        ):
            return
        self.app.call_from_thread(self.notify, t("admin.workers.real_name_verification_recorded", self.lang))
        self.reload()

    # --- bank card, health check, employment -----------------------------------------------------

    # One worker's form, as every action here: the worker picked, the fields, a named write on save.
    def action_bank(self) -> None:
        wid = self._need_worker()
        if wid is None:
            return
        engine, actor = self.admin.engine, self.admin.actor

        def save(v: dict[str, str]) -> list[str]:
            return writes.add_bank_card(
                engine,
                wid,
                bank_name=v["bank"],
                card_number=v["card_number"],
                holder_name=v["holder_name"] or None,
                actor=actor,
            )

        def done(_warnings: list[str]) -> None:  # a Luhn warning was said in the dialog, beside the number
            self.reload()

        self.form(
            pair("admin.workers.bank_title"),
            [
                Field("bank", *pair("admin.field.bank"), options=[(b, b) for b in BANKS], required=True),
                Field("card_number", *pair("admin.field.card_number"), required=True, check=card_warning),
                Field("holder_name", *pair("admin.field.holder_must_be_the_worker")),
            ],
            save,
            done,
            note=pair("admin.workers.bank_note"),
        )

    # Each form action (here and in reference.py) is fields, save, done and a note: FormDialog's call.
    def action_health(self) -> None:
        from store.db.models import HealthInstitution
        from store.people.admin import list_institutions
        from store.timeutil import parse_date

        wid = self._need_worker()
        if wid is None:
            return
        engine, actor = self.admin.engine, self.admin.actor

        def save(v: dict[str, str]) -> uuid.UUID:
            other = v["institution"] == OTHER
            if other and not v["other"]:
                raise ValidationError("other", *pair("admin.check.other_institution"))
            checked = parse_date(v["checked_on"])
            until = parse_date(v["valid_until"]) if v["valid_until"] else None
            return writes.add_health_check(
                engine,
                wid,
                checked_on=checked,
                institution_id=None if other else uuid.UUID(v["institution"]),
                institution_other=v["other"] if other else None,
                passed=v["passed"] == "yes",
                valid_until=until,
                result_note=v["note"] or None,
                actor=actor,
            )

        def ask(insts: list[HealthInstitution]) -> None:
            options = [(h.name, str(h.id)) for h in insts] + [
                (t("admin.workers.other_type_it", self.lang), OTHER)
            ]
            self.form(
                pair("admin.workers.health_title"),
                [
                    Field("institution", *pair("admin.field.institution"), options=options, required=True),
                    Field("other", *pair("admin.field.other_institution")),
                    # nothing chosen for the administrator: one Save must not make an unfit worker eligible
                    Field(
                        "checked_on",
                        *pair("admin.field.date_of_the_check"),
                        required=True,
                        placeholder="YYYY-MM-DD",
                    ),
                    Field(
                        "passed",
                        *pair("admin.field.result"),
                        options=[
                            (t("admin.workers.option_fit", self.lang), "yes"),
                            (t("admin.workers.option_not_fit", self.lang), "no"),
                        ],
                        required=True,
                    ),
                    Field(
                        "valid_until",
                        *pair("admin.field.valid_until_optional"),
                        placeholder="YYYY-MM-DD",
                    ),
                    Field("note", *pair("admin.field.note")),
                ],
                save,
                self.changed,
            )

        self.fetch(lambda: list_institutions(self.admin.engine, active_only=True), ask)

    def action_employ(self) -> None:
        from store.db.models import Employer, Project
        from store.people.admin import list_employers
        from store.projects import list_projects
        from store.timeutil import parse_date

        wid = self._need_worker()
        if wid is None:
            return
        engine, actor = self.admin.engine, self.admin.actor

        def save(v: dict[str, str]) -> uuid.UUID:
            start = parse_date(v["start_date"])
            end = parse_date(v["end_date"]) if v["end_date"] else None
            for key, missing in (
                ("team", "admin.check.fill_in_team"),
                ("trade", "admin.check.fill_in_trade"),
            ):
                if not v[key]:
                    raise ValidationError(key, *pair(missing))
            return writes.add_employment(
                engine,
                wid,
                employer_id=uuid.UUID(v["employer"]),
                project_id=uuid.UUID(v["project"]),
                team=v["team"],
                trade=v["trade"],
                start_date=start,
                end_date=end,
                actor=actor,
            )

        def ask(lists: tuple[list[Employer], list[Project]]) -> None:
            employers, projects = lists
            if not employers or not projects:
                self.notify(
                    t("admin.workers.employer_and_project_first", self.lang),
                    severity="warning",
                )
                return
            self.form(
                pair("admin.workers.employ_title"),
                [
                    Field(
                        "employer",
                        *pair("admin.field.employer"),
                        options=[(e.name, str(e.id)) for e in employers],
                        required=True,
                    ),
                    Field(
                        "project",
                        *pair("admin.field.project"),
                        options=[(p.name, str(p.id)) for p in projects],
                        required=True,
                    ),
                    Field("team", *pair("admin.field.team"), required=True),
                    Field("trade", *pair("admin.field.trade"), required=True),
                    Field(
                        "start_date",
                        *pair("admin.field.start_date"),
                        required=True,
                        placeholder="YYYY-MM-DD",
                    ),
                    Field("end_date", *pair("admin.field.end_date_optional"), placeholder="YYYY-MM-DD"),
                ],
                save,
                self.changed,
                note=pair("admin.workers.employ_note"),
            )

        self.fetch(lambda: (list_employers(self.admin.engine), list_projects(self.admin.engine)), ask)

    def action_confirm(self) -> None:
        from store.people.admin import worker_file

        wid = self._need_worker()
        if wid is None:
            return
        engine, actor = self.admin.engine, self.admin.actor

        def save(v: dict[str, str]) -> uuid.UUID:
            return writes.confirm_employment_in_person(engine, uuid.UUID(v["employment"]), actor=actor)

        def ask(f: Any) -> None:
            open_ = [
                (f"{p} / {em} / {e.team} / {e.trade} {e.start_date}", str(e.id))
                for e, em, p in (f.employments if f else [])
                if e.confirmed_at is None
            ]
            if not open_:
                self.notify(t("admin.workers.nothing_to_confirm", self.lang))
                return
            self.form(
                pair("admin.workers.confirm_title"),
                [
                    Field("employment", *pair("admin.field.employment"), options=open_, required=True),
                ],
                save,
                self.changed,
                note=pair("admin.workers.confirm_note"),
            )

        self.fetch(lambda: worker_file(self.admin.engine, wid), ask)


def get_current_worker_or_none() -> Any:
    from textual.worker import NoActiveWorker, get_current_worker

    try:
        return get_current_worker()
    except NoActiveWorker:
        return None


def card_warning(raw: str) -> tuple[str, str] | None:
    """What the dialog says beside the card number as it is typed: a Luhn failure (a warning, the card can
    still be saved: some Chinese cards do not use Luhn) or a wrong length, once the number looks complete."""
    from store.rules.validation import validate_card_number

    digits = "".join(c for c in raw if c.isdigit())
    if len(digits) < 12:
        return None
    try:
        _, warnings = validate_card_number(raw)
    except ValidationError as exc:
        return exc.zh, exc.en
    if warnings:
        return pair("admin.workers.luhn_warning")
    return None


class VerifyScreen(AnswerScreen):
    """实名认证: the ID card photo and the captured face side by side; the administrator decides."""

    def __init__(self, front: bytes, photo: bytes, *, lang: str = "zh") -> None:
        super().__init__(lang=lang)
        self.front, self.photo = front, photo

    def compose(self) -> ComposeResult:
        from kiosk.widgets.pixels import PixelView

        with Vertical(id="verify"):
            yield Static(
                t("admin.verify_title", self.lang),
                id="form-title",
            )
            with Horizontal(id="pictures"):
                yield PixelView(t("admin.verify_front", self.lang), id="pic-front")
                yield PixelView(t("admin.verify_face", self.lang), id="pic-face")
            with Horizontal(id="form-buttons"):
                yield Button(t("admin.verify_same", self.lang), variant="success", id="yes")
                yield Button(t("admin.verify_not_same", self.lang), id="no")

    def on_mount(self) -> None:
        self.call_after_refresh(self._draw)

    def _draw(self) -> None:
        import cv2
        import numpy as np

        from kiosk.widgets.pixels import PixelView

        for wid, data in (("#pic-front", self.front), ("#pic-face", self.photo)):
            image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
            if image is not None:
                self.query_one(wid, PixelView).show_image(image)
