"""A PgBouncer of a test's own, in transaction mode, in front of the test PostgreSQL: Debian's ``pgbouncer``
package (``./dev test`` installs it), started on 127.0.0.1 on a free port for one database and stopped
after. Skips with a message where the program is missing; fails instead on CI (CI=true)."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

CANDIDATES = ("pgbouncer", "/usr/sbin/pgbouncer")


def pgbouncer_program() -> str:
    for c in CANDIDATES:
        found = shutil.which(c)
        if found:
            return found
    msg = "pgbouncer is not installed (Debian: apt-get install pgbouncer; ./dev test does it)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(msg + " — CI needs it")
    pytest.skip(msg)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Bouncer:
    url: str  # the same database, through the bouncer
    port: int
    folder: Path

    def log(self) -> str:
        path = self.folder / "pgbouncer.log"
        return path.read_text(errors="replace") if path.exists() else ""


@contextmanager
def pgbouncer(pg_url: str, *, pool_size: int = 3, max_clients: int = 200) -> Iterator[Bouncer]:
    """PgBouncer in transaction mode in front of ``pg_url``'s database, with ``pool_size`` server
    connections (few: client transactions must share them, as in production)."""
    program = pgbouncer_program()
    url = make_url(pg_url)
    port = free_port()
    folder = Path(tempfile.mkdtemp(prefix="kiosk-pgbouncer-"))
    ini = folder / "pgbouncer.ini"
    ini.write_text(
        f"""[databases]
{url.database} = host={url.host or "127.0.0.1"} port={url.port or 5432} dbname={url.database} user={url.username or "postgres"}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {folder / "users.txt"}
pool_mode = transaction
default_pool_size = {pool_size}
max_client_conn = {max_clients}
server_reset_query =
logfile = {folder / "pgbouncer.log"}
pidfile = {folder / "pgbouncer.pid"}
"""
    )
    (folder / "users.txt").write_text(f'"{url.username or "postgres"}" ""\n')
    cmd = [program, str(ini)]
    if os.geteuid() == 0:  # pgbouncer refuses to run as root: it switches to the postgres user
        owner = pwd.getpwnam("postgres")
        for p in (folder, *folder.iterdir()):
            os.chown(p, owner.pw_uid, owner.pw_gid)
        cmd = [program, "-u", "postgres", str(ini)]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    bouncer = Bouncer(
        url.set(host="127.0.0.1", port=port).render_as_string(hide_password=False), port, folder
    )
    try:
        deadline = time.monotonic() + 30
        while True:  # ready once it accepts a connection
            assert proc.poll() is None, f"pgbouncer exited: {proc.stderr.read() if proc.stderr else ''}"
            assert time.monotonic() < deadline, "pgbouncer did not start: " + bouncer.log()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.05)
        yield bouncer
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)
        shutil.rmtree(folder, ignore_errors=True)
