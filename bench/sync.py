"""Benchmark of sync against the local PostgreSQL: ``python bench/sync.py [--quick]``.

In a database of its own (``kiosk_bench_sync_<random>``, dropped at the end) on 127.0.0.1:5432:

Parts 1-3 go through the site service (issue 24): the service (``kiosk serve``'s app) runs in this
process on 127.0.0.1 and a free port (kiosk/serve/inprocess.py), the kiosk has its own Ed25519 key,
enrolled for the seeded projects, and syncs by ``sync_via`` (store/sync/client.py): signed requests, gzip.

1. ``pull_100k_s``: a shared database seeded with 100 000 synthetic workers (store/people/seed.py: workers,
   employments, health checks, projects, officers), pulled into an empty kiosk (a SQLite file,
   ``synchronous=FULL``) through the service. Goal ≤ 10 s.
2. ``push_10k_s``: that kiosk then holds 10 000 attendances and their 10 000 attempts of its own (bulk
   inserted with the kiosk's revisions, as if signed in offline); one round pushes them (each checked by
   the service) and pulls them back. Goal ≤ 5 s.
3. ``noop_sync_ms``: the median of 20 rounds with nothing new on either side. Goal ≤ 200 ms.
4. ``cross_kiosk_p95_s``: two running kiosks — two ``kiosk run --headless --source - --shared URL``
   processes, each on its own local store, each with the SyncWorker the officer screen runs (interval
   30 s, LISTEN/NOTIFY) — on a second, small shared database; a worker's code is typed into kiosk 1's
   scanner and the time until kiosk 2's store holds his attendance is measured, 20 times; the 95th
   percentile. Goal ≤ 2 s.

``--quick``: 10 000 workers, 1 000 attendances, 8 cross-kiosk sign-ins (the keys keep their names).
The last line printed is one JSON object with exactly those four keys.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pgdb import create_db, drop_db  # noqa: E402  (bench/: the folder of this script)
from sqlalchemy import insert, select  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from store.db.engine import make_engine  # noqa: E402
from store.db.migrate import upgrade_engine  # noqa: E402
from store.db.models import Attendance, Employment, SignInAttempt, Worker  # noqa: E402
from store.db.revision import take_revisions  # noqa: E402
from store.people.seed import ELIGIBLE, seed_demo  # noqa: E402
from store.reasons import Outcome  # noqa: E402
from store.sync.client import SyncClient, sync_via  # noqa: E402
from store.sync.pull import table_of  # noqa: E402
from store.sync.rounds import SyncReport, sync_once  # noqa: E402
from store.timeutil import local_date, utcnow  # noqa: E402


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def kiosk(folder: Path, name: str) -> Engine:
    e = make_engine(f"sqlite:///{folder / (name + '.db')}")
    upgrade_engine(e)
    return e


def ok(report: SyncReport) -> SyncReport:
    if not report.ok:
        raise SystemExit(f"sync failed: {report.error and report.error.en}")
    return report


def offline_sign_ins(local: Engine, n: int, kiosk_id: uuid.UUID) -> None:
    """``n`` attendances with their attempts, as a kiosk records them offline (its own revisions)."""
    w, e, at_t, sa_t = (table_of(m) for m in (Worker, Employment, Attendance, SignInAttempt))
    now = utcnow()
    today = local_date(now)
    with local.begin() as conn:
        pairs = conn.execute(
            select(e.c.worker_id, e.c.project_id)
            .join(w, w.c.id == e.c.worker_id)
            .where(e.c.start_date <= today, (e.c.end_date.is_(None)) | (e.c.end_date >= today))
            .limit(n)
        ).all()
        last = take_revisions(conn, 2 * len(pairs))
        rev = last - 2 * len(pairs)
        attendance, attempts = [], []
        for worker_id, project_id in pairs:
            att_id, try_id = uuid.uuid4(), uuid.uuid4()
            rev += 2
            attempts.append(
                {
                    "id": try_id,
                    "created_at": now,
                    "updated_at": now,
                    "rev": rev - 1,
                    "at": now,
                    "kiosk_id": kiosk_id,
                    "project_id": project_id,
                    "work_date": today,
                    "way": "B",
                    "worker_id": worker_id,
                    "officer_id": None,
                    "outcome": Outcome.SIGNED_IN.value,
                    "reason": None,
                    "kid": None,
                    "code_hash": uuid.uuid4().hex * 2,
                    "attendance_id": att_id,
                    "latitude": None,
                    "longitude": None,
                    "accuracy_m": None,
                    "distance_m": None,
                    "latency_ms": None,
                }
            )
            attendance.append(
                {
                    "id": att_id,
                    "created_at": now,
                    "updated_at": now,
                    "rev": rev,
                    "worker_id": worker_id,
                    "project_id": project_id,
                    "work_date": today,
                    "first_at": now,
                    "way": "B",
                    "kiosk_id": kiosk_id,
                    "officer_id": None,
                    "attempt_id": try_id,
                    "latitude": None,
                    "longitude": None,
                }
            )
        conn.execute(insert(sa_t), attempts)
        conn.execute(insert(at_t), attendance)


def cross_kiosk(url: str, folder: Path, rounds: int) -> list[float]:
    """Two ``kiosk run --headless`` processes: a code typed at kiosk 1 → its attendance in kiosk 2's store."""
    import sqlite3
    import subprocess

    from store.codes.keys import IssuerPrivateKey, register_public_key
    from store.codes.tokens import issue_code
    from store.reasons import Role

    shared = make_engine(url)
    summary = seed_demo(shared, workers=max(200, rounds * 10), projects=1, seed=7, examples=rounds)
    project = summary["examples_project"]
    eligible = [uuid.UUID(x) for x in summary["examples"][ELIGIBLE]][:rounds]
    key = IssuerPrivateKey.generate()
    register_public_key(shared, key.public_raw, not_before=utcnow() - timedelta(days=1))
    k1, k2 = kiosk(folder, "cross1"), kiosk(folder, "cross2")
    ok(sync_once(k1, shared))  # a kiosk set up on site: the workers, keys and projects pulled once
    ok(sync_once(k2, shared))
    for e in (k1, k2, shared):
        e.dispose()
    config = folder / "cross.toml"
    config.write_text("[sync]\ninterval_s = 30\n", encoding="utf-8")

    # The headless kiosk's command line, as tests/support/headless.py writes it: a benchmark imports no test
    # code (and this one adds --shared and --config).
    def start(name: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "kiosk",
                "run",
                "--headless",
                "--source",
                "-",
                "--db",
                str(folder / f"{name}.db"),
                "--shared",
                url,
                "--project",
                project,
                "--no-photos",
                "--config",
                str(config),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            cwd=ROOT,
        )

    p1, p2 = start("cross1"), start("cross2")
    seen = sqlite3.connect(str(folder / "cross2.db"), timeout=5)
    times: list[float] = []
    try:
        assert p1.stdin is not None and p1.stdout is not None
        time.sleep(3.0)  # both processes up, their first sync round done
        for worker_id in eligible:
            t0 = time.perf_counter()
            p1.stdin.write(issue_code(key, role=Role.WORKER, subject=worker_id) + "\n")
            p1.stdin.flush()
            line = json.loads(p1.stdout.readline() or "{}")
            if line.get("outcome") != "signed_in":
                raise SystemExit(f"kiosk 1 did not sign the bench worker in: {line}")
            while not seen.execute(
                "SELECT 1 FROM attendance WHERE worker_id = ? AND project_id = ?",
                (worker_id.hex, uuid.UUID(project).hex),
            ).fetchone():
                if time.perf_counter() - t0 > 30:
                    raise SystemExit("kiosk 2 did not see kiosk 1's sign-in within 30 s")
                time.sleep(0.01)
            times.append(time.perf_counter() - t0)
            time.sleep(0.2)
    finally:
        seen.close()
        for p in (p1, p2):
            if p.stdin is not None:
                p.stdin.close()
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
    return times


