"""The demo: a store of synthetic workers, a demo issuer key, and a simulated phone queue.

``make_demo(folder)`` migrates a fresh SQLite store in ``folder``, fills it with ``seed-demo`` data
(``store.people.seed.seed_demo``), makes a demo issuer key and registers its public key, and returns a
``Demo`` whose ``services()`` (``kiosk.wiring.Services``) are what ``build_app`` needs. ``Demo.tokens()`` is the queue the simulated camera shows,
each code issued when its worker steps up (codes live two minutes): first a code that must not unlock
(an officer not assigned to the project), then the officer's own code (the kiosk unlocks itself),
then eligible workers, second scans, an expired code, garbage, a stranger's code and workers failing
every rule, and after that an endless mix. A newcomer sees every state within a minute.
"""

from __future__ import annotations

import itertools
import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine

from kiosk.config import Config, parse_config
from kiosk.wiring import verifier_for
from store.codes.keys import IssuerPrivateKey
from store.codes.tokens import TrustList, Verifier, issue_code
from store.db.engine import make_engine
from store.people.seed import ELIGIBLE
from store.reasons import Reason, Role
from store.timeutil import local_date, utcnow

if TYPE_CHECKING:
    from kiosk.wiring import Services

GARBAGE = ("https://example.com/not-a-code", "HELLO KIOSK")


