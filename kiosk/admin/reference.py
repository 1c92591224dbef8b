"""The reference-data screens of the admin app: projects, employers, officers, health institutions,
issuer keys. Each is a table loaded by a thread worker, with its own keys to add, edit and so on."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from rich.cells import cell_len
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from kiosk.admin.forms import ConfirmScreen, Field, FormScreen, pick
from store.db.engine import translate_errors, write_session
from store.errors import StoreError, ValidationError
from store.timeutil import DEFAULT_ZONE

if TYPE_CHECKING:
    from sqlmodel import Session

    from kiosk.admin.app import AdminApp

R = TypeVar("R")
Row = tuple[str, list[Any]]  # (row key, cells)


class AdminScreen(Screen[None]):
    """What every screen of the admin app shares: the store, the language, writing in a session."""

    #: first in every footer; F1–F7 switch screens (the app's keys), all listed by ?
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("question_mark", "app.keys_help", "帮助 Help", key_display="?")
    ]

    @property
    def admin(self) -> AdminApp:
        return self.app  # type: ignore[return-value]

    def on_mount(self) -> None:
        """The footer in the admin's language only ("新增 Add" → "新增" or "Add"): twice as many keys fit."""
        import dataclasses

        for key, bindings in list(self._bindings.key_to_bindings.items()):
            self._bindings.key_to_bindings[key] = [
                dataclasses.replace(b, description=pick(self.admin.lang, *split_words(b.description)))
                for b in bindings
            ]

    def tr(self, zh: str, en: str) -> str:
        return pick(self.admin.lang, zh, en)

    def write(self, fn: Callable[[Session], R]) -> R:
        """Run ``fn(session)`` in one committed write transaction (call from a worker thread)."""
        from sqlalchemy.exc import IntegrityError

        engine = self.admin.engine
        try:
            with translate_errors(str(engine.url)), write_session(engine) as s:
                return fn(s)
        except IntegrityError as exc:
            raise StoreError(
                "与已有记录重复（例如身份证号码或名称已登记），未保存",
                "Duplicates an existing record (an ID number or a name already there): not saved",
            ) from exc

    def form(
        self,
        title: tuple[str, str],
        fields: list[Field],
        action: Callable[[dict[str, str]], Any],
        done: Callable[[Any], None] | None = None,
        note: tuple[str, str] | None = None,
    ) -> None:
        def after(result: Any) -> None:
            if result is not None and done is not None:
                done(result)

        self.app.push_screen(FormScreen(title, fields, action, lang=self.admin.lang, note=note), after)

    @work(thread=True, exit_on_error=False, group="read", description="read for a dialog")
    def fetch(self, read: Callable[[], Any], then: Callable[[Any], None]) -> None:
        """Read off the UI thread, then call ``then(result)`` on it."""
        try:
            result = read()
        except StoreError as exc:
            self.app.call_from_thread(self.failed, exc)
            return
        self.app.call_from_thread(then, result)

    def get(self, model: type, key: str) -> Any:
        """One row by id (call from a worker thread)."""
        from store.db.engine import session

        with translate_errors(str(self.admin.engine.url)), session(self.admin.engine) as s:
            return s.get(model, uuid.UUID(key))

    def failed(self, exc: StoreError) -> None:
        self.notify(f"{exc.zh}\n{exc.en}", severity="error", timeout=8, markup=False)


def fill_table(table: DataTable[Any], headers: list[str], rows: list[tuple[str, list[Any]]]) -> None:
    """The rows, under columns as wide as their widest value. (DataTable measures new rows only when idle,
    and a table drawn before that kept its header widths: a short list showed 310***** for an ID.)"""
    cells = [[Text(c) if isinstance(c, str) else c for c in row] for _, row in rows]
    widths = [
        max([cell_len(h), *(cell_len(r[i].plain) for r in cells if isinstance(r[i], Text))])
        for i, h in enumerate(headers)
    ]
    table.clear(columns=True)
    for header, width in zip(headers, widths, strict=True):
        table.add_column(header, width=width)
    for (key, _), row in zip(rows, cells, strict=True):
        table.add_row(*row, key=key)


