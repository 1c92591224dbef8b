"""The phone service in ``kiosk demo``: on 127.0.0.1 at a free port, over the demo's store, signing with
the demo's issuing key, with a link for a worker's phone and one for the officer's.

The links are printed before the demo's store exists (its screen shows at once and the store is made
in the camera's worker), so their secrets are made first and their activations written once the store
is ready (``start``, called from that worker)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from kiosk.serve.run import free_port
from store.people.phone import new_link_token

if TYPE_CHECKING:
    from kiosk.demo import Demo
    from kiosk.serve.run import BackgroundServer


@dataclass
class DemoPhones:
    host: str = "127.0.0.1"
    port: int = field(default_factory=free_port)
    worker_token: str = field(default_factory=new_link_token)
    officer_token: str = field(default_factory=new_link_token)
    server: BackgroundServer | None = None
    ready: threading.Event = field(default_factory=threading.Event)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def worker_link(self) -> str:
        return f"{self.base_url}/a/{self.worker_token}"

    @property
    def officer_link(self) -> str:
        return f"{self.base_url}/a/{self.officer_token}"

    def banner(self) -> str:
        return (
            f"手机服务（演示）：在本机浏览器打开，查看工人手机 / the phone service: open in a browser on this machine\n"
            f"  工人 worker:   {self.worker_link}\n"
            f"  签到员 officer: {self.officer_link}"
        )

    def start(self, demo: Demo) -> None:
        """Write the two links and start the service (after ``demo.prepare()``)."""
        from kiosk.serve.app import create_app
        from kiosk.serve.context import ServeContext
        from kiosk.serve.run import BackgroundServer
        from store.people.phone import create_link
        from store.people.seed import ELIGIBLE

        eligible = demo.examples(ELIGIBLE)
        create_link(demo.engine, worker_id=eligible[-1], token=self.worker_token, actor="demo")
        create_link(demo.engine, officer_id=demo.officer(), token=self.officer_token, actor="demo")
        ctx = ServeContext(config=demo.config, engine=demo.engine, key=demo.key, base_url=self.base_url)
        self.server = BackgroundServer(create_app(ctx), host=self.host, port=self.port).start()
        self.ready.set()

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
