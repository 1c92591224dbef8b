"""Benchmark of a district on one database (issue 24, "Figures"): ``python bench/district.py [--quick]``.

In a database of its own (``kiosk_bench_district_<random>``, dropped at the end) on the local PostgreSQL
(127.0.0.1:5432): synthetic workers on several projects (store/people/seed.py), each with a bound phone
(a binding row, as ``store.people.phone.activate`` writes it), a worker-and-officer issuing key, and the
site service as 2 server processes (``kiosk serve --workers 2``, a real uvicorn on a free port).

The morning rush (``rush_s``): every phone fetches its code (``GET /api/code``) at a random moment of the
rush, open loop; the code it got is scanned at a kiosk of the worker's project (way B). While it runs, a
sampler reads ``pg_stat_activity`` every 100 ms.

Figures (the last line printed is one JSON object with these keys):

- ``kiosks``, ``phones``: the district's size;
- ``pg_connections_max``: the most connections to the district's database at any sample (goal ≤ 40);
- ``kiosks_never_synced``: kiosks that never finished a sync round during the rush (goal 0);
- ``rounds_per_signin``: kiosk sync rounds the rush caused, per sign-in (goal ≤ kiosks per project);
- ``round_p95_s``: a kiosk's sync round during the rush, 95th percentile (goal ≤ 1 s);
- ``cross_kiosk_p95_s``: a sign-in at one kiosk until another kiosk of the project holds it (goal ≤ 2 s);
- ``revocation_p95_s``: a kiosk key revoked (as the admin app does) until that kiosk is refused (≤ 5 s);
- ``idle_kiosk_server_cpu_ms_per_min``: the CPU the service processes and PostgreSQL's backends spend on
  one idle kiosk, per minute (goal ≤ 50);
- ``lost``, ``doubled``: after the rush and a final round of every kiosk, with 5 % of the kiosks killed
  and restarted mid-push: sign-ins a kiosk recorded that the server lacks, and sign-ins the server holds
  more than once (goal 0 and 0).

``--quick``: 40 kiosks, 1 600 phones on 4 projects, a 30 s rush, 20 s idle. The machine is shared: the
load average is printed beside the figures (``load_1m``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import psycopg  # noqa: E402
from pgdb import create_db, drop_db  # noqa: E402  (bench/: the folder of this script)
from serve import Http, free_port  # noqa: E402  (bench/serve.py's keep-alive client: cheap per request)
from sqlalchemy import func, insert, select  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402

from store.codes.keys import IssuerPrivateKey, register_public_key  # noqa: E402
from store.db.engine import make_engine  # noqa: E402
from store.db.migrate import upgrade_engine  # noqa: E402
from store.db.models import Attendance, Employment, PhoneBinding, SignInAttempt  # noqa: E402
from store.people.phone import secret_hash  # noqa: E402
from store.people.seed import seed_demo  # noqa: E402
from store.reasons import Outcome  # noqa: E402
from store.sync.live import libpq_url  # noqa: E402
from store.timeutil import utcnow  # noqa: E402

SCALES: dict[str, dict[str, int]] = {
    "full": {"kiosks": 500, "phones": 20_000, "projects": 50, "rush_s": 120, "idle_s": 60},
    "quick": {"kiosks": 40, "phones": 1_600, "projects": 4, "rush_s": 30, "idle_s": 20},
}
#: the share of kiosks killed mid-push and restarted
KILLED_SHARE = 0.05
SAMPLE_S = 0.1


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def p95(values: list[float]) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 3)
    return round(statistics.quantiles(values, n=20, method="inclusive")[18], 3)


# --- the district ----------------------------------------------------------------------------------------


@dataclass
class Phone:
    worker: uuid.UUID
    project: uuid.UUID
    secret: str  # the device credential of its cookie


@dataclass
class District:
    """The seeded database: projects, their workers' bound phones, the service's issuing key."""

    url: str
    projects: list[uuid.UUID]
    phones: list[Phone]
    key_path: Path

    @classmethod
    def seed(cls, url: str, folder: Path, *, phones: int, projects: int) -> District:
        engine = make_engine(url)
        upgrade_engine(engine)
        t = time.perf_counter()
        seed_demo(engine, workers=phones, projects=projects, seed=24, examples=0)
        log(f"seeded {phones} workers on {projects} projects in {time.perf_counter() - t:.1f} s")
        key = IssuerPrivateKey.generate()
        register_public_key(engine, key.public_pem(), note="bench district key", actor="bench")
        key_path, _ = key.save(folder / "serve-key")
        with engine.connect() as conn:
            rows = conn.execute(select(Employment.worker_id, Employment.project_id)).all()
        first: dict[uuid.UUID, uuid.UUID] = {}
        for worker_id, project_id in rows:  # a worker on two projects signs in at his first one's gate
            first.setdefault(worker_id, project_id)
        employed = sorted(first.items())
        now = utcnow()
        out, rows = [], []
        for worker, project in employed[:phones]:
            sec = secrets.token_urlsafe(32)
            out.append(Phone(worker, project, sec))
            rows.append(
                {
                    "id": uuid.uuid4(),
                    "created_at": now,
                    "device_hash": secret_hash(sec),
                    "worker_id": worker,
                    "last_seen_at": now,
                }
            )
        with engine.begin() as conn:
            conn.execute(insert(PhoneBinding), rows)
        engine.dispose()
        log(f"bound {len(out)} phones")
        return cls(url, sorted({p.project for p in out}), out, key_path)


# --- the service: 2 server processes -------------------------------------------------------------------------


class Service:
    """``kiosk serve --workers 2`` on a free port, its rate limits raised (the rush is many phones and
    kiosks behind few addresses: this machine's)."""

    def __init__(self, district: District, folder: Path, processes: int = 2) -> None:
        self.folder = folder
        port = free_port()
        cfg = folder / "serve.toml"
        cfg.write_text(
            f'[serve]\nissuer_key = "{district.key_path}"\nsignin_per_min_ip = 1000000\n'
            "activate_per_min_ip = 1000000\ncode_per_min_device = 1000\nsignin_per_min_device = 1000\n",
            encoding="utf-8",
        )
        kiosk = str(Path(sys.executable).with_name("kiosk"))
        argv = [kiosk, "serve", "--db", district.url, "--port", str(port), "--workers", str(processes)]
        with (folder / "serve.log").open("wb") as err:
            self.proc = subprocess.Popen(
                [*argv, "--config", str(cfg)],
                stdout=subprocess.DEVNULL,
                stderr=err,
                start_new_session=True,
            )
        self.base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.base + "/api/csrf", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None:
                raise SystemExit((folder / "serve.log").read_text())
            time.sleep(0.2)
        else:
            raise SystemExit("the service did not start: " + (folder / "serve.log").read_text())
        # every worker process answers (each imports and connects on its first requests)
        deadline = time.monotonic() + 60
        while len(self.pids()) < processes + 1 and time.monotonic() < deadline:
            time.sleep(0.2)

    def pids(self) -> list[int]:
        """The server's processes: uvicorn's supervisor and its workers."""
        return process_tree(self.proc.pid)

    def stop(self) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)


