"""The phone service keeps no state of its own (issue 24, item 5): its rate limits and the use of a
one-time activation link hold across two service processes (two hosts behind a load balancer), and it runs
behind PgBouncer in transaction mode — no ``options`` startup parameter, no session settings, no
server-side prepared statement outliving a transaction. PgBouncer is Debian's package, started by the test
on a free port (skipped with a message where it is missing; a failure on CI)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import psycopg
from fastapi.testclient import TestClient
from sqlalchemy import text
from support.pgbouncer import Bouncer, free_port, pgbouncer
from support.serve_world import ServeWorld, build_serve_world, csrf_of, serve_config
from support.way_a_world import NEAR

from kiosk.serve.app import create_app
from kiosk.serve.context import build_context
from store.codes.tokens import issue_code
from store.db.engine import make_engine
from store.people import enroll
from store.reasons import Role
from store.sync.live import libpq_url
from store.timeutil import utcnow


def officer_code(sw: ServeWorld) -> str:
    return issue_code(
        sw.world.key, role=Role.OFFICER, subject=sw.world.officer, project=sw.world.project, at=utcnow()
    )


def signin_body(sw: ServeWorld) -> dict[str, object]:
    body = {"officer_code": officer_code(sw), "latitude": NEAR[0], "longitude": NEAR[1], "accuracy": 10}
    return {**body, "nonce": uuid.uuid4().hex}


def bind(client: TestClient | httpx.Client, path: str) -> str:
    """Open an activation link and confirm it; the client keeps the device cookie. The CSRF token."""
    page = client.get(path)
    assert page.status_code == 200, page.text
    r = client.post(path, data={"csrf_token": csrf_of(page.text)}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return csrf_of(client.get("/").text)


def test_the_service_runs_behind_pgbouncer_in_transaction_mode(pg_url: str, tmp_path: Path) -> None:
    sw = build_serve_world(pg_url, tmp_path)  # made and migrated directly; served through the bouncer
    with enroll_session(sw) as workers, pgbouncer(pg_url, pool_size=2) as bouncer:
        with psycopg.connect(libpq_url(bouncer.url), autocommit=True) as conn:  # the timeouts, server-side
            row = conn.execute("SELECT current_setting('statement_timeout')").fetchone()
            assert row == ("2min",)
        check_no_statement_outlives_its_transaction(bouncer)
        cfg = serve_config(sw.key_path, code_per_min_device=1000, signin_per_min_ip=1000)
        ctx = build_context(cfg, bouncer.url)
        app = create_app(ctx)
        links = [sw.link(worker=w) for w in workers]
        errors: list[str] = []

        def phone(path: str) -> int:
            client = TestClient(app, base_url="http://testserver")
            csrf = bind(client, path)
            done = 0
            for _ in range(12):  # the same statements again and again: psycopg would prepare them by the 6th
                for r in (client.get("/api/code"), client.get("/api/me")):
                    if r.status_code != 200:
                        errors.append(f"{r.status_code} {r.text[:200]}")
                done += 1
            r = client.post("/api/signin", json=signin_body(sw), headers={"X-CSRF-Token": csrf})
            if r.status_code != 200:  # signed in, or refused for a reason of the rules (not employed there)
                errors.append(f"signin {r.status_code} {r.text[:200]}")
            return done

        with ThreadPoolExecutor(6) as pool:
            assert sum(pool.map(phone, links)) == 12 * len(links)
        ctx.engine.dispose()
        assert errors == [], errors[:3]
        log = bouncer.log()
        assert "unsupported startup parameter" not in log and "prepared statement" not in log, log[-2000:]


def check_no_statement_outlives_its_transaction(bouncer: Bouncer) -> None:
    """One client connection, many transactions, each on whichever server connection is free: a statement
    prepared in one (psycopg prepares a query run five times) would be missing in the next."""
    engine = make_engine(bouncer.url)
    try:
        with engine.connect() as c1, engine.connect() as c2:
            for i in range(16):
                if i % 2:  # the other client holds a server connection: c1 gets the other one
                    c2.execute(text("SELECT 1"))
                assert c1.execute(text("SELECT count(*) FROM worker WHERE name <> :n"), {"n": "-"}).scalar()
                c1.commit()
                c2.commit()
    finally:
        engine.dispose()


@contextmanager
def enroll_session(sw: ServeWorld, n: int = 6) -> Iterator[list[uuid.UUID]]:
    """``n`` workers of the way-A world's project (the first is the world's own)."""
    from store.db.engine import session

    ids = [sw.world.worker]
    with session(sw.world.engine) as s:
        for i in range(1, n):
            w = enroll.add_worker(session=s, id_number=synthetic_id(i), name=f"测试工人{i}")
            ids.append(w.id)
        s.commit()
    yield ids


def synthetic_id(i: int) -> str:
    """A valid (check digit and all) synthetic ID number, one per ``i``."""
    base = f"11010119900101{i:03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    check = "10X98765432"[sum(int(d) * w for d, w in zip(base, weights, strict=True)) % 11]
    return base + check


# --- two service processes ----------------------------------------------------------------------------


@contextmanager
def serve_process(config: Path, url: str, log: Path) -> Iterator[httpx.Client]:
    """``kiosk serve`` as its own process on a free port; a client of it once it answers."""
    port = free_port()
    kiosk = str(Path(sys.executable).with_name("kiosk"))
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [kiosk, "serve", "--config", str(config), "--db", url, "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,
        )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            deadline = time.monotonic() + 90
            while True:
                try:
                    if client.get("/api/csrf").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
            yield client
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(30)


def test_rate_limits_and_link_use_hold_across_two_service_processes(pg_url: str, tmp_path: Path) -> None:
    sw = build_serve_world(pg_url, tmp_path)
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[serve]\nissuer_key = "{sw.key_path}"\ncode_per_min_device = 5\n')
    with (
        pgbouncer(pg_url) as bouncer,
        serve_process(config, bouncer.url, tmp_path / "a.log") as a,
        serve_process(config, bouncer.url, tmp_path / "b.log") as b,
    ):
        check_one_link_binds_once(sw, a, b, bouncer)
        check_the_code_limit_is_shared(sw, a, b)


def check_one_link_binds_once(sw: ServeWorld, a: httpx.Client, b: httpx.Client, bouncer: Bouncer) -> None:
    """The same link confirmed at both processes at once: one binds, the other says it was used."""
    path = sw.link()
    tokens = [csrf_of(c.get(path).text) for c in (a, b)]
    start = threading.Barrier(2)

    def confirm(i: int) -> int:
        client = (a, b)[i]
        start.wait(10)
        return client.post(path, data={"csrf_token": tokens[i]}, follow_redirects=False).status_code

    with ThreadPoolExecutor(2) as pool:
        codes = sorted(pool.map(confirm, range(2)))
    assert codes == [303, 410], (codes, bouncer.log()[-1000:])
    # used: refused to the other phone; the phone it bound is taken home, not bound again
    binder = 0 if a.cookies.get("kiosk_device") else 1
    again = (a, b)[1 - binder].post(path, data={"csrf_token": tokens[1 - binder]}, follow_redirects=False)
    assert again.status_code == 410
    home = (a, b)[binder].post(path, data={"csrf_token": tokens[binder]}, follow_redirects=False)
    assert home.status_code == 303 and home.headers["location"] == "/"


def check_the_code_limit_is_shared(sw: ServeWorld, a: httpx.Client, b: httpx.Client) -> None:
    """Five codes a minute per phone: asked of either process in turn, the sixth is refused wherever."""
    bound = next(c for c in (a, b) if c.cookies.get("kiosk_device"))  # the one the link bound
    other = b if bound is a else a
    other.cookies.set("kiosk_device", bound.cookies["kiosk_device"])  # the same phone, another host
    codes = [(a if i % 2 else b).get("/api/code").status_code for i in range(7)]
    assert codes == [200] * 5 + [429, 429]
