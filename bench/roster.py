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
  5 000 workers × 31 days, in seconds (goal ≤ 5 s);
- ``on_site_refresh_5k_ms`` (出场, issue 25): the same refresh when half of today's workers have left
  (a departure each), after a new departure arrived, the median (goal ≤ 100 ms);
- ``platform_export_month_5k_s``: ``kiosk export platform`` of the month (every entry and departure, each
  with its gate photo, base64 in the national platform's upload shape), in seconds (goal ≤ 10 s).

The last line printed is one JSON object with exactly those four keys. ``--quick`` uses 1 000 workers
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
from store.db.models import Attendance, Departure, Employment, GatePhoto, Project, SignInAttempt
from store.db.revision import take_revisions
from store.people.seed import seed_demo
from store.reasons import Reason
from store.roster.day import RosterReader, Status, load_roster
from store.roster.exports import export_monthly
from store.roster.platform import export_platform

YEAR, MONTH, DAYS = 2026, 12, 31
TODAY = date(YEAR, MONTH, 15)


def _photo() -> bytes:
    """A gate photo for every pass: a 160×120 JPEG (a gradient with sensor noise, ~2 KB) shared by all —
    smaller than the kiosk's ~640 px photos, so the figure is the export's own cost more than the disk's."""
    import io

    import numpy as np
    from PIL import Image

    y, x = np.mgrid[0:120, 0:160]
    img = np.stack([x * 255 // 160, y * 255 // 120, (x + y) * 128 // 280], -1)
    img = img + np.random.default_rng(1).integers(0, 12, img.shape)
    buf = io.BytesIO()
    Image.fromarray(img.clip(0, 255).astype(np.uint8)).save(buf, "JPEG", quality=70)
    return buf.getvalue()


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
        # every pass has its attempt and gate photo; every past day's entry a departure 9 h later (some
        # closed automatically), today half of them
        jpeg = _photo()
        dep: list[dict[str, Any]] = []
        shots: list[dict[str, Any]] = []
        passes: list[dict[str, Any]] = []
        for a in att:
            a["attempt_id"] = uuid.uuid4()
            passes.append(
                {
                    "id": a["attempt_id"],
                    "worker_id": a["worker_id"],
                    "at": a["first_at"],
                    "day": a["work_date"],
                    "outcome": "signed_in",
                }
            )
            if a["work_date"] < TODAY or rng.random() < 0.5:
                auto = rng.random() < 0.05
                d = {
                    "worker_id": a["worker_id"],
                    "project_id": pid,
                    "work_date": a["work_date"],
                    "at": a["first_at"] + timedelta(hours=9),
                    "method": "auto" if auto else "scan",
                    "no_entry": False,
                    "attempt_id": None if auto else uuid.uuid4(),
                }
                dep.append(d)
                if not auto:
                    passes.append(
                        {
                            "id": d["attempt_id"],
                            "worker_id": d["worker_id"],
                            "at": d["at"],
                            "day": d["work_date"],
                            "outcome": "signed_out",
                        }
                    )
        for p in passes:
            tries.append(
                {
                    "id": p["id"],
                    "worker_id": p["worker_id"],
                    "reason": None,
                    "at": p["at"],
                    "work_date": p["day"],
                    "outcome": p["outcome"],
                }
            )
            shots.append({"attempt_id": p["id"], "jpeg": jpeg, "width": 160, "height": 120})
        for rows, model in ((att, Attendance), (tries, SignInAttempt), (dep, Departure), (shots, GatePhoto)):
            for i in range(0, len(rows), 5000):
                chunk = rows[i : i + 5000]
                last = take_revisions(conn, len(chunk))
                for n, r in enumerate(chunk):
                    r.setdefault("id", uuid.uuid4())
                    r.update(created_at=now, updated_at=now, rev=last - len(chunk) + 1 + n)
                    if model is SignInAttempt:
                        r.setdefault("at", now)
                        r.setdefault("work_date", TODAY)
                        r.setdefault("outcome", "refused")
                        r.update(project_id=pid, way="B")
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


def sign_out(engine: Any, pid: uuid.UUID, worker_id: uuid.UUID) -> None:
    """One departure, as the direction service would commit it (Core, as ``sign_in``)."""
    with engine.begin() as conn:
        rev = take_revisions(conn, 1)
        now = datetime.now(UTC)
        conn.execute(
            insert(Departure),
            [
                {
                    "id": uuid.uuid4(),
                    "created_at": now,
                    "updated_at": now,
                    "rev": rev,
                    "worker_id": worker_id,
                    "project_id": pid,
                    "work_date": TODAY,
                    "at": now,
                    "method": "scan",
                    "no_entry": False,
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
        inside = [r.worker_id for r in roster.rows if r.on_site]
        out_times = []
        for i in range(args.runs):
            sign_out(engine, pid, inside[i])  # a departure arrives between two refreshes
            t = time.perf_counter()
            roster = reader.load(TODAY)
            out_times.append((time.perf_counter() - t) * 1000)
        c = roster.counts
        print(
            f"on site: {c.on_site} in, {c.left} left; refresh after a departure: median "
            f"{statistics.median(out_times):.1f} ms",
            file=sys.stderr,
        )
        t, c2 = time.perf_counter(), time.process_time()
        got = export_platform(
            engine, pid, date(YEAR, MONTH, 1), date(YEAR, MONTH, DAYS), Path(tmp) / "platform.json"
        )
        platform_s = time.perf_counter() - t
        print(
            f"platform export: {got.records} records in {got.batches} batches, {got.photos} photos, "
            f"{(Path(tmp) / 'platform.json').stat().st_size / 1e6:.0f} MB in {platform_s:.2f} s wall, "
            f"{time.process_time() - c2:.2f} s CPU",
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
            {
                "refresh_5k_ms": round(statistics.median(times), 1),
                "monthly_export_5k_s": round(export_s, 2),
                "on_site_refresh_5k_ms": round(statistics.median(out_times), 1),
                "platform_export_month_5k_s": round(platform_s, 2),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