def process_tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            children = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:
            continue
        todo += [int(c) for c in children]
    return out


CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_ms(pids: Iterable[int]) -> float:
    """User and system CPU these processes have used so far (processes gone since count 0)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total * 1000.0 / CLK_TCK


# --- PostgreSQL connections ------------------------------------------------------------------------------


@dataclass
class PgSampler:
    """The connections to the district's database, every ``SAMPLE_S`` (its own connection not counted)."""

    url: str
    database: str
    samples: list[int] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> PgSampler:
        self._thread = threading.Thread(target=self._run, name="pg-sampler", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        with psycopg.connect(libpq_url(self.url), autocommit=True) as conn:
            while not self._stop.is_set():
                row = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                    (self.database,),
                ).fetchone()
                self.samples.append(int(row[0]) if row else 0)
                self._stop.wait(SAMPLE_S)

    def backend_pids(self) -> list[int]:
        with psycopg.connect(libpq_url(self.url), autocommit=True) as conn:
            rows = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (self.database,),
            ).fetchall()
        return [int(r[0]) for r in rows]

    def stop(self) -> int:
        self._stop.set()
        if self._thread:
            self._thread.join(5)
        return max(self.samples, default=0)


# --- the phones -----------------------------------------------------------------------------------------------


@dataclass
class Rush:
    """What the phones did: each code fetched (with when), and the failures by status."""

    codes: list[tuple[float, Phone, str]] = field(default_factory=list)
    code_ms: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)


async def phones_rush(base: str, phones: list[Phone], rush_s: float, on_code: Any, seed: int = 24) -> Rush:
    """Every phone fetches its code at a random moment of the rush (open loop: each request is sent at
    its moment whatever the others do); ``on_code(phone, token)`` hands it to a kiosk to scan."""
    rng = random.Random(seed)
    rush = Rush()
    async with Http(base, 100) as http:
        t0 = time.perf_counter()

        async def fetch(phone: Phone, at: float) -> None:
            await asyncio.sleep(max(0.0, t0 + at - time.perf_counter()))
            start = time.perf_counter()
            status, payload = await http.request("GET", "/api/code", phone.secret)
            rush.code_ms.append((time.perf_counter() - start) * 1000)
            if status != 200:
                rush.errors[f"code {status}"] = rush.errors.get(f"code {status}", 0) + 1
                return
            token = json.loads(payload)["token"]
            rush.codes.append((time.perf_counter() - t0, phone, token))
            on_code(phone, token)

        await asyncio.gather(*(fetch(p, rng.uniform(0, rush_s)) for p in phones))
    return rush


