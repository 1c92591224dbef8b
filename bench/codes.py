"""Benchmark of personal codes: ``python bench/codes.py [--quick]``.

1. Verifications per second on one core: distinct genuine worker codes, each verified once on one
   thread against a trust list of 5 keys (the signature check is done for every one; no cache hit),
   per second of this process's CPU time — on a shared machine the wall-clock rate also counts the
   time other programs hold the core, so it is printed beside it, with the load average.
2. The same token verified again and again (the camera sees one code in many frames: the cache).
3. Issuing per second, and the token length and QR version (error correction M) of a worker's code
   and of an officer's code naming a project.

Goal (issue 4): verify_per_s ≥ 5 000. ``--quick``: 2 000 codes instead of 20 000.
The last line printed is one JSON object with exactly the keys of the issue; its ``token_chars`` and
``qr_version`` are those of a worker's code (what the kiosk's camera reads in the morning rush); the
officer's code is on the line before.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kiosk.qr_terminal import qr_version  # noqa: E402
from store.codes.keys import IssuerPrivateKey  # noqa: E402
from store.codes.tokens import TrustList, Verifier, issue_code  # noqa: E402
from store.reasons import Role  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="2 000 codes instead of 20 000")
    args = ap.parse_args()
    n = 2_000 if args.quick else 20_000

    keys = [IssuerPrivateKey.generate() for _ in range(5)]
    at = datetime(2026, 3, 2, 6, 55, tzinfo=UTC)
    check_at = at + timedelta(seconds=30)

    t = time.perf_counter()
    tokens = [
        issue_code(keys[i % len(keys)], role=Role.WORKER, subject=uuid.uuid4(), at=at) for i in range(n)
    ]
    issue_per_s = n / (time.perf_counter() - t)

    verifier = Verifier(TrustList.of_keys(*keys), cache_size=16)
    wall, cpu = time.perf_counter(), time.process_time()
    for token in tokens:
        verifier.verify(token, role=Role.WORKER, at=check_at)
    verify_per_s = n / (time.process_time() - cpu)
    verify_per_s_wall = n / (time.perf_counter() - wall)

    same = tokens[0]
    t = time.perf_counter()
    for _ in range(n):
        verifier.verify(same, role=Role.WORKER, at=check_at)
    repeat_per_s = n / (time.perf_counter() - t)

    officer = issue_code(keys[0], role=Role.OFFICER, subject=uuid.uuid4(), project=uuid.uuid4(), at=at)
    print(f"codes: {n}, keys in the trust list: {len(keys)}, one thread")
    print(
        f"issue: {issue_per_s:,.0f}/s; verify distinct codes: {verify_per_s:,.0f}/s of CPU time "
        f"({verify_per_s_wall:,.0f}/s of wall time, load {os.getloadavg()[0]:.1f}); "
        f"verify the same code again (cached signature): {repeat_per_s:,.0f}/s"
    )
    print(
        json.dumps(
            {
                "officer_token_chars": len(officer),
                "officer_qr_version": qr_version(officer),
                "issue_per_s": round(issue_per_s),
                "repeat_verify_per_s": round(repeat_per_s),
            }
        )
    )
    print(
        json.dumps(
            {
                "verify_per_s": round(verify_per_s),
                "token_chars": len(same),
                "qr_version": qr_version(same),
            }
        )
    )


if __name__ == "__main__":
    main()
