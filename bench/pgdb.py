"""A PostgreSQL database of a benchmark's own on the local server, dropped at the end (bench/serve.py,
bench/sync.py). ``KIOSK_TEST_PG`` names the server's admin database, as for the tests."""

from __future__ import annotations

import os
import uuid

ADMIN_URL = os.environ.get("KIOSK_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def create_db(kind: str) -> tuple[str, str]:
    """A new empty database ``kiosk_bench_<kind>_<random>``: its name and its URL."""
    import psycopg

    name = f"kiosk_bench_{kind}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return name, ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def drop_db(name: str) -> None:
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