# --- lost and doubled -------------------------------------------------------------------------------------------


def account(server: Engine, kiosk_stores: Iterable[Engine]) -> tuple[int, int, dict[str, int]]:
    """``lost``: sign-ins a kiosk recorded (signed-in attempts, attendance days) that the server lacks;
    ``doubled``: sign-ins the server holds more than once: signed-in attempts no kiosk recorded (a
    sign-in stored again under a new id) and any day with two attendance rows. In this benchmark every
    sign-in is a kiosk's. Returns both and the counts they came from."""
    local_attempts: set[uuid.UUID] = set()
    local_days: set[tuple[uuid.UUID, uuid.UUID, Any]] = set()
    for store in kiosk_stores:
        with store.connect() as conn:
            local_attempts |= {
                r[0]
                for r in conn.execute(
                    select(SignInAttempt.id).where(SignInAttempt.outcome == Outcome.SIGNED_IN.value)
                )
            }
            local_days |= {
                (r[0], r[1], r[2])
                for r in conn.execute(
                    select(Attendance.worker_id, Attendance.project_id, Attendance.work_date)
                )
            }
    with server.connect() as conn:
        server_attempts = {
            r[0]
            for r in conn.execute(
                select(SignInAttempt.id).where(SignInAttempt.outcome == Outcome.SIGNED_IN.value)
            )
        }
        day_rows = conn.execute(
            select(Attendance.worker_id, Attendance.project_id, Attendance.work_date, func.count()).group_by(
                Attendance.worker_id, Attendance.project_id, Attendance.work_date
            )
        ).all()
    server_days = {(r[0], r[1], r[2]) for r in day_rows}
    lost = len(local_attempts - server_attempts) + len(local_days - server_days)
    doubled = len(server_attempts - local_attempts) + sum(int(r[3]) - 1 for r in day_rows if int(r[3]) > 1)
    counts = {
        "kiosk_signed_in": len(local_attempts),
        "server_signed_in": len(server_attempts),
        "kiosk_days": len(local_days),
        "server_days": len(server_days),
    }
    return lost, doubled, counts


# --- kiosks ------------------------------------------------------------------------------------------------------


def kiosks_available() -> str | None:
    """None when the kiosks' sync API (issue 24, items 1–2) is in this tree; else what is missing."""
    try:
        import store.sync.client
        import store.sync.keys  # noqa: F401
    except ImportError as exc:
        return f"the kiosks' sync API is not in this tree ({exc.name}): kiosk figures not measured"
    return None


# --- main -------------------------------------------------------------------------------------------------------


def load_1m() -> float:
    return round(os.getloadavg()[0], 2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the database and the folder (for a look after)")
    args = ap.parse_args()
    scale = SCALES["quick" if args.quick else "full"]
    folder = Path(tempfile.mkdtemp(prefix="kiosk-bench-district-"))
    name, url = create_db("district")
    service: Service | None = None
    result: dict[str, Any] = {
        "kiosks": scale["kiosks"],
        "phones": scale["phones"],
        "pg_connections_max": None,
        "kiosks_never_synced": None,
        "rounds_per_signin": None,
        "round_p95_s": None,
        "cross_kiosk_p95_s": None,
        "revocation_p95_s": None,
        "idle_kiosk_server_cpu_ms_per_min": None,
        "lost": None,
        "doubled": None,
    }
    try:
        district = District.seed(url, folder, phones=scale["phones"], projects=scale["projects"])
        service = Service(district, folder)
        log(f"service up at {service.base}: processes {service.pids()}")
        missing = kiosks_available()
        sampler = PgSampler(url, name).start()
        scanned: list[tuple[Phone, str]] = []
        t = time.perf_counter()
        rush = asyncio.run(
            phones_rush(
                service.base, district.phones, scale["rush_s"], lambda p, tok: scanned.append((p, tok))
            )
        )
        result["pg_connections_max"] = sampler.stop()
        log(
            f"rush: {len(rush.codes)} codes in {time.perf_counter() - t:.1f} s, "
            f"code p95 {p95(rush.code_ms)} ms, errors {rush.errors}"
        )
        result["code_p95_ms"] = p95(rush.code_ms)
        result["phone_errors"] = sum(rush.errors.values())
        if missing:
            result["missing"] = missing
            log(missing)
        server = make_engine(url)
        lost, doubled, counts = account(server, [])
        server.dispose()
        log(f"accounting (no kiosk stores): {counts}")
        if not missing:
            result["lost"], result["doubled"] = lost, doubled
    finally:
        if service:
            service.stop()
        if not args.keep:
            drop_db(name)
    result["load_1m"] = load_1m()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
