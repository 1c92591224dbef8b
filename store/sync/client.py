"""A kiosk's side of sync through the site service (issue 24): ``SyncClient``, ``sync_via`` and
``ServiceSyncWorker``.

The kiosk holds no database URL or password: it knows the service's base URL and its own key file
(store/sync/signing.py). Entry points::

    client = SyncClient("http://127.0.0.1:8765", KioskKeyFile.load("~/.local/share/kiosk/kiosk.key"))
    client.register(kiosk_id, "1号门", token="...")     # once, at set-up
    report = sync_via(local_engine, client)               # one round: push, then pull
    worker = ServiceSyncWorker(local_engine, client, on_report=...).start()   # the background

Guarantees kept from the direct path (store/sync/rounds.py): push by the kiosk's own revision, batch by
batch, the cursor moving only after the service took a batch (idempotent by UUID: a batch cut on the way is
sent again); pull page by page, each page written in its own short local transaction together with the
place the next page starts (``pull.next``), so a cut or killed pull resumes there. No local transaction
is open while waiting on the network, and every request has bounded timeouts: a stalled service never
locks the kiosk's store. Live changes: a long-poll (``/api/sync/v1/wait``) instead of a database LISTEN.
"""

from __future__ import annotations

import base64
import gzip
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from sqlalchemy import Table
from sqlalchemy.engine import Engine

from store.db.engine import translate_errors
from store.db.models import Attendance
from store.errors import StoreError
from store.sync.pull import PULLED, PullResult, _bulk_pragmas, _settle_days, _upsert_sql, table_of
from store.sync.push import BatchResult, PushResult, push_via
from store.sync.rounds import (
    SyncFailed,
    SyncReport,
    SyncTimedOut,
    SyncWorker,
    _mark_back,
    _remember,
    _remember_clock,
    as_failure,
)
from store.sync.signing import KioskKeyFile
from store.sync.state import PULL_REV, PUSH_REV, SHARED_ID, int_state, read_state, write_state
from store.sync.wire import encode_rows
from store.timeutil import utcnow

log = logging.getLogger(__name__)

#: where an unfinished pull goes on (JSON), and the scope its cursor belongs to
PULL_NEXT = "pull.next"
PULL_SCOPE = "pull.scope"
#: seconds: connecting, and waiting for an answer (a long-poll adds its own wait)
CONNECT_S = 5.0
READ_S = 60.0


class ServiceRefused(SyncFailed):
    """The service refused the kiosk (not approved, revoked, bad signature): ``code`` says why."""

    def __init__(self, status: int, code: str, zh: str, en: str) -> None:
        super().__init__(zh, en)
        self.status = status
        self.code = code


@dataclass(frozen=True, slots=True)
class KeyInfo:
    key_id: str
    kiosk_id: uuid.UUID
    name: str
    status: str
    projects: list[uuid.UUID]
    scope: str
    server_time: float


