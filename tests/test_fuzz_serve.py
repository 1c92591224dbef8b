"""Fuzz: 10 000 random and hostile requests to the phone service (``kiosk serve``), in process.

Every endpoint — the JSON API (``/api/*``) and the form routes (``/``, ``/code``, ``/signin``, ``/a/{token}``,
``/lang/{lang}``, ``/static``) — gets binary bodies, 1 MB bodies (with a length and chunked), unicode controls,
near-valid officer's codes and activation links with one character changed, SQL-looking text, malformed JSON,
wrong types, hostile positions (NaN, infinities, huge numbers, strings) and oversize or non-image photo
uploads; most from a bound worker's phone with a valid CSRF token (so the input reaches the handler), the rest
from a bound officer's phone, with no cookie at all, with a forged device cookie, or with a wrong CSRF token.

Then: no answer is a 5xx, every refusal says why in Chinese and English, nothing is accepted (no
attendance, no binding, the spare activation link still unused), and nothing is written but refused sign-in
attempts and the replay guard's nonce of each (every other table row for row as before). A genuine way-A
request afterwards still signs in. The counts are printed (``-s`` shows them).

The rate limits (``[serve] *_per_min_*``) are raised in this test's config: with the defaults (6 sign-ins a
minute per phone) nearly every fuzz input would stop at the 429 before reaching a handler.

The 10 000 come from a seeded ``random.Random`` like ``tests/test_fuzz_headless.py``: a fixed number of each
named kind, counted per kind, in one pass that fits the time budget. hypothesis explores the position fields
on top (``test_any_json_in_the_position_fields_is_a_refusal_or_an_attempt``), where shrinking names the
value that breaks. Below them, one test per defect the fuzz found.
"""

from __future__ import annotations

import hashlib
import io
import json
import random
import re
import struct
import uuid
import zlib
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.engine import Engine
from support import hostile
from support.serve_world import ServeWorld, build_serve_world, csrf_of
from support.way_a_world import FAR, NEAR

from kiosk.qr_terminal import qr_image
from kiosk.serve.app import create_app
from kiosk.serve.security import CSRF_COOKIE, DEVICE_COOKIE
from store.codes.keys import IssuerPrivateKey
from store.codes.tokens import issue_code
from store.db.engine import session
from store.db.models import SQLModel
from store.people import enroll
from store.people.phone import create_link, peek_link, revoke_person
from store.reasons import Role
from store.timeutil import utcnow

N = 10_000
N_POSTGRES = 2_000
MB = 1 << 20
pytestmark = pytest.mark.timeout(600)

SQLISH = [
    *hostile.SQLISH,
    "{{7*7}}",
    "../../../../etc/passwd",
    "'||pg_sleep(5)--",
    "admin'--",
]
CONTROLS = [
    "\u202e",
    "\u200b",
    "\ufeff",
    "\x1b[2J",
    "\x1b]0;pwn\x07",
    "\x00",
    "\x7f",
    "\u2028",
    "\r\n",
    "\t",
    "\ud800",
    "\U0010ffff",
    "\x85",
    "\u0301" * 30,
]
POSITIONS: list[Any] = [
    float("nan"),
    float("inf"),
    float("-inf"),
    1e309,
    -1e309,
    1e308,
    -1e308,
    90.0000001,
    -90.5,
    180.5,
    -181,
    1e-320,
    -0.0,
    0,
    10**30,
    10**400,
    -(10**400),
    "NaN",
    "Infinity",
    "-inf",
    "1e999",
    "north",
    "",
    " ",
    "31,23",
    "0x1F",
    None,
    True,
    False,
    [],
    {},
    [31.2],
    {"lat": 31.2},
    "31.2310\x00",
]
ACCURACIES: list[Any] = [
    float("nan"),
    float("inf"),
    -1,
    -0.0001,
    1e308,
    10**400,
    1e6,
    "nan",
    "x",
    [],
    {},
    True,
]
CRS: list[Any] = ["GCJ02", "wgs-84", "bd09", "", "wgs84\x00", "gcj02 ", 84, None, ["wgs84"], "\u202ewgs84"]
POSTS = ["/api/signin", "/api/place", "/api/signin/photo", "/a/{link}"]
GETS = [
    "/",
    "/code",
    "/signin",
    "/api/me",
    "/api/code",
    "/api/csrf",
    "/a/{link}",
    "/lang/en",
    "/api/openapi.json",
    "/static/app.css",
]
CONTENT_TYPES = [
    "application/json",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=xyz",
    "multipart/form-data",
    "application/octet-stream",
    "text/plain",
    "",
    "application/json; charset=gbk",
    "image/png",
]
NOT_IN_HEADERS = {ord("\r"): None, ord("\n"): None, ord("\x00"): None}
WHO = ["worker"] * 12 + ["officer"] * 2 + ["lonely", "revoked", "anon", "forged", "nocsrf", "worker_noheader"]
BOUND = (
    "worker",
    "officer",
    "lonely",
    "revoked",
)  # a phone bound (the last one revoked since), a valid CSRF token


@dataclass
class Probe:
    kind: str
    method: str
    path: str
    who: str
    content: bytes | Iterator[bytes] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    data: dict[str, str] | None = None
    files: dict[str, tuple[str, bytes, str]] | list[tuple[str, tuple[str, bytes, str]]] | None = None
    params: dict[str, str] | None = None


@dataclass
class Genuine:
    officer: list[str]  # real officer's codes (never sent with a position inside the range)
    worker: list[str]  # real workers' codes (the wrong role for way A)
    alien: str  # a well-formed officer's code of a key nobody trusts
    link: str  # a real, unused activation link's token (someone else's): only near-valid copies are sent
    device: str  # the worker's real device credential: only near-valid copies are sent
    photo_near: list[bytes]  # PNGs of near-valid officer's codes
    photo_real: bytes  # a PNG of a real officer's code (sent only with hostile or outside positions)
    photo_two: bytes  # two codes in one photo
    photo_blank: bytes
    megabytes: list[bytes]  # 1 MB buffers, reused


