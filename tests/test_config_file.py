"""The config file as people make it: saved by Notepad (a UTF-8 byte-order mark), numbers out of any
sensible range (inf, 1e-300), a device named by mistake (KIOSK_CONFIG=/dev/zero)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.cli import main
from kiosk.config import ConfigError, load_config


def test_a_bom_from_notepad_is_accepted(tmp_path: Path) -> None:
    p = tmp_path / "kiosk.toml"
    p.write_bytes(b"\xef\xbb\xbf" + '[kiosk]\nname = "2号门"\n'.encode())
    assert load_config(p).kiosk.name == "2号门"


@pytest.mark.parametrize(
    ("section", "line"),
    [
        ("location", "max_accuracy_m = inf"),
        ("location", "max_accuracy_m = nan"),
        ("location", "max_accuracy_m = 1e300"),
        ("sync", "interval_s = 1e-300"),
        ("sync", "interval_s = inf"),
        ("camera", "dedupe_window_s = 1e9"),
        ("kiosk", "lock_idle_s = 99999999999"),
        ("retention", "attendance_days = 10000000"),
        ("serve", "max_upload_mb = inf"),
    ],
)
def test_every_number_is_bounded(tmp_path: Path, section: str, line: str) -> None:
    p = tmp_path / "kiosk.toml"
    p.write_text(f"[{section}]\n{line}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(p)
    key = line.split(" =")[0]
    assert f"[{section}] {key}" in err.value.zh and "无效" in err.value.zh


def test_zero_interval_still_means_on_demand(tmp_path: Path) -> None:
    p = tmp_path / "kiosk.toml"
    p.write_text("[sync]\ninterval_s = 0\n", encoding="utf-8")
    assert load_config(p).sync.interval_s == 0


def test_a_device_or_a_folder_is_refused_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for where in ("/dev/zero", str(tmp_path)):
        with pytest.raises(ConfigError) as err:
            load_config(where)
        assert "不是普通文件" in err.value.zh and "not a regular file" in err.value.en
    monkeypatch.setenv("KIOSK_CONFIG", "/dev/zero")
    assert main(["sync", "--status"]) == 2
    assert "配置文件不是普通文件：/dev/zero" in capsys.readouterr().err
