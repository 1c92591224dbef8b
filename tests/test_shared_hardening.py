"""The shared database does not trust a kiosk (issue 19): tried as an attacker would, with the kiosk's own
PostgreSQL login (``create_roles``, what ``kiosk db roles --login`` does) on the real server, and on a
SQLite shared file where the rule applies there too.

- a kiosk login writes no table itself; ``kiosk_push`` takes only its own kiosk's rows, attendance only
  with its own attempt in the batch and at a believable time; refusals are recorded;
- the revision counter only moves forward, and no kiosk login can move it;
- writers never queue behind each other's revisions, a pull never skips a revision still in flight, a
  kiosk login cannot hold a transaction open, a hung sync gives up and retries;
- a kiosk login reads the gate photos of its own kiosk only.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from support.sync_helpers import Proxy, count, make_site, new_kiosk, today
from support.waiting import wait_until

from store.codes.keys import IssuerPrivateKey, register_public_key, revoke_key
from store.db.engine import CONNECT_TIMEOUT_S, make_engine
from store.db.models import Attendance, IssuerKey, PushRejection, SignInAttempt
from store.db.revision import current_revision, take_revisions
from store.reasons import Outcome
from store.rules.signin import SignInService
from store.sync.identity import kiosk_identity
from store.sync.live import libpq_url
from store.sync.roles import create_roles
from store.sync.rounds import status, sync_once
from store.timeutil import DEFAULT_ZONE, local_date, utcnow, zone


@dataclass
class Login:
    name: str
    url: str  # the shared database, as this login


@pytest.fixture
def logins(pg_url: str) -> Iterator[list[Login]]:
    """Two kiosk logins in a group of their own (short timeouts, so a test can see them act)."""
    suffix = uuid.uuid4().hex[:8]
    group = f"kgate_{suffix}"
    admin = make_engine(pg_url)
    made = []
    for i in (1, 2):
        name = f"gate{i}_{suffix}"
        create_roles(
            admin,
            group=group,
            login=name,
            password="synthetic-pw",
            timeouts_ms={"idle_in_transaction_session_timeout": 1500},
        )
        made.append(Login(name, pg_url.replace("postgres@", f"{name}:synthetic-pw@")))
    admin.dispose()
    yield made
    with psycopg.connect(libpq_url(pg_url), autocommit=True) as conn:
        for role in [m.name for m in made] + [group]:
            conn.execute(f'DROP OWNED BY "{role}"')
            conn.execute(f'DROP ROLE "{role}"')


def _psql(url: str, sql: str, *params: object) -> list[tuple[object, ...]]:
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        cur = conn.execute(sql, params or None)  # type: ignore[arg-type]
        return cur.fetchall() if cur.description else []


def _kiosk(tmp_path: Path, name: str, shared: Engine, project: uuid.UUID) -> tuple[Engine, uuid.UUID]:
    k = new_kiosk(tmp_path, name)
    assert sync_once(k, shared).ok
    return k, kiosk_identity(k, name=name, project_id=project)


def _rejections(url: str) -> list[tuple[str, str]]:
    return [
        (str(t), str(r)) for t, r in _psql(url, "SELECT table_name, reason FROM pushrejection ORDER BY at")
    ]


# --- 1. a kiosk writes only its own rows ------------------------------------------------------------


def test_kiosk_login_cannot_write_any_table_itself(pg_url: str, logins: list[Login], tmp_path: Path) -> None:
    admin = make_engine(pg_url)
    site = make_site(admin, workers=2)
    s2 = make_engine(logins[1].url)
    k2, id2 = _kiosk(tmp_path, "k2", s2, site.project)
    SignInService(k2).sign_in(site.workers[0], site.project, at=utcnow(), kiosk_id=id2)
    assert sync_once(k2, s2).ok and count(admin, Attendance) == 1
    d = today()
    attacks = [
        "INSERT INTO attendance (id, created_at, updated_at, rev, worker_id, project_id, work_date, first_at, way, "
        f"kiosk_id) VALUES ('{uuid.uuid4()}', now(), now(), 0, '{site.workers[1]}', '{site.project}', '{d}', now(), "
        f"'B', '{id2}')",
        f"DELETE FROM attendance WHERE kiosk_id = '{id2}'",
        f"UPDATE signinattempt SET outcome = 'refused' WHERE kiosk_id = '{id2}'",
        "INSERT INTO signinattempt (id, created_at, updated_at, rev, at, way, outcome) "
        f"VALUES ('{uuid.uuid4()}', now(), now(), 0, now(), 'B', 'signed_in')",
        f"UPDATE kiosk SET name = 'x' WHERE id = '{id2}'",
        "DELETE FROM gatephoto",
        "SELECT kiosk_take_revisions(5)",
        "SELECT * FROM pushrejection",
    ]
    for sql in attacks:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            _psql(logins[0].url, sql)
    assert count(admin, Attendance) == 1 and count(admin, SignInAttempt, outcome=Outcome.SIGNED_IN.value) == 1
    s2.dispose()
    admin.dispose()


def test_a_login_pushes_for_its_own_kiosk_only(pg_url: str, logins: list[Login], tmp_path: Path) -> None:
    admin = make_engine(pg_url)
    site = make_site(admin, workers=3)
    s1, s2 = make_engine(logins[0].url), make_engine(logins[1].url)
    k1, id1 = _kiosk(tmp_path, "k1", s1, site.project)
    k2, id2 = _kiosk(tmp_path, "k2", s2, site.project)
    SignInService(k1).sign_in(site.workers[0], site.project, at=utcnow(), kiosk_id=id1)
    SignInService(k2).sign_in(site.workers[1], site.project, at=utcnow(), kiosk_id=id2)
    assert sync_once(k1, s1).ok and sync_once(k2, s2).ok  # each login is bound to its kiosk by its first push
    assert dict(_psql(pg_url, "SELECT role_name, kiosk_id FROM kiosklogin")) == {
        logins[0].name: id1,
        logins[1].name: id2,
    }
    # login 1 calling the push function for kiosk 2: refused outright
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="pushes for kiosk"):
        _psql(logins[0].url, "SELECT kiosk_push(%s, '[]', '[]', '[]', '[]')", id2)
    # kiosk 1's store holding a sign-in under kiosk 2's id (forged in the file): pushed, refused, recorded
    SignInService(k1).sign_in(site.workers[2], site.project, at=utcnow(), kiosk_id=id2)
    report = sync_once(k1, s1)
    assert report.ok and report.rejected >= 2
    assert ("signinattempt", "not_own_kiosk") in _rejections(pg_url)
    assert count(admin, Attendance) == 2 and count(admin, Attendance, worker_id=site.workers[2]) == 0
    # nor can it rename the other gate through its own kiosk rows
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        _psql(logins[0].url, "UPDATE kiosk SET name = 'x'")
    for e in (s1, s2, admin):
        e.dispose()


def test_a_login_pushes_its_own_kiosks_events_only(pg_url: str, logins: list[Login], tmp_path: Path) -> None:
    """The kiosk's event log (issue 16) goes in through ``kiosk_push_events``: its own kiosk's rows arrive,
    a row under another kiosk's id is refused and recorded, and the table takes no direct write."""
    from store.db.models import KioskEvent
    from store.roster.events import EventKind, record_event

    admin = make_engine(pg_url)
    site = make_site(admin, workers=1)
    s1, s2 = make_engine(logins[0].url), make_engine(logins[1].url)
    k1, id1 = _kiosk(tmp_path, "k1", s1, site.project)
    _k2, id2 = _kiosk(tmp_path, "k2", s2, site.project)
    record_event(k1, EventKind.LOCK, how="key")
    record_event(k1, EventKind.LOCK, kiosk_id=id2, how="key")  # forged in kiosk 1's file
    report = sync_once(k1, s1)
    assert report.ok and report.rejected >= 1
    assert count(admin, KioskEvent, kiosk_id=id1) >= 1 and count(admin, KioskEvent, kiosk_id=id2) == 0
    assert ("kioskevent", "not_own_kiosk") in _rejections(pg_url)
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="pushes events for kiosk"):
        _psql(logins[0].url, "SELECT kiosk_push_events(%s, '[]')", id2)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        _psql(
            logins[0].url,
            "INSERT INTO kioskevent (id, created_at, updated_at, rev, at, kind) "
            f"VALUES ('{uuid.uuid4()}', now(), now(), 0, now(), 'lock')",
        )
    for e in (s1, s2, admin):
        e.dispose()


