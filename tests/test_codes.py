"""Personal codes: format, round trip, tampering, times, roles, keys of the trust list, fuzzing."""

from __future__ import annotations

import base64
import contextlib
import json
import string
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from store.codes.keys import IssuerPrivateKey
from store.codes.tokens import (
    PREFIX,
    TOKEN_CHARS,
    TOKEN_CHARS_WITH_PROJECT,
    CodeError,
    CodeIdentity,
    TrustList,
    Verifier,
    issue_code,
    parse_code,
)
from store.reasons import Reason, Role

T0 = datetime(2026, 3, 2, 6, 55, 0, tzinfo=UTC)
QR_ALPHANUMERIC = set(string.ascii_uppercase + string.digits + " $%*+-./:")


@pytest.fixture(scope="module")
def key() -> IssuerPrivateKey:
    return IssuerPrivateKey.generate()


@pytest.fixture(scope="module")
def verifier(key: IssuerPrivateKey) -> Verifier:
    return Verifier(TrustList.of_keys(key), skew_s=30)


@pytest.fixture(scope="module")
def worker_token(key: IssuerPrivateKey) -> str:
    return issue_code(key, role=Role.WORKER, subject=uuid.UUID(int=7), at=T0)


def reason_of(v: Verifier, token: str, **kw: object) -> Reason:
    with pytest.raises(CodeError) as exc:
        v.verify(token, **kw)  # type: ignore[arg-type]
    return exc.value.reason


# --- format and round trip ------------------------------------------------------------------------


def test_worker_round_trip(key: IssuerPrivateKey, verifier: Verifier, worker_token: str) -> None:
    ident = verifier.verify(worker_token, role=Role.WORKER, at=T0 + timedelta(seconds=5))
    assert ident == CodeIdentity(
        role=Role.WORKER,
        subject=uuid.UUID(int=7),
        project=None,
        issued_at=T0,
        expires_at=T0 + timedelta(seconds=120),
        kid=key.kid,
        token=worker_token,
    )
    assert ident.as_json() == {
        "role": "worker",
        "subject": str(uuid.UUID(int=7)),
        "issued_at": T0.isoformat(),
        "expires_at": (T0 + timedelta(seconds=120)).isoformat(),
        "kid": key.kid,
    }


def test_officer_code_names_the_project(key: IssuerPrivateKey, verifier: Verifier) -> None:
    officer, project = uuid.uuid4(), uuid.uuid4()
    token = issue_code(key, role=Role.OFFICER, subject=officer, project=project, at=T0, validity_s=300)
    ident = verifier.verify(token, role=Role.OFFICER, at=T0 + timedelta(seconds=299))
    assert (ident.role, ident.subject, ident.project) == (Role.OFFICER, officer, project)
    assert ident.expires_at == T0 + timedelta(seconds=300)
    assert len(token) == TOKEN_CHARS_WITH_PROJECT
    # an officer's code without a project (unlocking the kiosk) is shorter
    bare = issue_code(key, role=Role.OFFICER, subject=officer, at=T0)
    assert len(bare) == TOKEN_CHARS and verifier.verify(bare, at=T0).project is None


def test_token_is_short_uppercase_qr_alphanumeric(worker_token: str) -> None:
    assert worker_token.startswith(PREFIX) == worker_token.startswith("SJM1:")
    assert len(worker_token) == TOKEN_CHARS == 153
    assert TOKEN_CHARS_WITH_PROJECT == 178
    assert set(worker_token) <= QR_ALPHANUMERIC


def test_parse_without_keys(key: IssuerPrivateKey, worker_token: str) -> None:
    p = parse_code("  " + worker_token + "\r\n")  # a keyboard-wedge scanner's Enter is fine
    assert (p.version, p.role, p.subject, p.issued_at, p.validity_s, p.kid) == (
        1,
        Role.WORKER,
        uuid.UUID(int=7),
        T0,
        120,
        key.kid,
    )
    assert worker_token not in repr(p)  # raw tokens never land in logs by repr


def test_issue_refuses_what_no_code_carries(key: IssuerPrivateKey) -> None:
    with pytest.raises(ValueError):
        issue_code(key, role=Role.WORKER, subject=uuid.uuid4(), project=uuid.uuid4())
    with pytest.raises(ValueError):
        issue_code(key, role=Role.WORKER, subject=uuid.uuid4(), validity_s=0)
    with pytest.raises(ValueError):
        issue_code(key, role=Role.WORKER, subject=uuid.uuid4(), at=datetime(1960, 1, 1, tzinfo=UTC))


