"""``kiosk phone confirm``: the worker confirms his employment with his own code (聘用信息确认), and
what never leaves the shared database. Every person is synthetic."""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select
from stdnum.cn import ric

from kiosk.cli import main
from store.codes.keys import IssuerPrivateKey, register_public_key
from store.codes.tokens import issue_code
from store.db.engine import session, write_session
from store.db.models import AuditLog, BankCard, Employment, FaceCheck, IdentityDocument, Worker
from store.people.enroll import add_employer, add_employment, add_project, add_worker
from store.reasons import Role
from store.timeutil import utcnow


def id_number(seq: int) -> str:
    body = f"310104{date(1988, 8, 8):%Y%m%d}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


@pytest.fixture
def setup(engine: Engine, tmp_path: Path) -> tuple[IssuerPrivateKey, uuid.UUID, uuid.UUID, uuid.UUID]:
    key = IssuerPrivateKey.generate()
    _, pub = key.save(tmp_path / "keys")
    register_public_key(engine, pub, not_before=utcnow() - timedelta(days=1))
    with write_session(engine) as s:
        employer = add_employer(session=s, name="上海示例建设有限公司")
        project = add_project(session=s, name="示例项目")
        w1 = add_worker(session=s, id_number=id_number(1), name="工人甲")
        w2 = add_worker(session=s, id_number=id_number(3), name="工人乙")
        # add_employment with this file's values (alike other worlds' in shape only).
        e1 = add_employment(
            session=s,
            worker=w1,
            employer=employer,
            project=project,
            team="木工班组",
            trade="木工",
            start_date=date.today() - timedelta(days=1),
        )
        return key, w1.id, w2.id, e1.id


# The two tests take the same fixtures (pytest fixtures, not a repeat of code).
def test_the_worker_confirms_his_employment_with_his_code(
    setup: tuple[IssuerPrivateKey, uuid.UUID, uuid.UUID, uuid.UUID],
    sqlite_url: str,
    engine: Engine,
    capsys: pytest.CaptureFixture[str],
) -> None:
    key, w1, _, e1 = setup
    token = issue_code(key, role=Role.WORKER, subject=w1)
    assert (
        main(["phone", "confirm", "--worker-code", token, "--employment", str(e1), "--db", sqlite_url]) == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["employment"] == str(e1) and out["confirmed_at"]
    with session(engine) as s:
        e = s.get(Employment, e1)
        assert e is not None and e.confirmed_at is not None
        first = e.confirmed_at
        log = s.exec(select(AuditLog).where(AuditLog.action == "confirm")).one()
        assert log.actor == f"worker:{w1}" and log.row_id == e1
    # confirming again keeps the first time
    assert (
        main(["phone", "confirm", "--worker-code", token, "--employment", str(e1), "--db", sqlite_url]) == 0
    )
    with session(engine) as s:
        e = s.get(Employment, e1)
        assert e is not None and e.confirmed_at == first


def test_refusals_are_clear_and_change_nothing(
    setup: tuple[IssuerPrivateKey, uuid.UUID, uuid.UUID, uuid.UUID],
    sqlite_url: str,
    engine: Engine,
    capsys: pytest.CaptureFixture[str],
) -> None:
    key, w1, w2, e1 = setup
    other = issue_code(key, role=Role.WORKER, subject=w2)
    expired = issue_code(key, role=Role.WORKER, subject=w1, at=utcnow() - timedelta(minutes=10))
    officer = issue_code(key, role=Role.OFFICER, subject=w1, project=uuid.uuid4())
    cases = [
        (other, str(e1), "该聘用记录不属于此工人"),
        (expired, str(e1), "建设码已过期"),
        (officer, str(e1), "建设码身份不符"),
        ("not a code", str(e1), "不是有效的个人建设码"),
        (issue_code(key, role=Role.WORKER, subject=w1), str(uuid.uuid4()), "查无此聘用记录"),
        (issue_code(key, role=Role.WORKER, subject=w1), "12345", "聘用记录编号格式错误"),
    ]
    for token, emp, says in cases:
        assert (
            main(["phone", "confirm", "--worker-code", token, "--employment", emp, "--db", sqlite_url]) == 2
        )
        err = capsys.readouterr().err
        assert says in err and "Traceback" not in err, err
        assert token not in err or token == "not a code"  # the raw code is not echoed
    with session(engine) as s:
        e = s.get(Employment, e1)
        assert e is not None and e.confirmed_at is None


def test_sensitive_tables_and_columns_never_reach_kiosks() -> None:
    from store.sync.pull import NEVER_PULLED, PULLED

    assert not {IdentityDocument, FaceCheck, BankCard} & set(PULLED)
    assert "id_number" in NEVER_PULLED[Worker]
