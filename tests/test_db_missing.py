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
