"""``kiosk sync --once | --status | --watch``: sync this kiosk's local store with the shared database.

``--once`` pushes what the kiosk recorded and pulls what changed, then prints one JSON report (exit 2,
with the error in Chinese and English, when the shared database cannot be reached: nothing is lost, the
next sync sends it). ``--status`` prints the last success, pending counts and last error without touching
the network. ``--watch`` runs the background sync in the foreground (one JSON line per round) until
Ctrl-C, and once a day purges what the kiosk pushed and no longer needs (``[retention] kiosk_days``). ``--local URL`` and ``--shared URL`` override the config's ``[store]``.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from kiosk.cli.common import add_config_arg, config_of, counting_progress, print_json

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from kiosk.config import Config
    from store.errors import StoreError

ORDER = 60
#: `--watch` purges what the kiosk pushed and no longer needs once a day (store/roster/retention.py)
PURGE_EVERY_S = 24 * 3600.0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("sync", help="与共享数据库同步 / sync with the shared database")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--once", action="store_true", help="同步一次 / push then pull, once")
    what.add_argument(
        "--status", action="store_true", help="同步状态 / last success, pending counts, last error"
    )
    what.add_argument("--watch", action="store_true", help="持续同步 / keep syncing until Ctrl-C")
    p.add_argument(
        "--local", metavar="URL", help="本机数据库 / the kiosk's local store (default: the config's)"
    )
    p.add_argument("--shared", metavar="URL", help="共享数据库 / the shared database (default: the config's)")
    p.add_argument(
        "--json", action="store_true", help="不显示进度条 / no progress bar (the output is JSON anyway)"
    )
    add_config_arg(p)
    p.set_defaults(func=cmd_sync)


def _which(where: str, exc: StoreError) -> StoreError:
    """Say which of the two databases a message is about (the local store or the shared database)."""
    from store.errors import StoreError

    zh, en = (
        ("本机数据库（--local）", "The kiosk's local store (--local)")
        if where == "local"
        else ("共享数据库（--shared）", "The shared database (--shared)")
    )
    return StoreError(f"{zh}：{exc.zh}", f"{en}: {exc.en}")


def cmd_sync(args: argparse.Namespace) -> int:
    from kiosk.wiring import check_local
    from store.db.engine import make_engine, open_store
    from store.errors import StoreError
    from store.sync.rounds import record_failure, status

    cfg = config_of(args)
    try:
        local = open_store(args.local or cfg.store.local(), synchronous=cfg.store.sqlite_synchronous)
    except StoreError as exc:
        raise _which("local", exc) from exc
    try:
        check_local(local)  # a damaged store is refused (with what to do) before it pushes anything
        if args.status:
            st = status(local, clock_skew_s=cfg.policy.clock_skew_s)
            print_json(st.as_dict())
            if st.clock_drifting:  # in plain words, where a person looks
                print(f"{st.clock_message('zh')}\n{st.clock_message('en')}", file=sys.stderr)
            return 0
        try:
            shared = make_engine(args.shared or cfg.store.shared(), create=False)
        except StoreError as exc:
            record_failure(local, exc)
            raise _which("shared", exc) from exc
        try:
            if args.watch:
                return _watch(local, args.shared or cfg.store.shared(), cfg)
            return _once(local, shared, cfg, quiet=args.json)
        finally:
            shared.dispose()
    finally:
        local.dispose()


def _once(local: Engine, shared: Engine, cfg: Config, *, quiet: bool) -> int:
    from kiosk.wiring import sync_round

    with counting_progress("同步 / sync", False if quiet else None) as advance:
        report = sync_round(cfg, local, shared, advance)
    print_json(report.as_dict())
    if report.error is not None:
        print(_which("shared", report.error).both(), file=sys.stderr)
        return 2
    return 0


def close_due(local: Engine, cfg: Config) -> None:
    """自动签退 on this kiosk's store, after every round: everyone still in past the close time of his
    project's day (``[close]``), as this kiosk's departures (pushed like its scans; one a day stays)."""
    import uuid

    from store.errors import StoreError
    from store.rules.direction import close_forgotten
    from store.sync.state import KIOSK_ID, read_state

    default, closes = cfg.close.times()
    try:
        with local.connect() as conn:
            me = read_state(conn).get(KIOSK_ID)
        got = close_forgotten(local, closes=closes, default=default, kiosk_id=uuid.UUID(me) if me else None)
    except StoreError as exc:
        print(exc.both(), file=sys.stderr)
        return
    if got.closed:
        print_json({"auto_closed": got.closed, "days": [[str(p), d.isoformat(), n] for p, d, n in got.days]})


def _watch(local: Engine, shared_url: str, cfg: Config) -> int:
    import threading
    import time

    from store.errors import StoreError
    from store.roster.retention import purge
    from store.sync.rounds import SyncReport, SyncStatus, SyncWorker

    next_purge = [0.0]

    def show(report: SyncReport, st: SyncStatus) -> None:
        print_json({**report.as_dict(), "status": st.message(cfg.language)})
        try:
            purge_due(report)
        finally:
            close_due(local, cfg)

    def purge_due(report: SyncReport) -> None:
        if (
            report.ok and time.monotonic() >= next_purge[0]
        ):  # once a day: pushed rows past [retention] kiosk_days
            next_purge[0] = time.monotonic() + PURGE_EVERY_S
            try:
                done = purge(
                    local,
                    mode="kiosk",
                    periods=cfg.retention.periods(),
                    tz=cfg.policy.timezone,
                    batch=cfg.retention.batch,
                    actor="kiosk sync --watch",
                )
            except StoreError as exc:
                print(exc.both(), file=sys.stderr)
                return
            if done.total:
                print_json({"retention": done.as_dict()})

    worker = SyncWorker(
        local,
        shared_url,
        interval_s=cfg.sync.interval_s or 30.0,
        face_thumbs=cfg.sync.face_thumbs,
        photos=cfg.sync.push_photos,
        on_report=show,
        clock_skew_s=cfg.policy.clock_skew_s,
    ).start()
    try:
        threading.Event().wait()
    finally:
        worker.stop()
    return 0  # pragma: no cover - ends by Ctrl-C
