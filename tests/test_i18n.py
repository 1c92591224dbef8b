"""The one catalogue of words (``kiosk.i18n``): no key twice, both languages with the same fields, and
every key the code and the phone templates name is in it."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from kiosk import i18n
from kiosk.i18n import MESSAGES, admin, enroll, officer, phone, roster, setup

ROOT = Path(__file__).resolve().parents[1]
TABLES = {
    "officer": officer,
    "roster": roster,
    "setup": setup,
    "admin": admin,
    "phone": phone,
    "enroll": enroll,
}


def test_no_key_is_defined_twice() -> None:
    seen: dict[str, str] = {}
    for name, module in TABLES.items():
        for key in module.WORDS:
            assert key not in seen, f"{key!r} is in both {seen.get(key)} and {name}"
            seen[key] = name
    assert set(seen) == set(MESSAGES)


def test_a_key_defined_twice_stops_the_import() -> None:
    with pytest.raises(ValueError, match="'x'"):
        i18n._merge({"x": ("甲", "a")}, {"x": ("乙", "b")})


def test_every_entry_has_chinese_and_english_with_the_same_fields() -> None:
    for key, (zh, en) in MESSAGES.items():
        assert zh.strip() and en.strip(), key
        fields = [{f for _, f, _, _ in string.Formatter().parse(s) if f} for s in (zh, en)]
        assert fields[0] == fields[1], key


def test_every_key_named_in_the_code_and_the_templates_is_in_the_catalogue() -> None:
    files = [*(ROOT / "kiosk").rglob("*.py"), *(ROOT / "kiosk" / "serve" / "templates").rglob("*.html")]
    named = re.compile(r"""(?<![\w.])(?:t|pair|both|label)\(\s*(["'])([A-Za-z0-9_.]+)\1""")
    missing = {
        (str(p.relative_to(ROOT)), m.group(2))
        for p in files
        if "i18n" not in p.parts
        for m in named.finditer(p.read_text(encoding="utf-8"))
        if m.group(2) not in MESSAGES and not m.group(2).endswith(".")  # "home.role." + kind: a prefix
    }
    assert not missing


def test_the_lookup() -> None:
    assert i18n.t("signed_in") == "签到成功"
    assert i18n.t("signed_in", "en") == "Signed in"
    assert i18n.t("unlocked", "en", name="Li") == "Unlocked: Li"
    assert i18n.pair("roster.shown", n=1, total=2) == ("显示 1 / 共 2 人", "showing 1 of 2 workers")
    assert i18n.both("locked") == "已锁定 / LOCKED"
    assert i18n.pick("en", "是", "yes") == "yes"
