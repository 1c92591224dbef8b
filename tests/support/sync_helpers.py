"""Test helpers for sync: a synthetic site in the shared database, kiosks as SQLite files, a TCP proxy."""

from __future__ import annotations

import contextlib
import socket
import threading
import time as clock
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from stdnum.cn import ric

from store.db.engine import make_engine, session
from store.db.migrate import upgrade_engine
from store.people import enroll
from store.timeutil import local_date, utcnow, zone
from support.eligible import make_eligible

NAMES = ("王建国", "李卫东", "张志强", "刘海波", "陈国平", "杨永刚", "赵德明", "黄立新", "周明亮", "吴振华")


def today() -> date:
    return local_date(utcnow())


def morning(minute: int = 0) -> datetime:
    """Today 07:00 in Shanghai plus ``minute`` minutes, as UTC."""
    local = datetime.combine(today(), time(7, 0), tzinfo=zone("Asia/Shanghai")) + timedelta(minutes=minute)
    return local.astimezone(UTC)


def id_number(n: int) -> str:
    body = f"310104{1980 + n % 20}0{1 + n % 9}1{n % 10}{n % 1000:03d}"[:17]
    return body + ric.calc_check_digit(body + "0")


@dataclass
class Site:
    project: uuid.UUID
    employer: uuid.UUID
    workers: list[uuid.UUID] = field(default_factory=list)
    employments: list[uuid.UUID] = field(default_factory=list)


def make_site(shared: Engine, workers: int = 6, *, first: int = 0, name: str = "同步测试项目") -> Site:
    """A project with eligible workers, made the way the admin app makes them (store/people/enroll.py)."""
    with session(shared) as s:
        p = enroll.add_project(session=s, name=name, latitude=31.2, longitude=121.5)
        em = enroll.add_employer(session=s, name="上海同步测试建设有限公司" + (f"{first}" if first else ""))
        inst = enroll.add_health_institution(session=s, name=f"测试体检中心{uuid.uuid4().hex[:4]}")
        site = Site(p.id, em.id)
        for i in range(workers):
            w = enroll.add_worker(
                session=s, id_number=id_number(first + i), name=NAMES[i % len(NAMES)], mobile=None
            )
            e = make_eligible(
                s, w, employer=em, project=p, today=today(), institution=inst, result_note="synthetic note"
            )
            site.workers.append(w.id)
            site.employments.append(e.id)
        s.commit()
    return site


def new_kiosk(tmp_path: Path, name: str) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / (name + '.db')}")
    upgrade_engine(engine)
    return engine


def count(engine: Engine, model: type, **where: object) -> int:
    table = model.__table__  # type: ignore[attr-defined]
    q = select(func.count()).select_from(table)
    for k, v in where.items():
        q = q.where(table.c[k] == v)
    with engine.connect() as conn:
        return int(conn.execute(q).scalar_one())


class Proxy:
    """A loopback TCP proxy to the database; ``cut()`` closes every connection and stops listening."""

    def __init__(self, host: str = "127.0.0.1", port: int = 5432) -> None:
        self.target = (host, port)
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.socks: list[socket.socket] = []
        self._lock = threading.Lock()
        self.closed = False
        self.frozen = threading.Event()  # set: bytes are taken in but not passed on (a hung proxy)
        self.budget: int | None = None
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, pg_url: str) -> str:
        return pg_url.replace("127.0.0.1:5432", f"127.0.0.1:{self.port}")

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            with self._lock:
                self.socks += [client, upstream]
            threading.Thread(target=self._pipe, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, False), daemon=True).start()

    def freeze(self) -> None:
        """Stop passing bytes on, keeping every connection open (a proxy that hangs)."""
        self.frozen.set()

    def cut_after(self, n_bytes: int) -> None:
        """Cut everything once ``n_bytes`` more have gone towards the server (inside a transaction)."""
        self.budget = n_bytes

    def _pipe(self, src: socket.socket, dst: socket.socket, to_server: bool) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                while self.frozen.is_set() and not self.closed:
                    clock.sleep(0.05)
                if to_server and self.budget is not None:
                    self.budget -= len(data)
                    if self.budget <= 0:
                        dst.sendall(data[: len(data) // 2])  # half a message, then the line goes dead
                        self.cut()
                        return
                dst.sendall(data)
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.closed = True
        with contextlib.suppress(OSError):
            self.server.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept() (close alone would not)
        self.server.close()
        with self._lock:
            for s in self.socks:
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()
            self.socks.clear()