def test_a_backdated_first_sign_in_does_not_win(any_url: str, tmp_path: Path) -> None:
    """Issue 19: a local attendance whose first_at was edited to 00:00:30 became the shared winner with no
    attempt behind it. The earliest-wins rule runs in the shared database and needs the attempt."""
    shared = make_engine(any_url)
    site = make_site(shared, workers=2)
    k1, id1 = _kiosk(tmp_path, "k1", shared, site.project)
    k2, id2 = _kiosk(tmp_path, "k2", shared, site.project)
    now = utcnow()
    # both sign-ins on one work date, even a few minutes after the site's midnight (16:00 UTC)
    midnight = datetime.combine(local_date(now), datetime.min.time(), zone(DEFAULT_ZONE)).astimezone(UTC)
    gap = min(timedelta(minutes=1), (now - midnight) / 3)
    SignInService(k2).sign_in(site.workers[0], site.project, at=now - 2 * gap, kiosk_id=id2)
    assert sync_once(k2, shared).ok
    SignInService(k1).sign_in(site.workers[0], site.project, at=now - gap, kiosk_id=id1)
    early = (now - timedelta(hours=8)).replace(tzinfo=None).isoformat(sep=" ")
    with k1.begin() as conn:  # what an attacker with the kiosk's file does
        conn.execute(text("UPDATE attendance SET first_at = :t"), {"t": early})
    report = sync_once(k1, shared)
    assert report.ok and report.rejected == 2  # the attendance, and the attempt behind it
    with shared.connect() as conn:
        held = conn.execute(text("SELECT kiosk_id FROM attendance")).scalars().all()
        why = conn.execute(text("SELECT table_name, reason FROM pushrejection ORDER BY table_name")).all()
    assert [uuid.UUID(str(h)) if not isinstance(h, uuid.UUID) else h for h in held] == [id2]
    assert [tuple(w) for w in why] == [
        ("attendance", "first_at_not_attempt_time"),
        ("signinattempt", "first_at_not_attempt_time"),
    ]
    assert sync_once(k1, shared).ok  # kiosk 1 learns the genuine winner and keeps nothing forged
    with k1.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM attendance")).scalar_one() == 1
    assert sync_once(k1, shared).rejected == 0  # nothing is sent twice
    shared.dispose()


