"""The officer's session: who unlocked the kiosk, the projects he may sign in for, and the one he picked.
``KioskApp.session`` holds it (None: locked); the officer screen's header shows it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from store.rules.unlock import ProjectChoice


@dataclass(frozen=True, slots=True)
class Session:
    officer_id: uuid.UUID
    officer_name: str
    projects: tuple[ProjectChoice, ...]
    project: ProjectChoice
