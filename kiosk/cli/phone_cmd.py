"""``kiosk phone …``: the worker's phone, stood in for by the command line.

- ``kiosk phone confirm --worker-code TOKEN --employment ID --db URL``: 聘用信息确认. The worker's
  personal code proves who he is; the employment must be his; its confirmation time is recorded (and
  audited). Issue 10.
- ``kiosk phone signin``: way A (the worker's phone scans the officer's code). Issue 8.
- ``kiosk phone link|bindings|revoke``: activation links binding a real phone to a person (kiosk serve).

How to add a subcommand here (for the way-A engineer and anyone after): write a ``_register_<name>(psub)``
function that calls ``psub.add_parser("<name>", ...)``, adds its options and ``set_defaults(func=...)``,
and call it from ``register`` below (one line). Keep heavy imports inside the command function.
"""

from __future__ import annotations

import argparse

from kiosk.cli.common import add_store_args, db_url, id_arg, print_json
from kiosk.cli.phone_link import register_link
from kiosk.cli.phone_signin import register_signin

ORDER = 40


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    # argparse registration, the shape every command shares (its own words); --db/--config: add_store_args
    p = sub.add_parser(
        "phone", help="工人手机（命令行代替） / the worker's phone, stood in for by the command line"
    )
    psub = p.add_subparsers(dest="phone_command", metavar="ACTION", required=True)
    _register_confirm(psub)
    register_signin(psub)  # way A (issue 8): kiosk/cli/phone_signin.py
    register_link(psub)  # activation links and bindings (issue 13): kiosk/cli/phone_link.py


def _register_confirm(psub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    c = psub.add_parser(
        "confirm",
        help="工人确认聘用信息 / the worker confirms his employment (聘用信息确认)",
        description="Verify the worker's personal code, check that the employment is his, and record "
        "its confirmation time. Prints one JSON object.",
    )
    c.add_argument(
        "--worker-code", required=True, metavar="TOKEN", help="工人的个人建设码 / the worker's personal code"
    )
    c.add_argument(
        "--employment", required=True, metavar="ID", help="聘用记录编号 / the employment id (UUID)"
    )
    add_store_args(c)
    c.set_defaults(func=cmd_confirm)


def cmd_confirm(args: argparse.Namespace) -> int:
    import uuid

    from kiosk.cli.common import config_of, store_at
    from kiosk.wiring import verifier_for
    from store.codes.tokens import CodeError
    from store.db.engine import write_session
    from store.db.urls import redact
    from store.errors import StoreError
    from store.people.enroll import confirm_employment_of_worker
    from store.reasons import Role

    employment_id = id_arg(
        args.employment, "employment", "聘用记录编号格式错误", "The employment id is not a UUID"
    )
    cfg = config_of(args)
    url = db_url(args, shared=True)
    with store_at(url) as engine:
        try:
            ident = verifier_for(cfg, engine).verify(args.worker_code.strip(), role=Role.WORKER)
        except CodeError as exc:
            raise StoreError(exc.reason.zh, exc.reason.en) from exc
        worker_id = uuid.UUID(str(ident.subject))
        with write_session(engine) as s:
            emp = confirm_employment_of_worker(session=s, employment_id=employment_id, worker_id=worker_id)
            out = {
                "db": redact(url),
                "employment": str(emp.id),
                "worker": str(worker_id),
                "confirmed_at": emp.confirmed_at.isoformat() if emp.confirmed_at else None,
            }
    print_json(out)
    return 0
