"""Many kiosks, random offline sign-ins, random sync order: nothing lost, nothing doubled, earliest wins."""

from __future__ import annotations

import random
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from support.sync_helpers import count, make_site, morning, new_kiosk

from store.db.engine import make_engine
from store.db.models import Attendance, SignInAttempt
from store.reasons import Outcome
from store.rules.signin import SignInService
from store.sync.rounds import sync_once


def _day(engine: Engine) -> dict[str, tuple[str, str]]:
    """worker -> (attendance id, first_at) in storage-independent text."""
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT worker_id, id, first_at FROM attendance")).all()
    return {str(uuid.UUID(str(r[0]))): (str(uuid.UUID(str(r[1]))), str(r[2])[:19]) for r in rows}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_offline_sign_ins_merge(any_url: str, tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    shared = make_engine(any_url)
    site = make_site(shared, workers=8)
    kiosks = [new_kiosk(tmp_path, f"k{i}") for i in range(3)]
    for k in kiosks:
        assert sync_once(k, shared).ok
    made: list[tuple[int, uuid.UUID, int]] = []  # (kiosk, worker, minute) of every scan
    firsts: dict[uuid.UUID, list[str]] = {}  # worker -> the times some kiosk made his attendance
    for step in range(40):
        i = rng.randrange(3)
        w = rng.choice(site.workers)
        minute = rng.randrange(0, 120)
        r = SignInService(kiosks[i]).sign_in(
            w, site.project, at=morning(minute) + step * morning(0).resolution
        )
        made.append((i, w, minute))
        if r.outcome is Outcome.SIGNED_IN:
            firsts.setdefault(w, []).append(r.at.strftime("%Y-%m-%d %H:%M:%S"))
        if rng.random() < 0.15:  # now and then a kiosk gets the network back for a moment
            assert sync_once(kiosks[rng.randrange(3)], shared).ok
    for _ in range(2):
        for k in rng.sample(kiosks, 3):
            assert sync_once(k, shared).ok

    assert count(shared, SignInAttempt) == len(made)  # every scan, once
    signed = {w for _, w, _ in made}
    assert count(shared, Attendance) == len(signed)  # one attendance per worker and day
    assert count(shared, SignInAttempt, outcome=Outcome.SIGNED_IN.value) == len(signed)
    with shared.connect() as conn:
        bad = conn.execute(
            text(
                "SELECT count(*) FROM signinattempt a LEFT JOIN attendance t ON t.id = a.attendance_id "
                "WHERE a.outcome IN ('signed_in', 'already') AND (t.id IS NULL OR t.worker_id <> a.worker_id "
                "OR (a.outcome = 'signed_in') <> (t.attempt_id = a.id))"
            )
        ).scalar_one()
        assert bad == 0
    truth = _day(shared)
    # the attendance kept is the earliest any kiosk made for that worker
    assert {w: first_at for w, (_, first_at) in truth.items()} == {str(w): min(t) for w, t in firsts.items()}
    for k in kiosks:
        assert _day(k) == truth
    shared.dispose()