def through_service(url: str, shared: Engine, folder: Path) -> tuple[Any, SyncClient, uuid.UUID]:
    """The site service in this process over ``url``, and a kiosk key enrolled for every project."""
    from kiosk.config import Config
    from kiosk.serve.context import build_context
    from kiosk.serve.inprocess import serve_in_thread
    from store.codes.keys import IssuerPrivateKey, register_public_key
    from store.db.models import Project
    from store.sync.keys import issue_enrollment
    from store.sync.signing import KioskKeyFile

    issuer = IssuerPrivateKey.generate()
    priv, _ = issuer.save(folder / "service-key")
    register_public_key(shared, issuer.public_raw, not_before=utcnow() - timedelta(days=1))
    ctx = build_context(Config.model_validate({"serve": {"issuer_key": str(priv)}}), url)
    service = serve_in_thread(ctx)
    with shared.connect() as conn:
        projects = list(conn.execute(select(table_of(Project).c.id)).scalars())
    client = SyncClient(service.base_url, KioskKeyFile.create(folder / "kiosk.key"))
    kiosk_id = uuid.uuid4()
    client.register(kiosk_id, "bench", token=issue_enrollment(shared, projects))
    return service, client, kiosk_id


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--quick", action="store_true", help="10 000 workers, 1 000 attendances, 8 cross-kiosk rounds"
    )
    args = ap.parse_args()
    n_workers, n_push, rounds = (10_000, 1_000, 8) if args.quick else (100_000, 10_000, 20)
    out: dict[str, Any] = {}
    names: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        try:
            name, url = create_db("sync")
            names.append(name)
            shared = make_engine(url)
            upgrade_engine(shared)
            t = time.perf_counter()
            seed_demo(shared, workers=n_workers, projects=4, seed=1)
            log(f"seeded {n_workers} workers in {time.perf_counter() - t:.1f} s")

            k = kiosk(folder, "kiosk")
            service, client, kiosk_id = through_service(url, shared, folder)
            # Pull, then push: each timed in place so that its figure and its log line stand together.
            t, cpu = time.perf_counter(), time.process_time()
            report = ok(sync_via(k, client))
            out["pull_100k_s"] = round(time.perf_counter() - t, 2)
            log(
                f"pull: {report.pulled} in {out['pull_100k_s']} s wall, {time.process_time() - cpu:.2f} s CPU "
                f"of this process (load {os.getloadavg()[0]:.1f})"
            )

            offline_sign_ins(k, n_push, kiosk_id)
            t, cpu = time.perf_counter(), time.process_time()
            report = ok(sync_via(k, client))
            out["push_10k_s"] = round(time.perf_counter() - t, 2)
            log(
                f"push: {report.pushed} in {out['push_10k_s']} s wall, {time.process_time() - cpu:.2f} s CPU "
                f"(refused {report.rejected}; pulled back {report.pulled}; load {os.getloadavg()[0]:.1f})"
            )

            noop = []
            for _ in range(20):
                t = time.perf_counter()
                ok(sync_via(k, client))
                noop.append((time.perf_counter() - t) * 1000)
            out["noop_sync_ms"] = round(statistics.median(noop), 1)
            log(f"no-op sync: median {out['noop_sync_ms']} ms, max {max(noop):.1f} ms")
            client.close()
            service.stop()
            k.dispose()
            shared.dispose()

            name2, url2 = create_db("sync")
            names.append(name2)
            e2 = make_engine(url2)
            upgrade_engine(e2)
            e2.dispose()
            times = cross_kiosk(url2, folder, rounds)
            out["cross_kiosk_p95_s"] = round(p95(times), 3)
            log(f"cross-kiosk: {[round(x, 3) for x in times]}")
        finally:
            for n in names:
                drop_db(n)
    for key in ("pull_100k_s", "push_10k_s", "noop_sync_ms", "cross_kiosk_p95_s"):
        out.setdefault(key, None)
    print(json.dumps({k: out[k] for k in ("pull_100k_s", "push_10k_s", "noop_sync_ms", "cross_kiosk_p95_s")}))


if __name__ == "__main__":
    main()
