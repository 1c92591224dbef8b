"""The self-enrollment tests' world: a small site (a worker, another worker, an employer, a project, their
employments, health institutions) and synthetic pictures: a face (scikit-image's astronaut, a
public-domain NASA photograph), two faces, no face, a made-up ID card, and files that are not pictures."""

from __future__ import annotations

import io
from datetime import date, timedelta

import numpy as np
from PIL import Image, ImageDraw
from skimage import data
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import select
from stdnum.cn import ric

from store.db.engine import session, write_session
from store.db.models import AuditLog, RealnameSubmission, Worker
from store.people.enroll import (
    add_employer,
    add_employment,
    add_health_institution,
    add_project,
    add_worker,
    set_institution_active,
)
from store.people.self_enroll import Progress, progress, submit_realname
from store.rules.policy import Policy


def jpeg(rgb: np.ndarray | Image.Image, **save: object) -> bytes:
    im = rgb if isinstance(rgb, Image.Image) else Image.fromarray(rgb)
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=90, **save)
    return buf.getvalue()


def face_rgb() -> np.ndarray:
    return np.asarray(data.astronaut())


def face_jpeg() -> bytes:
    return jpeg(face_rgb())


def two_faces_jpeg() -> bytes:
    return jpeg(np.hstack([face_rgb(), face_rgb()]))


def no_face_jpeg() -> bytes:
    rng = np.random.default_rng(7)
    return jpeg(rng.integers(90, 160, (480, 640, 3), dtype=np.uint8))


def id_card_jpeg(side: str = "front") -> bytes:
    """A made-up card the size of an ID card at 1000 px (no real person, no real number)."""
    im = Image.new("RGB", (1000, 630), (222, 232, 240))
    d = ImageDraw.Draw(im)
    d.rectangle((20, 20, 980, 610), outline=(90, 110, 140), width=6)
    d.text((60, 60), f"SPECIMEN {side.upper()}", fill=(30, 30, 30))
    for i in range(6):
        d.line((60, 140 + 60 * i, 600, 140 + 60 * i), fill=(60, 60, 60), width=4)
    return jpeg(im)


def text_renamed_jpg() -> bytes:
    """What a text file renamed photo.jpg holds."""
    return "这不是照片 / this is not a photo\n".encode() * 50


def huge_photo(mb: int = 40) -> bytes:
    """A JPEG-looking file of ``mb`` megabytes (a start-of-image marker, then padding)."""
    head = face_jpeg()
    return head + b"\0" * (mb * 1024 * 1024 - len(head))


# --- the site ---------------------------------------------------------------------------------------

TODAY = date(2026, 6, 1)
POLICY = Policy()
ADMIN = "李管理"


def id_number(born: date, seq: int) -> str:
    body = f"310104{born:%Y%m%d}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


def luhn_card(prefix: str = "622202020011223344") -> str:
    from stdnum import luhn

    return prefix + luhn.calc_check_digit(prefix)


class Site:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.number = id_number(date(1985, 3, 14), 123)  # 17th digit 3: a man
        with write_session(engine) as s:
            w = add_worker(session=s, id_number=self.number, name="王建国")
            other = add_worker(session=s, id_number=id_number(date(1990, 1, 2), 246), name="赵小红")
            employer = add_employer(session=s, name="上海某建设有限公司")
            project = add_project(session=s, name="浦东某项目", latitude=31.23, longitude=121.47)
            # Two add_employment calls: two workers of this world (alike in shape only).
            e = add_employment(
                session=s,
                worker=w,
                employer=employer,
                project=project,
                team="木工班",
                trade="木工",
                start_date=TODAY - timedelta(days=10),
            )
            e2 = add_employment(
                session=s,
                worker=other,
                employer=employer,
                project=project,
                team="钢筋班",
                trade="钢筋工",
                start_date=TODAY - timedelta(days=10),
            )
            inst = add_health_institution(session=s, name="浦东新区某体检中心")
            retired = add_health_institution(session=s, name="已停用体检站")
            set_institution_active(session=s, institution=retired, active=False)
            self.worker_id, self.other_id = w.id, other.id
            self.employment_id, self.others_employment_id = e.id, e2.id
            self.project_id, self.institution_id, self.retired_id = project.id, inst.id, retired.id

    def count(self, model: type) -> int:
        with session(self.engine) as s:
            return int(s.exec(select(func.count()).select_from(model)).one())

    def audit_count(self) -> int:
        return self.count(AuditLog)

    def realname(self, **kw: object) -> RealnameSubmission:
        args: dict[str, object] = dict(
            worker_id=self.worker_id,
            id_number=self.number,
            name="王建国",
            front=id_card_jpeg("front"),
            back=id_card_jpeg("back"),
            face=face_jpeg(),
            today=TODAY,
        )
        args.update(kw)
        with write_session(self.engine) as s:
            sub = submit_realname(session=s, **args)  # type: ignore[arg-type]
            s.flush()
            s.expunge(sub)
            return sub

    def progress(self) -> Progress:
        return progress(self.engine, self.worker_id, POLICY, TODAY)

    def worker(self) -> Worker:
        with session(self.engine) as s:
            w = s.get(Worker, self.worker_id)
            assert w is not None
            s.expunge(w)
            return w
