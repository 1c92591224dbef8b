"""Issuer keys: files, the trust list in SQLite and PostgreSQL, rotation, revocation, trust files."""

from __future__ import annotations

import json
import stat
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import select

from store.codes.keys import (
    IssuerPrivateKey,
    KeyFileError,
    export_trust,
    import_trust_file,
    kid_of,
    list_keys,
    new_key_pair,
    register_public_key,
    revoke_key,
    write_trust_file,
)
from store.codes.tokens import CodeError, TrustList, Verifier, issue_code
from store.db.engine import make_engine, session
from store.db.models import AuditLog, IssuerKey
from store.reasons import Reason, Role

T0 = datetime(2026, 3, 2, 6, 55, tzinfo=UTC)
JAN = datetime(2026, 1, 1, tzinfo=UTC)


def test_key_pair_files(tmp_path: Path) -> None:
    key, priv, pub = new_key_pair(tmp_path / "keys")
    assert (priv.name, pub.name) == ("issuer.key", "issuer.pub")
    assert stat.S_IMODE(priv.stat().st_mode) == 0o600
    assert priv.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert pub.read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    loaded = IssuerPrivateKey.load(priv)
    assert loaded.kid == key.kid == kid_of(key.public_raw)
    assert len(key.kid) == 8 and int(key.kid, 16) >= 0
    assert "PRIVATE" not in repr(loaded) and loaded.public_raw.hex() not in repr(loaded)


def test_key_pair_never_overwrites(tmp_path: Path) -> None:
    _key, priv, _ = new_key_pair(tmp_path)
    before = priv.read_bytes()
    with pytest.raises(KeyFileError):
        new_key_pair(tmp_path)
    assert priv.read_bytes() == before


