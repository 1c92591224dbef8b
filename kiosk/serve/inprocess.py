"""The site service in this process, on 127.0.0.1 and a free port: ``serve_in_thread(ctx)``.

For a one-laptop site, the demo, the benchmarks and the tests: the kiosk still syncs over HTTP with its
key, so there is one sync path whether the service runs in the office or beside the kiosk.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass

import uvicorn

from kiosk.serve.context import ServeContext
from store.errors import StoreError


@dataclass
class InProcessService:
    base_url: str
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)
        app = self.server.config.app
        hub = getattr(getattr(app, "state", None), "sync_hub", None)
        if hub is not None:
            hub.stop()


def serve_in_thread(ctx: ServeContext, *, host: str = "127.0.0.1", start_s: float = 20.0) -> InProcessService:
    from kiosk.serve.app import create_app

    sock = socket.socket()
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(ctx), log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="site-service", daemon=True)
    thread.start()
    until = time.monotonic() + start_s
    while not server.started and thread.is_alive() and time.monotonic() < until:
        time.sleep(0.01)
    if not server.started:
        server.should_exit = True
        raise StoreError("站点服务未能启动", "The site service did not start")
    return InProcessService(f"http://{host}:{port}", server, thread)