def split_words(description: str) -> tuple[str, str]:
    """A key's "中文 English" description as (zh, en)."""
    zh, _, en = description.partition(" ")
    return (zh, en) if en and not zh.isascii() else (description, description)


def opt_float(values: dict[str, str], key: str, zh: str, en: str) -> float | None:
    v = values.get(key, "").strip()
    if not v:
        return None
    try:
        return float(v)
    except ValueError as exc:
        raise ValidationError(key, f"{zh}应为数字：{v}", f"{en} must be a number: {v}") from exc


class TableScreen(AdminScreen):
    """A heading, a table of rows loaded off the UI thread, and the footer with this screen's keys."""

    HEADING: ClassVar[tuple[str, str]] = ("", "")
    COLUMNS: ClassVar[list[tuple[str, str]]] = []
    AUTO_FOCUS = "#table"

    class Loaded(Message):
        def __init__(self, rows: list[Row]) -> None:
            super().__init__()
            self.rows = rows

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(self.tr(*self.HEADING), classes="heading")
        yield DataTable(id="table", cursor_type="row", zebra_stripes=True)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.reload()

    def on_screen_resume(self) -> None:
        self.reload()

    @work(thread=True, exclusive=True, exit_on_error=False, group="load", description="load a table")
    def reload(self) -> None:
        try:
            rows = self.rows()
        except StoreError as exc:
            self.app.call_from_thread(self.failed, exc)
            return
        self.post_message(self.Loaded(rows))

    def on_table_screen_loaded(self, message: Loaded) -> None:
        table = self.query_one("#table", DataTable)
        keep = self.selected()
        fill_table(table, [self.tr(zh, en) for zh, en in self.COLUMNS], message.rows)
        if keep is not None:
            for i, (key, _) in enumerate(message.rows):
                if key == keep:
                    table.move_cursor(row=i)

    def selected(self) -> str | None:
        table = self.query_one("#table", DataTable)
        if table.row_count == 0:
            return None
        try:
            key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        except Exception:  # no rows yet
            return None
        return str(key.value) if key.value is not None else None

    def rows(self) -> list[Row]:
        raise NotImplementedError

    def refreshed(self, _result: Any = None) -> None:
        self.reload()


# --- projects --------------------------------------------------------------------------------------


