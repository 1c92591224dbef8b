"""Static files under content-hashed, immutable URLs, served compressed (issue 27).

``/static/h/<digest>/<path>``: ``digest`` is the first 12 hex digits of the file's SHA-256, so a URL
never changes meaning: it is served with ``Cache-Control: public, max-age=31536000, immutable`` and a
phone never asks again; a changed file gets a new URL (the pages name assets through ``asset(path)``,
the service worker's list through ``Assets.precache``). A URL whose digest is not the file's current
one is 404 (an old page's service worker then keeps its own cached copy). Text and WebAssembly go out
gzip-compressed when the browser accepts it (compressed once, at first request, and kept).

The plain ``/static/<path>`` mount stays for anything not yet moved to hashed URLs (revalidated).

``/sw.js``: the service worker (``static/sw.js`` with its version and precache list filled in), at the
root so that it controls every page; never cached (``no-store``) so an update is seen at once.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import mimetypes
import threading
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import Response

from kiosk.i18n import both

IMMUTABLE = "public, max-age=31536000, immutable"
COMPRESSIBLE = {".js", ".css", ".wasm", ".svg", ".txt", ".json", ".html"}
#: what every page needs: fetched by the service worker when it installs
CORE = ("app.css", "common.js", "device.js", "code.js", "signin.js", "vendor/qrcode-generator/qrcode.js")
#: the way-A decoder: fetched when the sign-in page loads (never at the first tap) and cached then
DECODER = ("vendor/zxing-wasm/zxing-reader.iife.js", "vendor/zxing-wasm/zxing_reader.wasm")
#: the pages the service worker keeps for opening offline (each refreshed whenever it loads online): these,
#: and every other page visited but those under NEVER_KEPT
PAGES = ("/", "/code", "/signin")
NEVER_KEPT = ("/a/", "/lang/", "/api/", "/static/")
#: pages whose HTML changes with nothing but a release: shown from the phone at once, refreshed behind
QUICK_PAGES = ("/signin",)

router = APIRouter(include_in_schema=False)


@dataclass
class Assets:
    root: Path
    _digests: dict[str, str] = field(default_factory=dict)
    _gz: dict[str, bytes] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        for p in sorted(self.root.rglob("*")):
            if p.is_file():
                rel = p.relative_to(self.root).as_posix()
                self._digests[rel] = hashlib.sha256(p.read_bytes()).hexdigest()[:12]

    def url(self, path: str) -> str:
        """The hashed URL of ``static/<path>`` (KeyError for a file that is not there: a typo fails loudly)."""
        return f"/static/h/{self._digests[path]}/{path}"

    @property
    def version(self) -> str:
        """One digest over every asset and the service worker itself: the service worker's cache name."""
        h = hashlib.sha256(json.dumps(sorted(self._digests.items())).encode())
        return h.hexdigest()[:12]

    def precache(self) -> list[str]:
        return [self.url(p) for p in CORE]

    def body(self, path: str, digest: str, gzip_ok: bool) -> tuple[bytes, bool] | None:
        if self._digests.get(path) != digest:
            return None
        raw = (self.root / path).read_bytes()
        if not gzip_ok or Path(path).suffix not in COMPRESSIBLE:
            return raw, False
        with self._lock:
            gz = self._gz.get(path)
            if gz is None:
                gz = self._gz[path] = gzip.compress(raw, compresslevel=9, mtime=0)
        return gz, True

    def service_worker(self, pages_version: str) -> bytes:
        text = (self.root / "sw.js").read_text(encoding="utf-8")
        config = {
            "version": f"{self.version}-{pages_version}",
            "precache": self.precache(),
            "decoder": [self.url(p) for p in DECODER],
            "pages": list(PAGES),
            "never_kept": list(NEVER_KEPT),
            "quick_pages": list(QUICK_PAGES),
            "offline_page": both("net.offline_none"),
        }
        return text.replace("/*CONFIG*/{}", json.dumps(config)).encode("utf-8")


def pages_version(templates: Path) -> str:
    """A digest of the page templates: a changed page makes a new service worker, which re-caches it."""
    h = hashlib.sha256()
    for p in sorted(templates.rglob("*.html")):
        h.update(p.name.encode() + b"\0" + p.read_bytes())
    return h.hexdigest()[:12]


@router.get("/static/h/{digest}/{path:path}")
def hashed_asset(request: Request, digest: str, path: str) -> Response:
    assets: Assets = request.app.state.assets
    gzip_ok = "gzip" in request.headers.get("accept-encoding", "")
    found = assets.body(path, digest, gzip_ok)
    if found is None:
        return Response(status_code=404, headers={"cache-control": "no-store"})
    data, gz = found
    media = mimetypes.guess_type(path)[0] or "application/octet-stream"
    if path.endswith(".wasm"):
        media = "application/wasm"
    headers = {"cache-control": IMMUTABLE, "vary": "Accept-Encoding"}
    if gz:
        headers["content-encoding"] = "gzip"
    return Response(data, media_type=media, headers=headers)


@router.get("/sw.js")
def service_worker(request: Request) -> Response:
    assets: Assets = request.app.state.assets
    return Response(
        assets.service_worker(request.app.state.pages_version),
        media_type="text/javascript",
        headers={"service-worker-allowed": "/"},  # never cached: ServeMiddleware's no-store
    )
