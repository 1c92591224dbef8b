"""The phone service's rate limits, counted in the shared database (``store.ratelimit``) so that every
service process and host sees the same count; ``security.limit`` answers 429 when one is used up."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from kiosk.config import ServeSettings
from store import ratelimit


class RateLimiter:
    """At most ``limit`` hits per key in any ``window_s`` seconds, counted in the shared database
    (``store.ratelimit``): the same count for every service process and host."""

    def __init__(self, engine: Engine, bucket: str, limit: int, window_s: float = 60.0) -> None:
        self.engine, self.bucket, self.limit, self.window_s = engine, bucket, int(limit), float(window_s)

    def hit(self, key: str, now: float | None = None) -> bool:
        return ratelimit.hit(self.engine, self.bucket, key, limit=self.limit, window_s=self.window_s, at=now)


@dataclass
class RateLimits:
    activate_ip: RateLimiter
    signin_device: RateLimiter
    signin_ip: RateLimiter
    code_device: RateLimiter
    enroll_device: RateLimiter

    @classmethod
    def from_settings(cls, s: ServeSettings, engine: Engine) -> RateLimits:
        return cls(
            RateLimiter(engine, "activate_ip", s.activate_per_min_ip),
            RateLimiter(engine, "signin_device", s.signin_per_min_device),
            RateLimiter(engine, "signin_ip", s.signin_per_min_ip),
            RateLimiter(engine, "code_device", s.code_per_min_device),
            RateLimiter(engine, "enroll_device", s.enroll_per_min_device),
        )


__all__ = ["RateLimiter", "RateLimits"]
