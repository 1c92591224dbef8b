"""Fuzz: 10 000 random and hostile lines typed into ``kiosk run --headless --source -`` (the scanner).

Binary junk, 1 MB lines, unicode controls and terminal escapes, SQL-looking text, near-valid codes with
one character changed, truncated and doubled codes, codes of an unknown key: the loop never crashes,
nothing is accepted, and nothing is written but refused attempts (one per distinct line). A genuine
code at the end is still signed in (the loop is alive). The counts are printed (``-s`` shows them).
"""

from __future__ import annotations

import json
import random
import subprocess
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from support.headless import headless_argv
from support.hostile import SQLISH

from store.codes.keys import IssuerPrivateKey, register_public_key
from store.codes.tokens import issue_code
from store.db.engine import make_engine
from store.db.migrate import upgrade_engine
from store.db.models import SQLModel
from store.people.seed import seed_demo
from store.reasons import Role

ROOT = Path(__file__).resolve().parents[1]
N = 10_000
pytestmark = pytest.mark.timeout(600)

CONTROLS = ["\u202e", "\u200b", "\ufeff", "\x1b[2J", "\x1b]0;pwn\x07", "\x00", "\x7f", "\u2028", "\x1b[31m"]


def hostile_lines(rng: random.Random, good: list[str], alien: str) -> list[bytes]:
    out: list[bytes] = []
    for i in range(N):
        kind = i % 10
        if kind == 0:  # binary junk (no newline inside)
            out.append(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300))).replace(b"\n", b"."))
        elif kind == 1 and i % 2000 == 1:  # a 1 MB line (five of them)
            out.append(b"A" * (1 << 20))
        elif kind in (1, 2):  # near-valid: one character of a genuine code changed
            code = list(rng.choice(good))
            at = rng.randrange(len(code))
            code[at] = rng.choice(
                [c for c in "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789abcdefghijk-_.~" if c != code[at]]
            )
            out.append("".join(code).encode())
        elif kind == 3:  # unicode controls and terminal escapes around text or a code
            text = (
                rng.choice(CONTROLS)
                + rng.choice([rng.choice(good)[:40], "签到", "test"])
                + rng.choice(CONTROLS)
            )
            out.append((text + str(i)).encode())
        elif kind == 4:  # SQL-looking and other injection text
            out.append(f"{rng.choice(SQLISH)} {i}".encode())
        elif kind == 5:  # truncated or doubled codes
            code = rng.choice(good)
            out.append((code[: rng.randrange(1, len(code))] if i % 2 else code + code[:8] + str(i)).encode())
        elif kind == 6:  # a genuine-looking code of a key nobody trusts
            out.append(f"{alien}{i % 7}".encode() if i % 3 else alien.encode() + str(i).encode())
        elif kind == 7:  # invalid UTF-8
            out.append(b"\xff\xfe" + rng.randbytes(12).replace(b"\n", b"") + str(i).encode())
        elif kind == 8:  # random printable text
            out.append(
                "".join(chr(rng.randrange(0x20, 0x2FFF)) for _ in range(rng.randrange(1, 120))).encode(
                    "utf-8", "replace"
                )
            )
        else:  # lone carriage returns, tabs, and a space-padded code
            out.append(b"\r\t " + rng.choice(good).encode()[::-1] + str(i).encode())
    return out


def is_blank(line: bytes) -> bool:
    """What the scanner loop skips: an empty line (after the gate's own decoding)."""
    if not line.strip():
        return True
    try:
        return not line.decode("utf-8").rstrip("\r\n").strip()
    except UnicodeDecodeError:
        return False


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t.name: int(conn.execute(select(func.count()).select_from(t)).scalar() or 0)
            for t in SQLModel.metadata.sorted_tables
        }


def test_ten_thousand_hostile_lines_accept_nothing_and_write_only_attempts(
    sqlite_url: str, tmp_path: Path
) -> None:
    engine = make_engine(sqlite_url)
    upgrade_engine(engine)
    summary = seed_demo(engine, workers=40, projects=1, seed=3, examples=5)
    key = IssuerPrivateKey.generate()
    register_public_key(engine, key.public_raw, not_before=datetime.now(UTC) - timedelta(days=1))
    project = str(summary["examples_project"])
    eligible = [uuid.UUID(w) for w in summary["examples"]["eligible"]]  # type: ignore[index]
    good = [issue_code(key, role=Role.WORKER, subject=w) for w in eligible]
    alien = issue_code(IssuerPrivateKey.generate(), role=Role.WORKER, subject=eligible[0])
    lines = hostile_lines(random.Random(18), good, alien)
    cfg = tmp_path / "fuzz.toml"
    cfg.write_text(
        '[store]\nsqlite_synchronous = "NORMAL"\n[camera]\ndedupe_window_s = 0\n', encoding="utf-8"
    )
    argv = headless_argv(sqlite_url, project, "--config", str(cfg), "--no-photos")
    subprocess.run(argv, input=b"", capture_output=True, cwd=ROOT, check=True)  # the kiosk's identity made
    before = counts(engine)

    feed = b"\n".join(lines) + b"\n" + good[0].encode() + b"\n"
    proc = subprocess.run(argv, input=feed, capture_output=True, cwd=ROOT, timeout=540)
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == 0 and "Traceback" not in err, err[-2000:]
    out = [json.loads(x) for x in proc.stdout.decode().splitlines() if x.strip()]
    after = counts(engine)

    by_outcome = Counter(str(x["outcome"]) for x in out)
    by_reason = Counter(str(x["reason"]) for x in out[:-1])
    assert out[-1]["outcome"] == "signed_in"  # the genuine code at the end: the loop is alive
    assert by_outcome == {"refused": len(out) - 1, "signed_in": 1}  # nothing hostile accepted
    changed = {t: after[t] - before[t] for t in after if after[t] != before[t]}
    # only attempts were written (and the one genuine sign-in's attendance)
    assert changed == {"signinattempt": len(out), "attendance": 1}, changed
    blank = sum(1 for x in lines if is_blank(x))
    assert len(out) - 1 == N - blank  # one attempt per non-blank line (no de-duplication window here)
    report = {
        "lines_sent": N,
        "blank_skipped": blank,
        "attempts_recorded": len(out) - 1,
        "accepted": 0,
        "by_reason": dict(by_reason),
        "written_tables": changed,
    }
    print("\nfuzz:", json.dumps(report, ensure_ascii=False))
    engine.dispose()