def utf8(text: str) -> str:
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def one_char_changed(rng: random.Random, text: str) -> str:
    chars = list(text)
    at = rng.randrange(len(chars))
    chars[at] = rng.choice([c for c in "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789abcdefghijk-_.~" if c != chars[at]])
    return "".join(chars)


def png(image: Any) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def png_header(width: int, height: int) -> bytes:
    """A PNG that declares a huge size (a decompression bomb's header) with a few bytes of data."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def not_images(rng: random.Random, g: Genuine) -> list[tuple[str, bytes, str]]:
    """(file name, bytes, content type) of uploads that are not a readable photo of one officer's code."""
    from PIL import Image

    tiny = png(Image.new("RGB", (1, 1)))
    return [
        ("a.png", b"not an image", "image/png"),
        ("a.jpg", rng.randbytes(rng.randrange(1, 4000)), "image/jpeg"),
        ("a.png", g.photo_near[0][: rng.randrange(8, 200)], "image/png"),  # truncated PNG
        ("bomb.png", png_header(100_000, 100_000), "image/png"),
        ("wide.png", png_header(2**31 - 1, 1), "image/png"),
        ("zero.png", png_header(0, 0), "image/png"),
        ("a.gif", b"GIF89a" + rng.randbytes(40), "image/gif"),
        (
            "a.bmp",
            b"BM"
            + struct.pack("<IHHI", 54, 0, 0, 54)
            + struct.pack("<IiiHH", 40, 60000, -60000, 1, 24)
            + bytes(24),
            "image/bmp",
        ),
        (
            "a.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
            "image/svg+xml",
        ),
        ("a.tif", b"II*\x00" + rng.randbytes(60), "image/tiff"),
        ("a.webp", b"RIFF\x10\x00\x00\x00WEBPVP8 " + rng.randbytes(30), "image/webp"),
        ("a.zip", b"PK\x03\x04" + rng.randbytes(60), "application/zip"),
        ("tiny.png", tiny, "image/png"),
        ("blank.png", g.photo_blank, "image/png"),
        ("two.png", g.photo_two, "image/png"),
        ("\u202egnp.exe", g.photo_near[1], "application/x-msdownload"),
        ("../../../etc/passwd", rng.randbytes(100), "text/plain"),
        ("empty.png", b"", "image/png"),
    ]


