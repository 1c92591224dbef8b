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
  one idle kiosk, per minute, beyond what the idle service spends with no kiosk (measured before the
  kiosks come: ``idle_service_cpu_ms_per_min``) (goal ≤ 50);
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
import math
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
from concurrent.futures import ThreadPoolExecutor
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
    """The 95th percentile; None when there is none, or when it falls on a wait that never ended (inf:
    JSON has no infinity; the ``*_never`` keys count those waits)."""
    if not values:
        return None
    q = values[0] if len(values) == 1 else statistics.quantiles(values, n=20, method="inclusive")[18]
    return round(q, 3) if math.isfinite(q) else None


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


class PhoneHttp(Http):
    """bench/serve.py's client, which also survives the server closing a keep-alive connection left idle
    (uvicorn's 5 s): the request goes again on a fresh connection."""

    async def request(
        self, method: str, path: str, secret: str, body: dict[str, Any] | None = None
    ) -> tuple[int, bytes]:
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\nAccept: application/json\r\n"
            f"Cookie: kiosk_device={secret}\r\n\r\n"
        ).encode()
        for attempt in range(3):
            reader, writer = await self.pool.get()
            try:
                writer.write(head)
                status_line = await reader.readline()
                if not status_line:
                    raise ConnectionResetError("closed by the server")
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                payload = await reader.readexactly(length)
            except (ConnectionError, asyncio.IncompleteReadError):
                writer.close()
                self.pool.put_nowait(await asyncio.open_connection(self.host, self.port))
                if attempt == 2:
                    raise
                continue
            self.pool.put_nowait((reader, writer))
            return int(status_line.split()[1]), payload
        raise AssertionError("unreachable")


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
    async with PhoneHttp(base, 100) as http:
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
# A kiosk: its own SQLite store and Ed25519 key, enrolled for one project with a one-time token, syncing
# through the service with the officer screen's background worker (ServiceSyncWorker: long-poll for live
# changes, a round after each sign-in). Most run as threads of this process; the 5 % to be killed run each
# in a process of its own (``--kiosk-child``), killed with SIGKILL while they push and started again.


@dataclass
class Round:
    at: float  # perf_counter when it ended
    ok: bool
    duration_s: float
    code: str = ""  # why a failed round failed (a refusal's code)


class KioskBase:
    def __init__(self, folder: Path, index: int, project: uuid.UUID, base: str, server: Engine) -> None:
        from store.sync.client import SyncClient
        from store.sync.keys import issue_enrollment
        from store.sync.signing import KioskKeyFile

        self.index, self.project, self.base = index, project, base
        self.kiosk_id = uuid.uuid4()
        self.store_path = folder / f"kiosk-{index}.db"
        self.key_path = folder / f"kiosk-{index}.key"
        self.key = KioskKeyFile.create(self.key_path)
        self.rounds: list[Round] = []
        self.signed = 0
        with SyncClient(base, self.key) as client:
            info = client.register(self.kiosk_id, f"{index}号门", token=issue_enrollment(server, [project]))
        assert info.status == "approved", info

    def sign_in(self, worker: uuid.UUID, token: str) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError


#: Alembic's op and context are module globals: one migration at a time in this process
MIGRATING = threading.Lock()


class ThreadKiosk(KioskBase):
    """A kiosk on threads of this process."""

    def __init__(self, folder: Path, index: int, project: uuid.UUID, base: str, server: Engine) -> None:
        from store.rules.signin import SignInService
        from store.sync.client import ServiceSyncWorker, SyncClient, sync_via

        super().__init__(folder, index, project, base, server)
        self.local = make_engine(f"sqlite:///{self.store_path}")
        with MIGRATING:
            upgrade_engine(self.local)
        self.client = SyncClient(base, self.key, read_s=30.0)
        first = sync_via(self.local, self.client)  # the first pull: its project's workers
        assert first.ok, first.error and first.error.en
        self.service = SignInService(self.local)
        self.worker = ServiceSyncWorker(self.local, self.client, on_report=self._report).start()

    def _report(self, report: Any, _status: Any) -> None:
        code = getattr(report.error, "code", "") if report.error else ""
        self.rounds.append(Round(time.perf_counter(), report.ok, report.duration_s, str(code)))

    def sign_in(self, worker: uuid.UUID, token: str) -> None:
        self.service.sign_in(worker, self.project, at=utcnow(), kiosk_id=self.kiosk_id, token=token)
        self.signed += 1
        self.worker.sync_now()

    def holds(self, worker: uuid.UUID) -> bool:
        with self.local.connect() as conn:
            return (
                conn.execute(
                    select(Attendance.id).where(
                        Attendance.worker_id == worker, Attendance.project_id == self.project
                    )
                ).first()
                is not None
            )

    def stop(self) -> None:
        self.worker.stop(10)
        self.client.close()


