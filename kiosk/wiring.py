"""The one place that builds what a front end runs on, from the config: ``Services``.

What is built where:

- ``open_kiosk(cfg)``: ``kiosk run`` (the officer screen). This kiosk's own store (``open_local_store``),
  its identity, the code verifier (``verifier_for``), the officer's key for way A (``[codes]
  officer_key``), the shared database (``shared_url``) and the background sync (``sync_worker``).
- ``open_gate(cfg, ...)``: ``kiosk run --headless``. The same, plus the ``Gate`` of one project (the
  screen makes its gate itself when the officer unlocks).
- ``kiosk.demo.Demo.services()``: the demo and the tests (a demo store, the demo keys, no shared database).
- ``verifier_for(config, engine)``: every command that checks a personal code (the officer screen, the
  headless loop, the demo, ``kiosk phone signin`` / ``confirm``, ``kiosk code verify``, ``kiosk serve``)
  trusts the same keys and tolerates the same clock difference: the ``IssuerKey`` table of the database
  it works on merged with ``[codes] trust_file`` when set (a revocation or a narrower scope in either
  wins), and ``[policy] clock_skew_s``. The verifier re-reads both on ``reload()`` (after a sync).
- ``sync_round(cfg, local, shared)``: one sync round on the config's options (``kiosk sync --once``,
  the setup's first sync); ``sync_worker`` the background one.
- ``shared_url(cfg)``: a kiosk syncs with ``--shared URL`` when given, else ``[store] shared_url``; with
  neither, with the default shared file (``shared.db`` in the data folder) only when that file exists: a
  kiosk never makes an empty shared database by starting (``kiosk db upgrade --shared`` makes it).
- ``open_local_store(cfg)``: this kiosk's SQLite file, its folder made (owner only) and its schema
  migrated on first use: it is this kiosk's file, not one shared with anybody. ``ensure_folder(url)``
  makes the data folder of a SQLite URL for the commands that create a store there.

The context managers dispose of what they opened on exit (sync stopped, shared and local engines
disposed). No UI here: the front ends receive ``Services`` and the sync worker's reports as messages.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from store.codes.tokens import TrustList, Verifier
from store.timeutil import utcnow

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from kiosk.config import Config
    from kiosk.gate import Gate
    from store.codes.keys import IssuerPrivateKey
    from store.sync.rounds import Listener, SyncReport, SyncWorker
    from store.sync.state import SyncStatus


@dataclass(frozen=True, slots=True)
class Services:
    """What a front end runs on (built here, or by ``kiosk.demo``; tests ``replace`` single fields)."""

    config: Config
    #: this kiosk's store (migrated)
    engine: Engine
    #: the code verifier (``verifier_for``)
    verifier: Verifier
    #: this kiosk's identity (None: not yet known, e.g. the demo before its store is made)
    kiosk_id: uuid.UUID | None = None
    clock: Callable[[], datetime] = utcnow
    #: the shared database (engine, url); None: this kiosk is local only
    shared: tuple[Engine, str] | None = None
    #: the background sync (not started); None: local only
    sync: SyncWorker | None = None
    #: the sync state shown on the screen (None: not shown)
    sync_status: Callable[[], SyncStatus] | None = None
    #: the kiosk's own officer-only key for way A (the officer's code screen); None: no such screen
    issuer_key: IssuerPrivateKey | None = None
    #: the gate of the headless loop (the screen makes its own at each unlock)
    gate: Gate | None = None
    #: warnings for the officer (a key that could not be loaded, no shared database, …)
    notices: tuple[str, ...] = ()
    demo: bool = False

    def replace(self, **changes: Any) -> Services:
        """These services with some fields changed (a test's clock, a config with another setting)."""
        return replace(self, **changes)


# --- the code verifier ------------------------------------------------------------------------------


def trust_of(config: Config, engine: Engine | None) -> TrustList:
    """The keys ``config`` and ``engine`` trust (``engine`` None: the trust file only)."""
    trust = TrustList.from_engine(engine) if engine is not None else TrustList()
    if config.codes.trust_file:
        trust = trust.merged(TrustList.from_file(config.codes.trust_file))
    return trust


def verifier_for(
    config: Config,
    engine: Engine | None,
    *,
    extra: TrustList | None = None,
    skew_s: int | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> Verifier:
    """The verifier of every command: ``engine``'s keys + ``[codes] trust_file`` (+ ``extra``, e.g. the
    demo's own keys), ``[policy] clock_skew_s`` unless ``skew_s`` overrides it (``code verify --skew``)."""

    def trust() -> TrustList:
        t = trust_of(config, engine)
        return t.merged(extra) if extra is not None else t

    skew = config.policy.clock_skew_s if skew_s is None else skew_s
    return Verifier(trust, skew_s=skew, clock=clock)


# --- this kiosk's own store ------------------------------------------------------------------------


def ensure_folder(url: str) -> None:
    """Make the folder of a SQLite file URL (0700: the store holds personal data); others: nothing."""
    from sqlalchemy.engine import make_url

    from store.db.engine import private_folder
    from store.db.urls import normalise_url
    from store.errors import StoreError

    url = normalise_url(url)
    if not url.startswith("sqlite"):
        return
    path = make_url(url).database
    if not path or path == ":memory:":
        return
    folder = Path(path).parent
    try:
        private_folder(folder)  # 0700 whatever the umask, and an existing folder of ours tightened
    except OSError as exc:
        raise StoreError(
            f"无法创建数据文件夹：{folder}（{exc.strerror}）",
            f"Cannot make the data folder {folder}: {exc.strerror}",
        ) from exc


def open_local_store(cfg: Config) -> Engine:
    """This kiosk's store, made and migrated on first use; its pages checked first (``check_local``)."""
    from store.db.engine import make_engine
    from store.db.migrate import upgrade_engine

    url = cfg.store.local()
    ensure_folder(url)
    engine = make_engine(url, synchronous=cfg.store.sqlite_synchronous)
    try:
        check_local(engine)
        upgrade_engine(engine)
    except BaseException:
        engine.dispose()
        raise
    return engine


def check_local(engine: Engine) -> None:
    """A quick integrity check of a kiosk's SQLite store (``store.db.integrity``): a damaged one is
    refused with what to do; one too big to check within the bound is let through, and the log says so."""
    import logging

    from store.db.integrity import check_store

    if not check_store(engine).finished:
        logging.getLogger("kiosk.store").warning("store integrity check stopped at its time bound")


# --- the shared database and the background sync ---------------------------------------------------


def shared_url(cfg: Config, override: str | None = None) -> str | None:
    """The shared database this kiosk syncs with, or None (local only)."""
    if override:
        return override
    if cfg.store.shared_url:
        return cfg.store.shared_url
    from sqlalchemy.engine import make_url

    from store.db.urls import normalise_url

    default = make_url(normalise_url(cfg.store.shared())).database
    return cfg.store.shared() if default and Path(default).is_file() else None


def sync_round(
    cfg: Config, local: Engine, shared: Engine, on_progress: Callable[[str, int], None] | None = None
) -> SyncReport:
    """One round of sync (push, then pull) of ``local`` with ``shared`` on the config's options: what
    ``kiosk sync --once`` and the setup's first sync run (the background one is ``sync_worker``)."""
    from store.sync.rounds import sync_once

    return sync_once(
        local,
        shared,
        face_thumbs=cfg.sync.face_thumbs,
        photos=cfg.sync.push_photos,
        on_progress=on_progress,
        clock_skew_s=cfg.policy.clock_skew_s,
    )


def sync_worker(cfg: Config, local: Engine, url: str, on_report: Listener | None = None) -> SyncWorker:
    """The background sync of ``local`` with ``url`` (not started): a round at once, whenever the kiosk
    records something, when the shared database notifies a change, on demand, and every interval."""
    from store.sync.rounds import SyncWorker

    return SyncWorker(
        local,
        url,
        interval_s=cfg.sync.interval_s,
        face_thumbs=cfg.sync.face_thumbs,
        photos=cfg.sync.push_photos,
        clock_skew_s=cfg.policy.clock_skew_s,
        on_report=on_report,
    )


def service_sync_worker(cfg: Config, local: Engine, on_report: Listener | None = None) -> SyncWorker:
    """The background sync through the site service (``[sync] service_url``), signed by the kiosk's key
    (``[sync] key_file``; a key readable by others is refused here, before any request)."""
    from store.sync.client import ServiceSyncWorker, SyncClient
    from store.sync.signing import KioskKeyFile

    client = SyncClient(cfg.sync.service_url, KioskKeyFile.load(cfg.sync.key_path()))
    return ServiceSyncWorker(
        local,
        client,
        interval_s=cfg.sync.interval_s,
        face_thumbs=cfg.sync.face_thumbs,
        photos=cfg.sync.push_photos,
        clock_skew_s=cfg.policy.clock_skew_s,
        on_report=on_report,
    )


def _sync_status(cfg: Config, engine: Engine) -> Callable[[], SyncStatus]:
    from store.sync.rounds import status

    return lambda: status(engine, clock_skew_s=cfg.policy.clock_skew_s)


# --- the front ends' services ----------------------------------------------------------------------


@contextmanager
def open_kiosk(cfg: Config, *, shared: str | None = None, project: str | None = None) -> Iterator[Services]:
    """The officer screen's services (``kiosk run``): this kiosk's store, identity and verifier, the way-A
    key, the shared database and its sync (``shared``: ``--shared``; ``project``: ``--project``, an id,
    the start of one, or the name). A key that cannot be loaded, or no shared database, is a notice."""
    from kiosk.i18n import t
    from store.db.engine import make_engine
    from store.errors import StoreError
    from store.sync.identity import kiosk_identity

    engine = open_local_store(cfg)
    shared_engine = worker = None
    try:
        if project:
            from store.projects import resolve_project

            found = resolve_project(engine, project)
            cfg = cfg.model_copy(update={"kiosk": cfg.kiosk.model_copy(update={"project": str(found.id)})})
        kiosk_id = kiosk_identity(
            engine,
            kiosk_id=cfg.kiosk.id,
            name=cfg.kiosk.name,
            project_id=uuid.UUID(cfg.kiosk.project) if cfg.kiosk.project else None,
        )
        verifier = verifier_for(cfg, engine)
        notices: list[str] = []
        issuer_key = None
        if cfg.codes.officer_key:  # the officer's code screen (way A): an officer-only key, never a full one
            from store.codes.keys import load_officer_key

            try:
                issuer_key = load_officer_key(cfg.codes.officer_key)
            except StoreError as exc:
                notices.append(exc.both())
        url = shared_url(cfg, shared)
        if cfg.sync.service_url and not shared:  # through the site service, by key (issue 24)
            worker = service_sync_worker(cfg, engine)
            url = None
        elif url:
            shared_engine = make_engine(url, create=False)
            worker = sync_worker(cfg, engine, url)
        else:
            notices.append(
                f"{t('sync_local', 'zh')}：{t('no_shared', 'zh')}\n{t('sync_local', 'en')}: {t('no_shared', 'en')}"
            )
        yield Services(
            config=cfg,
            engine=engine,
            verifier=verifier,
            kiosk_id=kiosk_id,
            shared=(shared_engine, url) if shared_engine is not None and url else None,
            sync=worker,
            sync_status=_sync_status(cfg, engine),
            issuer_key=issuer_key,
            notices=tuple(notices),
        )
    finally:  # the sync first (it uses both engines), then the engines
        if worker is not None:
            worker.stop()
        if shared_engine is not None:
            shared_engine.dispose()
        engine.dispose()


@contextmanager
def open_gate(
    cfg: Config,
    *,
    project: str,
    url: str | None = None,
    kiosk: str = "",
    decoder: str | None = None,
    gate_photos: bool = True,
    shared: str | None = None,
) -> Iterator[Services]:
    """The headless loop's services (``kiosk run --headless``): its store (``url`` None: this kiosk's own,
    made and migrated on first use; an explicit ``--db`` must exist and be migrated), the gate of
    ``project`` (an id, the start of one, or the name) with this kiosk's identity (``kiosk``: an id,
    else the one kept in the store) and the background sync when a shared database is set (the gate's
    verifier re-reads keys and revocations after each good round)."""
    from kiosk.gate import Gate
    from store.db.engine import open_store, translate_errors
    from store.projects import resolve_project
    from store.rules.signin import SignInService
    from store.sync.identity import kiosk_identity

    if url is None:
        engine, url = open_local_store(cfg), cfg.store.local()
    else:
        engine = open_store(url, synchronous=cfg.store.sqlite_synchronous)
    worker = None
    try:
        check_local(engine)
        with translate_errors(url):
            project_id = resolve_project(engine, project).id
        # this gate's identity: amber names it, the roster and the exports show it (签到设备)
        kiosk_id = kiosk_identity(engine, kiosk_id=kiosk, name=cfg.kiosk.name, project_id=project_id)
        verifier = verifier_for(cfg, engine)
        gate = Gate(
            service=SignInService(engine, cfg.sign_in_policy()),
            verifier=verifier,
            project_id=project_id,
            kiosk_id=kiosk_id,
            dedupe_window_s=cfg.camera.dedupe_window_s,
            gate_photos=gate_photos,
            decoder=decoder or cfg.camera.decoder,
        )
        to = shared_url(cfg, shared)
        if to:
            worker = sync_worker(
                cfg, engine, to, on_report=lambda r, _st: verifier.reload() if r.ok else None
            )
        yield Services(
            config=cfg,
            engine=engine,
            verifier=verifier,
            kiosk_id=kiosk_id,
            sync=worker,
            gate=gate,
        )
    finally:
        if worker is not None:
            worker.stop()
        engine.dispose()