@dataclass
class Demo:
    engine: Engine
    config: Config
    key: IssuerPrivateKey
    verifier: Verifier
    #: the kiosk's own key for the officer's code screen (way A): it may sign officer codes only
    officer_key: IssuerPrivateKey = field(
        default_factory=lambda: IssuerPrivateKey.generate(frozenset({Role.OFFICER}))
    )
    summary: dict[str, Any] = field(default_factory=dict)
    workers: int = 300
    seed: int = 1
    clock: Callable[[], datetime] = utcnow
    rng: random.Random = field(default_factory=lambda: random.Random(7))

    @property
    def project_id(self) -> uuid.UUID:
        return uuid.UUID(self.summary["examples_project"])

    def officer(self, *, assigned: bool = True) -> uuid.UUID:
        """An officer assigned to the demo project only (unlocks without a picker), or to none."""
        for o in self.summary["officers"]:
            if assigned and o["projects"] == [str(self.project_id)]:
                return uuid.UUID(o["id"])
            if not assigned and not o["projects"]:
                return uuid.UUID(o["id"])
        raise LookupError("no such officer in the demo data")

    def examples(self, kind: str) -> list[uuid.UUID]:
        return [uuid.UUID(x) for x in self.summary["examples"].get(kind, [])]

    def services(self, **changes: Any) -> Services:
        """What the officer app runs on over this demo: its store, config, verifier and clock, no shared
        database and no way-A key unless ``changes`` give them (the demo gives its ``officer_key``)."""
        from kiosk.wiring import Services

        return Services(
            config=self.config, engine=self.engine, verifier=self.verifier, clock=self.clock
        ).replace(**changes)

    def code(self, subject: uuid.UUID, *, role: Role = Role.WORKER, age_s: float = 0.0) -> str:
        at = self.clock() - timedelta(seconds=age_s)
        return issue_code(
            self.key, role=role, subject=subject, at=at, validity_s=self.config.codes.validity_s
        )

    def prepare(self) -> None:
        """Migrate the store, fill it with seed-demo data, register the demo key's public half. Once: the
        camera that asks again after a failure of its own finds the store made."""
        if self.summary:
            return
        from store.codes.keys import register_public_key
        from store.db.migrate import upgrade_engine
        from store.people.seed import seed_demo

        now = self.clock()
        upgrade_engine(self.engine)
        self.summary = seed_demo(
            self.engine,
            workers=self.workers,
            projects=2,
            seed=self.seed,
            examples=200,
            today=local_date(now, self.config.policy.timezone),
        )
        register_public_key(
            self.engine,
            self.key.public_pem(),
            not_before=now - timedelta(days=30),
            note="demo key",
            actor="demo",
        )
        register_public_key(
            self.engine,
            self.officer_key.public_pem(),
            not_before=now - timedelta(days=30),
            note="demo kiosk key (officer codes only)",
            roles=self.officer_key.roles,
            actor="demo",
        )

    def tokens(self) -> Iterator[str]:
        """The queue at the gate, issued lazily (see the module docstring)."""
        eligible = self.examples(ELIGIBLE)
        refusals = [k for k in self.summary["examples"] if k != ELIGIBLE and self.examples(k)]
        yield self.code(self.officer(assigned=False), role=Role.OFFICER)
        yield self.code(self.officer(), role=Role.OFFICER)
        yield self.code(eligible[0])
        yield self.code(eligible[1])
        yield self.code(eligible[0], age_s=1)  # second scan (a fresh code): amber, no second record
        yield self.code(eligible[2], age_s=600)  # an old screenshot: expired
        for w in self.examples(Reason.NO_BANK_CARD.value)[:1]:  # a small demo may have none
            yield self.code(w)
        yield GARBAGE[0]
        yield self.code(eligible[3])
        yield self.code(uuid.uuid4())  # a genuine code of someone never enrolled
        for n, kind in enumerate(refusals):
            yield self.code(self.examples(kind)[0])
            if n % 3 == 2:
                yield self.code(eligible[4 + n // 3])
        yield self.code(self.officer(), role=Role.OFFICER)  # an officer code at the gate: wrong kind
        # then an endless morning: mostly eligible workers, some second scans and refusals
        pool = eligible[8:] or eligible
        for i in itertools.count():
            roll = self.rng.random()
            if i % 15 == 14:  # the officer comes back (after F2 he unlocks; else: the wrong kind of code)
                yield self.code(self.officer(), role=Role.OFFICER)
            elif roll < 0.6:
                yield self.code(pool[i % len(pool)])
            elif roll < 0.75:
                yield self.code(pool[max(0, i - 3) % len(pool)], age_s=1)
            elif roll < 0.95:
                kind = self.rng.choice(refusals)
                yield self.code(self.rng.choice(self.examples(kind)))
            elif roll < 0.98:
                yield self.code(self.rng.choice(pool), age_s=900)
            else:
                yield self.rng.choice(GARBAGE)


# The same keywords as start_demo below: make_demo is start_demo plus Demo.prepare.
def make_demo(
    folder: Path,
    *,
    workers: int = 300,
    seed: int = 1,
    language: str = "zh",
    card_s: float = 3.0,
    clock: Callable[[], datetime] = utcnow,
) -> Demo:
    """A ready demo store in ``folder`` (which must exist); ``clock`` fixes "today" (tests freeze it)."""
    demo = start_demo(folder, workers=workers, seed=seed, language=language, card_s=card_s, clock=clock)
    demo.prepare()
    return demo


def start_demo(
    folder: Path,
    *,
    workers: int = 300,
    seed: int = 1,
    language: str = "zh",
    card_s: float = 3.0,
    clock: Callable[[], datetime] = utcnow,
) -> Demo:
    """The quick half: config, engine (not yet migrated), key and verifier; ``Demo.prepare`` does the rest
    (the demo runs it in the camera's worker, so the screen shows at once)."""
    url = f"sqlite:///{folder / 'demo.db'}"
    config = parse_config(
        {
            "language": language,
            "store": {"local_url": url, "sqlite_synchronous": "NORMAL"},
            "kiosk": {"name": "演示1号门", "card_s": card_s, "lock_idle_s": 0},
            "camera": {"source": "simulated", "dedupe_window_s": 3.0},
        }
    )
    engine = make_engine(url, synchronous="NORMAL")
    key = IssuerPrivateKey.generate()  # stands in for the issuing server (the phones' codes)
    officer_key = IssuerPrivateKey.generate(frozenset({Role.OFFICER}))  # the kiosk's own, officer codes only
    trust = TrustList.of_keys(key, officer_key, not_before=clock() - timedelta(days=30))
    verifier = verifier_for(config, None, extra=trust, clock=clock)  # the demo's keys: not yet in its store
    return Demo(
        engine=engine,
        config=config,
        key=key,
        verifier=verifier,
        officer_key=officer_key,
        seed=seed,
        clock=clock,
        workers=workers,
    )
