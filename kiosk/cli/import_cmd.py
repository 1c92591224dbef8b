"""``kiosk import workers FILE [--dry-run] [--update]`` and ``kiosk import template --out FILE.xlsx``.

All or nothing (store/people/imports.py): a file with any bad row writes nothing and prints every problem as
row, column and reason in Chinese and English (exit status 2).
"""

from __future__ import annotations

import argparse
import sys

from kiosk.cli.common import add_store_args, db_url, print_json, progress

ORDER = 60


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("import", help="从表格导入工人 / import workers from a spreadsheet")
    isub = p.add_subparsers(dest="import_command", metavar="ACTION", required=True)
    w = isub.add_parser(
        "workers",
        help="导入工人及聘用信息 / import workers and their employment (XLSX or CSV)",
        description="Check every row first; any bad row (ID checksum, dates, a duplicate in the file, an "
        "unknown employer or project, an ID number already enrolled without --update) is reported with its "
        "row, column and reason, and nothing is written. `kiosk import template` writes the columns.",
    )
    w.add_argument("file", metavar="FILE", help="FILE.xlsx 或 FILE.csv（UTF-8）")
    add_store_args(w, help_="数据库地址 / database URL (default: the config's shared database)")
    w.add_argument("--dry-run", action="store_true", help="只检查，不写入 / check only, write nothing")
    w.add_argument("--update", action="store_true", help="更新已登记的工人 / update workers already enrolled")
    w.add_argument("--json", action="store_true", help="输出 JSON 报告 / print the report as JSON")
    w.set_defaults(func=cmd_workers)
    t = isub.add_parser("template", help="生成导入模板 / write the import template (XLSX)")
    t.add_argument("--out", required=True, metavar="FILE.xlsx", help="模板文件 / the template file to write")
    t.set_defaults(func=cmd_template)


def cmd_workers(args: argparse.Namespace) -> int:
    from kiosk.cli.common import store_at
    from store.db.urls import redact
    from store.people.imports import ImportRejected, import_workers

    url = db_url(args, shared=True)
    with store_at(url) as engine, progress(False if args.json else None) as prog:
        task = prog.add_task("检查并导入 / checking", total=None) if prog else None

        def tick(done: int, total: int) -> None:
            if prog is not None and task is not None:
                prog.update(task, completed=done, total=total)

        try:
            report = import_workers(
                engine, args.file, update=args.update, dry_run=args.dry_run, on_progress=tick
            )
        except ImportRejected as exc:
            if args.json:
                print_json({"db": redact(url), **exc.report.as_dict()})
            else:
                for e in exc.report.errors:
                    print(e.line(), file=sys.stderr)
                print(exc.both(), file=sys.stderr)
            return 2
    if not args.json:
        for warn in report.warnings:
            print(warn.line(), file=sys.stderr)
    print_json({"db": redact(url), **report.as_dict()})
    return 0


def cmd_template(args: argparse.Namespace) -> int:
    from store.people.imports import COLUMNS, write_template

    out = write_template(args.out)
    print_json(
        {
            "template": str(out),
            "columns": [{"header": c.header, "key": c.key, "required": c.required} for c in COLUMNS],
        }
    )
    return 0
