"""`kiosk export platform` (store/roster/platform.py): a generated month of entries and departures — scanned
with gate photos, by phone, closed automatically, corrected — written in the national platform's attendance
upload shape, and every field of every record checked for its format."""

from __future__ import annotations

import base64
import io
import json
import re
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlmodel import select
from stdnum.cn import ric
from support.eligible import make_eligible
from support.sync_helpers import id_number

from store.db.engine import make_engine, session
from store.db.models import Kiosk
from store.errors import StoreError
from store.people import enroll
from store.reasons import Way
from store.roster.platform import BATCH, MAX_PHOTO, export_platform, shrink_jpeg
from store.rules.direction import DirectionService, GateMode, close_forgotten, correct_departure
from store.rules.signin import Place, SignInService

MONTH = date(2026, 11, 1)
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


def _jpeg(w: int, h: int, seed: int, quality: int = 80) -> bytes:
    rng = np.random.default_rng(seed)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)).save(buf, "JPEG", quality=quality)
    return buf.getvalue()


@pytest.fixture
def month_world(any_url: str):  # type: ignore[no-untyped-def]
    """Two teams of workers with a month of passes; returns (engine, project id, passes made)."""
    engine = make_engine(any_url)
    with session(engine) as s:
        p = enroll.add_project(session=s, name="平台导出项目", latitude=31.2304, longitude=121.4737)
        em = enroll.add_employer(session=s, name="上海平台测试建设有限公司")
        inst = enroll.add_health_institution(session=s, name="平台体检中心")
        workers = []
        for i in range(6):
            w = enroll.add_worker(session=s, id_number=id_number(i), name=f"工人{i}")
            e = make_eligible(s, w, employer=em, project=p, today=MONTH, institution=inst)
            e.team = "钢筋班组" if i < 3 else "木工班组"
            s.add(e)
            workers.append(w.id)
        gate = Kiosk(name="1号门", project_id=p.id, latitude=31.2306, longitude=121.4739)
        s.add(gate)
        s.commit()
        pid, kid = p.id, gate.id
    svc = DirectionService(SignInService(engine))
    small, big = _jpeg(64, 48, 1), _jpeg(900, 700, 2, quality=95)
    assert len(big) > MAX_PHOTO
    made = 0
    for day in range(1, 31):
        on = MONTH.replace(day=day)
        start = datetime.combine(on, time(7, 30), tzinfo=UTC) - timedelta(hours=8)  # 07:30 Shanghai
        for i, w in enumerate(workers):
            if (day + i) % 7 == 0:
                continue  # a day off
            at = start + timedelta(minutes=i)
            if i == 5:  # way A: the phone's position, no photo
                place = Place(31.2305, 121.4738, accuracy_m=10, distance_m=0)
                svc.pass_gate(GateMode.IN, w, pid, way=Way.A, at=at, place=place)
            else:
                photo = (big if day == 3 and i == 0 else small, 64, 48)
                svc.pass_gate(GateMode.IN, w, pid, at=at, kiosk_id=kid, photo=photo)
            made += 1
            if i % 3 != 2:  # the third of each team forgets to scan out
                svc.pass_gate(
                    GateMode.OUT, w, pid, at=at + timedelta(hours=9), kiosk_id=kid, photo=(small, 64, 48)
                )
                made += 1
    got = close_forgotten(
        engine, now=datetime(2026, 12, 1, 4, 0, tzinfo=UTC), default=time(20, 0), lookback_days=40
    )
    made += got.closed
    correct_departure(
        engine,
        worker_id=workers[2],
        project_id=pid,
        on=MONTH.replace(day=2),
        at=datetime(2026, 11, 2, 8, 0, tzinfo=UTC),
        reason="班组长证实",
        actor="监理",
    )
    yield engine, pid, made
    engine.dispose()


def test_every_field_has_the_platform_format(month_world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    engine, pid, made = month_world
    out = tmp_path / "platform.json"
    got = export_platform(
        engine,
        pid,
        MONTH,
        date(2026, 11, 30),
        out,
        project_code="310101202611001",
        team_map={"钢筋班组": 101},
    )
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["covers"]["from"] == "2026-11-01" and doc["covers"]["records"] == made == got.records
    records = [r for b in doc["batches"] for r in b["dataList"]]
    assert len(records) == made
    assert got.photos > 0 and got.without_photo > 0
    directions = {"01": 0, "02": 0}
    attend_types: set[str] = set()
    for b in doc["batches"]:
        assert 1 <= len(b["dataList"]) <= BATCH
        assert b["projectCode"] == "310101202611001"
        assert b["teamName"] in ("钢筋班组", "木工班组")
        assert b["teamSysNo"] == (101 if b["teamName"] == "钢筋班组" else None)
    for r in records:
        assert set(r) == {
            "idCardType",
            "idCardNumber",
            "date",
            "direction",
            "channel",
            "attendType",
            "lng",
            "lat",
            "image",
        }
        assert r["idCardType"] == "01"
        assert len(r["idCardNumber"]) == 18 and ric.is_valid(r["idCardNumber"])
        assert DATE_RE.match(r["date"]) and datetime.strptime(r["date"], "%Y-%m-%d %H:%M:%S").month == 11
        directions[r["direction"]] += 1
        assert isinstance(r["channel"], str) and r["channel"]
        assert re.fullmatch(r"\d{3}", r["attendType"])
        attend_types.add(r["attendType"])
        assert isinstance(r["lng"], float) and 73 < r["lng"] < 136  # WGS-84, inside China
        assert isinstance(r["lat"], float) and 3 < r["lat"] < 54
        if r["image"] is not None:
            jpeg = base64.b64decode(r["image"], validate=True)
            assert jpeg[:2] == b"\xff\xd8" and len(jpeg) <= MAX_PHOTO
            Image.open(io.BytesIO(jpeg)).verify()
    assert directions["01"] > 0 and directions["02"] > 0
    assert attend_types == {"010", "007", "099"}  # scanned, closed automatically, corrected
    entries = [r for r in records if r["direction"] == "01" and r["date"].endswith("07:30:00")]
    assert entries and all(r["channel"] == "1号门" for r in entries)  # the gate's name, local time


def test_kiosk_store_without_id_numbers_is_refused(month_world, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from store.db.models import Worker

    engine, pid, _ = month_world
    with session(engine) as s:
        w = s.exec(select(Worker)).first()
        assert w is not None
        w.id_number = None
        s.add(w)
        s.commit()
    with pytest.raises(StoreError, match="shared"):
        export_platform(engine, pid, MONTH, date(2026, 11, 30), tmp_path / "x.json")
    assert not (tmp_path / "x.json").exists()


def test_shrink_keeps_small_photos_and_shrinks_big_ones() -> None:
    small = _jpeg(32, 32, 3)
    assert shrink_jpeg(small) is small
    big = _jpeg(1200, 900, 4, quality=95)
    assert len(shrink_jpeg(big)) <= MAX_PHOTO
