"""The kiosk's own SQLite store and the data folder it lives in (no UI here).

``open_local_store(cfg)`` is how ``kiosk run`` (screen or headless, without ``--db``) opens this kiosk's
file: its folder is made (owner only) and its schema migrated on first use: it is this kiosk's file,
not one shared with anybody. The shared database is made and migrated by its administrator
(``kiosk db upgrade --shared``). ``ensure_folder(url)`` makes the data folder of a SQLite URL for the
commands that create a store there (``kiosk db upgrade``, ``kiosk seed-demo`` with the config's paths).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from kiosk.config import Config


def ensure_folder(url: str) -> None:
    """Make the folder of a SQLite file URL (0700: the store holds personal data); others: nothing."""
    from sqlalchemy.engine import make_url

    from store.db.engine import normalise_url, private_folder
    from store.errors import StoreError

    url = normalise_url(url)
    if not url.startswith("sqlite"):
        return
    path = make_url(url).database
    if not path or path == ":memory:":
        return
    folder = Path(path).parent
    try:
        private_folder(folder)  # 0700 whatever the umask, and an existing folder of ours tightened
    except OSError as exc:
        raise StoreError(
            f"无法创建数据文件夹：{folder}（{exc.strerror}）",
            f"Cannot make the data folder {folder}: {exc.strerror}",
        ) from exc


def open_local_store(cfg: Config) -> Engine:
    """This kiosk's store, made and migrated on first use."""
    from store.db.engine import make_engine
    from store.db.migrate import upgrade_engine

    url = cfg.store.local()
    ensure_folder(url)
    engine = make_engine(url, synchronous=cfg.store.sqlite_synchronous)
    try:
        upgrade_engine(engine)
    except BaseException:
        engine.dispose()
        raise
    return engine