def test_issue_time_is_kept_to_the_second(key: IssuerPrivateKey, verifier: Verifier) -> None:
    at = T0 + timedelta(microseconds=999_999)
    token = issue_code(key, role=Role.WORKER, subject=uuid.uuid4(), at=at)
    assert verifier.verify(token, at=at).issued_at == T0


# --- tampering ------------------------------------------------------------------------------------


def test_every_single_character_tamper_is_refused(verifier: Verifier, key: IssuerPrivateKey) -> None:
    officer = issue_code(key, role=Role.OFFICER, subject=uuid.uuid4(), project=uuid.uuid4(), at=T0)
    alphabet = string.ascii_uppercase + "234567" + "01:a= "
    for token in (issue_code(key, role=Role.WORKER, subject=uuid.uuid4(), at=T0), officer):
        verifier.verify(token, at=T0)
        tried = 0
        for i, ch in enumerate(token):
            for other in alphabet:
                if other == ch:
                    continue
                tampered = token[:i] + other + token[i + 1 :]
                with pytest.raises(CodeError) as exc:
                    verifier.verify(tampered, at=T0)
                assert exc.value.reason in (Reason.CODE_INVALID, Reason.CODE_UNKNOWN_KEY), (i, other)
                tried += 1
        # deletions and insertions too
        for i in range(len(token)):
            with pytest.raises(CodeError):
                verifier.verify(token[:i] + token[i + 1 :], at=T0)
            with pytest.raises(CodeError):
                verifier.verify(token[:i] + "A" + token[i:], at=T0)
        assert tried > 30 * len(token)


def test_every_single_bit_flip_of_the_signed_bytes_is_refused(verifier: Verifier, worker_token: str) -> None:
    body = worker_token[len(PREFIX) :]
    raw = base64.b32decode(body + "=" * (-len(body) % 8))
    for i in range(len(raw)):
        for bit in range(8):
            flipped = bytearray(raw)
            flipped[i] ^= 1 << bit
            token = PREFIX + base64.b32encode(bytes(flipped)).decode().rstrip("=")
            with pytest.raises(CodeError):
                verifier.verify(token, at=T0)


def test_a_code_signed_by_another_key_with_a_forged_kid_is_invalid(
    key: IssuerPrivateKey, verifier: Verifier
) -> None:
    thief = IssuerPrivateKey.generate()
    forged_key = IssuerPrivateKey(key=thief.key, kid=key.kid, public_raw=key.public_raw)
    forged = issue_code(forged_key, role=Role.WORKER, subject=uuid.uuid4(), at=T0)
    assert reason_of(verifier, forged, at=T0) == Reason.CODE_INVALID


# --- time, role, keys ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offset_s", "reason"),
    [
        (-31, Reason.CODE_NOT_YET_VALID),
        (-30, None),
        (0, None),
        (150, None),  # 120 s + 30 s skew
        (151, Reason.CODE_EXPIRED),
        (86_400, Reason.CODE_EXPIRED),
    ],
)
def test_validity_window_with_skew(
    verifier: Verifier, worker_token: str, offset_s: int, reason: Reason | None
) -> None:
    at = T0 + timedelta(seconds=offset_s)
    if reason is None:
        assert verifier.verify(worker_token, at=at).subject == uuid.UUID(int=7)
    else:
        assert reason_of(verifier, worker_token, at=at) == reason


def test_wrong_role(key: IssuerPrivateKey, verifier: Verifier, worker_token: str) -> None:
    assert reason_of(verifier, worker_token, role=Role.OFFICER, at=T0) == Reason.CODE_WRONG_ROLE
    officer = issue_code(key, role=Role.OFFICER, subject=uuid.uuid4(), project=uuid.uuid4(), at=T0)
    assert reason_of(verifier, officer, role=Role.WORKER, at=T0) == Reason.CODE_WRONG_ROLE


def test_unknown_key(worker_token: str) -> None:
    stranger = Verifier(TrustList.of_keys(IssuerPrivateKey.generate()))
    assert reason_of(stranger, worker_token, at=T0) == Reason.CODE_UNKNOWN_KEY
    assert reason_of(Verifier(TrustList()), worker_token, at=T0) == Reason.CODE_UNKNOWN_KEY


