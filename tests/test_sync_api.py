"""Kiosks sync through the site service with their own keys (issue 24), on PostgreSQL and the SQLite
default, over a real socket: identity (enrollment, pending, revocation, replay), scoped pulls, pushes
checked against what the kiosk can prove, earliest sign-in wins across kiosks, live changes."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from support.sync_helpers import Site, count, make_site, new_kiosk
from support.sync_service import Service, start_service

from store.db.engine import make_engine
from store.db.models import Attendance, PushRejection, SignInAttempt, Worker
from store.reasons import Outcome
from store.rules.signin import SignInService
from store.sync.client import ServiceRefused, SyncClient, sync_via
from store.sync.keys import approve, list_keys, revoke
from store.sync.signing import KioskKeyError, KioskKeyFile
from store.timeutil import local_date, utcnow


def morning(minute: int = 0) -> datetime:
    """A moment of the last two hours (the service refuses sign-ins from its future), ``minute`` ordering them."""
    return START - timedelta(minutes=100 - minute)


START = utcnow()


@pytest.fixture
def svc(any_url: str, tmp_path: Path) -> Iterator[Service]:
    e = make_engine(any_url)
    from store.db.migrate import upgrade_engine

    upgrade_engine(e)
    e.dispose()
    s = start_service(any_url, tmp_path)
    yield s
    s.stop()


def _ok(local: Engine, client: SyncClient):  # type: ignore[no-untyped-def]
    report = sync_via(local, client)
    assert report.ok, report.error and report.error.en
    return report


def _until(local: Engine, client: SyncClient, cond: Callable[[], bool], bound_s: float = 120.0) -> None:
    """Sync until ``cond`` holds. On PostgreSQL a row is pulled once every transaction older than it has
    ended, on the whole server (store/sync/exchange.py Window); on a server shared with other test runs
    that can take a moment."""
    import time

    until = time.monotonic() + bound_s
    while True:
        _ok(local, client)
        if cond():
            return
        assert time.monotonic() < until, "the kiosk did not get the rows in time"
        time.sleep(0.2)


def test_enrolled_kiosk_pulls_its_project_and_pushes_earliest_wins(svc: Service, tmp_path: Path) -> None:
    site = make_site(svc.engine, workers=6)
    other = make_site(
        svc.engine, workers=3, first=100, name="另一项目"
    )  # another project of the district: never reaches the kiosks
    c1, id1 = svc.kiosk(tmp_path, "k1", [site.project])
    c2, id2 = svc.kiosk(tmp_path, "k2", [site.project])
    k1, k2 = new_kiosk(tmp_path, "k1"), new_kiosk(tmp_path, "k2")
    for k, c in ((k1, c1), (k2, c2)):
        _until(k, c, lambda k=k: count(k, Worker) == 6)  # type: ignore[misc]
        with k.connect() as conn:
            assert not set(conn.execute(select(Worker.__table__.c.id)).scalars()) & set(other.workers)  # type: ignore[attr-defined]
    s1, s2 = SignInService(k1), SignInService(k2)
    w = site.workers
    assert s1.sign_in(w[0], site.project, at=morning(10), kiosk_id=id1).outcome is Outcome.SIGNED_IN
    assert s1.sign_in(w[1], site.project, at=morning(20), kiosk_id=id1).outcome is Outcome.SIGNED_IN
    assert s2.sign_in(w[1], site.project, at=morning(5), kiosk_id=id2).outcome is Outcome.SIGNED_IN
    r1 = _ok(k1, c1)
    assert r1.rejected == 0, _rejections(svc.engine)
    assert r1.pushed.get("attendance") == 2
    r2 = _ok(k2, c2)
    assert r2.contested_days == 1
    _until(k1, c1, lambda: count(k1, Attendance) == 2)
    _until(k2, c2, lambda: count(k2, Attendance) == 2)
    assert count(svc.engine, Attendance) == 2
    with svc.engine.connect() as conn:
        t = Attendance.__table__  # type: ignore[attr-defined]
        kiosk_of: dict[uuid.UUID, uuid.UUID] = dict(conn.execute(select(t.c.worker_id, t.c.kiosk_id)).all())
    assert kiosk_of[w[1]] == id2 and kiosk_of[w[0]] == id1
    # both kiosks hold the winners; pushing again changes nothing (idempotent)
    assert count(k1, Attendance) == 2 == count(k2, Attendance)
    again = s2.sign_in(w[0], site.project, at=morning(60), kiosk_id=id2)
    assert again.outcome is Outcome.ALREADY
    _ok(k2, c2)
    _ok(k1, c1)
    assert count(svc.engine, Attendance) == 2
    assert count(svc.engine, SignInAttempt) == 4


def test_pending_then_approved_then_revoked_at_the_next_request(svc: Service, tmp_path: Path) -> None:
    site = make_site(svc.engine, workers=2)
    key = KioskKeyFile.create(tmp_path / "k.key")
    client = SyncClient(svc.base_url, key)
    svc.clients.append(client)
    kid = uuid.uuid4()
    assert client.register(kid, "3号门").status == "pending"
    local = new_kiosk(tmp_path, "k")
    report = sync_via(local, client)
    assert not report.ok and "not approved" in (report.error.en if report.error else "")
    assert count(local, Worker) == 0
    approve(svc.engine, str(kid), [site.project])
    _until(local, client, lambda: count(local, Worker) == 2)
    assert [k.status for k in list_keys(svc.engine)] == ["approved"]
    revoke(svc.engine, key.key_id)
    with pytest.raises(ServiceRefused) as got:
        client.pull(local)
    assert got.value.code == "revoked"


def test_another_key_cannot_claim_a_kiosk_or_replay_a_request(svc: Service, tmp_path: Path) -> None:
    site = make_site(svc.engine, workers=1)
    c1, id1 = svc.kiosk(tmp_path, "k1", [site.project])
    thief = SyncClient(svc.base_url, KioskKeyFile.create(tmp_path / "thief.key"))
    svc.clients.append(thief)
    with pytest.raises(ServiceRefused) as got:
        thief.register(id1, "stolen")
    assert got.value.code == "kiosk_taken"
    # the same signed request twice: the second is a replay
    import httpx

    headers = c1.key.headers("GET", "/api/sync/v1/me", b"", now=c1.clock())
    first = httpx.get(svc.base_url + "/api/sync/v1/me", headers=headers)
    second = httpx.get(svc.base_url + "/api/sync/v1/me", headers=headers)
    assert first.status_code == 200 and second.status_code == 401
    assert second.json()["error"]["code"] == "replay"
    # a request signed 10 minutes ago is refused; an unsigned one too
    old = c1.key.headers("GET", "/api/sync/v1/me", b"", now=c1.clock() - 600)
    assert httpx.get(svc.base_url + "/api/sync/v1/me", headers=old).json()["error"]["code"] == "stale"
    assert httpx.get(svc.base_url + "/api/sync/v1/me").status_code == 401


def test_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    key = KioskKeyFile.create(tmp_path / "k.key")
    assert (key.path.stat().st_mode & 0o777) == 0o600
    key.path.chmod(0o644)
    with pytest.raises(KioskKeyError):
        KioskKeyFile.load(key.path)


def _rejections(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.execute(select(PushRejection.__table__.c.reason)).scalars())  # type: ignore[attr-defined]


def test_the_service_believes_nothing_the_kiosk_cannot_prove(svc: Service, tmp_path: Path) -> None:
    site = make_site(svc.engine, workers=3)
    other: Site = make_site(svc.engine, workers=2, first=100, name="另一项目")
    client, me = svc.kiosk(tmp_path, "k1", [site.project])
    local = new_kiosk(tmp_path, "k1")
    _ok(local, client)
    from datetime import date

    from store.sync.wire import encode_rows

    def attempt_and_day(worker: uuid.UUID, project: uuid.UUID, at, work_date: date, kiosk: uuid.UUID = me):  # type: ignore[no-untyped-def]
        a, t = uuid.uuid4(), uuid.uuid4()
        base = {"worker_id": worker, "project_id": project, "work_date": work_date, "kiosk_id": kiosk}
        att = {
            **base,
            "id": t,
            "first_at": at,
            "way": "B",
            "attempt_id": a,
            "created_at": at,
            "updated_at": at,
            "rev": 1,
        }
        sa = {
            **base,
            "id": a,
            "at": at,
            "outcome": "signed_in",
            "attendance_id": t,
            "way": "B",
            "created_at": at,
            "updated_at": at,
            "rev": 1,
        }
        return {"signinattempt": encode_rows([sa]), "attendance": encode_rows([att])}

    at = morning(10)
    day = local_date(at)
    cases = [
        attempt_and_day(site.workers[0], site.project, at, date(2025, 9, 1)),  # a day the time does not say
        attempt_and_day(site.workers[0], site.project, at, day + timedelta(days=600)),
        attempt_and_day(other.workers[0], other.project, at, day),  # a project not approved for it
        attempt_and_day(other.workers[0], site.project, at, day),  # a worker not employed there
        attempt_and_day(site.workers[1], site.project, at, day, kiosk=uuid.uuid4()),  # another kiosk's
    ]
    for body in cases:
        got = client.request("POST", "/api/sync/v1/push", body=body)
        assert got["accepted"].get("attendance", 0) == 0, body
    assert count(svc.engine, Attendance) == 0
    reasons = _rejections(svc.engine)
    for r in ("work_date_not_first_at", "project_not_approved", "not_employed", "not_this_kiosk"):
        assert r in reasons
    # events and refused attempts only for this kiosk and its projects
    ev = {
        "id": uuid.uuid4(),
        "at": at,
        "kiosk_id": uuid.uuid4(),
        "project_id": site.project,
        "kind": "unlock",
        "created_at": at,
        "updated_at": at,
        "rev": 1,
    }
    got = client.request("POST", "/api/sync/v1/push", body={"kioskevent": encode_rows([ev])})
    assert got["rejected"] == 1
    # the honest one goes through
    got = client.request(
        "POST", "/api/sync/v1/push", body=attempt_and_day(site.workers[2], site.project, at, day)
    )
    assert got["accepted"] == {"signinattempt": 1, "attendance": 1}


def test_long_poll_wakes_the_other_kiosk_of_the_project_only(svc: Service, tmp_path: Path) -> None:
    import threading

    site = make_site(svc.engine, workers=3)
    other = make_site(svc.engine, workers=1, first=100, name="另一项目")
    c1, id1 = svc.kiosk(tmp_path, "k1", [site.project])
    c2, _ = svc.kiosk(tmp_path, "k2", [site.project])
    c3, _ = svc.kiosk(tmp_path, "k3", [other.project])
    ks = [new_kiosk(tmp_path, n) for n in ("k1", "k2", "k3")]
    revs = {}

    def cursor(k: Engine) -> int:
        with k.connect() as conn:
            return int(conn.execute(text("SELECT value FROM syncstate WHERE key = 'pull.rev'")).scalar_one())

    for k, c, name in zip(ks, (c1, c2, c3), ("k1", "k2", "k3"), strict=True):
        # settled: synced until the service has nothing newer for it (see _until on PostgreSQL)
        _until(k, c, lambda k=k, c=c: not c.wait(cursor(k), 0.0))  # type: ignore[misc]
        revs[name] = cursor(k)
    woke: dict[str, bool] = {}

    def wait(name: str, c: SyncClient, timeout: float) -> None:
        woke[name] = c.wait(revs[name], timeout)

    threads = [
        threading.Thread(target=wait, args=("k1", c1, 4.0)),
        threading.Thread(target=wait, args=("k2", c2, 25.0)),
        threading.Thread(target=wait, args=("k3", c3, 4.0)),
    ]
    for t in threads:
        t.start()
    import time

    time.sleep(0.5)  # the waits are registered (a late one would still see the change by its revision)
    SignInService(ks[0]).sign_in(site.workers[0], site.project, at=morning(10), kiosk_id=id1)
    _ok(ks[0], c1)
    for t in threads:
        t.join(90)
    assert woke == {"k1": False, "k2": True, "k3": False}


def test_cli_enroll_register_list_approve_revoke_and_settle(
    svc: Service, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from kiosk.cli import main

    site = make_site(svc.engine, workers=1)
    db = ["--db", svc.url]
    assert main(["kiosk", "enroll", "--project", str(site.project), *db]) == 0
    token = json.loads(capsys.readouterr().out)["token"]
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(
        f'[sync]\nservice_url = "{svc.base_url}"\nkey_file = "{tmp_path / "kiosk.key"}"\n'
        f'[store]\nlocal_url = "sqlite:///{tmp_path / "local.db"}"\n',
        encoding="utf-8",
    )
    assert main(["kiosk", "register", "--token", token, "--config", str(cfg)]) == 0
    got = json.loads(capsys.readouterr().out)
    assert got["status"] == "approved" and got["projects"] == [str(site.project)]
    assert (tmp_path / "kiosk.key").stat().st_mode & 0o777 == 0o600
    # the token is good once
    other = tmp_path / "other.toml"
    other.write_text(
        cfg.read_text().replace("kiosk.key", "other.key").replace("local.db", "o.db"), encoding="utf-8"
    )
    assert main(["kiosk", "register", "--token", token, "--config", str(other)]) != 0
    capsys.readouterr()
    assert main(["kiosk", "register", "--config", str(other)]) == 0
    pending = json.loads(capsys.readouterr().out)
    assert pending["status"] == "pending"
    assert main(["kiosk", "approve", pending["kiosk_id"], "--project", str(site.project), *db]) == 0
    assert main(["kiosk", "list", "--json", *db]) == 0
    capsys.readouterr()
    assert main(["kiosk", "revoke", got["kiosk_id"], *db]) == 0
    capsys.readouterr()
    assert main(["kiosk", "list", "--json", *db]) == 0
    listed = {k["kiosk_id"]: k["status"] for k in json.loads(capsys.readouterr().out)}
    assert listed == {got["kiosk_id"]: "revoked", pending["kiosk_id"]: "approved"}
    assert main(["kiosk", "rejections", *db]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["kiosk", "settle", "--all", *db]) == 0
    assert json.loads(capsys.readouterr().out) == {"settled": 0}


def test_stalled_then_cut_service_never_locks_the_kiosk_and_loses_nothing(
    svc: Service, tmp_path: Path
) -> None:
    """Through a real TCP proxy: the service stops answering mid-pull (a hung line), then the line is
    cut mid-push. The kiosk signs people in meanwhile; each round gives up within its timeout; the next
    round through a good line pushes everything, once."""
    import threading
    import time

    from support.sync_helpers import Proxy

    site = make_site(svc.engine, workers=4)
    good, me = svc.kiosk(tmp_path, "k1", [site.project])
    local = new_kiosk(tmp_path, "k1")
    _until(local, good, lambda: count(local, Worker) == 4)
    port = int(svc.base_url.rsplit(":", 1)[1])
    proxy = Proxy(port=port)
    slow = SyncClient(f"http://127.0.0.1:{proxy.port}", good.key, read_s=1.5, connect_s=1.5)
    svc.clients.append(slow)
    proxy.freeze()
    done: dict[str, object] = {}
    t = threading.Thread(target=lambda: done.setdefault("r", sync_via(local, slow)))
    t0 = time.monotonic()
    t.start()
    # while the round hangs on the network, the gate keeps signing in (nothing of the store is held)
    s = SignInService(local)
    assert s.sign_in(site.workers[0], site.project, at=morning(10), kiosk_id=me).outcome is Outcome.SIGNED_IN
    t.join(30)
    report = done["r"]
    assert not report.ok and time.monotonic() - t0 < 20  # type: ignore[attr-defined]
    proxy.cut()
    # the line is cut: the round fails at once, says so, and keeps what it could not send
    proxy2 = Proxy(port=port)
    cut = SyncClient(f"http://127.0.0.1:{proxy2.port}", good.key, read_s=5.0)
    svc.clients.append(cut)
    proxy2.cut_after(600)
    assert s.sign_in(site.workers[1], site.project, at=morning(20), kiosk_id=me).outcome is Outcome.SIGNED_IN
    assert not sync_via(local, cut).ok
    _ok(local, good)
    _ok(local, good)
    assert count(svc.engine, Attendance) == 2 and count(svc.engine, SignInAttempt) == 2
    assert count(local, Worker) == 4


@pytest.fixture
def pg_svc(pg_url: str, tmp_path: Path) -> Iterator[Service]:
    from store.db.migrate import upgrade_engine

    e = make_engine(pg_url)
    upgrade_engine(e)
    e.dispose()
    s = start_service(pg_url, tmp_path)
    yield s
    s.stop()


def test_a_transaction_held_open_holds_back_later_commits_and_none_is_skipped(
    pg_svc: Service, tmp_path: Path
) -> None:
    """Commit-ordered pulls on PostgreSQL: a writer that took a lower revision and is still open when a
    later writer commits. A pull by revision would hand out the later row and move its cursor past the
    open one's revision, skipping it for ever; the snapshot window hands out neither until the open
    one ends, then both."""
    site = make_site(pg_svc.engine, workers=2)
    client, _ = pg_svc.kiosk(tmp_path, "k1", [site.project])
    local = new_kiosk(tmp_path, "k1")
    _until(local, client, lambda: count(local, Worker) == 2)
    w0, w1 = site.workers
    held = pg_svc.engine.connect()
    try:
        held.execute(
            text("UPDATE worker SET name = '甲早', rev = nextval('kiosk_rev') WHERE id = :w"), {"w": w0}
        )
        with pg_svc.engine.begin() as later:
            later.execute(
                text("UPDATE worker SET name = '乙晚', rev = nextval('kiosk_rev') WHERE id = :w"), {"w": w1}
            )
        for _ in range(3):  # however often it pulls: the later commit waits for the open one
            _ok(local, client)
            assert "乙晚" not in _names(local).values()
        held.commit()
    finally:
        held.close()
    _until(local, client, lambda: _names(local)[w0] == "甲早")
    assert _names(local)[w1] == "乙晚"


def _names(engine: Engine) -> dict[uuid.UUID, str]:
    t = Worker.__table__  # type: ignore[attr-defined]
    with engine.connect() as conn:
        return {r.id: r.name for r in conn.execute(select(t.c.id, t.c.name))}


def test_a_kiosk_of_the_old_version_moves_over_with_its_unpushed_rows(svc: Service, tmp_path: Path) -> None:
    """A kiosk that synced straight with the database (the old way), then recorded sign-ins it never
    pushed: registered with the service, it pushes them from where it stopped; nothing lost or doubled."""
    from store.sync.rounds import sync_once

    site = make_site(svc.engine, workers=3)
    local = new_kiosk(tmp_path, "old")
    kid = uuid.uuid4()
    assert sync_once(local, svc.engine).ok  # the old version's direct round
    s = SignInService(local)
    assert s.sign_in(site.workers[0], site.project, at=morning(1), kiosk_id=kid).outcome is Outcome.SIGNED_IN
    assert sync_once(local, svc.engine).ok
    for i in (1, 2):  # offline, then the upgrade
        assert (
            s.sign_in(site.workers[i], site.project, at=morning(10 + i), kiosk_id=kid).outcome
            is Outcome.SIGNED_IN
        )
    client, _ = svc.kiosk(tmp_path, "old", [site.project], kiosk_id=kid)
    report = _ok(local, client)
    assert report.pushed.get("attendance") == 2 and report.rejected == 0
    _until(local, client, lambda: count(local, Worker) == 3)
    assert count(svc.engine, Attendance) == 3 and count(svc.engine, SignInAttempt) == 3


def test_doctor_checks_the_key_and_the_service(svc: Service, tmp_path: Path) -> None:
    from kiosk.setup.doctor import run_checks

    site = make_site(svc.engine, workers=1)
    key = tmp_path / "kiosk.key"
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(
        f'[sync]\nservice_url = "{svc.base_url}"\nkey_file = "{key}"\n'
        f'[store]\nlocal_url = "sqlite:///{tmp_path / "local.db"}"\n',
        encoding="utf-8",
    )

    def got() -> dict[str, bool]:
        return {c.name: c.ok for c in run_checks(str(cfg), camera=False) if c.name.startswith("sync_")}

    assert got() == {"sync_key": False}  # no key yet
    client = SyncClient(svc.base_url, KioskKeyFile.create(key))
    svc.clients.append(client)
    kid = uuid.uuid4()
    client.register(kid, "门")
    assert got() == {"sync_key": True, "sync_service": False}  # pending
    approve(svc.engine, str(kid), [site.project])
    assert got() == {"sync_key": True, "sync_service": True}
    key.chmod(0o640)
    assert got() == {"sync_key": False}


def test_a_notify_flood_wakes_no_kiosk_and_costs_a_look_a_second(pg_svc: Service, tmp_path: Path) -> None:
    """1 000 ``NOTIFY kiosk_sync`` with nothing changed: the waiting kiosk is not woken (no round), and the
    service looked at the database about once a second, not once a notification."""
    import threading

    site = make_site(pg_svc.engine, workers=1)
    client, _ = pg_svc.kiosk(tmp_path, "k1", [site.project])
    local = new_kiosk(tmp_path, "k1")

    def cursor() -> int:
        with local.connect() as conn:
            return int(conn.execute(text("SELECT value FROM syncstate WHERE key = 'pull.rev'")).scalar_one())

    _until(local, client, lambda: not client.wait(cursor(), 0.0))
    woke: list[bool] = []
    t = threading.Thread(target=lambda: woke.append(client.wait(cursor(), 4.0)))
    t.start()
    import time

    t0 = time.monotonic()
    with pg_svc.engine.connect() as conn:
        for i in range(1000):
            conn.execute(text(f"NOTIFY kiosk_sync, '{i}'"))
            conn.commit()
    t.join(60)
    spent = time.monotonic() - t0
    hub = pg_svc.server.config.app.state.sync_hub  # type: ignore[union-attr]
    assert woke == [False]
    assert hub.looks <= 6 * spent + 5  # at most one look per SETTLE_S, whatever the notifications
