"""Shared fixtures: real SQLite files and a real PostgreSQL database per test run.

PostgreSQL (127.0.0.1:5432, user postgres, trust auth): each test session creates its own database
``kiosk_test_<random>`` and drops it at the end. When the server is missing the PostgreSQL tests fail
on CI (CI=true) and are skipped with a message elsewhere.

Tests never read the developer's own config: KIOSK_CONFIG, KIOSK_DATA_DIR and KIOSK_LOG_DIR point into a temporary
folder for the whole session.

The suite runs in parallel (``./dev test`` passes ``-n``, pytest-xdist): each worker is its own process
with its own temporary folders (tmp_path), its own PostgreSQL databases (uniquely named) and free ports
(port 0); nothing here may assume one process. ``KIOSK_TEST_CLOCK=HH:MM`` runs the suite on a clock moved
to that time of day in Shanghai (tests/support/clock.py). Tests marked ``slow`` (end-to-end, benchmark-like)
are left out by ``./dev test -m "not slow"``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from support import clock as test_clock

from store.db.engine import make_engine
from store.db.migrate import upgrade_engine

#: fixtures shared by several test modules: the roster's synthetic site, the officer app's demo world
#: (``demo``; a module that defines its own ``demo`` uses that one)
pytest_plugins = ["support.rosterdata", "support.officer_app"]

PG_ADMIN_URL = os.environ.get("KIOSK_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
SHARED = Path(__file__).resolve().parents[2] / "shared"


#: the end-to-end and benchmark-like tests (a browser, a server or kiosk process of its own, a fuzzer's
#: hundreds of examples, processes racing): marked ``slow`` here, in one list, so ``./dev test -m "not slow"``
#: is the quick set while ``./dev test`` and CI run them all. A whole module by its file name, or one test
#: by ``file::name`` (every parametrization of it).
SLOW = {
    "test_serve_browser.py",
    "test_serve_enroll_browser.py",
    "test_serve_process.py",
    "test_fuzz_serve.py",
    "test_fuzz_headless.py",
    "test_cli_matrix.py",
    "test_decode_hard.py",
    "test_service.py::test_killed_mid_sync_and_restarted_loses_nothing",
    "test_store.py::test_processes_racing_make_one_attendance",
    "test_logs.py::test_nothing_personal_in_any_log_or_output",
    "test_app_demo.py::test_the_first_minute_shows_every_state",
    "test_sync_live.py::test_background_worker_carries_a_sign_in_to_the_other_kiosk",
    "test_roster_app.py::test_a_sign_in_from_another_process_shows_up_live",
    "test_codes.py::test_fuzz_text",
    "test_codes.py::test_fuzz_bytes",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        file = item.path.name
        name = getattr(item, "originalname", item.name)
        if file in SLOW or f"{file}::{name}" in SLOW:
            item.add_marker(pytest.mark.slow)


def pytest_report_header(config: pytest.Config) -> str | None:
    return test_clock.describe()


def _find_corpus() -> Path:
    """The QR corpus, read in place: $KIOSK_QR_CORPUS, else ../shared/qr-corpus beside the checkout,
    else the workplace's shared folder (a fresh clone in a temporary folder has nothing beside it)."""
    if os.environ.get("KIOSK_QR_CORPUS"):
        return Path(os.environ["KIOSK_QR_CORPUS"])
    for candidate in (SHARED / "qr-corpus", Path("/work/shared/qr-corpus")):
        if (candidate / "manifest.jsonl").exists():
            return candidate
    return SHARED / "qr-corpus"


QR_CORPUS = _find_corpus()


@pytest.fixture(autouse=True, scope="session")
def _isolated_config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    home = tmp_path_factory.mktemp("kiosk-home")
    old = {k: os.environ.get(k) for k in ("KIOSK_CONFIG", "KIOSK_DATA_DIR", "KIOSK_LOG_DIR")}
    os.environ["KIOSK_DATA_DIR"] = str(home / "data")
    os.environ["KIOSK_LOG_DIR"] = str(home / "logs")
    os.environ.pop("KIOSK_CONFIG", None)
    os.environ["XDG_CONFIG_HOME"] = str(home / "config")
    yield
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(autouse=True)
def _tests_clock(request: pytest.FixtureRequest) -> Iterator[None]:
    """``KIOSK_TEST_CLOCK=HH:MM``: the test runs on a clock started at that time in Shanghai
    (tests/support/clock.py), unless it reads the PostgreSQL server's clock, which nothing can move."""
    callspec = getattr(request.node, "callspec", None)
    on_postgres = "pg_server" in request.fixturenames or (
        callspec is not None and callspec.params.get("any_url") == "postgres"
    )
    if on_postgres:
        yield
        return
    with test_clock.moved():
        yield


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A migrated SQLite file database."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = make_engine(url)
    upgrade_engine(engine)
    engine.dispose()
    return url


@pytest.fixture
def engine(sqlite_url: str) -> Iterator[Engine]:
    e = make_engine(sqlite_url)
    yield e
    e.dispose()


def _pg_available() -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return None
    except Exception as exc:  # any failure to connect means: not available
        return f"{type(exc).__name__}: {exc}"


def _need_postgres() -> None:
    why = _pg_available()
    if why is None:
        return
    msg = f"PostgreSQL is not reachable at {PG_ADMIN_URL} ({why})"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(msg + " — CI needs it")
    pytest.skip(msg + " — skipping the shared-database tests")


class PgServer:
    """Makes fresh databases on the test server and drops them all at the end."""

    def __init__(self) -> None:
        self.created: list[str] = []

    def create(self, migrate: bool = True) -> str:
        import psycopg

        name = f"kiosk_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
        if migrate:
            e = make_engine(url)
            upgrade_engine(e)
            e.dispose()
        return url

    def drop_all(self) -> None:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            for name in self.created:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.created.clear()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    _need_postgres()
    server = PgServer()
    yield server
    server.drop_all()


@pytest.fixture
def pg_url(pg_server: PgServer) -> str:
    """A fresh, migrated PostgreSQL database of its own (dropped when the session ends)."""
    return pg_server.create()


@pytest.fixture(params=["sqlite", "postgres"])
def any_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test on a SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def qr_corpus() -> Path:
    if not (QR_CORPUS / "manifest.jsonl").exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"the QR corpus is missing at {QR_CORPUS}")
        pytest.skip(f"the QR corpus is missing at {QR_CORPUS}")
    return QR_CORPUS
