"""``kiosk seed-demo``: fill a database with deterministic synthetic demo data (store/people/seed.py)."""

from __future__ import annotations

import argparse

from kiosk.cli.common import add_store_args, db_url, print_json, progress

ORDER = 80


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    # argparse registration, the shape every command shares (its own words); --db/--config: add_store_args
    p = sub.add_parser(
        "seed-demo",
        help="生成演示数据 / fill a database with synthetic demo data",
        description="Synthetic workers (valid ID checksums), employers, projects, officers and health "
        "institutions, deterministic for a seed; a documented share of workers fails each sign-in rule. "
        "Prints one JSON summary. The database is migrated first when it has no schema.",
    )
    add_store_args(p)
    p.add_argument(
        "--workers", type=int, default=300, metavar="N", help="工人数 / how many workers (default 300)"
    )
    p.add_argument(
        "--projects", type=int, default=2, metavar="M", help="项目数 / how many projects (default 2)"
    )
    p.add_argument(
        "--seed",
        type=int,
        default=1,
        metavar="S",
        help="随机种子：同一种子生成相同数据 / random seed: the same seed, the same data (default 1)",
    )
    p.add_argument(
        "--examples",
        type=int,
        default=5,
        metavar="K",
        help="每类示例工人数 / example worker ids per kind (default 5)",
    )
    p.add_argument(
        "--json", action="store_true", help="不显示进度条 / no progress bar (the summary is JSON anyway)"
    )
    p.set_defaults(func=cmd_seed)


def cmd_seed(args: argparse.Namespace) -> int:
    from store.db.engine import make_engine
    from store.db.migrate import upgrade_engine
    from store.errors import StoreError
    from store.people.seed import seed_demo

    if args.workers < 1 or args.projects < 1:
        raise StoreError("工人数和项目数至少为 1", "--workers and --projects must be at least 1")
    from sqlalchemy.exc import IntegrityError

    url = db_url(args, make_folder=True)
    engine = make_engine(url)
    try:
        upgrade_engine(engine)
        with progress(False if args.json else None) as prog:
            task = prog.add_task("生成演示数据 / seeding", total=args.workers) if prog else None

            def tick(done: int) -> None:
                if prog is not None and task is not None:
                    prog.update(task, completed=done)

            try:
                summary = seed_demo(
                    engine,
                    workers=args.workers,
                    projects=args.projects,
                    seed=args.seed,
                    examples=args.examples,
                    on_progress=tick,
                )
            except IntegrityError as exc:
                raise StoreError(
                    "该数据库中已有演示数据（名称重复），未写入任何数据：请用一个新的数据库文件",
                    "The database already holds demo data (a name is taken): nothing was written; use a new "
                    "database file",
                ) from exc
    finally:
        engine.dispose()
    print_json(summary)
    return 0
