"""What the set-up wizard does, without its screens (kiosk/setup/app.py runs these in thread workers).

- ``SharedAddress``: the shared database as a person fills it in (PostgreSQL: host, port, database,
  user, password; or a SQLite file) and its URL; ``from_url`` reads an existing one back.
- ``test_shared``: connect at once (5 s limit), check the schema is this program's and list the
  projects; every failure is said in plain words (wrong password, no such host, server down, …),
  the catalogue's ``setup.shared.*``.
- ``write_config``: the config file at the platformdirs location (or ``--config``), edited with tomlkit
  so an existing file keeps its comments and every setting the wizard does not ask about; checked with
  the config's own validation before it replaces the old file (atomically, readable by the owner only:
  it holds the database password).
- ``finish``: make and migrate the local store, register this kiosk (its row goes to the shared
  database with the first push), run the first sync with progress.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from kiosk.i18n import pair
from store.errors import StoreError

CONNECT_TIMEOUT_S = 5


@dataclass(slots=True)
class SharedAddress:
    kind: str = "postgresql"  # or "sqlite"
    host: str = ""
    port: str = "5432"
    database: str = ""
    user: str = ""
    password: str = ""
    path: str = ""  # a SQLite file

    def url(self) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{Path(self.path.strip()).expanduser().resolve()}"
        auth = quote(self.user.strip(), safe="")
        if self.password:
            auth += ":" + quote(self.password, safe="")
        host = self.host.strip()
        port = self.port.strip() or "5432"
        return f"postgresql://{auth}@{host}:{port}/{quote(self.database.strip(), safe='')}"

    def problem(self) -> tuple[str, str] | None:
        """What is missing before a test makes sense (zh, en)."""
        if self.kind == "sqlite":
            return None if self.path.strip() else pair("setup.shared.fill_in_path")
        for value, key in (
            (self.host, "setup.shared.fill_in_host"),
            (self.database, "setup.shared.fill_in_database"),
            (self.user, "setup.shared.fill_in_user"),
        ):
            if not value.strip():
                return pair(key)
        if not self.port.strip().isdigit() or not 0 < int(self.port) < 65536:
            return pair("setup.shared.bad_port")
        return None

    @classmethod
    def from_url(cls, url: str) -> SharedAddress:
        from sqlalchemy.engine import make_url

        from store.db.urls import normalise_url

        if not url:
            return cls()
        try:
            u = make_url(normalise_url(url))
        except Exception:
            return cls()
        if u.get_backend_name() == "sqlite":
            return cls(kind="sqlite", path=u.database or "")
        return cls(
            kind="postgresql",
            host=u.host or "",
            port=str(u.port or 5432),
            database=u.database or "",
            user=unquote(u.username or ""),
            password=unquote(u.password or "") if u.password else "",
        )


@dataclass(frozen=True, slots=True)
class Project:
    id: uuid.UUID
    name: str


@dataclass(frozen=True, slots=True)
class SharedCheck:
    ok: bool
    zh: str
    en: str
    projects: tuple[Project, ...] = ()
    revision: str | None = None

    def message(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


def explain(text: str, addr: SharedAddress) -> tuple[str, str]:
    """A driver's error in plain words (zh, en), with what to check."""
    low = text.lower()
    where = f"{addr.host}:{addr.port}"
    if "password authentication failed" in low or "no password supplied" in low:
        return pair("setup.shared.bad_password")
    if "role" in low and "does not exist" in low:
        return pair("setup.shared.no_user", user=addr.user)
    if "database" in low and "does not exist" in low:
        return pair("setup.shared.no_database", database=addr.database)
    if (
        "could not translate host name" in low
        or "name or service not known" in low
        or "nodename nor servname" in low
    ):
        return pair("setup.shared.no_host", host=addr.host)
    if "connection refused" in low:
        return pair("setup.shared.refused", where=where)
    if "timeout" in low or "timed out" in low:
        return pair("setup.shared.timeout", where=where)
    if "permission denied" in low:
        return pair("setup.shared.no_permission")
    first = text.strip().splitlines()[0] if text.strip() else text
    return pair("setup.shared.cannot_connect", error=first)


