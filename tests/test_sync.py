"""Sync between kiosks (SQLite files) and the shared database (the real PostgreSQL, and a SQLite file):
offline sign-ins on two kiosks merge with nothing lost and nothing doubled, the earliest wins, a cut push
resumes, what reaches a kiosk (and what never does), the kiosk role's limits."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text, update
from sqlalchemy.engine import Engine
from sqlmodel import select
from support.sync_helpers import Proxy, count, make_site, morning, new_kiosk, today

from store.db.engine import make_engine, session
from store.db.models import (
    Attendance,
    BankCard,
    Employment,
    HealthCheck,
    IssuerKey,
    Kiosk,
    SignInAttempt,
    Worker,
)
from store.reasons import Outcome, Reason
from store.rules.signin import SignInService
from store.sync.identity import kiosk_identity
from store.sync.push import push
from store.sync.rounds import status, sync_once
from store.sync.state import PUSH_REV, write_state
from store.timeutil import utcnow


# An engine a test, made and disposed of (shared and pg_shared alike in shape).
@pytest.fixture
def shared(any_url: str):  # type: ignore[no-untyped-def]
    e = make_engine(any_url)
    yield e
    e.dispose()


@pytest.fixture
def pg_shared(pg_url: str):  # type: ignore[no-untyped-def]
    e = make_engine(pg_url)
    yield e
    e.dispose()


def _ok(local: Engine, shared: Engine):  # type: ignore[no-untyped-def]
    report = sync_once(local, shared)
    assert report.ok, report.error and report.error.en
    return report


def _attendance_by_worker(engine: Engine) -> dict[uuid.UUID, tuple[uuid.UUID, uuid.UUID | None]]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                Attendance.__table__.c.worker_id,
                Attendance.__table__.c.id,  # type: ignore[attr-defined]
                Attendance.__table__.c.kiosk_id,
            )
        )  # type: ignore[attr-defined]
        return {r.worker_id: (r.id, r.kiosk_id) for r in rows}


def test_two_offline_kiosks_merge_earliest_wins(shared: Engine, tmp_path: Path) -> None:
    site = make_site(shared, workers=6)
    k1, k2 = new_kiosk(tmp_path, "k1"), new_kiosk(tmp_path, "k2")
    id1, id2 = uuid.uuid4(), uuid.uuid4()
    for k in (k1, k2):
        _ok(k, shared)
        assert count(k, Worker) == 6
    # offline from here: kiosk 1 signs w0..w3 in, kiosk 2 signs w2..w5 in (w2 earlier, w3 later than kiosk 1)
    s1, s2 = SignInService(k1), SignInService(k2)
    w = site.workers
    for i in range(4):
        assert s1.sign_in(w[i], site.project, at=morning(10 + i), kiosk_id=id1).outcome is Outcome.SIGNED_IN
    assert s2.sign_in(w[2], site.project, at=morning(5), kiosk_id=id2).outcome is Outcome.SIGNED_IN
    assert s2.sign_in(w[3], site.project, at=morning(30), kiosk_id=id2).outcome is Outcome.SIGNED_IN
    assert s2.sign_in(w[4], site.project, at=morning(31), kiosk_id=id2).outcome is Outcome.SIGNED_IN
    assert s2.sign_in(w[4], site.project, at=morning(32), kiosk_id=id2).outcome is Outcome.ALREADY
    assert s2.sign_in(w[5], site.project, at=morning(33), kiosk_id=id2).outcome is Outcome.SIGNED_IN
    assert status(k1).pending == {"attendance": 4, "attempts": 4, "photos": 0, "events": 0, "departures": 0}

    r1 = _ok(k1, shared)
    r2 = _ok(k2, shared)
    assert r1.pushed == {"signinattempt": 4, "attendance": 4}
    assert r2.contested_days == 2
    _ok(k1, shared)

    # shared: one attendance per worker, the earliest; every scan kept, the loser's as `already`
    assert count(shared, Attendance) == 6 and count(shared, SignInAttempt) == 9
    got = _attendance_by_worker(shared)
    assert got[w[2]][1] == id2 and got[w[3]][1] == id1
    assert count(shared, SignInAttempt, outcome=Outcome.SIGNED_IN.value) == 6
    assert count(shared, SignInAttempt, outcome=Outcome.ALREADY.value) == 3
    with shared.connect() as conn:  # every successful attempt points at its day's attendance
        orphans = conn.execute(
            text(
                "SELECT count(*) FROM signinattempt a LEFT JOIN attendance t ON t.id = a.attendance_id "
                "WHERE a.outcome IN ('signed_in', 'already') AND (t.id IS NULL OR t.worker_id <> a.worker_id)"
            )
        ).scalar_one()
        assert orphans == 0
    # both kiosks hold the winners, and their own losing scan is now an `already`
    assert _attendance_by_worker(k1) == got == _attendance_by_worker(k2)
    with session(k1) as s:
        lost = s.exec(select(SignInAttempt).where(SignInAttempt.worker_id == w[2])).one()
        assert lost.outcome == Outcome.ALREADY.value and lost.attendance_id == got[w[2]][0]
    # a sign-in made on kiosk 1 is an `already` on kiosk 2, with kiosk 1's time
    again = s2.sign_in(w[0], site.project, at=morning(60), kiosk_id=id2)
    assert again.outcome is Outcome.ALREADY and again.first_at == morning(10)

    # syncing again changes nothing
    _ok(k2, shared)
    _ok(k1, shared)
    _ok(k2, shared)
    assert count(shared, Attendance) == 6 and count(shared, SignInAttempt) == 10
    assert status(k1).pending_total == 0 and status(k2).pending_total == 0
    assert status(k1).state == "synced"


def test_push_cut_midway_resumes_nothing_lost_nothing_doubled(
    pg_url: str, pg_shared: Engine, tmp_path: Path
) -> None:
    site = make_site(pg_shared, workers=3)
    kiosk = new_kiosk(tmp_path, "k")
    _ok(kiosk, pg_shared)
    svc = SignInService(kiosk)
    for i in range(3):
        svc.sign_in(site.workers[i], site.project, at=morning(i))
    for i in range(120):
        svc.record_refusal(Reason.CODE_EXPIRED, project_id=site.project, at=morning(10 + i % 50))
    proxy = Proxy()
    via = make_engine(proxy.url(pg_url))
    batches: list[int] = []

    def cut_after_first(table: str, n: int) -> None:
        batches.append(n)
        if len(batches) == 1:
            proxy.cut_after(3000)  # the next batch dies halfway through its INSERTs

    with pytest.raises(Exception):  # noqa: B017 - whatever the driver says when the line goes dead
        push(kiosk, via, batch=40, on_progress=cut_after_first)
    via.dispose()
    # the first batch is in, nothing of the second (its transaction died), and the kiosk knows it
    in_shared = count(pg_shared, SignInAttempt)
    assert in_shared == batches[0] and proxy.closed
    assert status(kiosk).pending["attempts"] == 123 - in_shared

    # sync through the dead line: reported, remembered, nothing raised
    dead = make_engine(proxy.url(pg_url))
    report = sync_once(kiosk, dead)
    dead.dispose()
    assert not report.ok and report.error is not None
    st = status(kiosk)
    assert st.state == "offline" and st.offline_since is not None and st.last_error_en
    assert "离线" in st.message("zh") and "Offline since" in st.message("en")

    # back online: everything arrives once
    _ok(kiosk, pg_shared)
    assert count(pg_shared, SignInAttempt) == 123 and count(pg_shared, Attendance) == 3
    assert status(kiosk).state == "synced" and status(kiosk).pending_total == 0
    # the kiosk forgets it pushed (a crash between the shared commit and its own): pushing again doubles nothing
    with kiosk.begin() as conn:
        write_state(conn, {PUSH_REV: "0"})
    _ok(kiosk, pg_shared)
    assert count(pg_shared, SignInAttempt) == 123 and count(pg_shared, Attendance) == 3


def test_ended_employment_revoked_key_and_deletion_reach_the_kiosk(pg_shared: Engine, tmp_path: Path) -> None:
    from store.codes.keys import IssuerPrivateKey, raw_public, register_public_key, revoke_key
    from store.codes.tokens import CodeError, TrustList, Verifier, issue_code
    from store.reasons import Role

    site = make_site(pg_shared, workers=3)
    key = IssuerPrivateKey.generate()
    register_public_key(pg_shared, raw_public(key.public_key))
    kiosk = new_kiosk(tmp_path, "k")
    _ok(kiosk, pg_shared)
    token = issue_code(key, role=Role.WORKER, subject=site.workers[0])
    assert Verifier(TrustList.from_engine(kiosk)).verify(token).subject == site.workers[0]  # type: ignore[attr-defined]

    # the office ends an employment, revokes the key and deletes a worker (tombstone)
    with session(pg_shared) as s:
        e = s.get(Employment, site.employments[1])
        assert e is not None
        e.end_date = today() - timedelta(days=1)
        s.add(e)
        w = s.get(Worker, site.workers[2])
        assert w is not None
        w.deleted_at = utcnow()
        s.add(w)
        s.commit()
    revoke_key(pg_shared, key.kid)
    report = _ok(kiosk, pg_shared)
    assert (
        report.pulled["employment"] == 1 and report.pulled["issuerkey"] == 1 and report.pulled["worker"] == 1
    )

    with session(kiosk) as s:
        assert s.exec(select(IssuerKey)).one().revoked_at is not None
    with pytest.raises(CodeError) as err:
        Verifier(TrustList.from_engine(kiosk)).verify(token)
    assert err.value.reason is Reason.CODE_KEY_REVOKED
    svc = SignInService(kiosk)
    assert svc.sign_in(site.workers[1], site.project).reason is Reason.EMPLOYMENT_ENDED
    assert svc.sign_in(site.workers[2], site.project).reason is Reason.WORKER_UNKNOWN
    assert svc.sign_in(site.workers[0], site.project).outcome is Outcome.SIGNED_IN


def test_kiosk_gets_only_what_a_gate_needs(shared: Engine, tmp_path: Path) -> None:
    site = make_site(shared, workers=2)
    with session(shared) as s:
        w = s.get(Worker, site.workers[0])
        assert w is not None
        w.face_thumb = b"\xff\xd8synthetic"
        w.address, w.mobile, w.ethnicity = "上海市虚构路1号", "13800000000", "汉"
        s.add(w)
        s.commit()
    kiosk = new_kiosk(tmp_path, "k")
    _ok(kiosk, shared)
    with session(kiosk) as s:
        workers = list(s.exec(select(Worker)))
        assert {x.id_number for x in workers} == {None}
        assert {(x.address, x.mobile, x.ethnicity, x.realname_verified_by) for x in workers} == {(None,) * 4}
        assert all(x.realname_verified_at is not None for x in workers)
        assert {x.face_thumb for x in workers} == {None}
        assert all(x.has_bank_card and x.id_number_masked == "*" * 14 + x.id_last4 for x in workers)
        assert {h.result_note for h in s.exec(select(HealthCheck))} == {None}
    assert count(kiosk, BankCard) == 0 and count(shared, BankCard) == 2
    # face thumbnails when configured
    other = new_kiosk(tmp_path, "faces")
    assert sync_once(other, shared, face_thumbs=True).ok
    with session(other) as s:
        got = s.get(Worker, site.workers[0])
        assert got is not None and got.face_thumb == b"\xff\xd8synthetic"
    # pulled rows are not the kiosk's to push
    assert status(kiosk).pending_total == 0


def test_another_shared_database_starts_afresh(pg_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    a, b = make_engine(pg_server.create()), make_engine(pg_server.create())
    make_site(a, workers=2)
    make_site(b, workers=3)
    kiosk = new_kiosk(tmp_path, "k")
    _ok(kiosk, a)
    _ok(kiosk, b)
    assert count(kiosk, Worker) == 5
    a.dispose()
    b.dispose()


def test_the_kiosk_row_reaches_the_shared_database(shared: Engine, tmp_path: Path) -> None:
    """The roster on the shared database names the gate that signed a worker in."""
    site = make_site(shared, workers=1)
    k1, k2 = new_kiosk(tmp_path, "k1"), new_kiosk(tmp_path, "k2")
    assert kiosk_identity(k1, name="东门", project_id=site.project)  # before its first sync: no project yet
    _ok(k1, shared)
    gate = kiosk_identity(k1, name="东门", project_id=site.project)
    SignInService(k1).sign_in(site.workers[0], site.project, at=morning(1), kiosk_id=gate)
    assert _ok(k1, shared).pushed["kiosk"] == 1
    with session(shared) as s:
        row = s.get(Kiosk, gate)
        assert row is not None and row.name == "东门" and row.project_id == site.project
    kiosk_identity(k1, kiosk_id=str(gate), name="东门2号", project_id=site.project)  # renamed in its config
    _ok(k1, shared)
    with session(shared) as s:
        row = s.get(Kiosk, gate)
        assert row is not None and row.name == "东门2号"
    # the other kiosk learns the gate's name: its `already` says where the day's sign-in was made
    _ok(k2, shared)
    again = SignInService(k2).sign_in(site.workers[0], site.project, at=morning(5))
    assert again.outcome is Outcome.ALREADY and again.first_kiosk == "东门2号"


def test_kiosk_role_reads_and_records_but_cannot_change_workers(
    pg_url: str, pg_shared: Engine, tmp_path: Path
) -> None:
    import psycopg

    from store.sync.live import libpq_url
    from store.sync.roles import create_roles

    site = make_site(pg_shared, workers=2)
    suffix = uuid.uuid4().hex[:8]
    group, login = f"kiosk_gate_{suffix}", f"kiosk_test_{suffix}"
    create_roles(pg_shared, group=group, login=login, password="synthetic-pw")
    try:
        as_kiosk = make_engine(pg_url.replace("postgres@", f"{login}:synthetic-pw@"))
        kiosk = new_kiosk(tmp_path, "k")
        _ok(kiosk, as_kiosk)  # pull works with the role's grants
        gate = kiosk_identity(kiosk, name="南门", project_id=site.project)
        SignInService(kiosk).sign_in(site.workers[0], site.project, at=utcnow(), kiosk_id=gate)
        report = _ok(kiosk, as_kiosk)  # and so does a push, the kiosk's own row included
        assert report.pushed["attendance"] == 1 and report.pushed["kiosk"] == 1 and report.rejected == 0
        assert count(pg_shared, Attendance) == 1
        with pytest.raises(Exception, match="permission denied"), as_kiosk.begin() as conn:
            conn.execute(update(Worker.__table__).values(name="改名"))  # type: ignore[attr-defined]
        forbidden = (
            "SELECT id_number FROM worker",
            "SELECT card_number FROM bankcard",
            "UPDATE project SET name = 'x'",
            "DELETE FROM issuerkey",
            "SELECT * FROM identitydocument",
            "INSERT INTO employer (id) VALUES (NULL)",
        )
        for sql in forbidden:
            with pytest.raises(Exception, match="permission denied"), as_kiosk.begin() as conn:
                conn.execute(text(sql))
        as_kiosk.dispose()
    finally:
        with psycopg.connect(libpq_url(pg_url), autocommit=True) as conn:
            conn.execute(f'DROP OWNED BY "{login}", "{group}"')
            conn.execute(f'DROP ROLE "{login}"')
            conn.execute(f'DROP ROLE "{group}"')


def test_pull_cut_midway_is_done_again_from_the_same_cursor(
    pg_url: str, pg_shared: Engine, tmp_path: Path
) -> None:
    from store.sync.pull import pull

    make_site(pg_shared, workers=30)
    kiosk = new_kiosk(tmp_path, "k")
    with kiosk.connect() as conn:
        indexes = set(conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'index'").scalars())
    proxy = Proxy()
    via = make_engine(proxy.url(pg_url))
    seen: list[str] = []

    def cut_in_workers(table: str, n: int) -> None:
        seen.append(table)
        if table == "worker":
            proxy.cut()

    with pytest.raises(Exception):  # noqa: B017 - whatever the driver says when the line goes dead
        pull(kiosk, via, batch=5, on_progress=cut_in_workers)
    via.dispose()
    assert "worker" in seen and status(kiosk).pulled_rev == 0
    with kiosk.connect() as conn:  # the interrupted first load left no half table and every index
        assert (
            set(conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'index'").scalars())
            == indexes
        )
    assert count(kiosk, Worker) == 0
    _ok(kiosk, pg_shared)
    assert count(kiosk, Worker) == 30 and count(kiosk, Employment) == 30 and count(kiosk, HealthCheck) == 30


def test_a_failed_sync_reports_what_committed_and_a_success_clears_the_error(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two batches committed, then the line died: the report says what went (not "pushed": {}); the next
    good sync clears last_error from --status."""
    from sqlalchemy.exc import OperationalError

    import store.sync.rounds

    shared = make_engine(sqlite_url)
    site = make_site(shared, workers=3)
    kiosk = new_kiosk(tmp_path, "k")
    _ok(kiosk, shared)
    svc = SignInService(kiosk)
    for i in range(100):
        svc.record_refusal(Reason.CODE_EXPIRED, project_id=site.project, at=morning(i % 50))

    def dies_after_two(local: Engine, target: Engine, **kw: object) -> object:
        done: list[int] = []
        forward = kw.pop("on_progress")

        def counted(table: str, n: int) -> None:
            forward(table, n)  # type: ignore[operator]
            done.append(n)
            if len(done) == 2:
                raise OperationalError("INSERT …", {}, Exception("server closed the connection unexpectedly"))

        return push(local, target, batch=40, on_progress=counted, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(store.sync.rounds, "push", dies_after_two)
    report = sync_once(kiosk, shared)
    assert not report.ok and report.error is not None
    assert report.pushed == {"signinattempt": 80} == {"signinattempt": count(shared, SignInAttempt)}
    assert status(kiosk).last_error_en
    monkeypatch.setattr(store.sync.rounds, "push", push)
    _ok(kiosk, shared)
    st = status(kiosk)
    assert st.last_error_en is None and st.last_error("zh") is None and st.pending_total == 0
    shared.dispose()
