"""``kiosk serve`` as a real process: TLS from --certfile/--keyfile, two server processes, the cookie
Secure over HTTPS, and a clean stop on SIGTERM."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from support.serve_world import build_serve_world, csrf_of


def self_signed(folder: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_kiosk_serve_over_tls_with_two_processes(sqlite_url: str, tmp_path: Path) -> None:
    sw = build_serve_world(sqlite_url, tmp_path)
    cert, key = self_signed(tmp_path)
    port = free_port()
    kiosk = str(Path(sys.executable).with_name("kiosk"))
    log = tmp_path / "serve.log"
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [
                kiosk,
                "serve",
                "--db",
                sqlite_url,
                "--issuer-key",
                str(sw.key_path),
                "--port",
                str(port),
                "--workers",
                "2",
                "--certfile",
                str(cert),
                "--keyfile",
                str(key),
            ],
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,
        )
    base = f"https://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, verify=False, timeout=5) as client:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if client.get("/api/csrf").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.3)
            path = sw.link()
            page = client.get(path)
            r = client.post(path, data={"csrf_token": csrf_of(page.text)}, follow_redirects=False)
            assert r.status_code == 303
            cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith("kiosk_device="))
            assert "Secure" in cookie and "HttpOnly" in cookie
            for _ in range(6):  # whichever process answers, the phone is the same person
                assert client.get("/api/me").json()["name"] == "张伟"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        assert proc.wait(20) == 0
    text = log.read_text()
    assert path.rsplit("/", 1)[1] not in text and "张伟" not in text