@pytest.mark.parametrize(
    "content", [b"", b"not a key", b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"]
)
def test_bad_private_key_files(tmp_path: Path, content: bytes) -> None:
    f = tmp_path / "issuer.key"
    f.write_bytes(content)
    f.chmod(0o600)
    with pytest.raises(KeyFileError):
        IssuerPrivateKey.load(f)
    with pytest.raises(KeyFileError):
        IssuerPrivateKey.load(tmp_path / "missing.key")


def test_private_key_of_another_kind_is_refused(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    other = ec.generate_private_key(ec.SECP256R1())
    f = tmp_path / "ec.key"
    f.write_bytes(
        other.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    f.chmod(0o600)
    with pytest.raises(KeyFileError, match="not an Ed25519"):
        IssuerPrivateKey.load(f)
    pub = tmp_path / "ec.pub"
    pub.write_bytes(
        other.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    engine = make_engine(f"sqlite:///{tmp_path / 'none.db'}")
    with pytest.raises(KeyFileError):
        register_public_key(engine, pub)


def test_trust_list_in_the_database(any_url: str, tmp_path: Path) -> None:
    engine = make_engine(any_url)
    try:
        old, _, old_pub = new_key_pair(tmp_path / "old")
        new, _, _ = new_key_pair(tmp_path / "new")
        row = register_public_key(engine, old_pub, not_before=JAN, actor="admin")
        assert (row.kid, bytes(row.public_key), row.not_before) == (old.kid, old.public_raw, JAN)
        register_public_key(engine, new.public_pem(), not_before=JAN)  # bytes work too
        register_public_key(engine, old_pub)  # again: no second row
        assert sorted(k.kid for k in list_keys(engine)) == sorted([old.kid, new.kid])

        def code(k: IssuerPrivateKey, at: datetime) -> str:
            return issue_code(k, role=Role.WORKER, subject=uuid.UUID(int=1), at=at)

        v = Verifier(lambda: TrustList.from_engine(engine))
        assert v.verify(code(old, T0), at=T0).kid == old.kid
        assert v.verify(code(new, T0), at=T0).kid == new.kid

        # rotation: the old key ends; its codes issued before the end still verify until they expire
        end = T0 + timedelta(days=1)
        register_public_key(engine, old_pub, not_after=end)
        v.reload()
        before_end = code(old, end - timedelta(seconds=10))
        assert v.verify(before_end, at=end + timedelta(seconds=60)).kid == old.kid
        with pytest.raises(CodeError) as exc:
            v.verify(code(old, end + timedelta(seconds=1)), at=end + timedelta(seconds=1))
        assert exc.value.reason is Reason.CODE_KEY_REVOKED

        # revocation: every code of the key is refused from the next reload on, also older ones
        token = code(new, T0)
        assert v.verify(token, at=T0).kid == new.kid
        revoke_key(engine, new.kid, actor="admin")
        revoke_key(engine, new.kid)  # twice: nothing changes
        v.reload()
        with pytest.raises(CodeError) as exc:
            v.verify(token, at=T0)
        assert exc.value.reason is Reason.CODE_KEY_REVOKED
        with pytest.raises(KeyFileError):
            register_public_key(engine, new.public_pem())  # a revoked key stays revoked

        with session(engine) as s:
            actions = [
                (a.actor, a.action)
                for a in s.exec(select(AuditLog).where(AuditLog.table_name == "issuerkey"))
            ]
            revs = [k.rev for k in s.exec(select(IssuerKey))]
        assert ("admin", "create") in actions and ("admin", "revoke") in actions
        assert actions.count(("admin", "revoke")) == 1
        assert all(r > 0 for r in revs)  # revisioned: sync brings keys and revocations to kiosks
    finally:
        engine.dispose()


def test_revoke_unknown_kid(engine: Engine) -> None:
    with pytest.raises(KeyFileError):
        revoke_key(engine, "00000000")


def test_not_after_before_not_before_is_refused(engine: Engine, tmp_path: Path) -> None:
    _, _, pub = new_key_pair(tmp_path)
    with pytest.raises(KeyFileError):
        register_public_key(engine, pub, not_before=T0, not_after=T0 - timedelta(days=1))


def test_default_not_before_is_now_and_same_second_codes_verify(engine: Engine, tmp_path: Path) -> None:
    key, _, pub = new_key_pair(tmp_path)
    register_public_key(engine, pub)
    v = Verifier(TrustList.from_engine(engine), skew_s=0)
    assert v.verify(issue_code(key, role=Role.WORKER, subject=uuid.uuid4())).kid == key.kid


def test_trust_file_round_trip(sqlite_url: str, tmp_path: Path) -> None:
    src = make_engine(sqlite_url)
    a, _, a_pub = new_key_pair(tmp_path / "a")
    b, _, b_pub = new_key_pair(tmp_path / "b")
    register_public_key(src, a_pub, not_before=JAN)
    register_public_key(src, b_pub, not_before=JAN, not_after=JAN + timedelta(days=400))
    revoke_key(src, b.kid)
    f = tmp_path / "trust.json"
    assert write_trust_file(src, f) == 2
    doc = json.loads(f.read_text())
    assert doc == export_trust(src) and doc["format"] == "sjm-trust/1"
    assert "PRIVATE" not in f.read_text()

    trust = TrustList.from_file(f)
    v = Verifier(trust)
    assert v.verify(issue_code(a, role=Role.WORKER, subject=uuid.uuid4(), at=T0), at=T0).kid == a.kid
    with pytest.raises(CodeError) as exc:
        v.verify(issue_code(b, role=Role.WORKER, subject=uuid.uuid4(), at=T0), at=T0)
    assert exc.value.reason is Reason.CODE_KEY_REVOKED

    # into another database (a kiosk without sync): keys and the revocation arrive
    other_path = tmp_path / "other.db"
    from store.db.migrate import upgrade_engine

    dst = make_engine(f"sqlite:///{other_path}")
    upgrade_engine(dst)
    assert import_trust_file(dst, f) == 2
    assert import_trust_file(dst, f) == 2  # twice: nothing doubles
    assert export_trust(dst) == doc
    src.dispose()
    dst.dispose()


@pytest.mark.parametrize(
    "content",
    [
        "",
        "[]",
        "{}",
        '{"format": "other", "keys": []}',
        '{"format": "sjm-trust/1", "keys": [{"kid": "x"}]}',
        '{"format": "sjm-trust/1", "keys": [{"public_key": "AAAA", "not_before": "2026-01-01"}]}',
    ],
)
def test_bad_trust_files(tmp_path: Path, content: str) -> None:
    f = tmp_path / "trust.json"
    f.write_text(content)
    with pytest.raises(KeyFileError):
        TrustList.from_file(f)


def test_trust_file_with_a_wrong_kid_is_refused(tmp_path: Path) -> None:
    import base64

    key = IssuerPrivateKey.generate()
    f = tmp_path / "trust.json"
    f.write_text(
        json.dumps(
            {
                "format": "sjm-trust/1",
                "keys": [
                    {
                        "kid": "deadbeef",
                        "public_key": base64.b64encode(key.public_raw).decode(),
                        "not_before": "2026-01-01T00:00:00Z",
                    }
                ],
            }
        )
    )
    with pytest.raises(KeyFileError):
        TrustList.from_file(f)


def test_a_key_whose_id_collides_with_another_key_is_refused(engine: Engine) -> None:
    from store.db.engine import write_session

    key = IssuerPrivateKey.generate()
    impostor = IssuerPrivateKey.generate()
    with write_session(engine) as s:  # a row holding another public key under this key's id
        s.add(IssuerKey(kid=key.kid, public_key=impostor.public_raw, not_before=JAN))
    with pytest.raises(KeyFileError) as exc:
        register_public_key(engine, key.public_raw)
    assert "taken by another key" in exc.value.en
    # and the verifier trusts only the public key it holds: the impostor row never verifies key's codes
    token = issue_code(key, role=Role.WORKER, subject=uuid.uuid4(), at=T0)
    with pytest.raises(CodeError) as err:
        Verifier(TrustList.from_engine(engine)).verify(token, at=T0)
    assert err.value.reason is Reason.CODE_INVALID
