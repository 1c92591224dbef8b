"""Which shared database a running kiosk syncs with, and its ``SyncWorker`` (``kiosk run``, headless or not).

A kiosk syncs with ``--shared URL`` when given, else ``[store] shared_url``; with neither, with the
default shared file (``shared.db`` in the data folder) only when that file exists: a kiosk never makes an
empty shared database by starting (``kiosk db upgrade --shared`` makes it). No shared database: the
kiosk is local only, and says so. No UI here; the app receives the worker's reports as messages.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from kiosk.config import Config
    from store.sync.rounds import Listener, SyncWorker


def shared_url(cfg: Config, override: str | None = None) -> str | None:
    """The shared database this kiosk syncs with, or None (local only)."""
    if override:
        return override
    if cfg.store.shared_url:
        return cfg.store.shared_url
    from sqlalchemy.engine import make_url

    from store.db.engine import normalise_url

    default = make_url(normalise_url(cfg.store.shared())).database
    return cfg.store.shared() if default and Path(default).is_file() else None


def sync_worker(cfg: Config, local: Engine, url: str, on_report: Listener | None = None) -> SyncWorker:
    """The background sync of ``local`` with ``url`` (not started): a round at once, whenever the kiosk
    records something, when the shared database notifies a change, on demand, and every interval."""
    from store.sync.rounds import SyncWorker

    return SyncWorker(
        local,
        url,
        interval_s=cfg.sync.interval_s,
        face_thumbs=cfg.sync.face_thumbs,
        photos=cfg.sync.push_photos,
        clock_skew_s=cfg.policy.clock_skew_s,
        on_report=on_report,
    )
