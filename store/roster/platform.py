"""The attendance of a project in the shape of the national real-name platform's upload (全国建筑工人管理服务
信息平台, 工人考勤 ``WorkerAttendance.Add``): every entry (进场, direction ``01``) and departure (出场, ``02``)
between two work dates, grouped by team in batches of at most 20 records, each batch one upload's body:

    {"projectCode": …, "teamSysNo": …, "teamName": …, "dataList": [
        {"idCardType": "01", "idCardNumber": "…", "date": "yyyy-MM-dd HH:mm:ss", "direction": "01",
         "channel": "1号门", "attendType": "010", "lng": 121.4737, "lat": 31.2304, "image": "<base64 JPEG>"}]}

Where each field comes from, and what could not be confirmed, is in the README ("Records in the national
platform's shape"). In short: the field names, ``direction`` 01/02, the time format and the batch of ≤ 20 per
team are the published upload's; ``attendType`` codes are the data standard's as far as it could be read
(010 QR code, 007 abnormal clearance for 自动签退, 099 other for 补录) and are marked unconfirmed.

- ``idCardNumber`` is the full number, read from the office (shared) database only: a kiosk's store never
  holds it, and an export from one fails with a clear message rather than write masked numbers.
- ``date`` is the project's local time (Beijing time on the platform).
- ``lng``/``lat`` are WGS-84: the phone's position for way A, else the kiosk's, else the project's centre.
- ``image`` is the gate photo of the pass as base64 JPEG of at most 50 KB (re-encoded smaller when it is
  larger); a pass without a photo (way A, 自动签退, 补录, photos off) has none (``null``).
- The platform's ``teamSysNo`` (its number for the team) is not known here: ``--team-map`` (a JSON object
  team name → number) fills it, else it is ``null`` and ``teamName`` says which team the batch is.

The file is written as it is read (one JSON document, streamed), all-or-nothing (a temporary file renamed),
and says what it covers and where it was read (``covers``). The city's endpoint, its credentials and the
encryption some cities ask of ``idCardNumber`` are outside this project.
"""

from __future__ import annotations

import base64
import io
import json
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine

from store.db.engine import translate_errors
from store.db.models import GatePhoto, Kiosk, Project
from store.errors import StoreError
from store.projects import ProjectInfo, project_info
from store.roster.tables import ATT, DEP, EMP, WK
from store.rules.direction import Method
from store.timeutil import as_utc, local_time, utcnow

#: records per upload: the platform takes at most 20 per team and request
BATCH = 20
#: gate photos read from the database at a time
PHOTO_PAGE = 2000
#: the largest photo the upload takes, bytes of JPEG (before base64)
MAX_PHOTO = 50 * 1024
ID_CARD_TYPE = "01"  # 居民身份证
DIRECTION_IN, DIRECTION_OUT = "01", "02"
#: attendType by how the pass was recorded (see the module doc: unconfirmed codes)
ATTEND_TYPE = {
    Method.SCAN.value: "010",  # 二维码识别: the kiosk read the worker's code
    Method.PHONE.value: "010",  # 二维码识别: the worker's phone read the officer's code
    Method.AUTO.value: "007",  # 异常清退: closed at the close time, he never scanned out
    Method.MANUAL.value: "099",  # 其他: a supervisor's correction
}
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"

Progress = Callable[[int], None]


@dataclass(frozen=True, slots=True)
class PlatformResult:
    path: Path
    records: int
    batches: int
    teams: int
    photos: int
    without_photo: int


@dataclass(slots=True)
class _Pass:
    worker: Any
    at: datetime
    direction: str
    method: str
    kiosk_id: Any
    attempt_id: Any
    lat: float | None
    lng: float | None


def shrink_jpeg(jpeg: bytes, limit: int = MAX_PHOTO) -> bytes:
    """The photo as it is when small enough, else re-encoded (lower quality, then smaller) until it fits."""
    if len(jpeg) <= limit:
        return jpeg
    from PIL import Image  # Pillow: only for the rare photo over the limit

    im = Image.open(io.BytesIO(jpeg)).convert("RGB")
    for scale in (1.0, 0.75, 0.5, 0.35, 0.25):
        size = (max(1, int(im.width * scale)), max(1, int(im.height * scale)))
        small = im.resize(size) if scale < 1.0 else im
        for quality in (80, 65, 50, 35):
            buf = io.BytesIO()
            small.save(buf, format="JPEG", quality=quality, optimize=True)
            if buf.tell() <= limit:
                return buf.getvalue()
    raise StoreError("照片无法压缩到 50 KB 以内", "A photo cannot be made smaller than 50 KB")


