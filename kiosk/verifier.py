"""The one way a command builds its code verifier: ``verifier_for(config, engine)``.

Every command that verifies a personal code (the officer screen, ``kiosk run --headless``, the demo,
``kiosk phone signin``, ``kiosk phone confirm``, ``kiosk code verify``) trusts the same keys and
tolerates the same clock difference:

- the keys: the ``IssuerKey`` table of the database it works on, merged with ``[codes] trust_file``
  when set (a revocation or a narrower scope in either wins);
- the skew: ``[policy] clock_skew_s``.

The verifier re-reads both on ``reload()`` (after a sync brought keys or revocations).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from store.codes.tokens import TrustList, Verifier
from store.timeutil import utcnow

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from kiosk.config import Config


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