class ProjectsScreen(TableScreen):
    HEADING: ClassVar[tuple[str, str]] = (
        "项目（名称、地址、签到范围、时区）",
        "Projects (name, address, sign-in range, time zone)",
    )
    #: the id second: its 8 characters are what --project takes (kiosk roster, export, run)
    COLUMNS: ClassVar[list[tuple[str, str]]] = [
        ("名称", "Name"),
        ("编号", "Id"),
        ("地址", "Address"),
        ("纬度", "Lat"),
        ("经度", "Lon"),
        ("半径(米)", "Radius (m)"),
        ("时区", "Time zone"),
    ]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "add", "新增 Add"),
        Binding("e", "edit", "修改 Edit"),
    ]

    def rows(self) -> list[Row]:
        from store.projects import project_rows

        return [
            (
                str(p.id),
                [
                    p.name,
                    str(p.id)[:8],
                    p.address or "",
                    _num(p.latitude),
                    _num(p.longitude),
                    f"{p.radius_m:g}",
                    p.timezone,
                ],
            )
            for p in project_rows(self.admin.engine)
        ]

    def _fields(self, p: Any = None) -> list[Field]:
        return [
            Field("name", "项目名称", "Project name", p.name if p else "", required=True),
            Field("address", "地址", "Address", (p.address or "") if p else ""),
            Field("latitude", "纬度（WGS-84）", "Latitude (WGS-84)", _num(p.latitude) if p else ""),
            Field("longitude", "经度（WGS-84）", "Longitude (WGS-84)", _num(p.longitude) if p else ""),
            Field("radius_m", "签到半径（米）", "Sign-in radius (m)", f"{p.radius_m:g}" if p else "150"),
            Field("timezone", "时区", "Time zone", p.timezone if p else DEFAULT_ZONE),
        ]

    @staticmethod
    def _parse(v: dict[str, str]) -> dict[str, Any]:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        from store.people.enroll import validate_name

        lat = opt_float(v, "latitude", "纬度", "Latitude")
        lon = opt_float(v, "longitude", "经度", "Longitude")
        if (lat is None) != (lon is None):
            raise ValidationError(
                "latitude", "纬度和经度须同时填写", "Give both latitude and longitude, or neither"
            )
        if (lat is not None and not -90 <= lat <= 90) or (lon is not None and not -180 <= lon <= 180):
            raise ValidationError("latitude", "经纬度超出范围", "Latitude or longitude out of range")
        radius = opt_float(v, "radius_m", "签到半径", "Radius") or 150.0
        if radius <= 0:
            raise ValidationError("radius_m", "签到半径必须大于0", "The radius must be positive")
        tz = v.get("timezone") or DEFAULT_ZONE
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValidationError("timezone", f"未知时区：{tz}", f"Unknown time zone: {tz}") from exc
        return {
            "name": validate_name(v["name"]),
            "address": v.get("address") or None,
            "latitude": lat,
            "longitude": lon,
            "radius_m": radius,
            "timezone": tz,
        }

    def action_add(self) -> None:
        from store.people.enroll import add_project

        actor = self.admin.actor
        self.form(
            ("新增项目", "Add a project"),
            self._fields(),
            lambda v: self.write(lambda s: add_project(session=s, actor=actor, **self._parse(v))).id,
            self.refreshed,
        )

    def action_edit(self) -> None:
        from store.db.models import Project
        from store.people.enroll import update_fields

        key = self.selected()
        if key is None:
            return
        actor = self.admin.actor

        def save(v: dict[str, str]) -> Any:
            def edit(s: Session) -> list[str]:
                row = s.get(Project, uuid.UUID(key))
                assert row is not None
                return update_fields(session=s, row=row, table="project", fields=self._parse(v), actor=actor)

            return self.write(edit)

        self.fetch(
            lambda: self.get(Project, key),
            lambda project: self.form(
                ("修改项目", "Edit the project"), self._fields(project), save, self.refreshed
            ),
        )


def _num(x: float | None) -> str:
    return "" if x is None else f"{x:.6f}".rstrip("0").rstrip(".")


# --- employers -------------------------------------------------------------------------------------


class EmployersScreen(TableScreen):
    HEADING: ClassVar[tuple[str, str]] = ("用人单位", "Employers")
    COLUMNS: ClassVar[list[tuple[str, str]]] = [
        ("名称", "Name"),
        ("统一社会信用代码", "Credit code"),
        ("编号", "Id"),
    ]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "add", "新增 Add"),
        Binding("e", "edit", "修改 Edit"),
    ]

    def rows(self) -> list[Row]:
        from store.people.admin import list_employers

        return [
            (str(e.id), [e.name, e.credit_code or "", str(e.id)[:8]])
            for e in list_employers(self.admin.engine)
        ]

    def _fields(self, e: Any = None) -> list[Field]:
        return [
            Field("name", "单位名称", "Employer name", e.name if e else "", required=True),
            Field(
                "credit_code",
                "统一社会信用代码",
                "Unified social credit code",
                (e.credit_code or "") if e else "",
            ),
        ]

    def action_add(self) -> None:
        from store.people.enroll import add_employer

        actor = self.admin.actor
        self.form(
            ("新增用人单位", "Add an employer"),
            self._fields(),
            lambda v: (
                self.write(
                    lambda s: add_employer(
                        session=s, name=v["name"], credit_code=v["credit_code"] or None, actor=actor
                    )
                ).id
            ),
            self.refreshed,
        )

    def action_edit(self) -> None:
        from store.db.models import Employer
        from store.people.enroll import update_fields, validate_name

        key = self.selected()
        if key is None:
            return
        actor = self.admin.actor

        def save(v: dict[str, str]) -> Any:
            def edit(s: Session) -> list[str]:
                row = s.get(Employer, uuid.UUID(key))
                assert row is not None
                return update_fields(
                    session=s,
                    row=row,
                    table="employer",
                    actor=actor,
                    fields={"name": validate_name(v["name"]), "credit_code": v["credit_code"] or None},
                )

            return self.write(edit)

        self.fetch(
            lambda: self.get(Employer, key),
            lambda employer: self.form(
                ("修改用人单位", "Edit the employer"), self._fields(employer), save, self.refreshed
            ),
        )