class ChildKiosk(KioskBase):
    """A kiosk in a process of its own (``--kiosk-child``): sign-ins sent on its stdin, its rounds read
    from its stdout; ``kill()`` is SIGKILL, ``start()`` runs it again on the same store and key."""

    def __init__(self, folder: Path, index: int, project: uuid.UUID, base: str, server: Engine) -> None:
        super().__init__(folder, index, project, base, server)
        self.proc: subprocess.Popen[str] | None = None
        self.kills = 0
        self.start()

    def start(self) -> None:
        argv = [sys.executable, __file__, "--kiosk-child", str(self.store_path), str(self.key_path)]
        argv += [self.base, str(self.project), str(self.kiosk_id)]
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1
        )
        threading.Thread(target=self._read, args=(self.proc,), daemon=True).start()

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            parts = line.split()
            if parts and parts[0] == "R":
                self.rounds.append(
                    Round(time.perf_counter(), parts[1] == "1", float(parts[2]), "".join(parts[3:]))
                )

    def sign_in(self, worker: uuid.UUID, token: str) -> None:
        assert self.proc is not None and self.proc.stdin is not None
        try:
            self.proc.stdin.write(f"{worker} {token}\n")
            self.proc.stdin.flush()
            self.signed += 1
        except BrokenPipeError:  # killed a moment ago: the phone's worker tries the gate again
            pass

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self.kills += 1

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def kiosk_child(store: str, key: str, base: str, project: str, kiosk_id: str) -> None:
    """One kiosk as its own process: ``WORKER TOKEN`` lines in, ``R OK DURATION CODE`` lines out; at the
    end of its input a last round, then exit."""
    from store.rules.signin import SignInService
    from store.sync.client import ServiceSyncWorker, SyncClient, sync_via
    from store.sync.signing import KioskKeyFile

    local = make_engine(f"sqlite:///{store}")
    upgrade_engine(local)
    client = SyncClient(base, KioskKeyFile.load(key), read_s=30.0)
    out_lock = threading.Lock()

    def report(r: Any, _status: Any = None) -> None:
        code = getattr(r.error, "code", "") if r.error else ""
        with out_lock:
            print(f"R {int(r.ok)} {r.duration_s:.4f} {code}", flush=True)

    report(sync_via(local, client))
    service = SignInService(local)
    worker = ServiceSyncWorker(local, client, on_report=report).start()
    pid, kid = uuid.UUID(project), uuid.UUID(kiosk_id)
    for line in sys.stdin:
        w, _, token = line.strip().partition(" ")
        service.sign_in(uuid.UUID(w), pid, at=utcnow(), kiosk_id=kid, token=token)
        worker.sync_now()
    worker.stop(30)
    report(sync_via(local, client))


@dataclass
class Fleet:
    threads: list[ThreadKiosk]
    children: list[ChildKiosk]
    by_project: dict[uuid.UUID, list[KioskBase]]

    @property
    def all(self) -> list[KioskBase]:
        return [*self.threads, *self.children]


