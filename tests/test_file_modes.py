"""Files of personal data and keys are private to their user (issue 19): a store and its folder, a SQLite
shared database, an issuer's private key (one readable by others is refused, with what to do)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import text

from kiosk.config import Config, StoreSettings
from kiosk.wiring import open_local_store
from store.codes.keys import IssuerPrivateKey, KeyFileError
from store.db.engine import make_engine
from store.db.migrate import upgrade_engine

pytestmark = pytest.mark.skipif(os.name == "nt", reason="POSIX file modes")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def _usual_umask() -> object:
    old = os.umask(0o022)  # what a fresh Debian login has: files 0644, folders 0755
    yield
    os.umask(old)


def test_the_kiosk_store_and_its_folder_are_private(tmp_path: Path) -> None:
    db = tmp_path / "data" / "kiosk" / "kiosk.db"
    cfg = Config(store=StoreSettings(local_url=str(db)))
    engine = open_local_store(cfg)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO syncstate (key, value) VALUES ('x', 'y')"))
    assert _mode(db) == 0o600 and _mode(db.parent) == 0o700 and _mode(db.parent.parent) == 0o700
    for extra in (db.with_name("kiosk.db-wal"), db.with_name("kiosk.db-shm")):
        assert not extra.exists() or _mode(extra) == 0o600
    engine.dispose()


def test_a_sqlite_shared_database_is_made_private_and_an_old_one_tightened(tmp_path: Path) -> None:
    shared = tmp_path / "shared.db"
    engine = make_engine(str(shared))
    upgrade_engine(engine)
    engine.dispose()
    assert _mode(shared) == 0o600
    shared.chmod(0o644)  # made by an older version
    engine = make_engine(str(shared))
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    engine.dispose()
    assert _mode(shared) == 0o600


def test_a_private_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    priv, _pub = IssuerPrivateKey.generate().save(tmp_path / "keys")
    assert _mode(priv) == 0o600 and _mode(priv.parent) == 0o700
    assert IssuerPrivateKey.load(priv).kid
    for loose in (0o666, 0o640, 0o604):
        priv.chmod(loose)
        with pytest.raises(KeyFileError) as err:
            IssuerPrivateKey.load(priv)
        assert f"chmod 600 {priv}" in err.value.en and f"{loose:04o}" in err.value.en
        assert "其他用户也能读取" in err.value.zh
    priv.chmod(0o400)
    assert IssuerPrivateKey.load(priv).kid