# --- officers --------------------------------------------------------------------------------------


class OfficersScreen(TableScreen):
    HEADING: ClassVar[tuple[str, str]] = (
        "班前签到员（指派到项目）",
        "Sign-in officers (assigned to projects)",
    )
    COLUMNS: ClassVar[list[tuple[str, str]]] = [
        ("姓名", "Name"),
        ("手机", "Mobile"),
        ("指派项目", "Projects"),
        ("编号", "Id"),
    ]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "add", "新增 Add"),
        Binding("p", "assign", "指派项目 Assign"),
        Binding("l", "phone_link", "手机激活 Phone link"),
    ]

    def action_phone_link(self) -> None:
        """A one-time activation link for the chosen officer's phone (kiosk serve), shown as a QR."""
        from kiosk.admin.phone import PhoneLinkScreen

        key = self.selected()
        if key is None:
            self.notify(self.tr("请先选择签到员", "Choose an officer first"))
            return
        self.app.push_screen(PhoneLinkScreen(officer_id=uuid.UUID(key)))

    def rows(self) -> list[Row]:
        from store.people.admin import list_officers

        return [
            (str(o.id), [o.name, o.mobile or "", "、".join(projects) or "—", str(o.id)[:8]])
            for o, projects in list_officers(self.admin.engine)
        ]

    def action_add(self) -> None:
        from store.people.enroll import add_officer

        actor = self.admin.actor
        self.form(
            ("新增签到员", "Add an officer"),
            [Field("name", "姓名", "Name", required=True), Field("mobile", "手机号码", "Mobile")],
            lambda v: (
                self.write(
                    lambda s: add_officer(session=s, name=v["name"], mobile=v["mobile"] or None, actor=actor)
                ).id
            ),
            self.refreshed,
        )

    def action_assign(self) -> None:
        from store.db.models import Officer, Project
        from store.people.enroll import assign_officer
        from store.projects import list_projects
        from store.timeutil import parse_date

        key = self.selected()
        if key is None:
            self.notify(self.tr("请先选择签到员", "Choose an officer first"))
            return
        actor = self.admin.actor

        def save(v: dict[str, str]) -> Any:
            def assign(s: Session) -> Any:
                officer = s.get(Officer, uuid.UUID(key))
                project = s.get(Project, uuid.UUID(v["project"]))
                assert officer is not None and project is not None
                return assign_officer(
                    session=s,
                    officer=officer,
                    project=project,
                    actor=actor,
                    start_date=parse_date(v["start_date"]) if v["start_date"] else None,
                    end_date=parse_date(v["end_date"]) if v["end_date"] else None,
                ).id

            return self.write(assign)

        self.fetch(
            lambda: [(p.name, str(p.id)) for p in list_projects(self.admin.engine)],
            lambda projects: self.form(
                ("指派签到员到项目（班前签到员）", "Assign the officer to a project"),
                [
                    Field("project", "项目", "Project", options=projects, required=True),
                    Field("start_date", "开始日期（可不填）", "From (optional)", placeholder="YYYY-MM-DD"),
                    Field("end_date", "结束日期（可不填）", "Until (optional)", placeholder="YYYY-MM-DD"),
                ],
                save,
                self.refreshed,
            ),
        )


# --- health institutions ---------------------------------------------------------------------------


