"""The scope of an issuer key: which kinds of personal code (worker's, officer's) it may sign.

Stored as comma-separated Role values (``"worker,officer"``, ``"officer"``) in ``IssuerKey.roles``,
in trust files (``"roles": ["officer"]``) and beside a private key file (``issuer.json``, see
store/codes/keys.py). A key without a recorded scope (made before scopes existed) signs both.
"""

from __future__ import annotations

from collections.abc import Iterable

from store.errors import ValidationError
from store.reasons import Role

ALL_ROLES: frozenset[Role] = frozenset(Role)
#: the column's default: what every key made before scopes existed may sign
DEFAULT_TEXT = "worker,officer"

_NAMES = {Role.WORKER: ("工人码", "worker"), Role.OFFICER: ("签到员码", "officer")}


def parse_roles(value: str | Iterable[str] | None) -> frozenset[Role]:
    """``"officer"``, ``"worker,officer"``, ``["officer"]`` → a non-empty set of Roles; None → both.

    ValidationError (field ``roles``) for an empty scope or an unknown role."""
    if value is None:
        return ALL_ROLES
    parts = value.split(",") if isinstance(value, str) else list(value)
    out: set[Role] = set()
    for part in parts:
        text = str(part).strip().lower()
        if not text:
            continue
        try:
            out.add(Role(text))
        except ValueError:
            raise ValidationError(
                "roles",
                f"未知的建设码类别：{text}（应为 worker、officer）",
                f"Unknown role {text!r} (worker, officer)",
            ) from None
    if not out:
        raise ValidationError(
            "roles",
            "签发密钥至少要能签发一类建设码",
            "A key must be allowed to sign at least one kind of code",
        )
    return frozenset(out)


def roles_list(roles: Iterable[Role]) -> list[str]:
    """The roles in a stable order (worker first): for JSON."""
    given = set(roles)
    return [r.value for r in Role if r in given]


def roles_text(roles: Iterable[Role]) -> str:
    """The column's form: ``"worker,officer"``, ``"officer"``."""
    return ",".join(roles_list(roles))


def describe(roles: Iterable[Role]) -> tuple[str, str]:
    """Words for messages: (``"签到员码"``, ``"officer"``)."""
    given = roles_list(roles)
    return "、".join(_NAMES[Role(r)][0] for r in given), ", ".join(_NAMES[Role(r)][1] for r in given)
