"""Import speed: ``kiosk import workers`` of an XLSX with N synthetic rows into a fresh store.

    python bench/import_workers.py [--quick] [--rows N] [--db URL]

Writes an XLSX of N rows (synthetic identity numbers with valid check characters, all employed on
one project), then times ``store.people.imports.import_workers`` twice: the file with one bad row near the
end (all checked, nothing written) and the clean file (checked and written in one transaction).
The last line is one JSON object: {"rows", "reject_s", "import_s", "rows_per_s", "target_s", "ok"}.
Goal (issue #10): 10 000 rows in ≤ 10 s. --db: a migrated, empty database (default: a temp SQLite file).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from openpyxl import Workbook
from stdnum.cn import ric

from store.db.engine import make_engine, write_session
from store.db.migrate import upgrade_engine
from store.people.enroll import add_employer, add_project
from store.people.imports import COLUMNS, ImportRejected, import_workers

TARGET_S = 10.0


def log(*a: object) -> None:
    print(*a, file=sys.stderr, flush=True)


def id_number(i: int) -> str:
    born = date(1980, 1, 1) + timedelta(days=i // 1000)
    body = f"310104{born:%Y%m%d}{i % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def write_xlsx(path: Path, n: int, bad_row: int | None = None) -> None:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet()
    ws.append([c.header for c in COLUMNS])
    for i in range(n):
        number = id_number(i)
        if i == bad_row:
            number = number[:-1] + ("0" if number[-1] != "0" else "1")
        ws.append(
            [
                number,
                f"测试{i}",
                None,
                None,
                "汉族",
                "上海市某区某路1号",
                f"139{i:08d}",
                "基准测试公司",
                "基准项目",
                "钢筋班组",
                "钢筋工",
                date(2026, 3, 1),
                None,
            ]
        )
    wb.save(path)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="1 000 rows")
    ap.add_argument("--rows", type=int, default=None)
    ap.add_argument("--db", default=None)
    args = ap.parse_args()
    n = args.rows or (1000 if args.quick else 10_000)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{tmp}/bench.db"
        engine = make_engine(url)
        upgrade_engine(engine)
        with write_session(engine) as s:
            add_employer(session=s, name="基准测试公司")
            add_project(session=s, name="基准项目")
        bad, good = Path(tmp) / "bad.xlsx", Path(tmp) / "good.xlsx"
        write_xlsx(bad, n, bad_row=n - 2)
        write_xlsx(good, n)
        log(f"{n} rows written to XLSX; importing into {engine.url.get_backend_name()}")
        t0 = time.perf_counter()
        try:
            import_workers(engine, bad)
            raise SystemExit("the bad file was accepted")
        except ImportRejected as exc:
            assert len(exc.report.errors) == 1
        reject_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        report = import_workers(engine, good)
        import_s = time.perf_counter() - t0
        assert report.workers_created == n
        engine.dispose()
    log(f"rejected in {reject_s:.2f} s, imported in {import_s:.2f} s")
    print(
        json.dumps(
            {
                "rows": n,
                "reject_s": round(reject_s, 3),
                "import_s": round(import_s, 3),
                "rows_per_s": round(n / import_s),
                "target_s": TARGET_S,
                "ok": import_s * 10_000 / n <= TARGET_S,
            }
        )
    )


if __name__ == "__main__":
    main()
