"""出场 through sync (store/sync/push.py, pull.py): departures made offline on several kiosks merge to one a
day — a correction first, else the earliest, so a scan made before the close wins over another kiosk's
自动签退 — nothing doubled when pushed twice, and every kiosk ends with the shared row. SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import time, timedelta
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine
from support.sync_helpers import count, make_site, morning, new_kiosk, today

from store.db.engine import make_engine
from store.db.models import Departure
from store.reasons import Outcome
from store.rules.direction import DirectionService, GateMode, close_forgotten, correct_departure
from store.rules.signin import SignInService
from store.sync.push import push
from store.sync.rounds import sync_once


def _departures(engine: Engine) -> dict[str, tuple[str, str]]:
    """worker -> (method, at) in storage-independent text."""
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT worker_id, method, at FROM departure")).all()
    return {str(uuid.UUID(str(r[0]))): (r[1], str(r[2])[:16]) for r in rows}


def test_scan_before_close_wins_over_auto_and_nothing_doubles(any_url: str, tmp_path: Path) -> None:
    shared = make_engine(any_url)
    site = make_site(shared, workers=3)
    k1, k2 = new_kiosk(tmp_path, "k1"), new_kiosk(tmp_path, "k2")
    for k in (k1, k2):
        assert sync_once(k, shared).ok
    w, w2, p = site.workers[0], site.workers[1], site.project
    gate1 = DirectionService(SignInService(k1))
    gate2 = DirectionService(SignInService(k2))
    assert gate1.pass_gate(GateMode.IN, w, p, at=morning(0)).outcome is Outcome.SIGNED_IN
    assert gate1.pass_gate(GateMode.IN, w2, p, at=morning(1)).outcome is Outcome.SIGNED_IN
    assert sync_once(k1, shared).ok and sync_once(k2, shared).ok
    # k2 (the exit gate) scans w out at 17:00 but stays offline; k1 closes everyone at 20:00
    out = gate2.pass_gate(GateMode.OUT, w, p, at=morning(10 * 60))
    assert out.outcome is Outcome.SIGNED_OUT and not out.no_entry
    got = close_forgotten(k1, now=morning(14 * 60), default=time(20, 0))
    assert got.closed == 2
    assert sync_once(k1, shared).ok
    assert _departures(shared)[str(w)][0] == "auto"
    assert sync_once(k2, shared).ok  # the earlier scan arrives: it replaces the automatic one
    assert sync_once(k1, shared).ok
    truth = _departures(shared)
    assert truth[str(w)][0] == "scan" and truth[str(w2)][0] == "auto"
    assert count(shared, Departure) == 2
    for k in (k1, k2):
        assert _departures(k) == truth
    # pushed again from the start: nothing doubled, nothing changed
    with k2.begin() as conn:
        conn.execute(text("UPDATE syncstate SET value = '0' WHERE key = 'push.rev'"))
    push(k2, shared)
    assert count(shared, Departure) == 2 and _departures(shared) == truth
    shared.dispose()


def test_correction_wins_over_a_late_earlier_scan(any_url: str, tmp_path: Path) -> None:
    shared = make_engine(any_url)
    site = make_site(shared, workers=1)
    k = new_kiosk(tmp_path, "k")
    assert sync_once(k, shared).ok
    w, p = site.workers[0], site.project
    gate = DirectionService(SignInService(k))
    gate.pass_gate(GateMode.IN, w, p, at=morning(0))
    assert sync_once(k, shared).ok
    gate.pass_gate(GateMode.OUT, w, p, at=morning(5 * 60))  # offline
    correct_departure(
        shared,
        worker_id=w,
        project_id=p,
        on=today(),
        at=morning(9 * 60),
        reason="班组长证实 16:00 离场",
        actor="监理",
    )
    assert sync_once(k, shared).ok
    assert sync_once(k, shared).ok
    truth = _departures(shared)
    assert truth[str(w)][0] == "manual" and count(shared, Departure) == 1
    assert _departures(k) == truth
    shared.dispose()


def test_departure_day_pulled_for_auto_mode(any_url: str, tmp_path: Path) -> None:
    """A departure made at one kiosk is known at the other: in 自动 the second scan is `already`."""
    shared = make_engine(any_url)
    site = make_site(shared, workers=1)
    k1, k2 = new_kiosk(tmp_path, "a"), new_kiosk(tmp_path, "b")
    w, p = site.workers[0], site.project
    for kk in (k1, k2):
        assert sync_once(kk, shared).ok
    DirectionService(SignInService(k1)).pass_gate(GateMode.IN, w, p, at=morning(0))
    DirectionService(SignInService(k1)).pass_gate(GateMode.OUT, w, p, at=morning(60))
    assert sync_once(k1, shared).ok and sync_once(k2, shared).ok
    again = DirectionService(SignInService(k2)).pass_gate(GateMode.AUTO, w, p, at=morning(120))
    assert again.outcome is Outcome.ALREADY and again.left_at is not None
    assert abs(again.left_at - morning(60)) < timedelta(seconds=1)
    shared.dispose()
