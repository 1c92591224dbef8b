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
from kiosk.i18n import pick, t
from store.errors import StoreError, ValidationError
from store.people import admin_writes as writes
from store.rules.validation import BANKS

OTHER = "__other__"
SEX_OPTIONS = [("男 M", "M"), ("女 F", "F")]


class WorkersScreen(AdminScreen):
    AUTO_FOCUS = "#workers"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "search", "搜索 Search"),
        Binding("a", "add", "新增 Add"),
        Binding("e", "edit", "修改 Edit"),
        Binding("i", "id_images", "身份证图片 ID images"),
        Binding("k", "id_camera('front')", "拍身份证正面 ID front by camera", show=False),
        Binding("K", "id_camera('back')", "拍身份证反面 ID back by camera", show=False),
        Binding("f", "face", "人脸 Face"),
        Binding("v", "verify", "实名认证 Verify"),
        Binding("b", "bank", "银行卡 Bank"),
        Binding("h", "health", "体检 Health"),
        Binding("m", "employ", "聘用 Employ"),
        Binding("c", "confirm", "现场确认 Confirm"),
        Binding("l", "phone_link", "手机激活 Phone link"),
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
                    placeholder=self.tr(
                        "搜索：姓名、身份证后四位、手机号", "Search: name, last 4 of ID, mobile"
                    ),
                    id="search",
                )
                yield DataTable(id="workers", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="right"):
                yield Static(self.tr("未选择工人", "No worker chosen"), id="file")
                yield Static("", id="readiness")
        yield Footer(compact=True)

    COLUMNS = (
        ("姓名", "Name"),
        ("身份证号", "ID number"),
        ("性别", "Sex"),
        ("出生日期", "Born"),
        ("手机", "Mobile"),
        ("实名", "Verified"),
        ("银行卡", "Bank"),
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
            sex = self.tr("男", "M") if r.sex == "M" else self.tr("女", "F")
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
            self.notify(self.tr("请先选择工人", "Choose a worker first"))
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
        tr = self.tr
        ok = {True: "✓", False: "✗"}
        lines = [
            f"[b]{escape(w.name)}[/]  {w.id_number_masked}",
            f"{tr('性别', 'Sex')}: {tr('男', 'M') if w.sex == 'M' else tr('女', 'F')}   "
            f"{tr('出生日期', 'Born')}: {w.birth_date}   {tr('民族', 'Ethnicity')}: {escape(w.ethnicity or '—')}",
            f"{tr('住址', 'Address')}: {escape(w.address or '—')}",
            f"{tr('手机', 'Mobile')}: {w.mobile or '—'}",
            f"{tr('身份证图片', 'ID card images')}: {tr('正面', 'front')} {ok[f.id_front]}  "
            f"{tr('反面', 'back')} {ok[f.id_back]}   {tr('人脸照片', 'Face photos')}: {f.face_photos}",
        ]
        if w.realname_verified_at:
            lines.append(
                f"{tr('实名认证', 'Real-name verified')}: ✓ {escape(w.realname_verified_by or '')} "
                f"{self.admin.local(w.realname_verified_at)}"
            )
        else:
            lines.append(f"{tr('实名认证', 'Real-name verified')}: ✗")
        for b in f.bank_cards:
            warn = "" if b.luhn_ok else tr("（校验未通过）", " (Luhn check failed)")
            lines.append(f"{tr('银行卡', 'Bank card')}: {escape(b.bank_name)} {b.card_masked}{warn}")
        for kind, at in f.waiting:  # submitted from his phone: F8 reviews it
            what = (
                tr("个人信息（实名）", "real-name information")
                if kind == "realname"
                else tr("银行卡", "bank card")
            )
            lines.append(
                f"[b yellow]{tr('待审核', 'Waiting for review')}[/]: {what} {self.admin.local(at)} (F8)"
            )
        for h in f.health[:1]:
            result = tr("合格", "fit") if h.passed else tr("不合格", "not fit")
            until = f" → {h.valid_until}" if h.valid_until else ""
            lines.append(f"{tr('体检', 'Health check')}: {h.checked_on}{until} {result}")
        for e, employer, project in f.employments:
            end = f"–{e.end_date}" if e.end_date else "–"
            conf = (
                (tr("已确认 ", "confirmed ") + self.admin.local(e.confirmed_at))
                if e.confirmed_at
                else tr("未确认", "not confirmed")
            )
            lines.append(
                f"{tr('聘用', 'Employment')}: {escape(project)} / {escape(employer)} / {escape(e.team)} / "
                f"{escape(e.trade)} {e.start_date}{end} [{conf}]"
            )
        return "\n".join(lines)

    def _render_ready(self, ready: list[Any]) -> str:
        lang = self.admin.lang
        out = []
        for r in ready:
            where = r.project_name or self.tr("（无聘用项目）", "(no project)")
            verdict = (
                self.tr("[b green]可以签到[/]", "[b green]ready to sign in[/]")
                if r.ready
                else self.tr("[b red]不能签到[/]", "[b red]cannot sign in[/]")
            )
            out.append(f"\n[b]{self.tr('签到就绪', 'Readiness')}[/] {escape(where)} {r.on}: {verdict}")
            for c in r.checks:
                label = pick(lang, c.zh, c.en)
                if c.passed:
                    out.append(f"  [green]✓[/] {label}")
                else:
                    why = c.reason.message(lang) if c.reason else ""
                    out.append(f"  [red]✗[/] {label} — {escape(why)}")
        if ready:
            out.append(f"[b]{self.tr('登记资料', 'Enrollment steps')}[/]")
            for c in ready[0].steps:
                out.append(f"  {'[green]✓[/]' if c.passed else '[red]✗[/]'} {pick(lang, c.zh, c.en)}")
        return "\n".join(out)

    def _need_worker(self) -> uuid.UUID | None:
        if self.current is None:
            self.notify(self.tr("请先选择工人", "Choose a worker first"), severity="warning")
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
                raise ValidationError(
                    "id_number",
                    "该身份证号码已登记，请搜索后修改",
                    "This ID number is already enrolled: search for him and edit",
                )
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
            ("新增工人（个人信息采集）", "Add a worker (personal information)"),
            [
                Field("id_number", "身份证号码", "ID number", required=True),
                Field("name", "姓名", "Name", required=True),
                Field(
                    "sex",
                    "性别（可不填，按身份证号码）",
                    "Sex (optional: from the ID number)",
                    options=SEX_OPTIONS,
                ),
                Field("birth_date", "出生日期（可不填）", "Birth date (optional)", placeholder="YYYY-MM-DD"),
                Field("ethnicity", "民族", "Ethnicity", "汉族"),
                Field("address", "住址", "Address"),
                Field("mobile", "手机号码", "Mobile"),
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
                ("修改个人信息", "Edit personal information"),
                [
                    Field("name", "姓名", "Name", w.name, required=True),
                    Field("ethnicity", "民族", "Ethnicity", w.ethnicity or ""),
                    Field("address", "住址", "Address", w.address or ""),
                    Field("mobile", "手机号码", "Mobile", w.mobile or ""),
                ],
                save,
                self.changed,
                note=(
                    "身份证号码不可修改；改名后须重新实名认证",
                    "The ID number cannot change; a new name needs real-name verification again",
                ),
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
            ("身份证（图片从文件）", "ID card (images from files)"),
            [
                Field("front", "正面（人像面）图片文件", "Front (photo side) image file"),
                Field("back", "反面（国徽面）图片文件", "Back (emblem side) image file"),
                Field("authority", "签发机关", "Issuing authority"),
                Field("valid_from", "有效期限起", "Valid from", placeholder="YYYY-MM-DD"),
                Field(
                    "valid_until",
                    "有效期限止（长期可不填）",
                    "Valid until (empty: long-term)",
                    placeholder="YYYY-MM-DD",
                ),
            ],
            save,
            self.changed,
            note=(
                "图片只保存在共享数据库，不会下发到签到终端；摄像头拍摄：k 正面，K 反面",
                "Images stay in the shared database, never on kiosks. By webcam: k front, K back",
            ),
        )

    def action_id_camera(self, side: str = "front") -> None:
        wid = self._need_worker()
        if wid is not None:
            self.notify(
                self.tr("请将身份证正面对准摄像头…", "Hold the ID card's front to the camera…")
                if side == "front"
                else self.tr("请将身份证反面对准摄像头…", "Hold the ID card's back to the camera…")
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
        self.app.call_from_thread(self.notify, self.tr("已保存身份证图片", "ID card image saved"))
        self.show(wid)

    def action_face(self) -> None:
        wid = self._need_worker()
        if wid is not None:
            self.notify(
                self.tr(
                    "请工人正对摄像头，画面中只能有一人…", "The worker faces the camera, alone in the frame…"
                )
            )
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
        self.app.call_from_thread(
            self.notify, self.tr("已采集人脸照片（一张人脸）", "Face photo captured (one face)")
        )
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
                    "须先有身份证正面图片（i）\n和人脸照片（f）\n"
                    "An ID card front image (i) and a face photo (f) are needed first",
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
        self.app.call_from_thread(self.notify, self.tr("已记录实名认证", "Real-name verification recorded"))
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
            ("银行卡信息（本人名下）", "Bank card (in his own name)"),
            [
                Field("bank", "开户银行", "Bank", options=[(b, b) for b in BANKS], required=True),
                Field("card_number", "银行卡号", "Card number", required=True, check=card_warning),
                Field("holder_name", "持卡人（须为本人）", "Holder (must be the worker)"),
            ],
            save,
            done,
            note=(
                "完整卡号只保存在共享数据库（工资发放用），列表中只显示掩码",
                "The full number stays in the shared database (for wages); lists show it masked",
            ),
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
                raise ValidationError(
                    "other", "选择“其他”时请填写机构名称", "With 'other', type the institution's name"
                )
            checked = parse_date(v["checked_on"])
            until = parse_date(v["valid_until"]) if v["valid_until"] else None
            return writes.add_health_check(
                engine,
                wid,
                checked_on=checked,
                institution_id=None if other else uuid.UUID(v["institution"]),
                institution_other=v["other"] if other else None,
                passed=v["passed"] != "no",
                valid_until=until,
                result_note=v["note"] or None,
                actor=actor,
            )

        def ask(insts: list[HealthInstitution]) -> None:
            options = [(h.name, str(h.id)) for h in insts] + [
                (self.tr("其他（手填）", "Other (type it)"), OTHER)
            ]
            self.form(
                ("健康体检信息", "Health check"),
                [
                    Field("institution", "体检机构", "Institution", options=options, required=True),
                    Field("other", "其他机构名称", "Other institution's name"),
                    Field(
                        "checked_on",
                        "体检日期",
                        "Date of the check",
                        self.admin.today().isoformat(),
                        required=True,
                    ),
                    Field(
                        "passed",
                        "体检结论",
                        "Result",
                        "yes",
                        options=[(self.tr("合格", "Fit"), "yes"), (self.tr("不合格", "Not fit"), "no")],
                        required=True,
                    ),
                    Field(
                        "valid_until",
                        "有效期至（可不填）",
                        "Valid until (optional)",
                        placeholder="YYYY-MM-DD",
                    ),
                    Field("note", "备注", "Note"),
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
            for key, zh, en in (("team", "班组", "Team"), ("trade", "工种", "Trade")):
                if not v[key]:
                    raise ValidationError(key, f"请填写{zh}", f"Fill in the {en.lower()}")
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
                    self.tr("请先登记用人单位和项目", "Enroll an employer and a project first"),
                    severity="warning",
                )
                return
            self.form(
                ("聘用信息", "Employment"),
                [
                    Field(
                        "employer",
                        "用人单位",
                        "Employer",
                        options=[(e.name, str(e.id)) for e in employers],
                        required=True,
                    ),
                    Field(
                        "project",
                        "项目",
                        "Project",
                        options=[(p.name, str(p.id)) for p in projects],
                        required=True,
                    ),
                    Field("team", "班组", "Team", required=True),
                    Field("trade", "工种", "Trade", required=True),
                    Field(
                        "start_date", "进场日期", "Start date", self.admin.today().isoformat(), required=True
                    ),
                    Field("end_date", "退场日期（可不填）", "End date (optional)", placeholder="YYYY-MM-DD"),
                ],
                save,
                self.changed,
                note=(
                    "保存后须由工人确认（手机或现场）",
                    "The worker confirms it afterwards (phone or in person)",
                ),
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
                self.notify(self.tr("没有待确认的聘用信息", "No employment waiting for confirmation"))
                return
            self.form(
                ("聘用信息确认（工人本人在场）", "Confirm employment (the worker is present)"),
                [
                    Field("employment", "聘用信息", "Employment", options=open_, required=True),
                ],
                save,
                self.changed,
                note=(
                    "已向工人本人说明以上聘用信息，并经其当面确认",
                    "The worker was shown this employment and confirmed it in person",
                ),
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
        return (
            "银行卡号校验（Luhn）未通过，请核对；仍可保存",
            "The card number fails the Luhn check: please double-check it; it can still be saved",
        )
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