def _passes(conn: Connection, project_id: uuid.UUID, since: date, until: date) -> list[_Pass]:
    out: list[_Pass] = []
    for w, at, way, kiosk, attempt, lat, lng in conn.execute(
        select(
            ATT.worker_id, ATT.first_at, ATT.way, ATT.kiosk_id, ATT.attempt_id, ATT.latitude, ATT.longitude
        ).where(ATT.project_id == project_id, ATT.work_date >= since, ATT.work_date <= until)
    ):
        out.append(_Pass(w, as_utc(at), DIRECTION_IN, Method.of_way(way).value, kiosk, attempt, lat, lng))
    for w, at, method, kiosk, attempt, lat, lng in conn.execute(
        select(
            DEP.worker_id, DEP.at, DEP.method, DEP.kiosk_id, DEP.attempt_id, DEP.latitude, DEP.longitude
        ).where(DEP.project_id == project_id, DEP.work_date >= since, DEP.work_date <= until)
    ):
        out.append(_Pass(w, as_utc(at), DIRECTION_OUT, method, kiosk, attempt, lat, lng))
    return out


def export_platform(
    engine: Engine,
    project_id: uuid.UUID,
    since: date,
    until: date,
    out: Path,
    *,
    project_code: str | None = None,
    team_map: Mapping[str, Any] | None = None,
    photos: bool = True,
    source: str = "",
    on_progress: Progress | None = None,
) -> PlatformResult:
    """Write the passes of ``since``..``until`` (project work dates) as the platform's upload batches."""
    if until < since:
        raise StoreError("结束日期不能早于开始日期", "--to cannot be before --from")
    out = Path(out)
    if not out.parent.is_dir():
        raise StoreError(
            f"导出文件夹不存在：{out.parent}", f"The folder to export into does not exist: {out.parent}"
        )
    team_map = team_map or {}
    with translate_errors(str(engine.url)), engine.connect() as conn:
        project = project_info(conn, project_id)
        prow = conn.execute(
            select(Project.latitude, Project.longitude).where(Project.id == project_id)  # type: ignore[call-overload]  # sqlmodel columns
        ).one()
        passes = _passes(conn, project_id, since, until)
        workers = sorted({p.worker for p in passes}, key=str)
        ids: dict[Any, str | None] = {}
        teams: dict[Any, str] = {}
        for i in range(0, len(workers), 500):
            part = workers[i : i + 500]
            for key, number in conn.execute(select(WK.id, WK.id_number).where(WK.id.in_(part))):
                ids[key] = number
            for key, team in conn.execute(
                select(EMP.worker_id, EMP.team)
                .where(EMP.project_id == project_id, EMP.worker_id.in_(part))
                .order_by(EMP.start_date)
            ):
                teams[key] = team or ""  # the newest employment's team wins
        missing = [k for k in workers if not ids.get(k)]
        if missing:
            raise StoreError(
                f"有 {len(missing)} 名工人没有完整身份证号：平台导出只能在办公室（共享）数据库上进行（--shared）",
                f"{len(missing)} workers have no full ID number here: the platform export reads the office "
                "(shared) database only (--shared)",
            )
        kiosks = {
            k.id: k
            for k in conn.execute(select(Kiosk.id, Kiosk.name, Kiosk.latitude, Kiosk.longitude)).all()  # type: ignore[call-overload]  # sqlmodel columns
        }
        passes.sort(key=lambda p: (teams.get(p.worker, ""), p.at, str(p.worker), p.direction))
        return _write(
            conn,
            project,
            since,
            until,
            out,
            passes,
            ids,
            teams,
            kiosks,
            (prow[0], prow[1]),
            project_code,
            team_map,
            photos,
            source,
            on_progress,
        )


