"""``kiosk admin --db URL``: the administrator's Textual app over the shared database.

One screen per subject, as MODES (F1–F7): workers (with ID card images, face capture, real-name
verification, bank card, health check, employment and its confirmation, and the readiness panel),
projects, employers, officers, health institutions, issuer keys, the audit log, the review queue of
what workers submitted from their phones (F8), the kiosks' sync keys (F10) and what the site service
refused of their pushes (F11). ``build_app`` makes the app for the
CLI and the tests alike: it gets its engine, config, the administrator's name (the audit actor) and
the camera spec passed in.

Sensitive data: lists show ID numbers masked and bank cards masked; ID card images and face photos
are written to the shared database only (sync never pulls those tables to kiosks); every change is
audited with the administrator's name; nothing personal is logged.
"""

from __future__ import annotations

import dataclasses
import getpass
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy.engine import Engine
from textual.app import App
from textual.binding import Binding, BindingType
from textual.screen import Screen

from kiosk import cvlog
from kiosk.admin.base import AdminContext, split_words
from kiosk.admin.forms import KeysHelpScreen
from kiosk.admin.kiosks import KiosksScreen, RejectionsScreen
from kiosk.admin.reference import (
    AuditScreen,
    EmployersScreen,
    InstitutionsScreen,
    KeysScreen,
    OfficersScreen,
    ProjectsScreen,
)
from kiosk.admin.review import ReviewScreen
from kiosk.admin.workers import WorkersScreen
from kiosk.config import Config
from kiosk.i18n import label, pick, t
from store.timeutil import local_date, local_minute, utcnow


class AdminApp(App[None]):
    CSS_PATH = "admin.tcss"
    TITLE = f"{t('admin.app.title', 'en')} · {t('admin.app.title')}"
    ENABLE_COMMAND_PALETTE = False  # ? lists every key; the footer's room goes to the admin's own
    MODES: ClassVar[dict[str, str | Callable[[], Screen[Any]]]] = {
        "workers": WorkersScreen,
        "projects": ProjectsScreen,
        "employers": EmployersScreen,
        "officers": OfficersScreen,
        "institutions": InstitutionsScreen,
        "keys": KeysScreen,
        "audit": AuditScreen,
        "review": ReviewScreen,
        "kiosks": KiosksScreen,
        "rejections": RejectionsScreen,
    }
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("f1", "switch_mode('workers')", label("admin.key.workers")),
        Binding("f2", "switch_mode('projects')", label("admin.key.projects")),
        Binding("f3", "switch_mode('employers')", label("admin.key.employers")),
        Binding("f4", "switch_mode('officers')", label("admin.key.officers")),
        Binding("f5", "switch_mode('institutions')", label("admin.key.institutions")),
        Binding("f6", "switch_mode('keys')", label("admin.key.keys")),
        Binding("f7", "switch_mode('audit')", label("admin.key.audit")),
        Binding("f8", "switch_mode('review')", label("admin.key.review")),
        # F10/F11 (issue 24) not in the footer (no room at 80 columns): ? lists them, as every key
        Binding("f10", "switch_mode('kiosks')", label("admin.key.kiosks"), show=False),
        Binding("f11", "switch_mode('rejections')", label("admin.key.rejections"), show=False),
        Binding("ctrl+q", "quit", label("admin.key.quit")),
    ]

    def __init__(
        self, engine: Engine, config: Config, *, actor: str, camera: str | None = None, face_frames: int = 60
    ) -> None:
        super().__init__()
        self.engine = engine
        self.config = config
        self.actor = actor
        self.lang = config.language
        self.camera = camera or config.camera.source
        self.face_frames = face_frames
        self.policy = config.sign_in_policy()
        self.sub_title = f"{actor}"

    def on_mount(self) -> None:
        self._opencv_log = cvlog.silence()  # face capture's camera: no OpenCV warnings over the screen
        self.switch_mode("workers")
        keys = self._bindings.key_to_bindings
        for key, bindings in list(keys.items()):  # F1–F7 in one language too, shown as F1…
            keys[key] = [
                dataclasses.replace(
                    b,
                    description=pick(self.lang, *split_words(b.description)),
                    key_display=b.key_display or _key_label(b.key),
                )
                for b in bindings
            ]
        if "ctrl+q" in keys:  # quitting last in the footer, after the screens
            keys["ctrl+q"] = keys.pop("ctrl+q")

    def on_unmount(self) -> None:
        if (before := getattr(self, "_opencv_log", None)) is not None:
            cvlog.restore(before)

    def action_keys_help(self) -> None:
        """Every key of this screen and of the app (not Textual's own: Tab, copying)."""
        rows: list[tuple[str, str]] = []
        for owner in (self.screen, self):
            for bindings in owner._bindings.key_to_bindings.values():
                for b in bindings:
                    if b.action != "app.keys_help" and b.description and b.key not in _TEXTUAL_KEYS:
                        rows.append((b.key_display or _key_label(b.key), b.description))
        self.push_screen(KeysHelpScreen(rows, lang=self.lang))

    def today(self) -> date:
        """The site's date now (readiness is judged for today)."""
        return local_date(utcnow(), self.policy.timezone)

    def local(self, at: datetime | None) -> str:
        return local_minute(at, self.policy.timezone)


def _context(app: AdminApp) -> AdminContext:
    """Never called: mypy checks here that the app gives its screens all that ``AdminContext`` says."""
    return app


_TEXTUAL_KEYS = frozenset({"tab", "shift+tab", "ctrl+c", "super+c"})


def _key_label(key: str) -> str:
    first = key.split(",")[0]
    named = {"slash": "/", "escape": "Esc", "question_mark": "?", "ctrl+q": "Ctrl+Q"}
    return named.get(first, first.upper() if first[:1] == "f" and first[1:].isdigit() else first)


# Keyword options like enroll's add_* functions: the admin app's own.
def build_app(
    engine: Engine,
    config: Config,
    *,
    actor: str | None = None,
    camera: str | None = None,
    face_frames: int = 60,
) -> AdminApp:
    """The admin app for the CLI and the tests."""
    return AdminApp(
        engine,
        config,
        actor=(actor or getpass.getuser() or "admin").strip(),
        camera=camera,
        face_frames=face_frames,
    )