class InstitutionsScreen(TableScreen):
    HEADING: ClassVar[tuple[str, str]] = (
        "体检机构列表（体检登记时从中选择）",
        "Health-check institutions (picked from when recording a check)",
    )
    COLUMNS: ClassVar[list[tuple[str, str]]] = [("名称", "Name"), ("区", "District"), ("启用", "Active")]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "add", "新增 Add"),
        Binding("t", "toggle_active", "启用/停用 Toggle"),
    ]

    def rows(self) -> list[Row]:
        from store.people.admin import list_institutions

        return [
            (str(h.id), [h.name, h.district or "", "是 yes" if h.active else "否 no"])
            for h in list_institutions(self.admin.engine)
        ]

    def action_add(self) -> None:
        from store.people.enroll import add_health_institution

        actor = self.admin.actor
        self.form(
            ("新增体检机构", "Add an institution"),
            [Field("name", "机构名称", "Name", required=True), Field("district", "所在区", "District")],
            lambda v: (
                self.write(
                    lambda s: add_health_institution(
                        session=s, name=v["name"], district=v["district"] or None, actor=actor
                    )
                ).id
            ),
            self.refreshed,
        )

    def action_toggle_active(self) -> None:
        key = self.selected()
        if key is not None:
            self._toggle(key)

    @work(thread=True, exit_on_error=False, group="write", description="toggle an institution")
    def _toggle(self, key: str) -> None:
        from store.db.models import HealthInstitution
        from store.people.enroll import set_institution_active

        def flip(s: Session) -> None:
            row = s.get(HealthInstitution, uuid.UUID(key))
            assert row is not None
            set_institution_active(session=s, institution=row, active=not row.active, actor=self.admin.actor)

        try:
            self.write(flip)
        except StoreError as exc:
            self.app.call_from_thread(self.failed, exc)
        self.reload()


# --- issuer keys -----------------------------------------------------------------------------------


class KeysScreen(TableScreen):
    HEADING: ClassVar[tuple[str, str]] = (
        "签发密钥（信任列表：只存公钥）",
        "Issuer keys (the trust list: public keys only)",
    )
    COLUMNS: ClassVar[list[tuple[str, str]]] = [
        ("密钥编号", "Key id"),
        ("生效", "Not before"),
        ("失效", "Not after"),
        ("吊销", "Revoked"),
        ("备注", "Note"),
    ]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "add", "登记公钥 Add"),
        Binding("g", "generate", "生成新密钥 New key"),
        Binding("x", "revoke", "吊销 Revoke"),
    ]

    def rows(self) -> list[Row]:
        from store.codes.keys import list_keys

        def when(d: Any) -> str:  # local time, as the audit log
            return self.admin.local(d) if d else ""

        return [
            (r.kid, [r.kid, when(r.not_before), when(r.not_after), when(r.revoked_at) or "—", r.note or ""])
            for r in list_keys(self.admin.engine)
        ]

    def action_add(self) -> None:
        from store.codes.keys import register_public_key

        engine, actor = self.admin.engine, self.admin.actor
        self.form(
            ("登记签发公钥", "Add an issuer public key"),
            [
                Field(
                    "path",
                    "公钥文件（PEM 或原始32字节）",
                    "Public key file (PEM or raw 32 bytes)",
                    required=True,
                ),
                Field("note", "备注", "Note"),
            ],
            lambda v: (
                register_public_key(
                    engine, Path(v["path"]).expanduser(), note=v["note"] or None, actor=actor
                ).kid
            ),
            self.refreshed,
        )

    def action_generate(self) -> None:
        from store.codes.keys import new_key_pair, register_public_key

        engine, actor = self.admin.engine, self.admin.actor

        def make(v: dict[str, str]) -> str:
            key, _priv, pub = new_key_pair(Path(v["folder"]).expanduser())
            register_public_key(engine, pub, note=v["note"] or None, actor=actor)
            return key.kid

        def done(kid: Any) -> None:
            self.notify(
                self.tr(
                    f"已生成并登记密钥 {kid}；私钥文件仅保存在所选文件夹",
                    f"Key {kid} made and registered; the private key is only in the chosen folder",
                )
            )
            self.reload()

        self.form(
            ("生成新的签发密钥", "Make a new issuer key"),
            [
                Field("folder", "私钥保存文件夹", "Folder for the private key", required=True),
                Field("note", "备注", "Note"),
            ],
            make,
            done,
            note=(
                "私钥文件权限为仅本人可读，请妥善保管",
                "The private key file is readable by its owner only",
            ),
        )

    def action_revoke(self) -> None:
        kid = self.selected()
        if kid is None:
            return

        def answer(yes: bool | None) -> None:
            if yes:
                self._revoke(kid)

        self.app.push_screen(
            ConfirmScreen(
                (
                    f"吊销密钥 {kid}？此后它签发的码一律拒绝，不可撤销。",
                    f"Revoke key {kid}? Every code it signed is refused from now on; this cannot be undone.",
                ),
                lang=self.admin.lang,
            ),
            answer,
        )

    @work(thread=True, exit_on_error=False, group="write", description="revoke a key")
    def _revoke(self, kid: str) -> None:
        from store.codes.keys import revoke_key

        try:
            revoke_key(self.admin.engine, kid, actor=self.admin.actor)
        except StoreError as exc:
            self.app.call_from_thread(self.failed, exc)
        self.reload()