def _trust_doc(key: IssuerPrivateKey, **kw: str | None) -> dict[str, object]:
    entry = {
        "kid": key.kid,
        "public_key": base64.b64encode(key.public_raw).decode(),
        "not_before": "2026-01-01T00:00:00+00:00",
        "not_after": None,
        "revoked_at": None,
    }
    entry.update(kw)
    return {"format": "sjm-trust/1", "keys": [entry]}


def test_revoked_key_refuses_even_old_codes(tmp_path: Path, key: IssuerPrivateKey, worker_token: str) -> None:
    f = tmp_path / "trust.json"
    f.write_text(json.dumps(_trust_doc(key, revoked_at="2026-06-01T00:00:00+00:00")))
    v = Verifier(TrustList.from_file(f))
    # issued and checked long before the revocation time: a leaked key is never trusted again
    assert reason_of(v, worker_token, at=T0) == Reason.CODE_KEY_REVOKED


def test_key_validity_at_issue_time(tmp_path: Path, key: IssuerPrivateKey) -> None:
    f = tmp_path / "trust.json"
    f.write_text(
        json.dumps(
            _trust_doc(key, not_before="2026-03-01T00:00:00+00:00", not_after="2026-04-01T00:00:00+00:00")
        )
    )
    v = Verifier(TrustList.from_file(f))

    def at(when: datetime) -> str:
        return issue_code(key, role=Role.WORKER, subject=uuid.uuid4(), at=when)

    inside = datetime(2026, 3, 31, 23, 59, tzinfo=UTC)
    # rotation: a code issued under the old key before its end verifies until it expires
    assert v.verify(at(inside), at=inside + timedelta(seconds=100)).kid == key.kid
    early = datetime(2026, 2, 28, tzinfo=UTC)
    assert reason_of(v, at(early), at=early) == Reason.CODE_UNKNOWN_KEY
    late = datetime(2026, 4, 1, 0, 0, 1, tzinfo=UTC)
    assert reason_of(v, at(late), at=late) == Reason.CODE_KEY_REVOKED


def test_reload_picks_up_a_new_trust_list(key: IssuerPrivateKey, worker_token: str) -> None:
    lists = [TrustList(), TrustList.of_keys(key)]
    v = Verifier(lambda: lists[0])
    assert reason_of(v, worker_token, at=T0) == Reason.CODE_UNKNOWN_KEY
    lists[0] = lists[1]
    v.reload()
    assert v.verify(worker_token, at=T0).kid == key.kid


def test_merged_trust_list_keeps_revocations(
    tmp_path: Path, key: IssuerPrivateKey, worker_token: str
) -> None:
    f = tmp_path / "trust.json"
    f.write_text(json.dumps(_trust_doc(key, revoked_at="2026-06-01T00:00:00+00:00")))
    merged = TrustList.of_keys(key).merged(TrustList.from_file(f))
    assert reason_of(Verifier(merged), worker_token, at=T0) == Reason.CODE_KEY_REVOKED


def test_cached_verification_still_checks_the_clock(verifier: Verifier, worker_token: str) -> None:
    for _ in range(3):
        assert verifier.verify(worker_token, at=T0).subject == uuid.UUID(int=7)
    assert reason_of(verifier, worker_token, at=T0 + timedelta(hours=1)) == Reason.CODE_EXPIRED


def test_clock_is_injectable(key: IssuerPrivateKey, worker_token: str) -> None:
    now = [T0 + timedelta(seconds=10)]
    v = Verifier(TrustList.of_keys(key), clock=lambda: now[0])
    assert v.verify(worker_token).subject == uuid.UUID(int=7)
    now[0] = T0 + timedelta(minutes=5)
    assert reason_of(v, worker_token) == Reason.CODE_EXPIRED


def test_code_error_speaks_both_languages() -> None:
    with pytest.raises(CodeError) as exc:
        parse_code("https://example.com/")
    assert exc.value.reason is Reason.CODE_INVALID
    assert exc.value.zh == Reason.CODE_INVALID.zh and str(exc.value) == Reason.CODE_INVALID.en


# --- whatever a camera or a scanner may bring ------------------------------------------------------