def build_fleet(folder: Path, district: District, base: str, kiosks: int) -> Fleet:
    """The kiosks, enrolled and first pulled eight at a time (as a district's laptops would, not in a queue)."""
    server = make_engine(district.url)
    killed = max(1, round(kiosks * KILLED_SHARE))
    every = max(1, kiosks // killed)
    child = {i for i in range(0, kiosks, every)}
    child = set(sorted(child)[:killed])

    def make(i: int) -> KioskBase:
        project = district.projects[i % len(district.projects)]
        cls = ChildKiosk if i in child else ThreadKiosk
        return cls(folder, i, project, base, server)

    t = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        made = list(pool.map(make, range(kiosks)))
    server.dispose()
    by_project: dict[uuid.UUID, list[KioskBase]] = {p: [] for p in district.projects}
    for k in made:
        by_project[k.project].append(k)
    threads = [k for k in made if isinstance(k, ThreadKiosk)]
    children = [k for k in made if isinstance(k, ChildKiosk)]
    log(f"{kiosks} kiosks enrolled and pulled in {time.perf_counter() - t:.1f} s ({killed} as processes)")
    return Fleet(threads, children, by_project)


# --- main -------------------------------------------------------------------------------------------------------


def load_1m() -> float:
    return round(os.getloadavg()[0], 2)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the database and the folder (for a look after)")
    ap.add_argument(
        "--kiosk-child", nargs=5, metavar=("STORE", "KEY", "BASE", "PROJECT", "KIOSK"), help=argparse.SUPPRESS
    )
    args = ap.parse_args()
    if args.kiosk_child:
        kiosk_child(*args.kiosk_child)
        return
    scale = SCALES["quick" if args.quick else "full"]
    folder = Path(tempfile.mkdtemp(prefix="kiosk-bench-district-"))
    name, url = create_db("district")
    service: Service | None = None
    fleet: Fleet | None = None
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
        sampler = PgSampler(url, name).start()
        pids = service.pids() + sampler.backend_pids()
        c0, t = cpu_ms(pids), time.perf_counter()
        time.sleep(scale["idle_s"] / 2)  # the service's own idle cost, with no kiosk yet
        result["idle_service_cpu_ms_per_min"] = round(
            (cpu_ms(pids) - c0) / ((time.perf_counter() - t) / 60), 1
        )
        fleet = build_fleet(folder, district, service.base, scale["kiosks"])
        rush = run_rush(fleet, service, district, scale, result)
        result["pg_connections_max"] = max(sampler.samples, default=0)
        result["code_p95_ms"] = p95(rush.code_ms)
        result["phone_errors"] = sum(rush.errors.values())
        log(f"rush: {len(rush.codes)} codes, code p95 {p95(rush.code_ms)} ms, errors {rush.errors}")
        if fleet is not None:
            finish(fleet, district, service, sampler, scale, result)
        result["pg_connections_max"] = sampler.stop()
    finally:
        if fleet is not None:  # all at once: each may be waiting out its long-poll
            with ThreadPoolExecutor(len(fleet.all)) as pool:
                for k, exc in zip(fleet.all, pool.map(stop_quietly, fleet.all), strict=True):
                    if exc:
                        log(f"kiosk {k.index} did not stop cleanly: {exc}")
        if service:
            service.stop()
        if not args.keep:
            drop_db(name)
    result["load_1m"] = load_1m()
    print(json.dumps(result))


def stop_quietly(k: KioskBase) -> str:
    """Stop a kiosk; what went wrong, if anything (a kiosk that will not stop must not keep the database)."""
    try:
        k.stop()
    except Exception as exc:
        return type(exc).__name__
    return ""


def run_rush(
    fleet: Fleet, service: Service, district: District, scale: dict[str, int], result: dict[str, Any]
) -> Rush:
    """The rush: phones fetch codes, kiosks of their projects scan them; the kiosks' rounds, the cross-
    kiosk delays of a sample of sign-ins, and the kills of the child kiosks mid-push."""
    import queue

    rng = random.Random(7)
    inbox: dict[int, queue.Queue[tuple[uuid.UUID, str] | None]] = {k.index: queue.Queue() for k in fleet.all}
    cross: list[float] = []
    samples = 8 if scale["kiosks"] < 100 else 40
    sampled = threading.Semaphore(samples)
    pollers: list[threading.Thread] = []

    def watch(worker: uuid.UUID, other: ThreadKiosk, since: float) -> None:
        until = since + 30
        while time.perf_counter() < until:
            if other.holds(worker):
                cross.append(time.perf_counter() - since)
                return
            time.sleep(0.02)
        cross.append(float("inf"))

    def consume(k: KioskBase) -> None:
        q = inbox[k.index]
        while (item := q.get()) is not None:
            worker, token = item
            k.sign_in(worker, token)
            if isinstance(k, ThreadKiosk):
                others = [o for o in fleet.by_project[k.project] if isinstance(o, ThreadKiosk) and o is not k]
                if others and sampled.acquire(blocking=False):
                    t = threading.Thread(
                        target=watch, args=(worker, others[0], time.perf_counter()), daemon=True
                    )
                    t.start()
                    pollers.append(t)

    consumers = [threading.Thread(target=consume, args=(k,), daemon=True) for k in fleet.all]
    for c in consumers:
        c.start()

    def on_code(phone: Phone, token: str) -> None:
        k = rng.choice(fleet.by_project[phone.project])
        inbox[k.index].put((phone.worker, token))

    def killer() -> None:
        time.sleep(scale["rush_s"] / 2)
        for k in fleet.children:
            before = k.signed
            until = time.perf_counter() + 10
            while k.signed == before and time.perf_counter() < until:
                time.sleep(0.005)
            time.sleep(0.05)  # its round after that sign-in is pushing
            k.kill()
            k.start()
        log(f"killed and restarted {len(fleet.children)} kiosks mid-push")

    before = {k.index: len(k.rounds) for k in fleet.all}
    t0 = time.perf_counter()
    kill_thread = threading.Thread(target=killer, daemon=True)
    kill_thread.start()
    rush = asyncio.run(phones_rush(service.base, district.phones, scale["rush_s"], on_code))
    for q in inbox.values():
        q.put(None)
    for c in consumers:
        c.join(120)
    kill_thread.join(30)
    for t in pollers:
        t.join(35)
    t1 = time.perf_counter() + 2.0  # the rounds the last sign-ins caused
    time.sleep(2.0)
    signins = sum(k.signed for k in fleet.all)
    in_rush = [r for k in fleet.all for r in k.rounds[before[k.index] :] if t0 <= r.at <= t1]
    result["signins"] = signins
    result["kiosks_never_synced"] = sum(
        1 for k in fleet.all if not any(r.ok and t0 <= r.at <= t1 for r in k.rounds)
    )
    result["rounds_per_signin"] = round(len(in_rush) / signins, 3) if signins else None
    result["kiosks_per_project"] = max(len(v) for v in fleet.by_project.values())
    result["round_p95_s"] = p95([r.duration_s for r in in_rush if r.ok])
    result["failed_rounds"] = sum(1 for r in in_rush if not r.ok)
    result["cross_kiosk_p95_s"] = p95(cross)
    result["cross_kiosk_never"] = sum(1 for c in cross if c == float("inf"))  # not seen within 30 s
    log(f"rush done: {signins} sign-ins, {len(in_rush)} rounds, {result['failed_rounds']} failed")
    return rush


def finish(
    fleet: Fleet,
    district: District,
    service: Service,
    sampler: PgSampler,
    scale: dict[str, int],
    result: dict[str, Any],
) -> None:
    """After the rush: every kiosk's last round and the accounting; the idle cost; revocations."""
    from store.sync.client import sync_via
    from store.sync.keys import revoke

    for k in fleet.children:
        k.stop()  # its input ends: a last round, then it exits
    for k in fleet.threads:
        r = sync_via(k.local, k.client)
        if not r.ok:
            log(f"kiosk {k.index}: last round failed: {r.error and r.error.en}")
    for k in fleet.threads:  # a second pass: what another kiosk's last round settled
        sync_via(k.local, k.client)
    server = make_engine(district.url)
    stores = [make_engine(f"sqlite:///{k.store_path}") for k in fleet.all]
    lost, doubled, counts = account(server, stores)
    for e in stores:
        e.dispose()
    result["lost"], result["doubled"], result["counts"] = lost, doubled, counts
    log(f"accounting: {counts}: lost {lost}, doubled {doubled}")
    # idle: every thread kiosk waits on its long-poll; what the service and PostgreSQL spend on them
    time.sleep(3.0)
    pids = service.pids() + sampler.backend_pids()
    c0, t = cpu_ms(pids), time.perf_counter()
    time.sleep(scale["idle_s"])
    spent, minutes = cpu_ms(pids) - c0, (time.perf_counter() - t) / 60
    idle = len(fleet.threads)
    extra = spent / minutes - result.get("idle_service_cpu_ms_per_min", 0.0)  # beyond the service's own
    result["idle_kiosk_server_cpu_ms_per_min"] = round(max(0.0, extra) / idle, 2) if idle else None
    log(f"idle: {spent:.0f} ms of CPU in {minutes * 60:.0f} s for {idle} idle kiosks")
    # revocation: a key revoked as the admin app does it, until that kiosk's own worker is refused
    chosen = fleet.threads[: 4 if scale["kiosks"] < 100 else 20]
    delays: list[float] = []
    marks = {k.index: len(k.rounds) for k in chosen}
    t0 = time.perf_counter()
    for k in chosen:
        revoke(server, k.key.key_id)
    until = t0 + 60
    pending = list(chosen)
    while pending and time.perf_counter() < until:
        for k in list(pending):
            refused = [r for r in k.rounds[marks[k.index] :] if not r.ok and r.code == "revoked"]
            if refused:
                delays.append(refused[0].at - t0)
                pending.remove(k)
        time.sleep(0.02)
    delays += [float("inf")] * len(pending)
    result["revocation_p95_s"] = p95(delays)
    result["revocation_never"] = len(pending)  # not refused within 60 s
    server.dispose()


if __name__ == "__main__":
    main()
