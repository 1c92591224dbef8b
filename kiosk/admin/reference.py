"""The reference-data screens of the admin app: projects, employers, officers, health institutions,
issuer keys, and the audit log. Each is a table loaded by a thread worker, with its own keys to add, edit and so on."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any, ClassVar

from textual import work
from textual.binding import Binding, BindingType

from kiosk.admin.base import Row, TableScreen
from kiosk.admin.forms import ConfirmScreen, Field
from kiosk.i18n import MESSAGES, t
from store.errors import ValidationError
from store.people import admin_writes as writes
from store.timeutil import DEFAULT_ZONE


# The parse-or-ValidationError shape of the CLI's _uuid and _instant: the admin form's words.
def opt_float(values: dict[str, str], key: str, zh: str, en: str) -> float | None:
    v = values.get(key, "").strip()
    if not v:
        return None
    try:
        return float(v)
    except ValueError as exc:
        raise ValidationError(key, f"{zh}应为数字：{v}", f"{en} must be a number: {v}") from exc


# --- projects --------------------------------------------------------------------------------------


# A TableScreen declared by its heading, columns and bindings, as every screen here.
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

        from store.rules.validation import validate_name

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
        engine, actor = self.admin.engine, self.admin.actor
        self.form(
            ("新增项目", "Add a project"),
            self._fields(),
            lambda v: writes.add_project(engine, actor=actor, **self._parse(v)),
            self.refreshed,
        )

    def action_edit(self) -> None:
        from store.db.models import Project

        key = self.selected()
        if key is None:
            return
        engine, actor = self.admin.engine, self.admin.actor

        def save(v: dict[str, str]) -> list[str]:
            return writes.edit_project(engine, uuid.UUID(key), self._parse(v), actor=actor)

        self.fetch(
            lambda: self.get(Project, key),
            lambda project: self.form(
                ("修改项目", "Edit the project"), self._fields(project), save, self.refreshed
            ),
        )


def _num(x: float | None) -> str:
    return "" if x is None else f"{x:.6f}".rstrip("0").rstrip(".")


# --- employers -------------------------------------------------------------------------------------


# A TableScreen declared by its heading, columns and bindings, as every screen here.
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
        engine, actor = self.admin.engine, self.admin.actor
        self.form(
            ("新增用人单位", "Add an employer"),
            self._fields(),
            lambda v: writes.add_employer(
                engine, name=v["name"], credit_code=v["credit_code"] or None, actor=actor
            ),
            self.refreshed,
        )

    def action_edit(self) -> None:
        from store.db.models import Employer

        key = self.selected()
        if key is None:
            return
        engine, actor = self.admin.engine, self.admin.actor

        def save(v: dict[str, str]) -> list[str]:
            return writes.edit_employer(
                engine, uuid.UUID(key), name=v["name"], credit_code=v["credit_code"] or None, actor=actor
            )

        self.fetch(
            lambda: self.get(Employer, key),
            lambda employer: self.form(
                ("修改用人单位", "Edit the employer"), self._fields(employer), save, self.refreshed
            ),
        )


# --- officers --------------------------------------------------------------------------------------


# A TableScreen declared by its heading, columns and bindings, as every screen here.
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
        self.app.push_screen(PhoneLinkScreen(officer_id=uuid.UUID(key), lang=self.admin.lang))

    def rows(self) -> list[Row]:
        from store.people.admin import list_officers

        return [
            (str(o.id), [o.name, o.mobile or "", "、".join(projects) or "—", str(o.id)[:8]])
            for o, projects in list_officers(self.admin.engine)
        ]

    def action_add(self) -> None:
        engine, actor = self.admin.engine, self.admin.actor
        self.form(
            ("新增签到员", "Add an officer"),
            [Field("name", "姓名", "Name", required=True), Field("mobile", "手机号码", "Mobile")],
            lambda v: writes.add_officer(engine, name=v["name"], mobile=v["mobile"] or None, actor=actor),
            self.refreshed,
        )

    def action_assign(self) -> None:
        from store.projects import list_projects
        from store.timeutil import parse_date

        key = self.selected()
        if key is None:
            self.notify(self.tr("请先选择签到员", "Choose an officer first"))
            return
        engine, actor = self.admin.engine, self.admin.actor

        def save(v: dict[str, str]) -> uuid.UUID:
            return writes.assign_officer(
                engine,
                uuid.UUID(key),
                uuid.UUID(v["project"]),
                start_date=parse_date(v["start_date"]) if v["start_date"] else None,
                end_date=parse_date(v["end_date"]) if v["end_date"] else None,
                actor=actor,
            )

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


# A TableScreen declared by its heading, columns and bindings, as every screen here.
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
        engine, actor = self.admin.engine, self.admin.actor
        self.form(
            ("新增体检机构", "Add an institution"),
            [Field("name", "机构名称", "Name", required=True), Field("district", "所在区", "District")],
            lambda v: writes.add_institution(
                engine, name=v["name"], district=v["district"] or None, actor=actor
            ),
            self.refreshed,
        )

    def action_toggle_active(self) -> None:
        key = self.selected()
        if key is not None:
            self._toggle(key)

    @work(thread=True, exit_on_error=False, group="write", description="toggle an institution")
    def _toggle(self, key: str) -> None:
        self.done(
            lambda: writes.toggle_institution(self.admin.engine, uuid.UUID(key), actor=self.admin.actor)
        )
        self.reload()


# --- issuer keys -----------------------------------------------------------------------------------


# A TableScreen declared by its heading, columns and bindings, as every screen here.
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

        self.done(lambda: revoke_key(self.admin.engine, kid, actor=self.admin.actor))
        self.reload()


# --- audit -----------------------------------------------------------------------------------------


# A TableScreen declared by its heading, columns and bindings, as every screen here.
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

        def word(kind: str, code: str) -> str:
            key = f"admin.audit_{kind}.{code}"
            return t(key, self.admin.lang) if key in MESSAGES else code

        return [
            (
                str(a.id),
                [
                    self.admin.local(a.at),
                    a.actor,
                    word("action", a.action),
                    word("table", a.table_name),
                    str(a.row_id)[:8] if a.row_id else "",
                    a.detail or "",
                ],
            )
            for a in recent_audit(self.admin.engine)
        ]

    def action_refresh(self) -> None:
        self.reload()
