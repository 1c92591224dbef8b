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
from kiosk.i18n import LANGS, MESSAGES, label, pair, t
from store.errors import ValidationError
from store.people import admin_writes as writes
from store.timeutil import DEFAULT_ZONE


# The parse-or-ValidationError shape of the CLI's _uuid and _instant: the admin form's words.
def opt_float(values: dict[str, str], key: str, what: str) -> float | None:
    """The number typed in field ``key``, or None when empty; ``what`` is the catalogue key of its name."""
    v = values.get(key, "").strip()
    if not v:
        return None
    try:
        return float(v)
    except ValueError as exc:
        zh, en = (t("admin.check.not_a_number", lang, name=t(what, lang), value=v) for lang in LANGS)
        raise ValidationError(key, zh, en) from exc


# --- projects --------------------------------------------------------------------------------------


# A TableScreen declared by its heading, columns and bindings, as every screen here.
class ProjectsScreen(TableScreen):
    HEADING: ClassVar[tuple[str, str]] = pair("admin.projects.heading")
    #: the id second: its 8 characters are what --project takes (kiosk roster, export, run)
    COLUMNS: ClassVar[list[tuple[str, str]]] = [
        pair("admin.projects.col_name"),
        pair("admin.projects.col_id"),
        pair("admin.projects.col_address"),
        pair("admin.projects.col_lat"),
        pair("admin.projects.col_lon"),
        pair("admin.projects.col_radius_m"),
        pair("admin.projects.col_time_zone"),
    ]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "add", label("admin.key.add")),
        Binding("e", "edit", label("admin.key.edit")),
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
            Field("name", *pair("admin.field.project_name"), p.name if p else "", required=True),
            Field("address", *pair("admin.field.address"), (p.address or "") if p else ""),
            Field("latitude", *pair("admin.field.latitude_wgs_84"), _num(p.latitude) if p else ""),
            Field("longitude", *pair("admin.field.longitude_wgs_84"), _num(p.longitude) if p else ""),
            Field("radius_m", *pair("admin.field.sign_in_radius_m"), f"{p.radius_m:g}" if p else "150"),
            Field("timezone", *pair("admin.field.time_zone"), p.timezone if p else DEFAULT_ZONE),
        ]

    @staticmethod
    def _parse(v: dict[str, str]) -> dict[str, Any]:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        from store.rules.validation import validate_name

        lat = opt_float(v, "latitude", "admin.check.latitude")
        lon = opt_float(v, "longitude", "admin.check.longitude")
        if (lat is None) != (lon is None):
            raise ValidationError("latitude", *pair("admin.check.lat_lon_both"))
        if (lat is not None and not -90 <= lat <= 90) or (lon is not None and not -180 <= lon <= 180):
            raise ValidationError("latitude", *pair("admin.check.lat_lon_range"))
        radius = opt_float(v, "radius_m", "admin.check.radius") or 150.0
        if radius <= 0:
            raise ValidationError("radius_m", *pair("admin.check.radius_positive"))
        tz = v.get("timezone") or DEFAULT_ZONE
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValidationError("timezone", *pair("admin.check.unknown_zone", zone=tz)) from exc
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
            pair("admin.projects.add_a_project"),
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
                pair("admin.projects.edit_the_project"), self._fields(project), save, self.refreshed
            ),
        )


def _num(x: float | None) -> str:
    return "" if x is None else f"{x:.6f}".rstrip("0").rstrip(".")


# --- employers -------------------------------------------------------------------------------------


# A TableScreen declared by its heading, columns and bindings, as every screen here.
class EmployersScreen(TableScreen):
    HEADING: ClassVar[tuple[str, str]] = pair("admin.employers.heading")
    COLUMNS: ClassVar[list[tuple[str, str]]] = [
        pair("admin.employers.col_name"),
        pair("admin.employers.col_credit_code"),
        pair("admin.employers.col_id"),
    ]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "add", label("admin.key.add")),
        Binding("e", "edit", label("admin.key.edit")),
    ]

    def rows(self) -> list[Row]:
        from store.people.admin import list_employers

        return [
            (str(e.id), [e.name, e.credit_code or "", str(e.id)[:8]])
            for e in list_employers(self.admin.engine)
        ]

    def _fields(self, e: Any = None) -> list[Field]:
        return [
            Field("name", *pair("admin.field.employer_name"), e.name if e else "", required=True),
            Field(
                "credit_code",
                *pair("admin.field.unified_social_credit_code"),
                (e.credit_code or "") if e else "",
            ),
        ]

    def action_add(self) -> None:
        engine, actor = self.admin.engine, self.admin.actor
        self.form(
            pair("admin.employers.add_an_employer"),
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
                pair("admin.employers.edit_the_employer"), self._fields(employer), save, self.refreshed
            ),
        )


# --- officers --------------------------------------------------------------------------------------