class SyncClient:
    """Signed requests to the site service's sync API (kiosk/serve/routers/sync.py)."""

    def __init__(
        self,
        base_url: str,
        key: KioskKeyFile,
        *,
        connect_s: float = CONNECT_S,
        read_s: float = READ_S,
        clock: Callable[[], float] = time.time,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.key = key
        self.clock = clock
        timeout = httpx.Timeout(read_s, connect=connect_s, write=read_s, pool=connect_s)
        self._http = httpx.Client(
            base_url=self.base_url, timeout=timeout, transport=transport, headers={"Accept-Encoding": "gzip"}
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SyncClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        timeout: float | None = None,
    ) -> Any:
        """One signed request; the answer's JSON. Network trouble and refusals raise SyncFailed."""
        full = path + (f"?{urlencode({k: v for k, v in params.items() if v is not None})}" if params else "")
        raw = b""
        headers: dict[str, str] = {}
        if body is not None:
            raw = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json"
            if len(raw) > 1024:
                raw = gzip.compress(raw, 5)
                headers["Content-Encoding"] = "gzip"
        headers |= self.key.headers(method, full, raw, now=self.clock())
        limit: Any = self._http.timeout if timeout is None else httpx.Timeout(timeout, connect=CONNECT_S)
        try:
            r = self._http.request(method, full, content=raw or None, headers=headers, timeout=limit)
        except httpx.TimeoutException as exc:
            raise SyncTimedOut(
                f"同步超时：站点服务 {self.base_url} 没有及时应答，稍后自动重试（数据不会丢失）",
                f"Sync timed out: the site service {self.base_url} did not answer in time; it will retry "
                "(nothing is lost)",
            ) from exc
        except httpx.HTTPError as exc:
            raise SyncFailed(
                f"无法连接站点服务 {self.base_url}：{type(exc).__name__}",
                f"Cannot reach the site service {self.base_url}: {type(exc).__name__}",
            ) from exc
        if r.status_code >= 400:
            try:
                err = r.json()["error"]
                code, zh, en = str(err["code"]), str(err.get("message", "")), str(err.get("message_en", ""))
            except (ValueError, KeyError, TypeError):
                code, zh, en = (
                    "http",
                    f"站点服务答复 {r.status_code}",
                    f"The site service answered {r.status_code}",
                )
            raise ServiceRefused(r.status_code, code, zh or en, en or zh)
        return r.json()

    # --- identity ----------------------------------------------------------------------------------

    def register(self, kiosk_id: uuid.UUID, name: str, *, token: str | None = None) -> KeyInfo:
        body = {
            "kiosk_id": str(kiosk_id),
            "name": name,
            "public_key": base64.b64encode(self.key.public_raw).decode(),
            "token": token or None,
        }
        return _info(self.request("POST", "/api/sync/v1/register", body=body))

    def me(self) -> KeyInfo:
        return _info(self.request("GET", "/api/sync/v1/me"))

    def wait(self, since: int, timeout: float = 25.0) -> bool:
        got = self.request(
            "GET", "/api/sync/v1/wait", params={"since": since, "timeout": timeout}, timeout=timeout + READ_S
        )
        return bool(got["changed"])

    # --- push and pull -----------------------------------------------------------------------------

    def send_batch(self, pages: dict[Table, list[dict[str, Any]]], me: uuid.UUID | None) -> BatchResult:
        body = {t.name: encode_rows(rows) for t, rows in pages.items() if rows}
        got = self.request("POST", "/api/sync/v1/push", body=body)
        return BatchResult(int(got["contested"]), int(got["rejected"]))

    def push(self, local: Engine, *, photos: bool = True, on_progress: Any = None) -> PushResult:
        return push_via(local, self.send_batch, photos=photos, on_progress=on_progress)

    def pull(self, local: Engine, *, face_thumbs: bool = False, on_progress: Any = None) -> PullResult:
        """Pull page by page until the service has nothing newer; resumes an unfinished pull."""
        with local.connect() as lconn:
            state = read_state(lconn)
            lconn.rollback()
        cursor, pushed = int_state(state, PULL_REV), int_state(state, PUSH_REV)
        nxt: dict[str, Any] = json.loads(state[PULL_NEXT]) if state.get(PULL_NEXT) else {}
        counts: dict[str, int] = {}
        replaced = 0
        scope = state.get(PULL_SCOPE)
        while True:
            params = {
                "since": cursor,
                "high": nxt.get("high"),
                "t": nxt.get("t", 0),
                "rev": nxt.get("rev"),
                "id": nxt.get("id"),
                "thumbs": "true" if face_thumbs else None,
            }
            page = self.request("GET", "/api/sync/v1/pull", params=params)
            if page["scope"] != scope:
                fresh = scope is None and cursor == 0 and not nxt
                # the kiosk's projects changed: everything of the new scope, afresh
                with translate_errors(str(local.url)), local.begin() as lconn:
                    write_state(lconn, {PULL_SCOPE: page["scope"], PULL_REV: "0", PULL_NEXT: None})
                scope, cursor, nxt = page["scope"], 0, {}
                if not fresh:
                    continue
            high = int(page["high"])
            n, rep = _write_page(local, page, pushed)
            replaced += rep
            if page["table"] and n:
                counts[page["table"]] = counts.get(page["table"], 0) + n
                if on_progress:
                    on_progress(page["table"], n)
            following = page["next"]
            with translate_errors(str(local.url)), local.begin() as lconn:
                if following is None:
                    write_state(lconn, {PULL_REV: str(max(high, cursor)), PULL_NEXT: None})
                else:
                    t, rev, rid = following
                    nxt = {"high": high, "t": t, "rev": rev if rev >= 0 else None, "id": rid or None}
                    write_state(lconn, {PULL_NEXT: json.dumps(nxt)})
            if following is None:
                return PullResult(counts, max(high, cursor), replaced)


def _info(d: dict[str, Any]) -> KeyInfo:
    return KeyInfo(
        key_id=str(d["key_id"]),
        kiosk_id=uuid.UUID(str(d["kiosk_id"])),
        name=str(d["name"]),
        status=str(d["status"]),
        projects=[uuid.UUID(str(p)) for p in d["projects"]],
        scope=str(d["scope"]),
        server_time=float(d["server_time"]),
    )


_TABLES = {table_of(m).name: table_of(m) for m in PULLED}


def _write_page(local: Engine, page: dict[str, Any], pushed: int) -> tuple[int, int]:
    """One pulled page into the kiosk's store, in one short transaction. Returns (rows, replaced)."""
    rows: list[tuple[Any, ...]] = [tuple(r) for r in page["rows"]]
    if not rows:
        return 0, 0
    table = _TABLES[page["table"]]
    cols: list[str] = list(page["columns"])
    for name in page["binary"]:
        i = cols.index(name)
        rows = [(*r[:i], None if r[i] is None else base64.b64decode(r[i]), *r[i + 1 :]) for r in rows]
    replaced = 0
    with translate_errors(str(local.url)), local.connect() as lconn, _bulk_pragmas(lconn):
        lconn = lconn.execution_options(sqlite_begin="IMMEDIATE")
        with lconn.begin():
            if table is table_of(Attendance):
                rows, replaced = _settle_days(lconn, cols, rows, pushed)
            if rows:
                lconn.exec_driver_sql(_upsert_sql(table, cols), rows)
    return len(rows), replaced


def sync_via(
    local: Engine,
    client: SyncClient,
    *,
    face_thumbs: bool = False,
    photos: bool = True,
    on_progress: Any = None,
    clock_skew_s: float = 30.0,
) -> SyncReport:
    """One round through the site service: the clocks compared, push, then pull. Never raises for a
    service that is down, stalled or refusing: the report says so and the local state remembers it."""
    started, t0 = utcnow(), time.perf_counter()
    sent: dict[str, int] = {}

    def on_push(table: str, n: int) -> None:
        sent[table] = sent.get(table, 0) + n
        if on_progress is not None:
            on_progress(table, n)

    try:
        info = client.me()
        if info.status != "approved":
            raise ServiceRefused(
                403,
                info.status,
                "这台签到机尚未获批准：请管理员运行 kiosk kiosk approve",
                "This kiosk is not approved yet: the administrator runs kiosk kiosk approve",
            )
        drift = client.clock() - info.server_time
        _remember_clock(local, drift, clock_skew_s)
        _bind_service(local, client.base_url)
        _mark_back(local)
        pushed = client.push(local, photos=photos, on_progress=on_push)
        pulled = client.pull(local, face_thumbs=face_thumbs, on_progress=on_progress)
    except Exception as exc:  # every failure is a recorded one, retried: the sync thread never dies
        err = as_failure(exc)
        if not isinstance(exc, StoreError):
            log.warning("sync through %s failed", client.base_url, exc_info=True)
        try:
            _remember(local, started, err)
        except Exception:  # the kiosk's store still busy: the next round records its own outcome
            log.warning("sync: could not record a failed round", exc_info=True)
        return SyncReport(False, started, time.perf_counter() - t0, pushed=dict(sent), error=err)
    _remember(local, started, None)
    return SyncReport(
        True,
        started,
        time.perf_counter() - t0,
        pushed=pushed.rows,
        pulled=pulled.rows,
        contested_days=pushed.conflicts,
        replaced=pulled.replaced,
        clock_drift_s=round(drift, 3),
        rejected=pushed.rejected,
    )


def _bind_service(local: Engine, base_url: str) -> None:
    """A kiosk that synced straight with a database before keeps its push cursor (what it recorded is
    pushed from where it stopped; the service ignores what it already has) and pulls afresh."""
    with translate_errors(str(local.url)), local.begin() as lconn:
        if read_state(lconn).get(SHARED_ID) != f"service:{base_url}":
            write_state(
                lconn, {SHARED_ID: f"service:{base_url}", PULL_REV: "0", PULL_NEXT: None, PULL_SCOPE: None}
            )


class ServiceSyncWorker(SyncWorker):
    """``SyncWorker`` (store/sync/rounds.py) through the site service: rounds by ``sync_via``, live
    changes by long-poll."""

    def __init__(self, local: Engine, client: SyncClient, *, wait_s: float = 25.0, **kw: Any) -> None:
        super().__init__(local, client.base_url, **kw)
        self.client = client
        self.wait_s = wait_s
        self.rounds = 0  # rounds done (the long-poll waits for the round it asked for)

    def _open(self) -> Any:
        return self.client

    def _round(self, shared: Any) -> SyncReport:
        try:
            return sync_via(
                self.local,
                self.client,
                face_thumbs=self.face_thumbs,
                photos=self.photos,
                clock_skew_s=self.clock_skew_s,
            )
        finally:
            self.rounds += 1

    def _close(self, shared: Any) -> None:
        pass

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                with self.local.connect() as conn:
                    since = int_state(read_state(conn), PULL_REV)
                changed = self.client.wait(since, self.wait_s)
            except ServiceRefused:  # revoked or unapproved while waiting: a round records it now
                self._asked.set()
                self._wake.set()
                self._stop.wait(self.retry_s)
                continue
            except Exception:  # the service away: try again a little later
                self._stop.wait(self.retry_s)
                continue
            if changed and not self._stop.is_set():
                before = self.rounds
                self._asked.set()
                self._wake.set()
                until = time.monotonic() + READ_S  # the round it asked for moves the cursor first
                while self.rounds == before and time.monotonic() < until and not self._stop.wait(0.02):
                    pass


__all__ = [
    "KeyInfo",
    "ServiceRefused",
    "ServiceSyncWorker",
    "SyncClient",
    "sync_via",
]