def _write(
    conn: Connection,
    project: ProjectInfo,
    since: date,
    until: date,
    out: Path,
    passes: list[_Pass],
    ids: Mapping[Any, str | None],
    teams: Mapping[Any, str],
    kiosks: Mapping[Any, Any],
    centre: tuple[float | None, float | None],
    project_code: str | None,
    team_map: Mapping[str, Any],
    photos: bool,
    source: str,
    on_progress: Progress | None,
) -> PlatformResult:
    tz = project.timezone
    gp = GatePhoto.__table__.c  # type: ignore[attr-defined]
    n_batches = n_photos = n_without = 0
    team_names: set[str] = set()
    tmp = out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}.tmp")

    shots: dict[Any, bytes] = {}
    loaded = [0]  # photos are read for passes[..loaded[0]], a page at a time

    def photos_until(end: int, start: int) -> None:
        """The photos of the passes from ``start``, a page (PHOTO_PAGE) ahead, once ``end`` passes them."""
        if not photos or end <= loaded[0]:
            return
        wanted = [p.attempt_id for p in passes[start : start + PHOTO_PAGE] if p.attempt_id is not None]
        shots.clear()
        if wanted:
            shots.update(conn.execute(select(gp.attempt_id, gp.jpeg).where(gp.attempt_id.in_(wanted))).all())
        loaded[0] = start + PHOTO_PAGE

    def batches() -> Iterator[tuple[str, list[_Pass], int]]:
        team: str | None = None
        chunk: list[_Pass] = []
        start = 0
        for i, p in enumerate(passes):
            t = teams.get(p.worker, "")
            if chunk and (t != team or len(chunk) == BATCH):
                yield team or "", chunk, start
                chunk, start = [], i
            team = t
            chunk.append(p)
        if chunk:
            yield team or "", chunk, start

    try:
        with tmp.open("w", encoding="utf-8") as f:
            covers = {
                "what": "工人考勤 WorkerAttendance.Add — entries (01) and departures (02)",
                "project": str(project.id),
                "project_name": project.name,
                "from": since.isoformat(),
                "to": until.isoformat(),
                "timezone": tz,
                "read_from": source,
                "generated_at": utcnow().isoformat(),
                "records": len(passes),
            }
            f.write('{"covers": ' + json.dumps(covers, ensure_ascii=False) + ', "batches": [\n')
            done = 0
            for team, chunk, start in batches():
                team_names.add(team)
                photos_until(start + len(chunk), start)
                data = []
                for p in chunk:
                    jpeg = shots.get(p.attempt_id) if p.attempt_id is not None else None
                    if jpeg is not None:
                        image: str | None = base64.b64encode(shrink_jpeg(jpeg)).decode("ascii")
                        n_photos += 1
                    else:
                        image = None
                        n_without += 1
                    lat, lng = p.lat, p.lng
                    kiosk = kiosks.get(p.kiosk_id) if p.kiosk_id is not None else None
                    if (lat is None or lng is None) and kiosk is not None and kiosk.latitude is not None:
                        lat, lng = kiosk.latitude, kiosk.longitude
                    if lat is None or lng is None:
                        lat, lng = centre
                    data.append(
                        {
                            "idCardType": ID_CARD_TYPE,
                            "idCardNumber": ids[p.worker],
                            "date": local_time(p.at, tz, DATE_FORMAT),
                            "direction": p.direction,
                            "channel": _channel(p, kiosk),
                            "attendType": ATTEND_TYPE.get(p.method, "099"),
                            "lng": round(lng, 6) if lng is not None else None,
                            "lat": round(lat, 6) if lat is not None else None,
                            "image": image,
                        }
                    )
                body = {
                    "projectCode": project_code,
                    "teamSysNo": team_map.get(team),
                    "teamName": team,
                    "dataList": data,
                }
                f.write(("" if n_batches == 0 else ",\n") + json.dumps(body, ensure_ascii=False))
                n_batches += 1
                done += len(chunk)
                if on_progress:
                    on_progress(len(chunk))
            f.write("\n]}\n")
        tmp.replace(out)
    except OSError as exc:
        raise StoreError(
            f"无法写入导出文件：{out}（{exc.strerror}）", f"Cannot write the export file {out}: {exc}"
        ) from exc
    finally:
        tmp.unlink(missing_ok=True)
    return PlatformResult(out, len(passes), n_batches, len(team_names), n_photos, n_without)


def _channel(p: _Pass, kiosk: Any) -> str:
    """The gate: the kiosk's name; 手机 for way A; 自动签退 / 补录 for passes no gate saw."""
    if kiosk is not None and kiosk.name:
        return str(kiosk.name)
    return Method(p.method).label("zh") if p.method in {m.value for m in Method} else p.method