def _rows(site_project: uuid.UUID, worker: uuid.UUID, kiosk: uuid.UUID, days: int) -> tuple[str, str]:
    now = utcnow()
    atts, attempts = [], []
    for i in range(days):
        at = (now - timedelta(days=i + 1)).isoformat()
        day = str(today() - timedelta(days=i + 1))
        a_id, t_id = str(uuid.uuid4()), str(uuid.uuid4())
        attempts.append(
            {
                "id": a_id,
                "created_at": at,
                "updated_at": at,
                "rev": 1,
                "at": at,
                "kiosk_id": str(kiosk),
                "project_id": str(site_project),
                "work_date": day,
                "way": "B",
                "worker_id": str(worker),
                "outcome": "signed_in",
                "attendance_id": t_id,
            }
        )
        atts.append(
            {
                "id": t_id,
                "created_at": at,
                "updated_at": at,
                "rev": 1,
                "worker_id": str(worker),
                "project_id": str(site_project),
                "work_date": day,
                "first_at": at,
                "way": "B",
                "kiosk_id": str(kiosk),
                "attempt_id": a_id,
            }
        )
    return json.dumps(attempts), json.dumps(atts)


def test_made_up_days_are_refused_and_recorded(pg_url: str, logins: list[Login], tmp_path: Path) -> None:
    """Twenty past days for a worker not employed on the project, each with a made-up attempt."""
    admin = make_engine(pg_url)
    site = make_site(admin, workers=2)
    s1 = make_engine(logins[0].url)
    _k1, id1 = _kiosk(tmp_path, "k1", s1, site.project)
    with admin.begin() as conn:
        conn.execute(
            text("UPDATE employment SET deleted_at = now() WHERE worker_id = :w"), {"w": site.workers[1]}
        )
    attempts, atts = _rows(site.project, site.workers[1], id1, 20)
    got = _psql(logins[0].url, "SELECT kiosk_push(%s, '[]', %s, '[]', %s)", id1, attempts, atts)[0][0]
    assert got == {"contested": 0, "rejected": 40}
    assert count(admin, Attendance) == 0 and count(admin, SignInAttempt) == 0
    reasons = {r for _, r in _rejections(pg_url)}
    # beyond 7 days back the attempts are too old (and their days have nothing behind them); the rest: not employed
    assert reasons == {"time_far_from_push", "no_attempt_in_batch", "not_employed_on_project"}
    # and tomorrow is not a day either
    attempts, atts = _rows(site.project, site.workers[0], id1, 1)
    future = (utcnow() + timedelta(hours=1)).isoformat()
    a, t = json.loads(attempts), json.loads(atts)
    a[0]["at"] = t[0]["first_at"] = future
    got = _psql(
        logins[0].url, "SELECT kiosk_push(%s, '[]', %s, '[]', %s)", id1, json.dumps(a), json.dumps(t)
    )[0][0]
    assert got["rejected"] == 2 and count(admin, Attendance) == 0  # the attempt, and the day it was behind
    assert count(admin, PushRejection) == 42
    s1.dispose()
    admin.dispose()


