"""`kiosk db upgrade` on a PostgreSQL database that was never created says so as the setup wizard does,
with the command that creates it."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.engine import make_url

from kiosk.cli import main


def test_upgrade_of_a_missing_database_says_how_to_make_it(
    pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    name = f"t_never_made_{uuid.uuid4().hex[:8]}"
    url = make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    assert main(["db", "upgrade", "--db", url]) == 2
    err = capsys.readouterr().err
    assert f"数据库 {name} 不存在，请核对数据库名" in err and f"There is no database {name}" in err
    assert f"createdb -h 127.0.0.1 -p 5432 -U postgres {name}" in err and "kiosk db upgrade --db" in err
    assert "Traceback" not in err


def test_a_refused_connection_says_what_to_check(
    tmp_path: object, capsys: pytest.CaptureFixture[str]
) -> None:
    """`kiosk sync --once` with nothing listening on the shared database's port: not only "Connection
    refused" but what to check."""
    from pathlib import Path

    local = Path(str(tmp_path)) / "kiosk.db"
    assert main(["db", "upgrade", "--db", str(local)]) == 0
    capsys.readouterr()
    shared = "postgresql://postgres@127.0.0.1:1/site"  # nothing listens on port 1
    assert main(["sync", "--once", "--local", str(local), "--shared", shared]) == 2
    err = capsys.readouterr().err
    assert "共享数据库（--shared）" in err and "数据库服务器没有在这个地址和端口上运行" in err
    assert "PostgreSQL 在运行" in err and "PostgreSQL is running" in err