# A TableScreen declared by its heading, columns and bindings, as every screen here.
class OfficersScreen(TableScreen):
    HEADING: ClassVar[tuple[str, str]] = pair("admin.officers.heading")
    COLUMNS: ClassVar[list[tuple[str, str]]] = [
        pair("admin.officers.col_name"),
        pair("admin.officers.col_mobile"),
        pair("admin.officers.col_projects"),
        pair("admin.officers.col_id"),
    ]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "add", label("admin.key.add")),
        Binding("p", "assign", label("admin.key.assign")),
        Binding("l", "phone_link", label("admin.key.phone_link")),
    ]

    def action_phone_link(self) -> None:
        """A one-time activation link for the chosen officer's phone (kiosk serve), shown as a QR."""
        from kiosk.admin.phone import PhoneLinkScreen

        key = self.selected()
        if key is None:
            self.notify(t("admin.officers.choose_an_officer_first", self.lang))
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
            pair("admin.officers.add_an_officer"),
            [
                Field("name", *pair("admin.field.name"), required=True),
                Field("mobile", *pair("admin.field.mobile")),
            ],
            lambda v: writes.add_officer(engine, name=v["name"], mobile=v["mobile"] or None, actor=actor),
            self.refreshed,
        )

    def action_assign(self) -> None:
        from store.projects import list_projects
        from store.timeutil import parse_date

        key = self.selected()
        if key is None:
            self.notify(t("admin.officers.choose_an_officer_first", self.lang))
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
                pair("admin.officers.assign_title"),
                [
                    Field("project", *pair("admin.field.project"), options=projects, required=True),
                    Field("start_date", *pair("admin.field.from_optional"), placeholder="YYYY-MM-DD"),
                    Field("end_date", *pair("admin.field.until_optional"), placeholder="YYYY-MM-DD"),
                ],
                save,
                self.refreshed,
            ),
        )


# --- health institutions ---------------------------------------------------------------------------


# A TableScreen declared by its heading, columns and bindings, as every screen here.
class InstitutionsScreen(TableScreen):
    HEADING: ClassVar[tuple[str, str]] = pair("admin.institutions.heading")
    COLUMNS: ClassVar[list[tuple[str, str]]] = [
        pair("admin.institutions.col_name"),
        pair("admin.institutions.col_district"),
        pair("admin.institutions.col_active"),
    ]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "add", label("admin.key.add")),
        Binding("t", "toggle_active", label("admin.key.toggle")),
    ]

    def rows(self) -> list[Row]:
        from store.people.admin import list_institutions

        return [
            (
                str(h.id),
                [
                    h.name,
                    h.district or "",
                    label("admin.institutions.yes") if h.active else label("admin.institutions.no"),
                ],
            )
            for h in list_institutions(self.admin.engine)
        ]

    def action_add(self) -> None:
        engine, actor = self.admin.engine, self.admin.actor
        self.form(
            pair("admin.institutions.add_an_institution"),
            [
                Field("name", *pair("admin.field.institution_name"), required=True),
                Field("district", *pair("admin.field.district")),
            ],
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
    HEADING: ClassVar[tuple[str, str]] = pair("admin.keys.heading")
    COLUMNS: ClassVar[list[tuple[str, str]]] = [
        pair("admin.keys.col_key_id"),
        pair("admin.keys.col_scope"),
        pair("admin.keys.col_not_before"),
        pair("admin.keys.col_not_after"),
        pair("admin.keys.col_revoked"),
        pair("admin.keys.col_note"),
    ]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "add", label("admin.key.add_public_key")),
        Binding("g", "generate", label("admin.key.new_key")),
        Binding("x", "revoke", label("admin.key.revoke_key")),
    ]

    def rows(self) -> list[Row]:
        from store.codes.keys import list_keys

        def when(d: Any) -> str:  # local time, as the audit log
            return self.admin.local(d) if d else ""

        def scope(roles: str) -> str:  # which codes it may sign, in words
            kinds = {r.strip() for r in (roles or "").split(",") if r.strip()}
            if kinds == {"officer"}:
                return t("admin.keys.scope_officer", self.lang)
            if kinds == {"worker"}:
                return t("admin.keys.scope_worker", self.lang)
            return t("admin.keys.scope_both", self.lang)

        return [
            (
                r.kid,
                [
                    r.kid,
                    scope(r.roles),
                    when(r.not_before),
                    when(r.not_after),
                    when(r.revoked_at) or "—",
                    r.note or "",
                ],
            )
            for r in list_keys(self.admin.engine)
        ]

    def action_add(self) -> None:
        from store.codes.keys import register_public_key

        engine, actor = self.admin.engine, self.admin.actor
        self.form(
            pair("admin.keys.add_title"),
            [
                Field(
                    "path",
                    *pair("admin.field.public_key_file"),
                    required=True,
                ),
                Field("note", *pair("admin.field.note")),
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
            self.notify(t("admin.keys.made", self.lang, kid=kid))
            self.reload()

        self.form(
            pair("admin.keys.generate_title"),
            [
                Field("folder", *pair("admin.field.folder_for_the_private_key"), required=True),
                Field("note", *pair("admin.field.note")),
            ],
            make,
            done,
            note=pair("admin.keys.generate_note"),
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
                pair("admin.keys.revoke_question", kid=kid),
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
    HEADING: ClassVar[tuple[str, str]] = pair("admin.audit.heading")
    COLUMNS: ClassVar[list[tuple[str, str]]] = [
        pair("admin.audit.col_when"),
        pair("admin.audit.col_who"),
        pair("admin.audit.col_action"),
        pair("admin.audit.col_table"),
        pair("admin.audit.col_row"),
        pair("admin.audit.col_detail"),
    ]
    BINDINGS: ClassVar[list[BindingType]] = [Binding("r", "refresh", label("admin.key.refresh"))]

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
