"""Starting the service with uvicorn: in this process (one worker; also the demo's background thread)
or as N worker processes (``--workers``), which rebuild the context from the environment."""

from __future__ import annotations

import logging
import os
import socket
import threading
from typing import Any

from kiosk.config import Config

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def uvicorn_options(cfg: Config) -> dict[str, Any]:
    s = cfg.serve
    opts: dict[str, Any] = {
        "host": s.host,
        "port": s.port,
        "proxy_headers": True,
        "forwarded_allow_ips": s.forwarded_allow_ips,
        "access_log": False,  # uvicorn's line holds the path (an activation link's secret): ours names routes
        "server_header": False,
        "log_config": None,
    }
    if s.certfile:
        opts.update(ssl_certfile=s.certfile, ssl_keyfile=s.keyfile or None)
    return opts


def run(cfg: Config, url: str, *, config_path: str | None, overrides: dict[str, Any]) -> None:
    """Serve until interrupted (the key and database are checked first, in this process)."""
    import uvicorn

    from kiosk.serve.app import ENV_ARGS, create_app, serve_args
    from kiosk.serve.context import build_context
    from store.db.urls import redact

    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    s = cfg.serve
    base = s.base_url_at(s.port)
    ctx = build_context(cfg, url, base_url=base)  # refuses a missing or officer-only key before binding
    logging.getLogger("kiosk.serve").info(
        "手机服务 / phone service: %s over %s, key %s (%s), %d process(es)",
        base,
        redact(url),
        ctx.key.kid,
        ",".join(sorted(r.value for r in ctx.key.roles)),
        s.workers,
    )
    opts = uvicorn_options(cfg)
    if s.workers > 1:
        ctx.engine.dispose()
        os.environ[ENV_ARGS] = serve_args(config_path, url, base, overrides)
        uvicorn.run("kiosk.serve.app:app_from_env", factory=True, workers=s.workers, **opts)
    else:
        uvicorn.run(create_app(ctx), **opts)


class BackgroundServer:
    """The service on a thread of this process (the demo, the browser tests): ``start()`` returns
    once it listens; ``stop()`` ends it."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        import uvicorn

        self.host, self.port = host, port or free_port(host)
        config = uvicorn.Config(
            app,
            host=self.host,
            port=self.port,
            access_log=False,
            log_config=None,
            lifespan="off",
            server_header=False,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="kiosk-serve", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> BackgroundServer:
        import time

        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the phone service did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)