def probes(rng: random.Random, g: Genuine, n: int = N) -> list[Probe]:
    out: list[Probe] = []
    bad_photos = not_images(rng, g)

    def who() -> str:
        return rng.choice(WHO)

    def nonce() -> str:
        return uuid.uuid4().hex

    def link() -> str:
        return one_char_changed(rng, g.link)

    def post(kind: str, path: str, **kw: Any) -> Probe:
        return Probe(kind, "POST", path.replace("{link}", link()), kw.pop("who", None) or who(), **kw)

    def as_json(body: Any) -> bytes:
        return json.dumps(body, ensure_ascii=rng.random() < 0.5).encode("utf-8", "surrogatepass")

    def signin_body(**over: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "officer_code": one_char_changed(rng, rng.choice(g.officer)),
            "latitude": NEAR[0],
            "longitude": NEAR[1],
            "accuracy": 12.0,
            "nonce": nonce(),
        }
        body.update(over)
        return body

    def photo_form(**over: Any) -> dict[str, str]:
        form = {"latitude": str(NEAR[0]), "longitude": str(NEAR[1]), "accuracy": "12", "nonce": nonce()}
        form.update(over)
        return form

    for i in range(n):
        kind = i % 10
        if kind == 0:  # binary: random bytes as the body of every POST route, under every content type
            ct = rng.choice(CONTENT_TYPES)
            out.append(
                post(
                    "binary",
                    rng.choice(POSTS),
                    content=rng.randbytes(rng.randrange(0, 3000)),
                    headers={"Content-Type": ct} if ct else {},
                )
            )
        elif kind == 1 and i % 50 == 1:  # 1 MB bodies: with a length, chunked, as a field, as a photo (200)
            big = rng.choice(g.megabytes)
            shape = (i // 50) % 5
            if shape == 0:
                out.append(
                    post("1mb", rng.choice(POSTS), content=big, headers={"Content-Type": "application/json"})
                )
            elif shape == 1:  # no Content-Length: refused as soon as the stream passes the limit
                out.append(
                    post(
                        "1mb",
                        rng.choice(POSTS),
                        content=iter([big[: MB // 2], big[MB // 2 :]]),
                        headers={"Content-Type": "application/json"},
                    )
                )
            elif shape == 2:
                out.append(
                    post(
                        "1mb",
                        "/api/signin/photo",
                        data=photo_form(),
                        files={"photo": ("big.jpg", big, "image/jpeg")},
                    )
                )
            elif shape == 3:
                out.append(post("1mb", "/api/signin/photo", data=photo_form(nonce="n" * MB)))
            else:
                out.append(post("1mb", "/a/{link}", data={"csrf_token": "x", "pad": big.hex()[:MB]}))
        elif kind in (1, 2):  # near-valid officer's codes (one character changed), inside the range
            if i % 20 == 2:
                out.append(
                    post(
                        "near_code",
                        "/api/signin/photo",
                        data=photo_form(),
                        files={"photo": ("code.png", rng.choice(g.photo_near), "image/png")},
                    )
                )
            else:
                body = signin_body()
                if i % 61 == 2:  # a request replayed (its nonce seen before): 409, nothing written
                    body["nonce"] = "replayed-nonce-18"
                if i % 7 == 0:
                    body["officer_code"] = one_char_changed(rng, rng.choice(g.worker))
                elif i % 7 == 1:
                    body["officer_code"] = g.alien if i % 2 else one_char_changed(rng, g.alien)
                out.append(
                    post(
                        "near_code",
                        "/api/signin",
                        content=as_json(body),
                        headers={"Content-Type": "application/json"},
                    )
                )
        elif kind == 3:  # unicode controls in every string: fields, path, query, cookies, headers
            ctl = rng.choice(CONTROLS) + rng.choice(CONTROLS)
            # One request a branch, spelled out: where each hostile value goes is the point of the branch.
            where = rng.randrange(6)
            if where == 0:
                body = signin_body(officer_code=ctl + rng.choice(g.officer)[:40] + ctl)
                out.append(
                    post(
                        "controls",
                        "/api/signin",
                        content=as_json(body),
                        headers={"Content-Type": "application/json"},
                    )
                )
            elif where == 1:
                body = signin_body(nonce=ctl + nonce(), crs=rng.choice(["wgs84", "gcj02"]) + ctl)
                out.append(
                    post(
                        "controls",
                        rng.choice(["/api/signin", "/api/place"]),
                        content=as_json(body),
                        headers={"Content-Type": "application/json"},
                    )
                )
            elif where == 2:
                out.append(
                    Probe(
                        "controls",
                        "GET",
                        rng.choice(GETS).replace("{link}", ctl + link()),
                        who(),
                        params={"project": ctl, "lang": ctl, "next": "/" + ctl},
                    )
                )
            elif where == 3:
                out.append(
                    Probe(
                        "controls",
                        "GET",
                        "/lang/" + rng.choice(["en", "zh", ctl]),
                        who(),
                        params={"next": rng.choice(["/", "//evil.example", "/\\evil", "/x"]) + ctl},
                    )
                )
            elif where == 4:
                val = ctl.encode("utf-8", "surrogatepass").decode("latin-1")
                out.append(
                    Probe(
                        "controls",
                        rng.choice(["GET", "POST"]),
                        rng.choice(["/", "/api/me", "/api/signin"]),
                        "raw",
                        headers={
                            "Cookie": f"{DEVICE_COOKIE}={val}; {CSRF_COOKIE}={val}; kiosk_lang={val}",
                            "X-CSRF-Token": val,
                            "Accept-Language": val,
                        },
                    )
                )
            else:
                out.append(
                    post(
                        "controls",
                        "/api/signin/photo",
                        data=photo_form(latitude=ctl + "31.23", nonce=ctl, crs=ctl),
                        files={"photo": (ctl + ".png", rng.choice(g.photo_near), "image/png")},
                    )
                )
        elif kind == 4:  # SQL-looking and other injection text everywhere a string goes
            sql = rng.choice(SQLISH)
            where = rng.randrange(5)
            if where == 0:
                body = signin_body(
                    officer_code=sql, nonce=rng.choice([nonce(), sql]), crs=rng.choice(["wgs84", sql])
                )
                out.append(
                    post(
                        "sql",
                        "/api/signin",
                        content=as_json(body),
                        headers={"Content-Type": "application/json"},
                    )
                )
            elif where == 1:
                out.append(
                    Probe(
                        "sql",
                        "GET",
                        rng.choice(["/a/", "/lang/", "/static/", "/api/", "/"]) + sql,
                        who(),
                        params={"project": sql, "next": sql, "lang": sql},
                    )
                )
            elif where == 2:
                out.append(post("sql", "/a/" + sql.replace("/", "%2F"), data={"csrf_token": sql}))
            elif where == 3:
                out.append(
                    post(
                        "sql",
                        "/api/signin/photo",
                        data=photo_form(latitude=sql, nonce=sql, crs=sql),
                        files={"photo": (sql, rng.choice(g.photo_near), "image/png")},
                    )
                )
            else:
                out.append(
                    Probe(
                        "sql",
                        "GET",
                        "/api/code",
                        "raw",
                        params={"project": sql},
                        headers={
                            "Cookie": f"{DEVICE_COOKIE}={sql}; {CSRF_COOKIE}={sql}",
                            "Accept-Language": sql,
                        },
                    )
                )
        elif kind == 5:  # malformed JSON
            good = as_json(signin_body())
            shapes: list[bytes] = [
                good[: rng.randrange(1, len(good))],
                good + b",",
                good.replace(b'"', b"'"),
                b"{" + good,
                good.replace(b":", b"=", 1),
                b"\xef\xbb\xbf" + good,
                b"",
                b"null",
                b"[]",
                b'"text"',
                b"42",
                b"NaN",
                b'{"officer_code": "\\ud800", "latitude": 31.2, "longitude": 121.4, "nonce": "abcdefgh"}',
                b'{"latitude": 1' + b"0" * 5000 + b"}",
                b"[" * 30_000 + b"]" * 30_000,
                b'{"a":' * 10_000 + b"1" + b"}" * 10_000,
                good.replace(b"{", b'{"latitude": 0, "latitude": 0, ', 1),
                b'{"officer_code": "\xff\xfe"}',
                b"\x00" + good,
                good.decode().encode("utf-16"),
                b'{"__proto__": {"admin": true}}',
            ]
            path = rng.choice(["/api/signin", "/api/place"])
            out.append(
                post(
                    "malformed_json",
                    path,
                    content=rng.choice(shapes),
                    headers={
                        "Content-Type": rng.choice(
                            ["application/json", "application/json; charset=utf-8", ""]
                        )
                    },
                )
            )
        elif kind == 6:  # wrong types in every field, and bodies that are not objects
            wrong: list[Any] = [None, True, 0, -1, 1.5, "", "x" * 3000, [], [1, 2], {}, {"$gt": ""}, 10**40]
            fields = signin_body()
            for name in rng.sample(sorted(fields), rng.randrange(1, 4)):
                fields[name] = rng.choice(wrong)
            sent: Any = rng.choice([[fields], "body", 1, None, [], True]) if i % 13 == 0 else fields
            out.append(
                post(
                    "wrong_types",
                    rng.choice(["/api/signin", "/api/place"]),
                    content=as_json(sent),
                    headers={"Content-Type": "application/json"},
                )
            )
        elif (
            kind == 7
        ):  # hostile positions; with a real officer's code only where the position is not a place
            lat, lon = rng.choice(POSITIONS), rng.choice([*POSITIONS, NEAR[1]])
            acc = rng.choice([*ACCURACIES, 12.0, None])
            crs = rng.choice([*CRS, "wgs84"])
            body = {
                "officer_code": rng.choice(g.officer),
                "latitude": lat,
                "longitude": lon,
                "accuracy": acc,
                "crs": crs,
                "nonce": nonce(),
            }
            if rng.random() < 0.3:  # a real code, a place outside the range, a hostile accuracy or crs
                body.update(latitude=FAR[0], longitude=FAR[1])
            which = rng.randrange(3)
            if which == 2:
                fields = {k: str(v) for k, v in body.items() if k != "officer_code"}
                out.append(
                    post(
                        "position",
                        "/api/signin/photo",
                        data=fields,
                        files={"photo": ("real.png", g.photo_real, "image/png")},
                    )
                )
            else:
                out.append(
                    post(
                        "position",
                        "/api/signin" if which == 0 else "/api/place",
                        content=json.dumps(body).encode(),
                        headers={"Content-Type": "application/json"},
                    )
                )
        elif kind == 8:  # photos: oversize (20 of 9 MB), not an image, lying types, two files, no file
            shape = rng.randrange(6)
            if i % 500 == 8:
                out.append(
                    post(
                        "photo",
                        "/api/signin/photo",
                        data=photo_form(),
                        files={"photo": ("huge.jpg", b"\xff\xd8\xff" + g.megabytes[0] * 9, "image/jpeg")},
                    )
                )
            elif shape <= 2:
                out.append(
                    post(
                        "photo",
                        "/api/signin/photo",
                        data=photo_form(),
                        files={"photo": rng.choice(bad_photos)},
                    )
                )
            elif shape == 3:
                out.append(
                    post(
                        "photo",
                        "/api/signin/photo",
                        data=photo_form(),
                        files=[
                            ("photo", rng.choice(bad_photos)),
                            ("photo", ("b.png", g.photo_near[0], "image/png")),
                        ],
                    )
                )
            elif shape == 4:
                out.append(post("photo", "/api/signin/photo", data=photo_form(photo="not a file")))
            else:
                out.append(
                    post(
                        "photo",
                        "/api/signin/photo",
                        data=photo_form(),
                        files={
                            rng.choice(["image", "file", "photo[]"]): ("a.png", g.photo_near[0], "image/png")
                        },
                    )
                )
        else:  # the form routes and everything else: links, the language switch, methods, unknown paths, headers
            shape = rng.randrange(9)
            if shape == 0:
                out.append(Probe("form_routes", "GET", f"/a/{link()}", who()))
            elif shape == 1:
                out.append(post("form_routes", "/a/{link}", data={"csrf_token": "x"}))
            elif shape == 2:
                out.append(
                    Probe(
                        "form_routes",
                        "GET",
                        rng.choice(["/lang/en", "/lang/zh", "/lang/fr", "/lang/"]),
                        who(),
                        params={
                            "next": rng.choice(
                                [
                                    "https://evil.example/",
                                    "//evil.example",
                                    "/\\evil",
                                    "javascript:alert(1)",
                                    "/%0d%0aSet-Cookie:x=1",
                                    "/code",
                                ]
                            )
                        },
                    )
                )
            elif shape == 3:
                out.append(
                    Probe(
                        "form_routes",
                        rng.choice(["PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"]),
                        rng.choice(POSTS + GETS).replace("{link}", link()),
                        who(),
                    )
                )
            elif shape == 4:
                out.append(
                    Probe(
                        "form_routes",
                        "GET",
                        rng.choice(["/code", "/api/code"]),
                        "officer",
                        params={
                            "project": rng.choice([str(uuid.uuid4()), "", "x" * 500, rng.choice(SQLISH)])
                        },
                    )
                )
            elif shape == 5:
                out.append(
                    Probe(
                        "form_routes",
                        "GET",
                        rng.choice(
                            [
                                "/static/../../kiosk/config.py",
                                "/static/%2e%2e/app.py",
                                "/static/",
                                "/nope",
                                "/api/nope",
                                "/a/",
                                "/a/x/y",
                                "/" + "a" * 5000,
                            ]
                        ),
                        who(),
                    )
                )
            elif shape == 6:  # a near-valid device credential and CSRF token
                bad_dev = one_char_changed(rng, g.device)
                out.append(
                    Probe(
                        "form_routes",
                        rng.choice(["GET", "POST"]),
                        rng.choice(["/", "/api/me", "/api/signin", "/api/place"]),
                        "raw",
                        headers={
                            "Cookie": f"{DEVICE_COOKIE}={bad_dev}; {CSRF_COOKIE}=abcdefgh",
                            "X-CSRF-Token": "abcdefgh",
                            "Content-Type": "application/json",
                        },
                        content=as_json(signin_body()),
                    )
                )
            elif shape == 7:  # a foreign Origin, odd Accept
                out.append(
                    post(
                        "form_routes",
                        rng.choice(["/api/signin", "/api/place"]),
                        content=as_json(signin_body()),
                        headers={
                            "Content-Type": "application/json",
                            "Origin": rng.choice(
                                ["https://evil.example", "null", "http://testserver.evil", "\u202e"]
                            )
                            .encode("utf-8")
                            .decode("latin-1"),
                        },
                    )
                )
            else:
                out.append(
                    Probe(
                        "form_routes",
                        "GET",
                        rng.choice(GETS).replace("{link}", link()),
                        who(),
                        headers={"Accept": rng.choice(["application/json", "*/*", "text/html", ""])},
                    )
                )
    return out


def snapshot(engine: Engine) -> dict[str, tuple[int, str]]:
    """Each table's row count and a digest of all its rows."""
    out = {}
    with engine.connect() as conn:
        for t in SQLModel.metadata.sorted_tables:
            rows = sorted(repr(tuple(r)) for r in conn.execute(select(t)).all())
            out[t.name] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
    return out


def attempts_outcomes(engine: Engine) -> Counter[str]:
    from store.db.models import SignInAttempt

    with engine.connect() as conn:
        return Counter(str(o) for (o,) in conn.execute(select(SignInAttempt.__table__.c.outcome)).all())  # type: ignore[attr-defined]


def genuine(sw: ServeWorld, rng: random.Random) -> Genuine:
    w = sw.world
    now = utcnow()
    officer = [
        issue_code(w.key, role=Role.OFFICER, subject=w.officer, project=w.project, at=now) for _ in range(6)
    ]
    worker = [issue_code(w.key, role=Role.WORKER, subject=w.worker, at=now) for _ in range(3)]
    alien = issue_code(
        IssuerPrivateKey.generate(), role=Role.OFFICER, subject=w.officer, project=w.project, at=now
    )
    spare = create_link(w.engine, officer_id=w.stranger).token  # someone else's link, never used here
    near = [png(qr_image(one_char_changed(rng, officer[k % len(officer)]), scale=4)) for k in range(4)]
    real = png(qr_image(officer[0], scale=4))
    from PIL import Image

    a, b = qr_image(officer[1], scale=3), qr_image(worker[0], scale=3)
    two = Image.new("RGB", (a.width + b.width + 40, max(a.height, b.height) + 20), "white")
    two.paste(a, (10, 10))
    two.paste(b, (a.width + 30, 10))
    blank = png(Image.fromarray(np.full((200, 200, 3), 255, np.uint8)))
    megabytes = [rng.randbytes(MB), b"A" * MB, ("签" * (MB // 3)).encode()[:MB]]
    return Genuine(officer, worker, alien, spare, "", near, real, png(two), blank, megabytes)


def test_ten_thousand_hostile_requests_accept_nothing_and_write_only_attempts(
    any_url: str, tmp_path: Path
) -> None:
    """10 000 on SQLite; 2 000 of the same kinds on PostgreSQL, the service's production database (the time
    budget: the suite runs on two loaded cores)."""
    n = N if any_url.startswith("sqlite") else N_POSTGRES
    # rate limits raised so that the fuzz inputs reach the handlers (see the module docstring)
    sw = build_serve_world(
        any_url,
        tmp_path,
        activate_per_min_ip=10**5,
        signin_per_min_device=10**5,
        signin_per_min_ip=10**5,
        code_per_min_device=10**5,
    )
    rng = random.Random(18)
    g = genuine(sw, rng)
    app = create_app(sw.ctx)
    with (
        TestClient(app, base_url="http://testserver", raise_server_exceptions=False) as worker,
        TestClient(app, base_url="http://testserver", raise_server_exceptions=False) as officer,
        TestClient(app, base_url="http://testserver", raise_server_exceptions=False) as lonely,
        TestClient(app, base_url="http://testserver", raise_server_exceptions=False) as revoked,
        TestClient(app, base_url="http://testserver", raise_server_exceptions=False) as stranger,
    ):
        sw.bind(worker)
        sw.bind(officer, sw.link(officer=sw.world.officer))
        with session(sw.world.engine) as s:  # a worker employed nowhere, and one whose phone gets revoked
            nobody = enroll.add_worker(session=s, id_number="310104199001010038", name="赵六").id
            gone = enroll.add_worker(session=s, id_number="310104199001010054", name="钱七").id
            s.commit()
        sw.bind(lonely, sw.link(worker=nobody))
        sw.bind(revoked, sw.link(worker=gone))
        clients = {"worker": worker, "officer": officer, "lonely": lonely, "revoked": revoked}
        csrf = {k: csrf_of(c.get("/").text) for k, c in clients.items()}
        revoke_person(sw.world.engine, worker_id=gone)
        g.device = worker.cookies[DEVICE_COOKIE]
        forged = one_char_changed(rng, g.device)
        inputs = probes(rng, g, n)
        before = snapshot(sw.world.engine)
        by_kind: Counter[str] = Counter()
        by_who: Counter[str] = Counter()
        statuses: dict[str, Counter[int]] = defaultdict(Counter)
        crashes: list[str] = []
        unclear: list[str] = []
        accepted: list[str] = []
        answers: Counter[str] = Counter()  # every refusal, by status and message

        def send(p: Probe) -> Any:
            headers = dict(p.headers)
            client = worker
            cookies: dict[str, str] | None = None
            if p.who in (*BOUND, "nocsrf", "worker_noheader"):
                client = clients.get(p.who, worker)
                if p.method == "POST" and p.who in BOUND:
                    headers.setdefault("X-CSRF-Token", csrf[p.who])
                elif p.method == "POST" and p.who == "nocsrf":
                    headers["X-CSRF-Token"] = one_char_changed(rng, csrf["worker"])
                if p.data is not None and p.who in BOUND:
                    p.data.setdefault("csrf_token", csrf[p.who])
            else:
                client = stranger
                stranger.cookies.clear()
                if p.who == "forged":
                    cookies = {DEVICE_COOKIE: forged, CSRF_COOKIE: "forged-csrf-token"}
                    headers.setdefault("X-CSRF-Token", "forged-csrf-token")
            if cookies:
                headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
            # as a browser or uvicorn's parser lets them through: the path percent-encoded, no CR, LF or NUL
            # in a header (the HTTP parser refuses those before the service sees them)
            # in a header (the HTTP parser refuses those before the service sees them), a lone surrogate (in
            # JSON bodies it is sent as such) as U+FFFD in forms, paths and queries
            raw = {k: v.translate(NOT_IN_HEADERS).encode("latin-1", "replace") for k, v in headers.items()}
            data = {k: utf8(v) for k, v in p.data.items()} if p.data is not None else None
            params = {k: utf8(v) for k, v in p.params.items()} if p.params is not None else None
            files = p.files
            if isinstance(files, dict):
                files = {k: (utf8(n), b, t) for k, (n, b, t) in files.items()}
            return client.request(
                p.method,
                quote(utf8(p.path), safe="/%:@=&?"),
                content=p.content,
                headers=raw,
                data=data,
                files=files,
                params=params,
                follow_redirects=False,
            )

        for p in inputs:
            r = send(p)
            by_kind[p.kind] += 1
            by_who[p.who] += 1
            statuses[p.kind][r.status_code] += 1
            label = f"{p.kind}/{p.who} {p.method} {p.path[:60]!r}"
            if r.status_code >= 500:
                crashes.append(f"{label} -> {r.status_code} {r.text[:200]}")
            is_json = r.headers.get("content-type", "").startswith("application/json")
            if r.status_code >= 400 and is_json:
                body = r.json()
                answers[f"{r.status_code} {body.get('error')}: {body.get('message_en')}"] += 1
                if not (body.get("message_zh") and body.get("message_en")):
                    unclear.append(f"{label} -> {r.status_code} {body}")
            elif r.status_code >= 400 and 'id="message"' not in r.text:
                unclear.append(f"{label} -> {r.status_code} {r.text[:200]}")
            elif r.status_code >= 400:
                m = re.search(r'<p class="big">([^<]*)</p>', r.text)
                answers[f"{r.status_code} page: {m.group(1) if m else '?'}"] += 1
            if 300 <= r.status_code < 400:
                where = r.headers.get("location", "")
                if not where.startswith("/") or where.startswith("//") or "\\" in where:
                    accepted.append(f"{label} -> a redirect off the site: {where!r}")
            if "text/html" in r.headers.get("content-type", "") and "<script>alert" in r.text:
                accepted.append(f"{label} -> a script reflected into the page")
            if r.status_code == 200 and is_json and r.json().get("outcome") in ("signed_in", "already"):
                accepted.append(f"{label} -> {r.json()}")
            if DEVICE_COOKIE in r.headers.get("set-cookie", ""):
                accepted.append(f"{label} -> a device cookie")
        after = snapshot(sw.world.engine)

        assert not crashes, "\n".join(crashes[:20])
        assert not accepted, "\n".join(accepted[:20])
        assert not unclear, "\n".join(unclear[:20])
        # every refusal says what is wrong with the request (not "the service is unavailable", not "Bad input: 303")
        wrong_words = [
            a
            for a in answers
            if "unavailable" in a or "服务暂时不可用" in a or re.search(r"Bad input: \d", a)
        ]
        assert not wrong_words, wrong_words
        changed = {t: after[t][0] - before[t][0] for t in after if after[t] != before[t]}
        attempts = changed.get("signinattempt", 0)
        # nothing written but refused attempts, each with the replay guard's nonce of its request
        # (and the sync revision counter, one row, which every write advances so that kiosks fetch it;
        # and the rate limits' counts, kept in the database so that every server process shares them)
        assert set(changed) <= {"signinattempt", "phonerequest", "synccounter", "ratelimit"}, changed
        assert changed.get("synccounter", 0) == 0, changed
        assert changed.get("phonerequest", 0) == attempts, changed
        assert attempts_outcomes(sw.world.engine) == Counter({"refused": attempts})
        assert peek_link(sw.world.engine, g.link).state.value == "valid"  # the spare link: not used up

        # the service is alive: a genuine way-A request signs in
        code = issue_code(
            sw.world.key, role=Role.OFFICER, subject=sw.world.officer, project=sw.world.project, at=utcnow()
        )
        r = worker.post(
            "/api/signin",
            json={
                "officer_code": code,
                "latitude": NEAR[0],
                "longitude": NEAR[1],
                "accuracy": 10.0,
                "nonce": uuid.uuid4().hex,
            },
            headers={"X-CSRF-Token": csrf["worker"]},
        )
        assert r.status_code == 200 and r.json()["outcome"] == "signed_in", r.text
        assert len(sw.world.attendances()) == 1

    seen: Counter[int] = Counter()
    for c in statuses.values():
        seen.update(c)
    report = {
        "database": sw.world.engine.dialect.name,
        "inputs_sent": len(inputs),
        "by_kind": dict(by_kind),
        "by_sender": dict(by_who),
        "statuses": {str(k): v for k, v in sorted(seen.items())},
        "statuses_by_kind": {k: {str(s): n for s, n in sorted(v.items())} for k, v in statuses.items()},
        "refusals": dict(answers.most_common()),
        "attempts_recorded": attempts,
        "nonces_recorded": changed.get("phonerequest", 0),
        "accepted": 0,
        "written_tables": changed,
    }
    print("\nfuzz:", json.dumps(report, ensure_ascii=False))
    sw.world.engine.dispose()


# --- what the fuzz found, one test each -------------------------------------------------------------------


@pytest.fixture
def sw(sqlite_url: str, tmp_path: Path) -> ServeWorld:
    return build_serve_world(sqlite_url, tmp_path)


def bound(sw: ServeWorld) -> tuple[TestClient, str]:
    client = sw.bind(sw.client())
    return client, csrf_of(client.get("/").text)


def photo_post(client: TestClient, csrf: str, photo: bytes | None, **form: str) -> Any:
    data = {
        "latitude": str(NEAR[0]),
        "longitude": str(NEAR[1]),
        "accuracy": "12",
        "nonce": uuid.uuid4().hex,
        **form,
    }
    files = {"photo": ("p.png", photo, "image/png")} if photo is not None else None
    return client.post("/api/signin/photo", data=data, files=files, headers={"X-CSRF-Token": csrf})


def test_a_photo_smaller_than_any_qr_code_is_no_code_not_a_crash(sw: ServeWorld) -> None:
    """A 1×1 photo crashed the decoder chain (its halved copy has no pixels: cv2.error, a 500)."""
    from PIL import Image

    client, csrf = bound(sw)
    for size in [(1, 1), (3, 500), (20, 20)]:
        r = photo_post(client, csrf, png(Image.new("RGB", size, "white")))
        assert r.status_code == 400 and r.json()["error"] == "no_code", (size, r.text)
        assert "二维码" in r.json()["message_zh"] and "QR code" in r.json()["message_en"]
    assert sw.world.attempts() == []


def test_the_decoder_chain_failing_on_a_photo_is_cannot_read_it(
    sw: ServeWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cv2

    import kiosk.camera.decoders

    def broken(name: str) -> Any:
        def decode(image: Any) -> list[Any]:
            raise cv2.error("an image operation the chain cannot do")

        return decode

    monkeypatch.setattr(kiosk.camera.decoders, "make_decoder", broken)
    client, csrf = bound(sw)
    r = photo_post(client, csrf, g_blank())
    assert r.status_code == 400 and r.json()["error"] == "bad_image" and r.json()["message_en"]


def g_blank() -> bytes:
    from PIL import Image

    return png(Image.new("RGB", (200, 200), "white"))


def test_a_request_that_cannot_be_parsed_says_so_not_service_unavailable(sw: ServeWorld) -> None:
    """Malformed multipart, a number of 5 000 digits, a field over 1 MB: the framework's 400 said "The service
    is unavailable: try again shortly"; a wrong method (405) said the same."""
    client, csrf = bound(sw)
    broken = client.post(
        "/api/signin/photo",
        content=b"--xyz\r\nnot a part",
        headers={"X-CSRF-Token": csrf, "Content-Type": "multipart/form-data; boundary=xyz"},
    )
    digits = client.post(
        "/api/signin",
        content=b'{"latitude": 1' + b"0" * 5000 + b"}",
        headers={"X-CSRF-Token": csrf, "Content-Type": "application/json"},
    )
    for r in (broken, digits):
        assert r.status_code == 400 and r.json()["error"] == "bad_request", r.text
        assert r.json()["message_zh"] == "请求格式有误，无法读取，请刷新页面后重试"
        assert "could not be read" in r.json()["message_en"]
    put = client.put("/api/signin", json={}, headers={"X-CSRF-Token": csrf})
    assert (
        put.status_code == 405
        and put.json()["error"] == "method"
        and "does not allow" in put.json()["message_en"]
    )
    page = client.delete("/code")
    assert page.status_code == 405 and "此地址不支持该操作" in page.text and "服务暂时不可用" not in page.text


def test_bad_input_names_the_fields_in_words(sw: ServeWorld) -> None:
    """A JSON syntax error said "Bad input: 303" (the parser's character offset); a body that is not an object
    "Bad input: body"; a photo's bad position "Bad input" with no field."""
    client, csrf = bound(sw)
    h = {"X-CSRF-Token": csrf, "Content-Type": "application/json"}
    syntax = client.post("/api/signin", content=b'{"latitude": 31.2,, }', headers=h)
    assert syntax.status_code == 422 and syntax.json()["message_en"].startswith(
        "The request is not valid JSON"
    )
    assert "JSON" in syntax.json()["message_zh"]
    for body in (b"[]", b'"text"', b"", b"null"):
        r = client.post("/api/place", content=body, headers=h)
        assert r.status_code == 422 and "JSON object" in r.json()["message_en"], (body, r.text)
    fields = client.post(
        "/api/signin",
        json={"officer_code": 5, "latitude": "north", "longitude": 121.4, "nonce": "abcdefgh"},
        headers={"X-CSRF-Token": csrf},
    )
    assert fields.json()["message_zh"] == "输入有误：纬度、签到员建设码"
    assert fields.json()["message_en"] == "Bad input: latitude, officer_code"
    photo = photo_post(client, csrf, g_blank(), latitude="north", crs="bd09")
    assert photo.status_code == 422 and photo.json()["message_en"] == "Bad input: latitude, crs", photo.text
    assert sw.world.attempts() == []


def test_a_photo_request_with_no_photo_says_no_photo_was_received(sw: ServeWorld) -> None:
    client, csrf = bound(sw)
    r = photo_post(client, csrf, None)
    assert r.status_code == 400 and r.json()["error"] == "no_photo"
    assert "没有收到照片" in r.json()["message_zh"] and "No photo was received" in r.json()["message_en"]


def test_a_body_too_large_that_is_not_a_photo_does_not_speak_of_a_photo(sw: ServeWorld) -> None:
    client, csrf = bound(sw)
    r = client.post(
        "/api/signin",
        content=b"{" + b" " * 200_000 + b"}",
        headers={"X-CSRF-Token": csrf, "Content-Type": "application/json"},
    )
    assert r.status_code == 413 and r.json()["message_en"] == "The request is too large (at most 64 KB)"
    assert "照片" not in r.json()["message_zh"]
    huge = photo_post(client, csrf, b"\xff" * (9 * MB))
    assert huge.status_code == 413 and "照片太大" in huge.json()["message_zh"]


def test_a_bad_position_is_refused_even_for_a_worker_with_no_project(sw: ServeWorld) -> None:
    """``/api/place`` checked the position only against each project: with none, NaN was a 200."""
    from store.db.engine import session
    from store.people import enroll

    with session(sw.world.engine) as s:
        lonely = enroll.add_worker(session=s, id_number="310104199001010038", name="赵六").id
        s.commit()
    client = sw.bind(sw.client(), sw.link(worker=lonely))
    csrf = csrf_of(client.get("/").text)
    h = {"X-CSRF-Token": csrf, "Content-Type": "application/json"}
    for body in (
        {"latitude": float("nan"), "longitude": 121.4},
        {"latitude": 31.2, "longitude": 121.4, "accuracy": -1},
        {"latitude": 91, "longitude": 121.4, "crs": "gcj02"},
    ):
        r = client.post("/api/place", content=json.dumps(body).encode(), headers=h)
        assert r.status_code == 422 and r.json()["message_zh"] and r.json()["message_en"], r.text
    ok = client.post("/api/place", json={"latitude": NEAR[0], "longitude": NEAR[1]}, headers=h)
    assert ok.status_code == 200 and ok.json()["projects"] == []


@pytest.fixture
def unlimited(sqlite_url: str, tmp_path: Path) -> ServeWorld:
    """The rate limits raised, as in the fuzz above: hypothesis's examples must reach the handlers."""
    return build_serve_world(sqlite_url, tmp_path, signin_per_min_device=10**5, code_per_min_device=10**5)


JSONISH = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.text(max_size=20),
    st.none(),
    st.booleans(),
    st.lists(st.floats(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lat=JSONISH,
    lon=JSONISH,
    acc=st.one_of(JSONISH, st.floats(min_value=0, max_value=200)),
    crs=st.one_of(st.sampled_from(["wgs84", "gcj02"]), st.text(max_size=8)),
)
def test_any_json_in_the_position_fields_is_a_refusal_or_an_attempt(
    unlimited: ServeWorld, lat: Any, lon: Any, acc: Any, crs: str
) -> None:
    """hypothesis, on the fields the fuzz's fixed lists cover only in part: whatever a position is, /api/place
    answers 200 or a 422 in both languages, and a sign-in with a broken officer's code is either a 422 that
    records nothing or a refused attempt (never a 5xx, never an attendance)."""
    sw = unlimited
    client = bound_once(sw)
    csrf = csrf_of(client.get("/").text)
    body = {"latitude": lat, "longitude": lon, "accuracy": acc, "crs": crs}
    h = {"X-CSRF-Token": csrf, "Content-Type": "application/json"}
    place = client.post("/api/place", content=json.dumps(body).encode(), headers=h)
    assert place.status_code in (200, 422), place.text
    if place.status_code == 422:
        assert place.json()["message_zh"] and place.json()["message_en"]
    code = issue_code(
        sw.world.key, role=Role.OFFICER, subject=sw.world.officer, project=sw.world.project, at=utcnow()
    )
    body |= {
        "officer_code": code[:-3] + ("AAA" if not code.endswith("AAA") else "BBB"),
        "nonce": uuid.uuid4().hex,
    }
    before = len(sw.world.attempts())
    r = client.post("/api/signin", content=json.dumps(body).encode(), headers=h)
    assert r.status_code in (200, 422), r.text
    after = len(sw.world.attempts())
    if r.status_code == 200:
        assert r.json()["outcome"] == "refused" and after == before + 1
    else:
        assert after == before and r.json()["message_en"]
    assert place.status_code == r.status_code or place.status_code == 200  # the same position rules
    assert sw.world.attendances() == []


_BOUND: dict[int, TestClient] = {}


def bound_once(sw: ServeWorld) -> TestClient:
    """One bound phone per world for all of hypothesis's examples."""
    if id(sw) not in _BOUND:
        _BOUND.clear()
        _BOUND[id(sw)] = sw.bind(sw.client())
    return _BOUND[id(sw)]


def test_photos_are_rate_limited_before_they_are_decoded(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The photo route counted the sign-in limit only after decoding: a bound phone could send photo after
    photo (a 50 KB PNG of 40 megapixels costs a second of CPU and 300 MB), each decoded."""
    import kiosk.camera.decoders

    decoded: list[int] = []

    def counting(name: str) -> Any:
        def decode(image: Any) -> list[Any]:
            decoded.append(1)
            return []

        return decode

    monkeypatch.setattr(kiosk.camera.decoders, "make_decoder", counting)
    sw = build_serve_world(sqlite_url, tmp_path, signin_per_min_device=2)
    client, csrf = bound(sw)
    answers = [photo_post(client, csrf, g_blank()).status_code for _ in range(5)]
    assert answers == [400, 400, 429, 429, 429] and len(decoded) == 2
    # a photo counts once, not twice (before the decoding and again at the sign-in)
    code = issue_code(
        sw.world.key, role=Role.OFFICER, subject=sw.world.officer, project=sw.world.project, at=utcnow()
    )
    monkeypatch.setattr(kiosk.camera.decoders, "make_decoder", lambda name: lambda image: [_Found(code)])
    client2, csrf2 = bound(sw)  # a new phone: its own count
    r = photo_post(client2, csrf2, g_blank(), latitude=str(FAR[0]), longitude=str(FAR[1]))
    assert r.status_code == 200 and r.json()["reason"] == "OUTSIDE_RANGE"
    assert (
        photo_post(client2, csrf2, g_blank(), latitude=str(FAR[0]), longitude=str(FAR[1])).status_code == 200
    )


@dataclass
class _Found:
    text: str


def test_at_most_two_photos_are_decoded_at_once(sw: ServeWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading
    import time

    import kiosk.camera.decoders

    running, peak, lock = [0], [0], threading.Lock()

    def slow(name: str) -> Any:
        def decode(image: Any) -> list[Any]:
            with lock:
                running[0] += 1
                peak[0] = max(peak[0], running[0])
            time.sleep(0.2)
            with lock:
                running[0] -= 1
            return []

        return decode

    monkeypatch.setattr(kiosk.camera.decoders, "make_decoder", slow)
    client, csrf = bound(sw)
    results: list[int] = []
    threads = [
        threading.Thread(target=lambda: results.append(photo_post(client, csrf, g_blank()).status_code))
        for _ in range(5)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [400] * 5 and peak[0] == 2