ODD_INPUTS = [
    "",
    " ",
    "\n",
    "SJM1:",
    "SJM1",
    "sjm1:" + "A" * 148,
    "SJM1:" + "A" * 148,
    "SJM1:" + "=" * 148,
    "SJM2:" + "A" * 148,
    "SJM1:" + "A" * 10_000,
    "x" * 1_000_000,
    "\x00" * 200,
    "\udcff" * 153,
    "https://example.com/?code=SJM1:AAAA",
    "WIFI:S:site;T:WPA;P:secret;;",
    "MEBKM:URL:http\\://x;;",
    "SJM1:" + "Ａ" * 148,
    "SJM1:" + "1" * 148,
    "SJM1:" + "A" * 147 + "\u0301",
]


@pytest.mark.parametrize("text", ODD_INPUTS)
def test_odd_inputs_are_invalid(verifier: Verifier, text: str) -> None:
    with pytest.raises(CodeError) as exc:
        parse_code(text)
    assert exc.value.reason is Reason.CODE_INVALID
    assert reason_of(verifier, text) == Reason.CODE_INVALID


def test_non_text_is_invalid(verifier: Verifier) -> None:
    for thing in (None, b"SJM1:", 42, ["SJM1:"]):
        with pytest.raises(CodeError):
            parse_code(thing)  # type: ignore[arg-type]
        with pytest.raises(CodeError):
            verifier.verify(thing)  # type: ignore[arg-type]


def test_other_systems_qr_texts_are_invalid(qr_corpus: Path, verifier: Verifier) -> None:
    texts = {
        json.loads(line)["text"] for line in (qr_corpus / "manifest.jsonl").read_text().splitlines() if line
    }
    assert len(texts) > 20
    for text in texts:
        assert reason_of(verifier, text) == Reason.CODE_INVALID


FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _only_code_errors(verifier: Verifier, text: str) -> None:
    with contextlib.suppress(CodeError):
        parse_code(text)
    with contextlib.suppress(CodeError):
        verifier.verify(text, role=Role.WORKER, at=T0)


@FUZZ
@given(st.text())
def test_fuzz_text(verifier: Verifier, text: str) -> None:
    _only_code_errors(verifier, text)


@FUZZ
@given(st.binary(max_size=400), st.sampled_from(["latin-1", "surrogateescape"]))
def test_fuzz_bytes(verifier: Verifier, data: bytes, how: str) -> None:
    text = data.decode("latin-1") if how == "latin-1" else data.decode("utf-8", "surrogateescape")
    _only_code_errors(verifier, text)
    _only_code_errors(verifier, PREFIX + text)


@FUZZ
@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", min_size=140, max_size=180))
def test_fuzz_base32_bodies(verifier: Verifier, body: str) -> None:
    """Well-formed-looking bodies reach the binary parser and the signature check."""
    with pytest.raises(CodeError):
        verifier.verify(PREFIX + body, at=T0)


@FUZZ
@given(st.binary(min_size=92, max_size=92), st.binary(min_size=108, max_size=108))
def test_fuzz_raw_payloads(verifier: Verifier, short: bytes, long: bytes) -> None:
    for raw in (short, long):
        with pytest.raises(CodeError):
            verifier.verify(PREFIX + base64.b32encode(raw).decode().rstrip("="), at=T0)


@FUZZ
@given(st.data())
def test_fuzz_mutated_genuine_tokens(verifier: Verifier, worker_token: str, data: st.DataObject) -> None:
    i = data.draw(st.integers(0, len(worker_token) - 1))
    replacement = data.draw(st.text(min_size=0, max_size=3))
    mutated = worker_token[:i] + replacement + worker_token[i + 1 :]
    if mutated.strip() == worker_token:  # surrounding whitespace is a scanner's, not a tamper
        return
    with pytest.raises(CodeError):
        verifier.verify(mutated, at=T0)


def test_verify_from_threads_while_reloading(key: IssuerPrivateKey) -> None:
    from concurrent.futures import ThreadPoolExecutor

    tokens = [issue_code(key, role=Role.WORKER, subject=uuid.uuid4(), at=T0) for _ in range(200)]
    v = Verifier(lambda: TrustList.of_keys(key), cache_size=32)

    def check(token: str) -> uuid.UUID:
        if token is tokens[50]:
            v.reload()
        return v.verify(token, at=T0).subject

    with ThreadPoolExecutor(4) as pool:
        subjects = list(pool.map(check, tokens * 3))
    assert subjects == [parse_code(t).subject for t in tokens * 3]
