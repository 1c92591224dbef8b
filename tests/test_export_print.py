"""The monthly 考勤表 printed as a wage clerk prints it: converted by LibreOffice to PDF (A4 landscape),
its text and pages read back with poppler's pdftotext and pdfinfo. The sheet is made from a synthetic
month (no database): 31 days, 70 workers who came and 12 who never did."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from store.projects import ProjectInfo
from store.roster.exports import monthly_table, write_table
from store.roster.month import Month, MonthRow

TOOLS = ("libreoffice", "pdftotext", "pdfinfo")


def _need_tools() -> None:
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if not missing:
        return
    why = f"{', '.join(missing)} not installed (Debian: libreoffice-calc-nogui, poppler-utils; ./dev test installs them)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(why + " — CI needs it")
    pytest.skip(why + " — skipping the printed-sheet test")


def _month(present: int, absent: int) -> Month:
    rows = []
    for i in range(present + absent):
        days = {d for d in range(1, 32) if (d + i) % 7 not in (0, 1)} if i < present else set()
        rows.append(
            MonthRow(
                uuid.uuid4(),
                f"工人{i:03d}",
                f"3101**********{i:04d}",
                "上海甲建筑劳务有限公司",
                "钢筋班组",
                "钢筋工",
                days,
            )
        )
    project = ProjectInfo(uuid.uuid4(), "测试项目一号地块", "Asia/Shanghai")
    return Month(project, 2026, 10, 31, rows)


def _pdf(xlsx: Path, tmp: Path) -> Path:
    profile = tmp / "lo-profile"  # a profile of its own: other LibreOffice runs on the machine never lock it
    subprocess.run(
        [
            "libreoffice",
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp),
            str(xlsx),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return xlsx.with_suffix(".pdf")


def test_printed_monthly_sheet(tmp_path: Path) -> None:
    _need_tools()
    table = monthly_table(
        _month(70, 12), source="数据来源：办公室数据库 postgresql://office/site　读取于 2026-11-01 08:00"
    )
    pdf = _pdf(write_table(table, tmp_path / "考勤表.xlsx", "xlsx"), tmp_path)
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    size = next(line for line in info.splitlines() if line.startswith("Page size:")).split()
    assert round(float(size[2])) == 842 and round(float(size[4])) == 595, size  # A4 landscape, in points
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    sheets = [p for p in text.split("\f") if p.strip()]
    assert len(sheets) == pages and 2 <= pages <= 4, pages  # 82 rows tall enough to sign, not 82 pages
    for i, page in enumerate(sheets, 1):
        # the title once a page (the page header), with the source; the dates and weekdays on every page
        assert page.count("考勤表") == 1, (i, page[:300])
        assert "测试项目一号地块" in page and "2026年10月" in page and "办公室数据库" in page
        assert "签字确认" in page and " 31 " in f" {page} " and "六" in page
        assert re.search(rf"\b{i}\s*/\s*{pages}\b", page), i
    last = sheets[-1]
    assert "每日人数" in last and "合计工日" in last and "本月无出勤（12 人）" in last
    assert "劳务单位负责人" in last
    assert "工人081" in last  # the zero-day workers come last
    # every day column is on the page: 31 fits A4 landscape
    assert all(f" {d} " in f" {sheets[0]} " for d in (1, 15, 30, 31))