def test_shared(addr: SharedAddress) -> SharedCheck:
    """Connect now, check the schema and list the projects; never raises."""
    from store.db.engine import make_engine
    from store.db.schema import current, head
    from store.projects import projects_on

    missing = addr.problem()
    if missing:
        return SharedCheck(False, *missing)
    if addr.kind == "sqlite" and not Path(addr.path.strip()).expanduser().is_file():
        return SharedCheck(False, *pair("setup.shared.no_file", path=addr.path))
    try:
        engine = make_engine(addr.url())
    except StoreError as exc:
        return SharedCheck(False, exc.zh, exc.en)
    try:
        with engine.connect() as conn:
            rev = current(conn)
            if rev is None:
                return SharedCheck(False, *pair("setup.shared.no_schema"))
            if rev != head():
                return SharedCheck(
                    False, *pair("setup.shared.other_schema", rev=rev, head=head()), revision=rev
                )
            rows = projects_on(conn)
    except Exception as exc:
        orig = getattr(exc, "orig", None)
        return SharedCheck(False, *explain(str(orig if orig is not None else exc), addr))
    finally:
        engine.dispose()
    projects = tuple(
        Project(r.id if isinstance(r.id, uuid.UUID) else uuid.UUID(str(r.id)), r.name) for r in rows
    )
    if not projects:
        return SharedCheck(False, *pair("setup.shared.no_project"), revision=rev)
    return SharedCheck(True, *pair("setup.shared.connected", n=len(projects)), projects, rev)


@dataclass(slots=True)
class Answers:
    """What the wizard asks; the rest of the config is left as it is."""

    shared_url: str
    kiosk_name: str
    project_id: str
    camera_source: str  # "" = no camera (the scanner only)
    language: str = "zh"


def write_config(path: Path, answers: Answers) -> Path:
    """Write (or edit) the config file; raises StoreError with the reason when it cannot."""
    import tomlkit

    from kiosk.config import parse_config

    path = Path(path)
    try:
        doc = tomlkit.parse(path.read_text(encoding="utf-8")) if path.exists() else tomlkit.document()
    except (OSError, UnicodeDecodeError, tomlkit.exceptions.ParseError) as exc:
        raise StoreError(
            f"无法读取现有的配置文件 {path}：{exc}", f"Cannot read the existing config file {path}: {exc}"
        ) from exc
    if not path.exists():
        doc.add(
            tomlkit.comment(
                "Site sign-in kiosk — written by `kiosk setup`; every setting: config.example.toml"
            )
        )
    doc["language"] = answers.language
    for section, values in (
        ("store", {"shared_url": answers.shared_url}),
        ("kiosk", {"name": answers.kiosk_name.strip(), "project": answers.project_id}),
        ("camera", {"source": answers.camera_source}),
    ):
        if section not in doc:
            doc[section] = tomlkit.table()
        table: Any = doc[section]
        for k, v in values.items():
            table[k] = v
    text = tomlkit.dumps(doc)
    import tomllib

    parse_config(tomllib.loads(text), path=path)  # the config's own checks, before anything is replaced
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
        os.chmod(path, 0o600)  # it holds the database password
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise StoreError(
            f"无法写入配置文件 {path}（{exc.strerror}）", f"Cannot write the config file {path}: {exc}"
        ) from exc
    return path


@dataclass(slots=True)
class Finished:
    config_path: Path
    local_url: str
    kiosk_id: uuid.UUID
    report: Any  # store.sync.rounds.SyncReport (the last round)
    pulled: int = 0  # rows the first sync brought


def expected_rows(shared_url: str) -> int:
    """About how many rows the first pull brings (for the progress bar)."""
    from sqlalchemy import func, select

    from store.db.engine import make_engine
    from store.sync.pull import PULLED, table_of

    engine = make_engine(shared_url)
    try:
        with engine.connect() as conn:
            return sum(
                int(conn.execute(select(func.count()).select_from(table_of(m))).scalar_one()) for m in PULLED
            )
    except Exception:
        return 0
    finally:
        engine.dispose()


def finish(config_path: Path, on_progress: Callable[[str, int], None] | None = None) -> Finished:
    """Make and migrate the local store, register the kiosk, first sync. Raises StoreError on the first
    two; a failed sync is in the report (nothing is lost: the next sync sends everything)."""
    from kiosk.config import load_config
    from kiosk.wiring import open_local_store, sync_round
    from store.db.engine import make_engine
    from store.sync.identity import kiosk_identity

    cfg = load_config(config_path)
    engine = open_local_store(cfg)
    try:
        project = uuid.UUID(cfg.kiosk.project) if cfg.kiosk.project else None
        kid = kiosk_identity(engine, kiosk_id=cfg.kiosk.id, name=cfg.kiosk.name, project_id=project)
        shared = make_engine(cfg.store.shared())
        try:
            report = sync_round(cfg, engine, shared, on_progress)
        finally:
            shared.dispose()
        pulled = sum(report.pulled.values())
        if (
            report.ok and project is not None
        ):  # the project came with the pull: link the kiosk to it, push that
            kiosk_identity(engine, kiosk_id=str(kid), name=cfg.kiosk.name, project_id=project)
            shared = make_engine(cfg.store.shared())
            try:
                report = sync_round(cfg, engine, shared)
            finally:
                shared.dispose()
        return Finished(config_path, cfg.store.local(), kid, report, pulled + sum(report.pulled.values()))
    finally:
        engine.dispose()
