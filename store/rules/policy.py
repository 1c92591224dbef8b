"""Site policy: the configurable parts of the sign-in rules."""

from __future__ import annotations

from dataclasses import dataclass

from store.timeutil import DEFAULT_ZONE


@dataclass(frozen=True, slots=True)
class Policy:
    """Defaults are Shanghai's: no one under 18, no man over 60, no woman over 50 (周岁, full years).

    ``max_age_male = 60`` refuses a man from his 61st birthday on ("over 60"); set 59 to refuse from 60.
    """

    # Plain fields with defaults, like imports' report counters: one dataclass each.
    min_age: int = 18
    max_age_male: int = 60
    max_age_female: int = 50
    #: a health check counts for this many days after it was taken, unless it names its own
    #: ``valid_until``; 0 = no validity policy (any check on file counts, unless it names one)
    health_valid_days: int = 365
    #: tolerated clock difference between the phone that made a code and the kiosk, in seconds
    clock_skew_s: int = 30
    #: the site's time zone, for work dates when a project names none
    timezone: str = DEFAULT_ZONE
