"""Bad input at the command line: one clear message in Chinese and English, no traceback, nothing lost."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import BaseModel

from kiosk.config import ConfigError, load_config, parse_config

ROOT = Path(__file__).resolve().parents[1]


def kiosk(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kiosk", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def assert_clear(out: subprocess.CompletedProcess[str], *words: str) -> None:
    assert out.returncode == 2, out
    assert "Traceback" not in out.stderr
    for w in words:
        assert w in out.stderr, out.stderr


def test_wrong_url(tmp_path: Path) -> None:
    assert_clear(
        kiosk("db", "upgrade", "--db", "postgresql://postgres@127.0.0.1:1/x"),
        "无法连接数据库",
        "Cannot reach",
    )
    assert_clear(
        kiosk("db", "upgrade", "--db", str(tmp_path / "missing" / "x.db")), "文件夹不存在", "does not exist"
    )
    assert_clear(kiosk("db", "upgrade", "--db", "mysql+nodriver://x"), "Unsupported")


def test_unmigrated_database(tmp_path: Path) -> None:
    db = tmp_path / "empty.db"
    sqlite3.connect(db).close()
    out = kiosk("db", "current", "--db", str(db))
    assert out.returncode == 1 and '"up_to_date": false' in out.stdout


def test_locked_database_loses_nothing(tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    out = kiosk("seed-demo", "--db", str(db), "--workers", "20", "--projects", "1", "--json")
    assert out.returncode == 0, out.stderr
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another program holds the file
    try:
        out = kiosk(
            "seed-demo", "--db", str(db), "--workers", "5", "--projects", "1", "--seed", "2", "--json"
        )
        assert_clear(out, "占用", "locked")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    count = sqlite3.connect(db).execute("SELECT count(*) FROM worker").fetchone()[0]
    assert count == 20


def test_malformed_config(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[policy\nmin_age = 18\n", encoding="utf-8")
    assert_clear(kiosk("db", "upgrade", "--config", str(bad)), "配置文件格式错误", "Malformed config")
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("[policy]\nmin_agee = 18\n", encoding="utf-8")
    assert_clear(kiosk("db", "upgrade", "--config", str(unknown)), "[policy] min_agee", "unknown key")


def test_config_names_the_bad_key() -> None:
    with pytest.raises(ConfigError, match=r"\[policy\] min_age"):
        parse_config({"policy": {"min_age": "eighteen"}})
    with pytest.raises(ConfigError, match=r"\[kiosk\] project"):
        parse_config({"kiosk": {"project": "not-a-uuid"}})
    with pytest.raises(ConfigError, match="unknown key colour"):
        parse_config({"colour": "red"})
    with pytest.raises(ConfigError, match="time zone"):
        parse_config({"policy": {"timezone": "Mars/Olympus"}})


def test_example_config_is_complete_and_valid() -> None:
    cfg = load_config(ROOT / "config.example.toml")
    assert cfg.language == "zh" and cfg.policy.max_age_female == 50
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    for section_name, section in cfg:
        if isinstance(section, BaseModel):
            for key in type(section).model_fields:
                assert f"{key} =" in text, f"[{section_name}] {key} is not documented in config.example.toml"


def test_missing_explicit_config(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")
