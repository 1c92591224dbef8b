"""What several test files share, imported as ``support.<module>`` (tests/ is on the path): worlds of
synthetic data to test against and the helpers that drive an app. A helper used by one test file stays in
that file; the fixtures every test can use (databases, the isolated config) are in tests/conftest.py,
which also loads ``rosterdata`` and ``officer_app`` as plugins for their fixtures.

- ``async_tests``: running Pilot tests without an async pytest plugin
- ``officer_app``: the officer app on the demo store: frozen clock, the ``demo`` fixture, scanner, a
  scripted camera, what the screen shows
- ``admin_pilot``: driving the admin app: wait for its workers, fill a form, read its error
- ``event_log``: the kiosk's event log as the tests read it
- ``rosterdata``: the roster and export tests' synthetic site (fixtures)
- ``way_a_world``, ``serve_world``: way A's project, worker and officers, and the phone service over them
- ``enroll_world``, ``enroll_serve_world``: the self-enrollment site, pictures, and its phone pages
- ``browser``: the phone pages in a headless Chromium (Playwright)
- ``sync_helpers``: a shared database's site, kiosks as SQLite files, a TCP proxy
"""
