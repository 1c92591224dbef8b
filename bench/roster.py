"""Benchmark of the supervisor's roster and the monthly export.

    python bench/roster.py [--quick] [--workers N] [--db URL]

Seeds a fresh SQLite file (or the database given with ``--db``, which must be empty) with
``kiosk seed-demo``'s generator (5 000 workers on one project by default), bulk-inserts a month of
attendance (every eligible worker present on ~85 % of the days of the month, 31 days: December 2026)
and a refused attempt for a share of the others today, then measures:

- ``refresh_5k_ms``: one roster refresh after a new sign-in arrived (``store.roster.day.RosterReader.load``,
  what the app runs every ~2 s during the morning rush), the median of several runs, in milliseconds
  (goal ≤ 100 ms). A cold read (the first refresh, or one after employment/worker data changed) is
  logged too;
- ``monthly_export_5k_s``: the monthly attendance sheet as XLSX (``store.roster.exports.export_monthly``),
  5 000 workers × 31 days, in seconds (goal ≤ 5 s).

The last line printed is one JSON object with exactly those two keys. ``--quick`` uses 1 000 workers
(the keys keep their names; the figures are for the smaller roster).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, select

from store.db.engine import make_engine
from store.db.migrate import upgrade_engine
from store.db.models import Attendance, Employment, Project, SignInAttempt
from store.db.revision import take_revisions
from store.people.seed import seed_demo
from store.reasons import Reason
from store.roster.day import RosterReader, Status, load_roster
from store.roster.exports import export_monthly

YEAR, MONTH, DAYS = 2026, 12, 31
TODAY = date(YEAR, MONTH, 15)


def build(url: str, workers: int) -> Any:
    engine = make_engine(url, synchronous="OFF" if url.startswith("sqlite") else "FULL")
    upgrade_engine(engine)
    seed_demo(engine, workers=workers, projects=1, seed=7, today=TODAY)
    rng = random.Random(7)
    with engine.begin() as conn:
        pid = conn.execute(select(Project.id)).scalar_one()  # type: ignore[call-overload]
        emps = conn.execute(
            select(
                Employment.worker_id, Employment.confirmed_at, Employment.start_date, Employment.end_date
            ).where(Employment.project_id == pid)  # type: ignore[call-overload]
        ).all()
        now = datetime.now(UTC)
        att: list[dict[str, Any]] = []
        tries: list[dict[str, Any]] = []
        for wid, confirmed, start, end in emps:
            if confirmed is None:
                tries.append({"worker_id": wid, "reason": Reason.EMPLOYMENT_NOT_CONFIRMED.value})
                continue
            for d in range(1, DAYS + 1):
                day = date(YEAR, MONTH, d)
                # present on ~85 % of the days his employment covers (as the sign-in rules allow)
                if start <= day and (end is None or day <= end) and rng.random() < 0.85:
                    at = datetime(YEAR, MONTH, d, 22, 30, tzinfo=UTC) - timedelta(
                        days=1, minutes=rng.randint(0, 60)
                    )
                    att.append(
                        {"worker_id": wid, "project_id": pid, "work_date": day, "first_at": at, "way": "B"}
                    )
        for rows, model in ((att, Attendance), (tries, SignInAttempt)):
            for i in range(0, len(rows), 5000):
                chunk = rows[i : i + 5000]
                last = take_revisions(conn, len(chunk))
                for n, r in enumerate(chunk):
                    r.update(id=uuid.uuid4(), created_at=now, updated_at=now, rev=last - len(chunk) + 1 + n)
                    if model is SignInAttempt:
                        r.update(at=now, project_id=pid, work_date=TODAY, way="B", outcome="refused")
                conn.execute(insert(model), chunk)
    return engine, pid


def sign_in(engine: Any, pid: uuid.UUID, worker_id: uuid.UUID) -> None:
    """One attendance, as the gate's sign-in service would commit it (Core, to keep the bench about reading)."""
    with engine.begin() as conn:
        rev = take_revisions(conn, 1)
        now = datetime.now(UTC)
        conn.execute(
            insert(Attendance),
            [
                {
                    "id": uuid.uuid4(),
                    "created_at": now,
                    "updated_at": now,
                    "rev": rev,
                    "worker_id": worker_id,
                    "project_id": pid,
                    "work_date": TODAY,
                    "first_at": now,
                    "way": "B",
                }
            ],
        )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="1 000 workers instead of 5 000")
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--db", default=None, help="an empty database (default: a temporary SQLite file)")
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()
    workers = args.workers or (1000 if args.quick else 5000)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'bench.db'}"
        t = time.perf_counter()
        engine, pid = build(url, workers)
        print(
            f"seeded {workers} workers and a month of attendance in {time.perf_counter() - t:.1f} s",
            file=sys.stderr,
        )
        t = time.perf_counter()
        cold = load_roster(engine, pid, TODAY)
        cold_ms = (time.perf_counter() - t) * 1000
        reader = RosterReader(engine, pid)
        reader.load(TODAY)
        waiting = [r.worker_id for r in cold.rows if r.status is Status.NOT_YET]
        times, cpu = [], []
        for i in range(args.runs):
            sign_in(engine, pid, waiting[i])  # a new sign-in arrives between two refreshes
            t, c = time.perf_counter(), time.process_time()
            roster = reader.load(TODAY)
            times.append((time.perf_counter() - t) * 1000)
            cpu.append((time.process_time() - c) * 1000)
        assert roster.counts.signed_in == cold.counts.signed_in + args.runs
        print(
            f"roster: {len(roster.rows)} rows, counts {roster.counts}; refresh after a sign-in: median "
            f"{statistics.median(times):.1f} ms wall, {statistics.median(cpu):.1f} ms CPU; a cold read (first "
            f"refresh, or after reference data changed): {cold_ms:.1f} ms; load average {os.getloadavg()[0]:.1f}",
            file=sys.stderr,
        )
        t, c = time.perf_counter(), time.process_time()
        _, n = export_monthly(engine, pid, YEAR, MONTH, Path(tmp) / "month.xlsx", "xlsx")
        export_s = time.perf_counter() - t
        print(
            f"monthly export: {n} workers × {DAYS} days in {export_s:.2f} s wall, "
            f"{time.process_time() - c:.2f} s CPU",
            file=sys.stderr,
        )
        engine.dispose()
    print(
        json.dumps(
            {"refresh_5k_ms": round(statistics.median(times), 1), "monthly_export_5k_s": round(export_s, 2)}
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
