"""Test helper for kiosk serve: the way-A world (a project, a worker, officers) with a service over it."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from pathlib import Path

from fastapi.testclient import TestClient

from kiosk.config import Config
from kiosk.serve.app import create_app
from kiosk.serve.context import ServeContext, build_context
from store.people.phone import create_link
from support.way_a_world import World, build_world


@dataclass
class ServeWorld:
    world: World
    ctx: ServeContext
    key_path: Path

    def client(self) -> TestClient:
        return TestClient(create_app(self.ctx), base_url="http://testserver")

    def link(self, *, worker: uuid.UUID | None = None, officer: uuid.UUID | None = None, **kw: object) -> str:
        if worker is None and officer is None:
            worker = self.world.worker
        link = create_link(self.world.engine, worker_id=worker, officer_id=officer, **kw)  # type: ignore[arg-type]
        return f"/a/{link.token}"

    def bind(self, client: TestClient, path: str | None = None) -> TestClient:
        """Open an activation link and confirm it, as the phone does; the client keeps the cookie."""
        path = path or self.link()
        page = client.get(path)
        assert page.status_code == 200, page.text
        token = csrf_of(page.text)
        r = client.post(path, data={"csrf_token": token}, follow_redirects=False)
        assert r.status_code == 303, r.text
        return client


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert m, "no CSRF token in the page"
    return m.group(1)


def serve_config(key_path: Path, **serve: object) -> Config:
    return Config.model_validate({"serve": {"issuer_key": str(key_path), **serve}})


def build_serve_world(url: str, tmp: Path, **serve: object) -> ServeWorld:
    world = build_world(url)
    priv, _pub = world.key.save(tmp / "serve-key")
    cfg = serve_config(priv, **serve)
    ctx = build_context(cfg, url)
    return ServeWorld(world, ctx, priv)