# --- 2. the counter only moves forward -----------------------------------------------------------


def test_the_revision_counter_cannot_be_rewound(
    any_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    shared = make_engine(any_url)
    site = make_site(shared, workers=1)
    key = IssuerPrivateKey.generate()
    register_public_key(shared, key.public_pem())
    kiosk = new_kiosk(tmp_path, "k")
    assert sync_once(kiosk, shared).ok
    if shared.dialect.name == "postgresql":
        suffix = uuid.uuid4().hex[:8]
        login = f"gate_{suffix}"
        create_roles(shared, group=f"kgate_{suffix}", login=login, password="synthetic-pw")
        request.addfinalizer(lambda: _drop(any_url, login, f"kgate_{suffix}"))
        as_kiosk = any_url.replace("postgres@", f"{login}:synthetic-pw@")
        for sql in (
            "UPDATE synccounter SET value = 10",
            "SELECT setval('kiosk_rev', 10)",
            "ALTER SEQUENCE kiosk_rev RESTART 10",
            "SELECT kiosk_take_revisions(1)",
        ):
            with pytest.raises(psycopg.Error, match=r"permission denied|must be owner"):
                _psql(as_kiosk, sql)
    # not even the owner moves the counter row back (SQLite's counter; a frozen relic on PostgreSQL)
    with pytest.raises(Exception, match="only moves forward"), shared.begin() as conn:
        conn.execute(text("UPDATE synccounter SET value = value - 1 WHERE name = 'rev'"))
    revoke_key(shared, key.kid)
    assert sync_once(kiosk, shared).ok  # the revocation reaches the kiosk
    with kiosk.connect() as conn:
        assert conn.execute(text("SELECT revoked_at IS NOT NULL FROM issuerkey")).scalar_one()
    assert site.project and count(kiosk, IssuerKey) == 1
    shared.dispose()


def _drop(url: str, *roles: str) -> None:
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        for role in roles:
            if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
                continue
            conn.execute(f'DROP OWNED BY "{role}"')
            conn.execute(f'DROP ROLE "{role}"')


# --- 3. no one waits on one writer ---------------------------------------------------------------


def test_writers_do_not_queue_and_a_pull_never_skips_a_revision_in_flight(
    pg_url: str, tmp_path: Path
) -> None:
    admin = make_engine(pg_url)
    site = make_site(admin, workers=2)
    kiosk = new_kiosk(tmp_path, "k")
    assert sync_once(kiosk, admin).ok
    slow = psycopg.connect(libpq_url(pg_url))  # a writer that took its revision and is still working
    slow_rev = slow.execute("SELECT kiosk_take_revisions(1)").fetchone()[0]  # type: ignore[index]
    slow.execute("UPDATE worker SET name = '慢写入', rev = %s WHERE id = %s", (slow_rev, site.workers[0]))
    key = IssuerPrivateKey.generate()
    with (
        admin.connect() as conn
    ):  # another writer goes past it at once (it would have waited on the row lock)
        conn.exec_driver_sql("SET lock_timeout = '2s'")
        conn.commit()
    t0 = time.monotonic()
    register_public_key(admin, key.public_pem())
    revoke_key(admin, key.kid)
    assert time.monotonic() - t0 < 2.0
    with admin.connect() as conn:
        assert current_revision(conn) == slow_rev - 1  # not past the writer still running
    assert sync_once(kiosk, admin).ok
    assert count(kiosk, IssuerKey) == 0  # its revisions are above the one in flight: next time
    slow.commit()
    slow.close()
    assert sync_once(kiosk, admin).ok
    with kiosk.connect() as conn:
        assert (
            conn.execute(
                text("SELECT name FROM worker WHERE id = :w"), {"w": site.workers[0].hex}
            ).scalar_one()
            == "慢写入"
        )
        assert conn.execute(text("SELECT revoked_at IS NOT NULL FROM issuerkey")).scalar_one()
    with admin.begin() as conn:
        last = take_revisions(conn, 3)
    with admin.connect() as conn:
        assert current_revision(conn) == last
    admin.dispose()


def test_a_kiosk_login_cannot_hold_a_transaction_open(
    pg_url: str, logins: list[Login], tmp_path: Path
) -> None:
    """Issue 19: ``BEGIN; UPDATE synccounter …; SELECT pg_sleep(25)`` held every writer. Now the counter is
    out of reach, and a push left open is ended by the login's idle timeout (1.5 s in this test)."""
    admin = make_engine(pg_url)
    site = make_site(admin, workers=1)
    s1 = make_engine(logins[0].url)
    _k1, id1 = _kiosk(tmp_path, "k1", s1, site.project)
    conn = psycopg.connect(libpq_url(logins[0].url))
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("UPDATE synccounter SET value = value")
    conn.rollback()
    timeouts = conn.execute(
        "SELECT current_setting('statement_timeout'), "
        "current_setting('idle_in_transaction_session_timeout'), current_setting('lock_timeout')"
    ).fetchone()
    assert timeouts == ("1min", "1500ms", "10s")
    conn.execute("SELECT kiosk_push(%s, '[]', '[]', '[]', '[]')", (id1,))  # holds a revision, then sits
    with admin.connect() as c:
        held = current_revision(c)
    t0 = time.monotonic()
    register_public_key(admin, IssuerPrivateKey.generate().public_pem())  # nobody waits for it
    assert time.monotonic() - t0 < 1.0
    pid = conn.info.backend_pid

    def ended() -> bool:  # the server's idle-in-transaction timer (1.5 s) ended that session
        with admin.connect() as c:
            return not c.execute(
                text("SELECT count(*) FROM pg_stat_activity WHERE pid = :p"), {"p": pid}
            ).scalar()

    wait_until(ended, what="the server to end the idle transaction")
    with pytest.raises(psycopg.errors.IdleInTransactionSessionTimeout):
        conn.execute("SELECT 1")  # the server ended the idle transaction, and its locks with it
    conn.close()
    with admin.connect() as c:
        assert current_revision(c) > held
    s1.dispose()
    admin.dispose()


def test_a_hung_sync_gives_up_with_a_clear_status_and_retries(pg_url: str, tmp_path: Path) -> None:
    """A proxy that stops passing bytes on in the middle of a push: the sync gives up at its deadline, the
    kiosk says so, other writers go on meanwhile, and the next sync sends everything."""
    admin = make_engine(pg_url)
    site = make_site(admin, workers=2)
    proxy = Proxy()
    via = make_engine(proxy.url(pg_url))
    kiosk, gate = _kiosk(tmp_path, "k", via, site.project)
    SignInService(kiosk).sign_in(site.workers[0], site.project, at=utcnow(), kiosk_id=gate)
    proxy.freeze()
    done: list[object] = []
    t = threading.Thread(target=lambda: done.append(sync_once(kiosk, via, deadline_s=2.0)))
    t0 = time.monotonic()
    t.start()
    time.sleep(0.5)
    key = IssuerPrivateKey.generate()
    register_public_key(admin, key.public_pem())
    revoke_key(admin, key.kid)  # not behind the hung kiosk
    assert time.monotonic() - t0 < 2.0
    t.join(15)
    assert (
        not t.is_alive() and time.monotonic() - t0 < 2 + CONNECT_TIMEOUT_S + 2
    )  # (+ a reconnect that fails)
    report = done[0]
    assert not report.ok and "did not answer within 2 s" in report.error.en  # type: ignore[attr-defined]
    assert "没有应答" in report.error.zh  # type: ignore[attr-defined]
    st = status(kiosk)
    assert st.state == "offline" and "did not answer" in st.last_error("en") and st.pending["attendance"] == 1
    proxy.cut()
    via.dispose()
    again = sync_once(kiosk, admin)
    assert again.ok and again.pushed["attendance"] == 1 and count(admin, Attendance) == 1
    admin.dispose()


# --- 5. gate photos stay with their kiosk --------------------------------------------------------


def test_a_kiosk_login_reads_its_own_gate_photos_only(
    pg_url: str, logins: list[Login], tmp_path: Path
) -> None:
    admin = make_engine(pg_url)
    site = make_site(admin, workers=2)
    s1, s2 = make_engine(logins[0].url), make_engine(logins[1].url)
    k1, id1 = _kiosk(tmp_path, "k1", s1, site.project)
    k2, id2 = _kiosk(tmp_path, "k2", s2, site.project)
    photo = (b"\xff\xd8synthetic-jpeg\xff\xd9", 4, 3)
    SignInService(k1).sign_in(site.workers[0], site.project, at=utcnow(), kiosk_id=id1, photo=photo)
    SignInService(k2).sign_in(site.workers[1], site.project, at=utcnow(), kiosk_id=id2, photo=photo)
    assert sync_once(k1, s1).pushed["gatephoto"] == 1 and sync_once(k2, s2).pushed["gatephoto"] == 1
    assert _psql(pg_url, "SELECT count(*) FROM gatephoto") == [(2,)]
    mine = _psql(logins[0].url, "SELECT g.jpeg FROM gatephoto g")
    assert mine == [(photo[0],)]
    assert _psql(logins[1].url, "SELECT count(*) FROM gatephoto") == [(1,)]
    for e in (s1, s2, admin):
        e.dispose()


def test_cli_binds_a_login_to_its_kiosk(
    pg_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    from kiosk.cli import main

    suffix = uuid.uuid4().hex[:8]
    group, one, two = f"kgate_{suffix}", f"gate1_{suffix}", f"gate2_{suffix}"
    request.addfinalizer(lambda: _drop(pg_url, one, two, group))
    monkeypatch.setenv("GATE_PW", "synthetic-pw")
    gate = uuid.uuid4()
    base = ["db", "roles", "--db", pg_url, "--group", group, "--password-env", "GATE_PW"]
    assert main([*base, "--login", one, "--kiosk", str(gate)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["kiosk"] == str(gate) and out["timeouts_ms"]["idle_in_transaction_session_timeout"] == 30_000
    assert "kiosk_push(uuid, jsonb, jsonb, jsonb, jsonb)" in out["functions"]
    assert _psql(pg_url, "SELECT role_name, kiosk_id FROM kiosklogin") == [(one, gate)]
    assert main([*base, "--login", two, "--kiosk", str(gate)]) == 2  # one kiosk, one login
    assert f"belongs to the login {one}" in capsys.readouterr().err
    assert main([*base, "--login", two, "--kiosk", "gate-1"]) == 2
    assert "UUID" in capsys.readouterr().err


def test_a_login_pushes_its_own_kiosks_departures_only(
    pg_url: str, logins: list[Login], tmp_path: Path
) -> None:
    """出场 (issue 25) goes in through ``kiosk_push_departures``: its own kiosk's departures arrive, one under
    another kiosk's id or a correction (补录, a supervisor's, never a kiosk's) is refused and recorded."""
    from store.db.models import Departure
    from store.rules.direction import DirectionService, GateMode

    admin = make_engine(pg_url)
    site = make_site(admin, workers=3)
    s1, s2 = make_engine(logins[0].url), make_engine(logins[1].url)
    k1, id1 = _kiosk(tmp_path, "k1", s1, site.project)
    _k2, id2 = _kiosk(tmp_path, "k2", s2, site.project)
    gate = DirectionService(SignInService(k1))
    now = utcnow()
    gate.pass_gate(GateMode.OUT, site.workers[0], site.project, at=now, kiosk_id=id1)
    gate.pass_gate(
        GateMode.OUT, site.workers[1], site.project, at=now, kiosk_id=id2
    )  # forged in kiosk 1's file
    with k1.begin() as conn:  # a correction made up on the kiosk
        conn.execute(
            text("UPDATE departure SET method = 'manual' WHERE worker_id = :w"), {"w": site.workers[1].hex}
        )
    gate.pass_gate(GateMode.OUT, site.workers[2], site.project, at=now, kiosk_id=id1)
    with k1.begin() as conn:
        conn.execute(
            text("UPDATE departure SET method = 'manual' WHERE worker_id = :w"), {"w": site.workers[2].hex}
        )
    report = sync_once(k1, s1)
    assert report.ok and report.rejected >= 2
    assert count(admin, Departure, kiosk_id=id1) == 1 and count(admin, Departure) == 1
    assert {("departure", "not_own_kiosk"), ("departure", "manual_from_kiosk")} <= set(_rejections(pg_url))
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="pushes departures for kiosk"):
        _psql(logins[0].url, "SELECT kiosk_push_departures(%s, '[]')", id2)
    for e in (s1, s2, admin):
        e.dispose()
