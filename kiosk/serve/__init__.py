"""``kiosk serve``: the workers' phone service — his personal code, way A, his readiness — over the
shared database (FastAPI on uvicorn; see the README, "The phone service").

Layout (add a page: a router module, its templates and static files, its words in ``kiosk/i18n/phone.py``):

- ``context.py``: ``ServeContext`` — the engine, the issuing key (checked at start), the verifier, the
  policy, the rate limiters, the templates; built once per server process.
- ``security.py``: the device cookie and who the phone is (``current_device``), CSRF
  (``csrf_protect``), rate limits, the security headers (CSP without inline script) and the access
  log that names routes, never paths (an activation link's secret is in its path).
- ``qr.py``: a token as a server-rendered SVG QR.
- ``routers/``: ``pages.py`` (home 实名制首页, code 个人建设码, way A 班前签到, language), ``activation.py``
  (the one-time links), ``api.py`` (the JSON API behind the pages, documented at /api/openapi.json).
- ``templates/`` (Jinja2, autoescaped) and ``static/`` (CSS, our scripts, ``vendor/zxing-wasm``).
- ``i18n.py``: the language of a request (``lang_of``); the words are in the one catalogue ``kiosk.i18n``.
- ``app.py``: ``create_app(ctx)`` and the uvicorn factory; ``run.py``: starting uvicorn.
"""
