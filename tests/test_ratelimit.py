"""Rate limits in the shared database (store/ratelimit.py): a sliding window by an injected clock, keys and
limits apart, and exactly ``limit`` hits let through when many threads race for the last ones — on SQLite
and PostgreSQL."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from store import ratelimit
from store.db.engine import make_engine

T0 = 1_800_000_000.0  # Unix seconds: the clock is the test's


def test_a_sliding_window_per_key_and_limit(any_url: str) -> None:
    engine = make_engine(any_url)
    hit = ratelimit.hit
    assert [hit(engine, "code", "a", limit=3, at=T0 + i) for i in range(4)] == [True, True, True, False]
    assert hit(engine, "code", "b", limit=3, at=T0 + 3)  # another phone
    assert hit(engine, "signin", "a", limit=1, at=T0 + 3)  # another limit
    assert not hit(engine, "code", "a", limit=3, at=T0 + 59.9)  # the first hit is still in the window
    assert hit(engine, "code", "a", limit=3, at=T0 + 60.5)  # … and now it is not
    assert not hit(engine, "code", "a", limit=3, at=T0 + 60.6)
    engine.dispose()


def test_racing_threads_get_exactly_the_limit(any_url: str) -> None:
    engine = make_engine(any_url)
    with ThreadPoolExecutor(8) as pool:
        got = list(
            pool.map(lambda i: ratelimit.hit(engine, "code", "phone", limit=10, at=T0 + i / 100), range(40))
        )
    assert sum(got) == 10
    engine.dispose()


def test_old_rows_are_purged(any_url: str) -> None:
    engine = make_engine(any_url)
    ratelimit.hit(engine, "code", "old", limit=3)
    assert ratelimit.purge(engine) == 0  # a hit of a moment ago is kept
    assert ratelimit.purge(engine, older_than=timedelta(seconds=-1)) == 1
    engine.dispose()
