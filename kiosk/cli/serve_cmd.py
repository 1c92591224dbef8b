"""``kiosk serve``: the workers' phone service over the shared database (see kiosk/serve/).

    kiosk serve [--db SHARED_URL] [--host H] [--port P] [--workers N] [--certfile F --keyfile F]
                [--base-url URL] [--config FILE]

Refuses to start (exit 2, zh/en) without ``[serve] issuer_key``, with an officer-only key, or with a key
the shared database does not trust.
"""

from __future__ import annotations

import argparse

from kiosk.cli.common import add_config_arg, add_db_arg, config_of, db_url

ORDER = 45


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    # argparse registration, the shape every command shares (its own words); --db/--config: add_store_args
    p = sub.add_parser(
        "serve",
        help="工人手机服务（个人建设码、方式一签到） / the workers' phone service",
        description="Serve the workers' phone pages and JSON API (personal codes, way A) over the shared "
        "database. Production: behind a TLS reverse proxy (see the README).",
    )
    add_db_arg(p, help_="共享数据库地址 / the shared database URL (default: the config's shared database)")
    p.add_argument("--host", help="监听地址 / address to listen on ([serve] host, default 127.0.0.1)")
    p.add_argument("--port", type=int, help="端口 / port ([serve] port, default 8000; 0 = any free port)")
    p.add_argument("--workers", type=int, help="服务进程数 / server processes ([serve] workers, default 1)")
    p.add_argument("--certfile", help="TLS 证书（PEM） / TLS certificate for a site without a proxy")
    p.add_argument("--keyfile", help="TLS 私钥（PEM） / TLS private key")
    p.add_argument("--base-url", help="激活链接中的地址 / the address written into activation links")
    p.add_argument(
        "--issuer-key", help="工人码签发私钥 / the private key that signs workers' codes ([serve] issuer_key)"
    )
    add_config_arg(p)
    p.set_defaults(func=cmd_serve)


def overrides_of(args: argparse.Namespace) -> dict[str, object]:
    out: dict[str, object] = {}
    for name in ("host", "port", "workers", "certfile", "keyfile", "base_url", "issuer_key"):
        value = getattr(args, name, None)
        if value is not None:
            out[name] = value
    return out


def cmd_serve(args: argparse.Namespace) -> int:
    from kiosk.config import ConfigError, ServeSettings
    from kiosk.serve.run import free_port, run

    cfg = config_of(args)
    overrides = overrides_of(args)
    if overrides.get("port") == 0:
        overrides["port"] = free_port(str(overrides.get("host") or cfg.serve.host))
    try:
        serve = ServeSettings.model_validate({**cfg.serve.model_dump(), **overrides})
    except ValueError as exc:
        raise ConfigError(f"kiosk serve 参数有误：{exc}", f"Bad kiosk serve option: {exc}") from exc
    if bool(serve.certfile) != bool(serve.keyfile):
        raise ConfigError("--certfile 与 --keyfile 须同时给出", "--certfile and --keyfile go together")
    cfg = cfg.model_copy(update={"serve": serve})
    run(cfg, db_url(args, shared=True), config_path=getattr(args, "config", None), overrides=overrides)
    return 0