# --- audit -----------------------------------------------------------------------------------------


#: what the audit log's codes mean, in the admin's language (the log keeps the codes)
AUDIT_ACTIONS: dict[str, tuple[str, str]] = {
    "create": ("新增", "created"),
    "update": ("修改", "changed"),
    "confirm": ("现场确认", "confirmed"),
    "verify": ("实名认证", "verified"),
    "unverify": ("撤销实名认证", "verification undone"),
    "revoke": ("吊销", "revoked"),
    "import": ("导入", "imported"),
    "scope": ("签发范围", "scope set"),
}
AUDIT_TABLES: dict[str, tuple[str, str]] = {
    "worker": ("工人", "worker"),
    "employer": ("用人单位", "employer"),
    "project": ("项目", "project"),
    "employment": ("聘用", "employment"),
    "bankcard": ("银行卡", "bank card"),
    "facecheck": ("人脸照片", "face photo"),
    "healthcheck": ("体检", "health check"),
    "healthinstitution": ("体检机构", "health institution"),
    "identitydocument": ("身份证图片", "ID card images"),
    "officer": ("签到员", "officer"),
    "officerassignment": ("签到员指派", "officer assignment"),
    "issuerkey": ("签发密钥", "issuer key"),
}


class AuditScreen(TableScreen):
    HEADING: ClassVar[tuple[str, str]] = (
        "审计记录：谁在何时改了什么（只记字段名，不记敏感内容）",
        "Audit: who changed what, when (field names only, never sensitive values)",
    )
    COLUMNS: ClassVar[list[tuple[str, str]]] = [
        ("时间", "When"),
        ("操作人", "Who"),
        ("操作", "Action"),
        ("表", "Table"),
        ("记录", "Row"),
        ("详情", "Detail"),
    ]
    BINDINGS: ClassVar[list[BindingType]] = [Binding("r", "refresh", "刷新 Refresh")]

    def rows(self) -> list[Row]:
        from store.people.admin import recent_audit

        def word(words: dict[str, tuple[str, str]], code: str) -> str:
            return self.tr(*words[code]) if code in words else code

        return [
            (
                str(a.id),
                [
                    self.admin.local(a.at),
                    a.actor,
                    word(AUDIT_ACTIONS, a.action),
                    word(AUDIT_TABLES, a.table_name),
                    str(a.row_id)[:8] if a.row_id else "",
                    a.detail or "",
                ],
            )
            for a in recent_audit(self.admin.engine)
        ]

    def action_refresh(self) -> None:
        self.reload()
