"""The store on real engines: migrations from empty, SQLite settings, races between processes, revisions."""

from __future__ import annotations

import multiprocessing as mp
import uuid
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, inspect, text
from sqlmodel import select
from support.eligible import make_eligible

from store.db.engine import make_engine, open_store, session
from store.db.migrate import upgrade_engine
from store.db.models import REVISIONED, Attendance, SignInAttempt, Worker
from store.db.revision import current_revision
from store.db.schema import head
from store.errors import DatabaseUnavailable, NotMigrated
from store.people import enroll
from store.reasons import Outcome
from store.rules.signin import SignInService

AT = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)
TODAY = date(2026, 11, 25)


def test_the_stored_revisions_are_the_migration_chain() -> None:
    """The start checks a database's stamp against revision strings kept in store.db.schema, not by
    loading Alembic: they must be the migrations' chain, oldest first (a new migration adds its string)."""
    from alembic.script import ScriptDirectory

    from store.db.schema import HEAD, REVISIONS, alembic_config

    scripts = ScriptDirectory.from_config(alembic_config())
    chain = [s.revision for s in scripts.walk_revisions()][::-1]  # walk_revisions goes from the head down
    assert tuple(chain) == REVISIONS
    assert HEAD == scripts.get_current_head() == head()


def test_migrations_from_empty_sqlite(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    with pytest.raises(DatabaseUnavailable, match="does not exist"):  # a read path makes no file
        open_store(url)
    assert not (tmp_path / "fresh.db").exists()
    engine = make_engine(url)
    with engine.connect():
        pass
    with pytest.raises(NotMigrated, match="kiosk db upgrade --db"):
        open_store(url)
    assert upgrade_engine(engine) == head()
    names = set(inspect(engine).get_table_names())
    assert {m.__tablename__ for m in REVISIONED} <= names  # type: ignore[attr-defined]
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    assert upgrade_engine(engine) == head()  # idempotent
    open_store(url).dispose()
    engine.dispose()


def test_migrations_from_empty_postgres(pg_server) -> None:  # type: ignore[no-untyped-def]
    url = pg_server.create(migrate=False)
    with pytest.raises(NotMigrated):
        open_store(url)
    engine = make_engine(url)
    assert upgrade_engine(engine) == head()
    names = set(inspect(engine).get_table_names())
    assert {m.__tablename__ for m in REVISIONED} <= names  # type: ignore[attr-defined]
    cols = {c["name"]: c for c in inspect(engine).get_columns("attendance")}
    assert "TIMESTAMP" in str(cols["first_at"]["type"]).upper()
    open_store(url).dispose()
    engine.dispose()


def test_bad_urls_are_clear(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DatabaseUnavailable, match="folder"):
        open_store(str(tmp_path / "no" / "such" / "dir" / "x.db"))
    with pytest.raises(DatabaseUnavailable, match="Unsupported"):
        make_engine("oracle://x/y")
    with pytest.raises(DatabaseUnavailable, match="Cannot reach"):
        open_store("postgresql://postgres@127.0.0.1:1/nothing")


def test_timestamps_come_back_aware_utc(any_url: str) -> None:
    engine = make_engine(any_url)
    with session(engine) as s:
        w = enroll.add_worker(session=s, id_number="310104199001010011", name="张伟")
        enroll.verify_realname(session=s, worker=w, by="admin", at=datetime(2026, 1, 1, 8, tzinfo=UTC))
        s.commit()
    with session(engine) as s:
        got = s.get(Worker, w.id)
        assert got is not None and got.realname_verified_at == datetime(2026, 1, 1, 8, tzinfo=UTC)
        assert got.realname_verified_at.tzinfo is not None
    engine.dispose()


def test_revisions_increase_on_every_write(any_url: str) -> None:
    engine = make_engine(any_url)
    with session(engine) as s:
        w = enroll.add_worker(session=s, id_number="310104199001010011", name="张伟")
        s.commit()
        first = w.rev
        w.mobile = "13800138000"
        s.add(w)
        s.commit()
        assert w.rev > first
        assert s.exec(select(func.max(Worker.rev))).one() == w.rev
    with engine.connect() as conn:
        assert current_revision(conn) >= w.rev
    engine.dispose()


def _eligible_world(url: str) -> tuple[uuid.UUID, uuid.UUID]:
    engine = make_engine(url)
    with session(engine) as s:
        p = enroll.add_project(session=s, name="测试项目")
        em = enroll.add_employer(session=s, name="测试单位")
        w = enroll.add_worker(session=s, id_number="310104199001010011", name="张伟")
        make_eligible(
            s,
            w,
            employer=em,
            project=p,
            today=TODAY,
            institution_other="其他医院",
            bank_name="中国银行",
            card_number="6216610200016587010",
            team="木工班组",
            trade="木工",
            checked_days_ago=10,
            employed_days_ago=10,
        )
        s.commit()
    engine.dispose()
    return w.id, p.id


def _race(url: str, worker: str, project: str, start: mp.synchronize.Event, n: int) -> list[str]:  # type: ignore[name-defined]
    engine = make_engine(url)
    svc = SignInService(engine)
    start.wait()
    out = [svc.sign_in(uuid.UUID(worker), uuid.UUID(project), at=AT).outcome.value for _ in range(n)]
    engine.dispose()
    return out


@pytest.mark.parametrize("procs", [4])
def test_processes_racing_make_one_attendance(any_url: str, procs: int) -> None:
    worker, project = _eligible_world(any_url)
    ctx = mp.get_context("spawn")
    with ctx.Manager() as manager:
        start = manager.Event()
        with ctx.Pool(procs) as pool:
            pending = [
                pool.apply_async(_race, (any_url, str(worker), str(project), start, 5)) for _ in range(procs)
            ]
            import time

            time.sleep(
                1.0
            )  # let every process import and reach the barrier; correctness does not depend on it
            start.set()
            outcomes = [o for p in pending for o in p.get(timeout=120)]
    assert outcomes.count(Outcome.SIGNED_IN.value) == 1
    assert outcomes.count(Outcome.ALREADY.value) == procs * 5 - 1
    engine = make_engine(any_url)
    with session(engine) as s:
        assert s.exec(select(func.count()).select_from(Attendance)).one() == 1
        assert s.exec(select(func.count()).select_from(SignInAttempt)).one() == procs * 5
    engine.dispose()


def test_threads_racing_make_one_attendance(any_url: str) -> None:
    from concurrent.futures import ThreadPoolExecutor

    worker, project = _eligible_world(any_url)
    engine = make_engine(any_url)
    svc = SignInService(engine)
    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(lambda _: svc.sign_in(worker, project, at=AT).outcome, range(16)))
    assert outcomes.count(Outcome.SIGNED_IN) == 1
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM attendance")).scalar() == 1
    engine.dispose()
