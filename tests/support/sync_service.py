"""Test helper: the site service (``kiosk serve``'s app) on a real socket on a free port, over a shared
database, and kiosks that sync through it with their own keys."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import uvicorn
from sqlalchemy.engine import Engine

from kiosk.config import Config
from kiosk.serve.context import ServeContext, build_context
from kiosk.serve.inprocess import serve_in_thread
from store.codes.keys import IssuerPrivateKey, register_public_key
from store.sync.client import SyncClient
from store.sync.keys import issue_enrollment
from store.sync.signing import KioskKeyFile
from store.timeutil import utcnow


@dataclass
class Service:
    url: str
    ctx: ServeContext
    base_url: str
    server: uvicorn.Server
    thread: threading.Thread
    clients: list[SyncClient] = field(default_factory=list)

    @property
    def engine(self) -> Engine:
        return self.ctx.engine

    def stop(self) -> None:
        for c in self.clients:
            c.close()
        self.server.should_exit = True
        self.thread.join(10)
        hub = getattr(self.server.config.app.state, "sync_hub", None)  # type: ignore[union-attr]
        if hub is not None:
            hub.stop()

    def kiosk(
        self, tmp: Path, name: str, projects: list[uuid.UUID], *, kiosk_id: uuid.UUID | None = None
    ) -> tuple[SyncClient, uuid.UUID]:
        """A kiosk key made, registered with an enrollment token for ``projects`` (approved), and its client."""
        key = KioskKeyFile.create(tmp / f"{name}.key")
        client = SyncClient(self.base_url, key, read_s=20.0)
        self.clients.append(client)
        kid = kiosk_id or uuid.uuid4()
        token = issue_enrollment(self.engine, projects)
        info = client.register(kid, name, token=token)
        assert info.status == "approved"
        return client, kid


def start_service(url: str, tmp: Path) -> Service:
    key = IssuerPrivateKey.generate()
    ctx_engine_url = url
    priv, _pub = key.save(tmp / f"serve-key-{uuid.uuid4().hex[:6]}")
    from store.db.engine import make_engine

    e = make_engine(ctx_engine_url)
    register_public_key(e, key.public_raw, not_before=utcnow() - timedelta(days=1))
    e.dispose()
    cfg = Config.model_validate({"serve": {"issuer_key": str(priv)}})
    ctx = build_context(cfg, url)
    running = serve_in_thread(ctx)
    return Service(url, ctx, running.base_url, running.server, running.thread)
