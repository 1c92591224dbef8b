"""Scoped issuer keys: a key may sign workers' codes, officers' codes or both (``IssuerKey.roles``).

The kiosk's officer-code screen (way A) holds a private key; it is registered ``officer`` only, so a
stolen kiosk cannot mint a worker's code any verifier accepts.
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import select

from kiosk.cli import main
from store.codes.keys import (
    IssuerPrivateKey,
    KeyFileError,
    export_trust,
    import_trust_file,
    list_keys,
    load_officer_key,
    new_key_pair,
    register_public_key,
    revoke_key,
    write_trust_file,
)
from store.codes.scope import ALL_ROLES, parse_roles, roles_text
from store.codes.tokens import CodeError, TrustList, Verifier, issue_code
from store.db.engine import make_engine, session
from store.db.migrate import upgrade_engine
from store.db.models import AuditLog
from store.db.schema import head
from store.errors import ValidationError
from store.reasons import Reason, Role
from store.sync.rounds import sync_once
from store.timeutil import UTCDateTime

T0 = datetime(2026, 3, 2, 6, 55, tzinfo=UTC)
JAN = datetime(2026, 1, 1, tzinfo=UTC)
OFFICER_ONLY = frozenset({Role.OFFICER})
WORKER_ONLY = frozenset({Role.WORKER})


def officer_key() -> IssuerPrivateKey:
    return IssuerPrivateKey.generate(OFFICER_ONLY)


def forged_worker_code(key: IssuerPrivateKey, at: datetime = T0) -> str:
    """What a thief does with a kiosk's officer-only key: ignore the local scope and sign a worker's code."""
    unscoped = IssuerPrivateKey(key=key.key, kid=key.kid, public_raw=key.public_raw)  # roles: both
    return issue_code(unscoped, role=Role.WORKER, subject=uuid.uuid4(), at=at)


def officer_code(key: IssuerPrivateKey, at: datetime = T0) -> str:
    return issue_code(key, role=Role.OFFICER, subject=uuid.uuid4(), project=uuid.uuid4(), at=at)


def refusal(verifier: Verifier, token: str, **kw: object) -> Reason:
    with pytest.raises(CodeError) as exc:
        verifier.verify(token, at=T0, **kw)  # type: ignore[arg-type]
    return exc.value.reason


# --- the scope itself ---------------------------------------------------------------------------------


def test_reason_has_both_languages() -> None:
    assert Reason.CODE_KEY_SCOPE.value == "CODE_KEY_SCOPE"
    assert Reason.CODE_KEY_SCOPE.zh == "该签发密钥无权签发此类建设码"
    assert Reason.CODE_KEY_SCOPE.en == "This key may not sign this kind of code"


@pytest.mark.parametrize(
    ("text", "roles"),
    [
        (None, ALL_ROLES),
        ("officer", OFFICER_ONLY),
        ("worker", WORKER_ONLY),
        ("worker,officer", ALL_ROLES),
        (" Officer , worker ", ALL_ROLES),
        (["officer"], OFFICER_ONLY),
    ],
)
def test_parse_roles(text: str | list[str] | None, roles: frozenset[Role]) -> None:
    assert parse_roles(text) == roles


@pytest.mark.parametrize("text", ["", ",", "boss", "officer,boss", []])
def test_bad_roles_are_refused(text: str | list[str]) -> None:
    with pytest.raises(ValidationError):
        parse_roles(text)


def test_roles_text_is_canonical() -> None:
    assert roles_text({Role.OFFICER, Role.WORKER}) == "worker,officer"
    assert roles_text(OFFICER_ONLY) == "officer"


# --- issuing and verifying ----------------------------------------------------------------------------


def test_officer_only_key_signs_officer_codes_only() -> None:
    key = officer_key()
    with pytest.raises(CodeError) as exc:
        issue_code(key, role=Role.WORKER, subject=uuid.uuid4(), at=T0)
    assert exc.value.reason is Reason.CODE_KEY_SCOPE
    v = Verifier(TrustList.of_keys(key))
    assert v.verify(officer_code(key), at=T0, role=Role.OFFICER).role is Role.OFFICER
    assert refusal(v, forged_worker_code(key)) is Reason.CODE_KEY_SCOPE
    # the scope is checked before the role expected: the forgery is a scope refusal either way
    assert refusal(v, forged_worker_code(key), role=Role.WORKER) is Reason.CODE_KEY_SCOPE
    assert refusal(v, forged_worker_code(key), role=Role.OFFICER) is Reason.CODE_KEY_SCOPE


def test_worker_only_key_refuses_officer_codes() -> None:
    key = IssuerPrivateKey.generate(WORKER_ONLY)
    unscoped = IssuerPrivateKey(key=key.key, kid=key.kid, public_raw=key.public_raw)
    v = Verifier(TrustList.of_keys(key))
    assert v.verify(issue_code(key, role=Role.WORKER, subject=uuid.uuid4(), at=T0), at=T0).role is Role.WORKER
    assert refusal(v, officer_code(unscoped)) is Reason.CODE_KEY_SCOPE


def test_scope_comes_after_signature_and_revocation() -> None:
    key = officer_key()
    forged = forged_worker_code(key)
    assert refusal(Verifier(TrustList()), forged) is Reason.CODE_UNKNOWN_KEY
    i = len(forged) - 10  # inside the signature
    flipped = forged[:i] + ("A" if forged[i] != "A" else "B") + forged[i + 1 :]
    assert refusal(Verifier(TrustList.of_keys(key)), flipped) is Reason.CODE_INVALID
    entry = TrustList.of_keys(key).get(key.kid)
    assert entry is not None
    revoked = TrustList([type(entry)(entry.kid, entry.public_key, entry.not_before, None, JAN, entry.roles)])
    assert refusal(Verifier(revoked), forged) is Reason.CODE_KEY_REVOKED
    # and before the clock: an expired forgery still says "wrong key", not "refresh your code"
    stale = forged_worker_code(key, at=T0 - timedelta(hours=3))
    assert refusal(Verifier(TrustList.of_keys(key)), stale) is Reason.CODE_KEY_SCOPE


def test_merged_trust_lists_keep_the_narrower_scope() -> None:
    key = officer_key()
    both = IssuerPrivateKey(key=key.key, kid=key.kid, public_raw=key.public_raw)
    merged = TrustList.of_keys(both).merged(TrustList.of_keys(key))
    entry = merged.get(key.kid)
    assert entry is not None and entry.roles == OFFICER_ONLY
    assert refusal(Verifier(merged), forged_worker_code(key)) is Reason.CODE_KEY_SCOPE


# --- key files ----------------------------------------------------------------------------------------


def test_scope_file_beside_the_key(tmp_path: Path) -> None:
    key, priv, _pub = new_key_pair(tmp_path / "officer", OFFICER_ONLY)
    scope = json.loads((tmp_path / "officer" / "issuer.json").read_text())
    assert scope == {"format": "sjm-key-scope/1", "kid": key.kid, "roles": ["officer"]}
    loaded = IssuerPrivateKey.load(priv)
    assert loaded.roles == OFFICER_ONLY and loaded.kid == key.kid
    assert load_officer_key(priv).kid == key.kid
    _both, priv2, _ = new_key_pair(tmp_path / "both")
    assert IssuerPrivateKey.load(priv2).roles == ALL_ROLES
    with pytest.raises(KeyFileError) as exc:
        load_officer_key(priv2)
    assert "officer" in exc.value.en and "签到员码" in exc.value.zh


def test_key_made_before_scopes_signs_both_but_is_no_officer_key(tmp_path: Path) -> None:
    _key, priv, _ = new_key_pair(tmp_path, OFFICER_ONLY)
    (tmp_path / "issuer.json").unlink()  # a key folder from before scopes
    assert IssuerPrivateKey.load(priv).roles == ALL_ROLES
    with pytest.raises(KeyFileError):
        load_officer_key(priv)


@pytest.mark.parametrize(
    "content",
    [
        "",
        "[]",
        '{"format": "sjm-key-scope/1", "kid": "KID", "roles": []}',
        '{"format": "sjm-key-scope/1", "kid": "KID", "roles": ["boss"]}',
        '{"format": "sjm-key-scope/1", "kid": "KID"}',
        '{"format": "sjm-key-scope/1", "kid": "00000000", "roles": ["officer"]}',
    ],
)
def test_bad_scope_files_are_refused(tmp_path: Path, content: str) -> None:
    key, priv, _ = new_key_pair(tmp_path, OFFICER_ONLY)
    (tmp_path / "issuer.json").write_text(content.replace("KID", key.kid))
    with pytest.raises(KeyFileError):
        IssuerPrivateKey.load(priv)


def test_new_key_pair_never_overwrites_a_scope(tmp_path: Path) -> None:
    (tmp_path / "issuer.json").write_text("{}")
    with pytest.raises(KeyFileError):
        new_key_pair(tmp_path, OFFICER_ONLY)
    assert not (tmp_path / "issuer.key").exists()


# --- the trust list in the database (SQLite and PostgreSQL) -------------------------------------------


def test_register_with_roles(any_url: str) -> None:
    engine = make_engine(any_url)
    key = officer_key()
    row = register_public_key(engine, key.public_pem(), not_before=JAN, roles="officer")
    assert row.roles == "officer"
    assert register_public_key(engine, key.public_pem()).roles == "officer"  # roles not given: unchanged
    with pytest.raises(ValidationError):
        register_public_key(engine, key.public_pem(), roles="boss")
    assert [k.roles for k in list_keys(engine)] == ["officer"]
    other = IssuerPrivateKey.generate()
    assert register_public_key(engine, other.public_pem(), not_before=JAN).roles == "worker,officer"

    v = Verifier(lambda: TrustList.from_engine(engine))
    assert refusal(v, forged_worker_code(key)) is Reason.CODE_KEY_SCOPE
    assert v.verify(officer_code(key), at=T0).role is Role.OFFICER
    assert v.verify(issue_code(other, role=Role.WORKER, subject=uuid.uuid4(), at=T0), at=T0).kid == other.kid

    # narrowed later (the admin decides the old shared key must no longer sign officers' codes)
    register_public_key(engine, other.public_pem(), roles="worker")
    v.reload()
    assert v.trust.get(other.kid).roles == WORKER_ONLY  # type: ignore[union-attr]
    with session(engine) as s:
        actions = [a.action for a in s.exec(select(AuditLog).where(AuditLog.table_name == "issuerkey"))]
    assert actions.count("create") == 2 and actions.count("update") == 2
    engine.dispose()


def test_a_damaged_scope_in_the_table_trusts_nothing(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    key = officer_key()
    register_public_key(engine, key.public_pem(), not_before=JAN, roles="officer")
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE issuerkey SET roles = 'boss'"))
    assert key.kid not in TrustList.from_engine(engine)
    engine.dispose()


def test_trust_files_carry_the_scope(sqlite_url: str, tmp_path: Path) -> None:
    src = make_engine(sqlite_url)
    key, other = officer_key(), IssuerPrivateKey.generate()
    register_public_key(src, key.public_pem(), not_before=JAN, roles="officer")
    register_public_key(src, other.public_pem(), not_before=JAN)
    f = tmp_path / "trust.json"
    write_trust_file(src, f)
    doc = json.loads(f.read_text())
    assert {k["kid"]: k["roles"] for k in doc["keys"]} == {
        key.kid: ["officer"],
        other.kid: ["worker", "officer"],
    }
    v = Verifier(TrustList.from_file(f))
    assert refusal(v, forged_worker_code(key)) is Reason.CODE_KEY_SCOPE
    assert v.verify(officer_code(key), at=T0).kid == key.kid

    dst = make_engine(f"sqlite:///{tmp_path / 'kiosk.db'}")
    upgrade_engine(dst)
    assert import_trust_file(dst, f) == 2
    assert export_trust(dst) == doc

    # a later file narrows a key's scope; a file never widens one
    for k in doc["keys"]:
        k["roles"] = ["worker", "officer"] if k["kid"] == key.kid else ["worker"]
    f.write_text(json.dumps(doc))
    import_trust_file(dst, f)
    assert {k.kid: k.roles for k in list_keys(dst)} == {key.kid: "officer", other.kid: "worker"}
    src.dispose()
    dst.dispose()


def test_trust_file_without_roles_means_both(tmp_path: Path) -> None:
    key = IssuerPrivateKey.generate()
    f = tmp_path / "old.json"
    f.write_text(
        json.dumps(
            {
                "format": "sjm-trust/1",
                "keys": [
                    {
                        "kid": key.kid,
                        "public_key": base64.b64encode(key.public_raw).decode(),
                        "not_before": JAN.isoformat(),
                        "not_after": None,
                        "revoked_at": None,
                        "note": None,
                    }
                ],
            }
        )
    )
    entry = TrustList.from_file(f).get(key.kid)
    assert entry is not None and entry.roles == ALL_ROLES
    doc = json.loads(f.read_text())
    doc["keys"][0]["roles"] = ["boss"]
    f.write_text(json.dumps(doc))
    with pytest.raises(KeyFileError):
        TrustList.from_file(f)


# --- the migration, from 0002 with data, on both engines ----------------------------------------------


def _old_issuerkey() -> sa.TableClause:
    return sa.table(
        "issuerkey",
        sa.column("id", sa.Uuid()),
        sa.column("created_at", UTCDateTime()),
        sa.column("updated_at", UTCDateTime()),
        sa.column("rev", sa.BigInteger()),
        sa.column("kid", sa.String()),
        sa.column("public_key", sa.LargeBinary()),
        sa.column("not_before", UTCDateTime()),
    )


def _fresh_url(request: pytest.FixtureRequest, tmp_path: Path, engine_name: str) -> str:
    if engine_name == "sqlite":
        return f"sqlite:///{tmp_path / 'old.db'}"
    return str(request.getfixturevalue("pg_server").create(migrate=False))


@pytest.mark.parametrize("engine_name", ["sqlite", "postgres"])
def test_upgrade_from_0002_keeps_keys_signing_both(
    request: pytest.FixtureRequest, tmp_path: Path, engine_name: str
) -> None:
    engine = make_engine(_fresh_url(request, tmp_path, engine_name))
    assert upgrade_engine(engine, "0002") == "0002"
    key = IssuerPrivateKey.generate()
    with engine.begin() as conn:
        conn.execute(
            _old_issuerkey()
            .insert()
            .values(
                id=uuid.uuid4(),
                created_at=JAN,
                updated_at=JAN,
                rev=1,
                kid=key.kid,
                public_key=key.public_raw,
                not_before=JAN,
            )
        )
    assert upgrade_engine(engine) == head()  # 0003 and every migration after it
    assert [(k.kid, k.roles) for k in list_keys(engine)] == [(key.kid, "worker,officer")]
    v = Verifier(TrustList.from_engine(engine))
    assert v.verify(issue_code(key, role=Role.WORKER, subject=uuid.uuid4(), at=T0), at=T0).kid == key.kid
    assert v.verify(officer_code(key), at=T0).kid == key.kid
    # the column is NOT NULL with its default in the database itself, for writers that do not name it
    cols = {c["name"]: c for c in sa.inspect(engine).get_columns("issuerkey")}
    assert cols["roles"]["nullable"] is False and "worker,officer" in str(cols["roles"]["default"])
    with engine.begin() as conn, pytest.raises(sa.exc.IntegrityError):
        conn.execute(sa.text("UPDATE issuerkey SET roles = NULL"))
    # and back down, and up again
    from alembic import command

    from store.db.schema import alembic_config

    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "0002")
    assert "roles" not in {c["name"] for c in sa.inspect(engine).get_columns("issuerkey")}
    assert upgrade_engine(engine) == head()
    assert [k.roles for k in list_keys(engine)] == ["worker,officer"]
    engine.dispose()


# --- sync brings the scope to kiosks ------------------------------------------------------------------


# An engine a test, made and disposed of (test_sync.py's fixture of the same name is alike).
@pytest.fixture
def shared(any_url: str):  # type: ignore[no-untyped-def]
    e = make_engine(any_url)
    yield e
    e.dispose()


def _sync(kiosk: Engine, shared: Engine) -> None:
    report = sync_once(kiosk, shared)
    assert report.ok, report.error and report.error.en


def test_sync_carries_the_scope_to_kiosks(shared: Engine, tmp_path: Path) -> None:
    key, old = officer_key(), IssuerPrivateKey.generate()
    register_public_key(shared, key.public_pem(), not_before=JAN, roles="officer")
    register_public_key(shared, old.public_pem(), not_before=JAN)
    kiosk = make_engine(f"sqlite:///{tmp_path / 'kiosk.db'}")
    upgrade_engine(kiosk)
    _sync(kiosk, shared)
    assert {k.kid: k.roles for k in list_keys(kiosk)} == {key.kid: "officer", old.kid: "worker,officer"}
    v = Verifier(lambda: TrustList.from_engine(kiosk))  # as the kiosk does: reloaded after each sync
    assert refusal(v, forged_worker_code(key)) is Reason.CODE_KEY_SCOPE
    assert v.verify(officer_code(key), at=T0, role=Role.OFFICER).kid == key.kid

    # the office narrows the old key to workers' codes: the next sync tells the kiosk
    unscoped_officer_code = officer_code(old)
    assert v.verify(unscoped_officer_code, at=T0).kid == old.kid
    register_public_key(shared, old.public_pem(), roles="worker")
    _sync(kiosk, shared)
    v.reload()
    assert refusal(v, unscoped_officer_code) is Reason.CODE_KEY_SCOPE
    # a revocation still wins over the scope
    revoke_key(shared, key.kid, at=JAN + timedelta(days=1))
    _sync(kiosk, shared)
    v.reload()
    assert refusal(v, forged_worker_code(key)) is Reason.CODE_KEY_REVOKED
    kiosk.dispose()


# --- the command line ---------------------------------------------------------------------------------


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cli_officer_key(capsys: pytest.CaptureFixture[str], sqlite_url: str, tmp_path: Path) -> None:
    kdir = tmp_path / "officer"
    code, out, err = run(
        capsys,
        "keys",
        "new",
        "--out",
        str(kdir),
        "--roles",
        "officer",
        "--db",
        sqlite_url,
        "--not-before",
        "2026-01-01T00:00:00Z",
    )
    assert code == 0 and "issuer.json" in err
    kid = out.strip()
    code, out, _ = run(capsys, "keys", "list", "--db", sqlite_url)
    assert code == 0 and [(k["kid"], k["roles"]) for k in json.loads(out)["keys"]] == [(kid, ["officer"])]

    worker = str(uuid.uuid4())
    code, out, err = run(capsys, "code", "issue", "--worker", worker, "--key", str(kdir / "issuer.key"))
    assert code == 2 and out == ""
    assert "不能签发工人码" in err and "not worker codes" in err and "Traceback" not in err
    code, out, err = run(capsys, "code", "phone", "--worker", worker, "--key", str(kdir / "issuer.key"))
    assert code == 2 and "not worker codes" in err
    code, out, _ = run(
        capsys,
        "code",
        "issue",
        "--officer",
        str(uuid.uuid4()),
        "--key",
        str(kdir / "issuer.key"),
        "--at",
        "2026-03-02T07:00:00+08:00",
    )
    assert code == 0
    token = out.strip()
    code, out, _ = run(
        capsys, "code", "verify", token, "--db", sqlite_url, "--at", "2026-03-02T07:00:30+08:00"
    )
    assert code == 0 and json.loads(out)["kid"] == kid

    code, out, _ = run(
        capsys,
        "code",
        "verify",
        forged_worker_code(IssuerPrivateKey.load(kdir / "issuer.key")),
        "--db",
        sqlite_url,
        "--at",
        T0.isoformat(),
    )
    assert code == 1 and json.loads(out) == {"ok": False, "reason": "CODE_KEY_SCOPE"}


def test_cli_add_takes_the_scope_beside_the_key(
    capsys: pytest.CaptureFixture[str], sqlite_url: str, tmp_path: Path
) -> None:
    key, _priv, pub = new_key_pair(tmp_path / "officer", OFFICER_ONLY)
    code, out, _ = run(capsys, "keys", "add", str(pub), "--db", sqlite_url)
    assert code == 0 and json.loads(out)["roles"] == ["officer"]
    other, _, pub2 = new_key_pair(tmp_path / "w")
    code, out, _ = run(capsys, "keys", "add", str(pub2), "--db", sqlite_url, "--roles", "worker")
    assert code == 0 and json.loads(out)["roles"] == ["worker"]

    code, _, err = run(capsys, "keys", "add", str(pub2), "--db", sqlite_url, "--roles", "boss")
    assert code == 2 and "boss" in err
    trust = tmp_path / "trust.json"
    assert run(capsys, "keys", "export", "--db", sqlite_url, "--out", str(trust))[0] == 0
    code, _, err = run(capsys, "keys", "add", str(trust), "--db", sqlite_url, "--roles", "officer")
    assert code == 2 and "--roles" in err
    code, _, err = run(capsys, "keys", "new", "--out", str(tmp_path / "x"), "--roles", "")
    assert code == 2 and not (tmp_path / "x").exists()
    engine = make_engine(sqlite_url)
    assert {k.kid: k.roles for k in list_keys(engine)} == {key.kid: "officer", other.kid: "worker"}
    engine.dispose()
