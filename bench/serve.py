"""Benchmark of the phone service (``kiosk serve``) against the local PostgreSQL:
``python bench/serve.py [--quick] [--processes 1,2]``.

In a database of its own (``kiosk_bench_serve_<random>``, dropped at the end) on 127.0.0.1:5432:
5 000 synthetic workers (store/people/seed.py) on one project, each with a bound phone (a binding row, as
``store.people.phone.activate`` writes it), and a registered worker-and-officer issuing key. For N = 1 and 2
server processes (``kiosk serve --workers N``, a real uvicorn on a free port):

1. **the morning minute**: every one of the 5 000 phones fetches its code (``GET /api/code``: the
   device lookup, signing, the SVG QR) once, at a random moment of one minute, and 500 of them sign in
   by way A (``POST /api/signin`` with a fresh officer's code, inside the range, CSRF and nonce as the
   page sends them) — open loop, each request sent at its moment whatever the others do; the 99th
   percentile latencies ``code_p99_ms`` (goal ≤ 50) and ``signin_p99_ms`` (goal ≤ 200);
   (each server process is warmed first by 100 code fetches: its first requests import and connect,
   which a service that has run since the night before did long ago);
2. **throughput**: code fetches as fast as 32 connections get answers for 10 s: ``requests_per_s``.

The load generator (a small keep-alive HTTP/1.1 client on asyncio streams, 100 connections) shares
this machine's two cores with the server and PostgreSQL.
``--quick``: 1 000 phones, 100 sign-ins, a 15 s window, 5 s of throughput.
The last line printed is one JSON object: the keys for the last N run, and ``by_processes`` for each N.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from pgdb import create_db, drop_db  # noqa: E402  (bench/: the folder of this script)
from sqlalchemy import insert, select  # noqa: E402

from store.codes.keys import IssuerPrivateKey, register_public_key  # noqa: E402
from store.codes.tokens import issue_code  # noqa: E402
from store.db.engine import make_engine, session  # noqa: E402
from store.db.migrate import upgrade_engine  # noqa: E402
from store.db.models import Employment, PhoneBinding, Project, Worker  # noqa: E402
from store.people.phone import secret_hash  # noqa: E402
from store.people.seed import seed_demo  # noqa: E402
from store.reasons import Role  # noqa: E402
from store.timeutil import utcnow  # noqa: E402

CSRF = "benchcsrftoken0123456789abcdef"


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def p99(values: list[float]) -> float:
    if not values:
        return float("nan")
    return (
        round(statistics.quantiles(values, n=100, method="inclusive")[98], 1)
        if len(values) > 1
        else values[0]
    )


class Site:
    """The seeded database: phones (device secrets), the project, its officer, the key."""

    def __init__(self, url: str, folder: Path, phones: int) -> None:
        engine = make_engine(url)
        upgrade_engine(engine)
        t = time.perf_counter()
        summary = seed_demo(engine, workers=phones, projects=1, seed=3, examples=5)
        log(f"seeded {phones} workers in {time.perf_counter() - t:.1f} s")
        self.project = uuid.UUID(summary["examples_project"])
        self.officer = uuid.UUID(
            next(o["id"] for o in summary["officers"] if o["projects"] == [str(self.project)])
        )
        self.key = IssuerPrivateKey.generate()
        register_public_key(engine, self.key.public_pem(), note="bench serve key", actor="bench")
        self.key_path, _ = self.key.save(folder / "serve-key")
        with session(engine) as s:
            p = s.get(Project, self.project)
            assert p is not None and p.latitude is not None and p.longitude is not None
            self.centre = (p.latitude, p.longitude)
        with engine.connect() as conn:
            employed = [
                r[0]
                for r in conn.execute(
                    select(Employment.worker_id).where(Employment.project_id == self.project)
                )
            ]
            everyone = [r[0] for r in conn.execute(select(Worker.id))]
        # those employed on the project first (they are the ones who sign in), then everyone else
        workers = list(dict.fromkeys([*employed, *everyone]))[:phones]
        self.secrets = [secrets.token_urlsafe(32) for _ in workers]
        now = utcnow()
        rows = [
            {
                "id": uuid.uuid4(),
                "created_at": now,
                "device_hash": secret_hash(sec),
                "worker_id": w,
                "last_seen_at": now,
            }
            for sec, w in zip(self.secrets, workers, strict=True)
        ]
        with engine.begin() as conn:
            conn.execute(insert(PhoneBinding), rows)
        log(f"bound {len(rows)} phones")
        engine.dispose()

    def officer_code(self) -> str:
        return issue_code(
            self.key,
            role=Role.OFFICER,
            subject=self.officer,
            project=self.project,
            at=utcnow(),
            validity_s=600,
        )


def start_server(url: str, folder: Path, site: Site, processes: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    cfg = folder / f"serve-{processes}.toml"
    cfg.write_text(
        f'[serve]\nissuer_key = "{site.key_path}"\nsignin_per_min_ip = 1000000\nactivate_per_min_ip = 1000000\n'
        "code_per_min_device = 1000\nsignin_per_min_device = 1000\n",
        encoding="utf-8",
    )
    kiosk = str(Path(sys.executable).with_name("kiosk"))
    with (folder / f"serve-{processes}.log").open("wb") as err:
        # The same `kiosk serve` command line as tests/test_serve_process.py: a benchmark imports no test code.
        proc = subprocess.Popen(
            [
                kiosk,
                "serve",
                "--db",
                url,
                "--port",
                str(port),
                "--workers",
                str(processes),
                "--config",
                str(cfg),
            ],
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/api/csrf", timeout=1).status_code == 200:
                time.sleep(1.0 if processes > 1 else 0.2)  # every process up
                return proc, base
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise SystemExit((folder / f"serve-{processes}.log").read_text())
        time.sleep(0.2)
    raise SystemExit("the service did not start")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


class Http:
    """A small keep-alive HTTP/1.1 client on asyncio streams: ``connections`` sockets shared by every
    request. httpx costs the shared machine more CPU per request than the service itself does, which
    would measure the load generator; this one costs a few tens of microseconds."""

    def __init__(self, base: str, connections: int) -> None:
        self.host, port = base.removeprefix("http://").split(":")
        self.port, self.connections = int(port), connections
        self.pool: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()

    async def __aenter__(self) -> Http:
        for _ in range(self.connections):
            self.pool.put_nowait(await asyncio.open_connection(self.host, self.port))
        return self

    async def __aexit__(self, *exc: object) -> None:
        while not self.pool.empty():
            _, w = self.pool.get_nowait()
            w.close()

    async def request(
        self, method: str, path: str, secret: str, body: dict[str, Any] | None = None
    ) -> tuple[int, bytes]:
        data = json.dumps(body).encode() if body is not None else b""
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\nAccept: application/json\r\n"
            f"Cookie: kiosk_device={secret}; kiosk_csrf={CSRF}\r\nX-CSRF-Token: {CSRF}\r\n"
        )
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
        reader, writer = await self.pool.get()
        try:
            writer.write(head.encode() + b"\r\n" + data)
            status_line = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            payload = await reader.readexactly(length)
        finally:
            self.pool.put_nowait((reader, writer))
        return int(status_line.split()[1]), payload


async def morning(base: str, site: Site, window_s: float, signins: int) -> dict[str, Any]:
    rng = random.Random(11)
    code_ms: list[float] = []
    signin_ms: list[float] = []
    errors: dict[str, int] = {}
    outcomes: dict[str, int] = {}
    officer = site.officer_code()
    lat, lon = site.centre
    async with Http(base, 100) as http:
        t0 = time.perf_counter()

        async def fetch(secret: str, at: float) -> None:
            await asyncio.sleep(max(0.0, t0 + at - time.perf_counter()))
            start = time.perf_counter()
            status, _ = await http.request("GET", "/api/code", secret)
            code_ms.append((time.perf_counter() - start) * 1000)
            if status != 200:
                errors[f"code {status}"] = errors.get(f"code {status}", 0) + 1

        async def sign(secret: str, at: float) -> None:
            await asyncio.sleep(max(0.0, t0 + at - time.perf_counter()))
            body = {
                "officer_code": officer,
                "latitude": lat,
                "longitude": lon,
                "accuracy": 15,
                "nonce": uuid.uuid4().hex,
            }
            start = time.perf_counter()
            status, payload = await http.request("POST", "/api/signin", secret, body)
            signin_ms.append((time.perf_counter() - start) * 1000)
            if status == 200:
                outcome = json.loads(payload)["outcome"]
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
            else:
                errors[f"signin {status}"] = errors.get(f"signin {status}", 0) + 1

        tasks = [fetch(s, rng.uniform(0, window_s)) for s in site.secrets]
        tasks += [sign(s, rng.uniform(0, window_s)) for s in site.secrets[:signins]]
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - t0
    return {
        "code_p99_ms": p99(code_ms),
        "signin_p99_ms": p99(signin_ms),
        "code_median_ms": round(statistics.median(code_ms), 1),
        "signin_median_ms": round(statistics.median(signin_ms), 1),
        "requests": len(code_ms) + len(signin_ms),
        "elapsed_s": round(elapsed, 1),
        "outcomes": outcomes,
        "errors": errors,
    }


async def warm_up(base: str, site: Site, connections: int = 50, rounds: int = 2) -> None:
    """A service runs for hours before the morning: each process serves its first requests (imports,
    templates, the connection pool, the key) before the measured minute, not in it. Code fetches of
    phones that do not sign in (their per-phone limit leaves room for the morning's fetch)."""
    secrets_ = site.secrets[-connections:]
    async with Http(base, connections) as http:
        for _ in range(rounds):
            await asyncio.gather(*(http.request("GET", "/api/code", s) for s in secrets_))


async def throughput(base: str, site: Site, seconds: float, connections: int = 32) -> float:
    done = 0
    stop_at = time.perf_counter() + seconds
    async with Http(base, connections) as http:

        async def loop(i: int) -> None:
            nonlocal done
            n = i
            while time.perf_counter() < stop_at:
                status, _ = await http.request("GET", "/api/code", site.secrets[n % len(site.secrets)])
                done += status == 200
                n += connections

        t = time.perf_counter()
        await asyncio.gather(*(loop(i) for i in range(connections)))
        return round(done / (time.perf_counter() - t), 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--processes", default="1,2", help="server processes to try, e.g. 1,2")
    args = ap.parse_args()
    phones, signins, window, tput = (1000, 100, 15.0, 5.0) if args.quick else (5000, 500, 60.0, 10.0)
    name, url = create_db("serve")
    results: dict[str, Any] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="kiosk-bench-serve-") as tmp:
            folder = Path(tmp)
            site = Site(url, folder, phones)
            for n in [int(x) for x in args.processes.split(",")]:
                proc, base = start_server(url, folder, site, n)
                try:
                    asyncio.run(warm_up(base, site))
                    log(
                        f"{n} process(es): {phones} code fetches and {signins} sign-ins within {window:.0f} s …"
                    )
                    r = asyncio.run(morning(base, site, window, signins))
                    r["requests_per_s"] = asyncio.run(throughput(base, site, tput))
                    r["workers"] = n
                    r["load"] = os.getloadavg()[0]
                    log(json.dumps(r, ensure_ascii=False))
                    results[str(n)] = r
                finally:
                    stop_server(proc)
                # a second run signs the same workers in again (already): fresh attendance keeps it comparable
                with make_engine(url).begin() as conn:
                    from sqlalchemy import text

                    conn.execute(text("DELETE FROM attendance"))
    finally:
        drop_db(name)
    last = results[list(results)[-1]]
    print(
        json.dumps(
            {
                "code_p99_ms": last["code_p99_ms"],
                "signin_p99_ms": last["signin_p99_ms"],
                "requests_per_s": last["requests_per_s"],
                "workers": last["workers"],
                "by_processes": {
                    k: {kk: v[kk] for kk in ("code_p99_ms", "signin_p99_ms", "requests_per_s", "load")}
                    for k, v in results.items()
                },
            }
        )
    )


if __name__ == "__main__":
    main()
