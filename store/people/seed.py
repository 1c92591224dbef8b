"""Synthetic demo data: ``kiosk seed-demo --db URL --workers N --projects M [--seed S]``.

Everything here is made up — names from common surnames and given-name characters, identity numbers
with valid checksums from real region codes but random birth dates and sequence numbers, invented
employers, institutions and projects — and deterministic for a seed (the same seed, the same rows, the
same ids). Rows are written with bulk Core inserts in batches: 100 000 workers take seconds.

A documented share of workers fails each sign-in rule (``SHARES``), so a demo shows every kind of
refusal. The summary names a few example workers for "eligible" and for each refusal reason, all on
the first project; demos, tests and scripts start from it.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.engine import Connection, Engine
from stdnum.cn import ric

from store.db.engine import translate_errors
from store.db.models import (
    BankCard,
    Employer,
    Employment,
    HealthCheck,
    HealthInstitution,
    Officer,
    OfficerAssignment,
    Project,
    Worker,
)
from store.db.revision import take_revisions
from store.reasons import Reason
from store.rules.validation import mask_card_number, mask_id_number
from store.timeutil import DEFAULT_ZONE, local_date, utcnow

ELIGIBLE = "eligible"

#: the share of workers made to fail each rule (the rest, 70 %, are eligible)
SHARES: dict[str, float] = {
    Reason.REALNAME_INCOMPLETE.value: 0.03,
    Reason.NO_BANK_CARD.value: 0.03,
    Reason.NO_HEALTH_CHECK.value: 0.03,
    Reason.HEALTH_CHECK_FAILED.value: 0.02,
    Reason.HEALTH_CHECK_EXPIRED.value: 0.03,
    Reason.NOT_EMPLOYED_ON_PROJECT.value: 0.03,
    Reason.EMPLOYMENT_NOT_CONFIRMED.value: 0.03,
    Reason.EMPLOYMENT_NOT_STARTED.value: 0.02,
    Reason.EMPLOYMENT_ENDED.value: 0.03,
    Reason.AGE_POLICY.value: 0.05,
}

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
GIVEN = "伟刚勇毅俊峰强军平保东文辉力明永健世广志义兴良海山仁波宁贵福生龙元全国胜学祥才发武新利清飞彬富顺信子杰涛昌成康星光天达安岩中茂进林有坚和彪博诚先敬震振壮会思群豪心邦承乐绍功松善厚庆磊民友裕河哲江超浩亮政谦亨奇固之轮翰朗伯宏言若鸣朋斌梁栋维启克伦翔旭鹏泽晨辰士以建家致树炎德行时泰盛秀娟英华慧巧美娜静淑惠珠翠雅芝玉萍红娥玲芬芳燕彩春菊兰凤洁梅琳素云莲真环雪荣爱妹霞香月莺媛艳瑞凡佳嘉琼勤珍贞莉桂娣叶璧璐娅琦晶妍茜秋珊莎锦黛青倩婷姣婉娴瑾颖露瑶怡婵雁蓓纨仪荷丹蓉眉君琴蕊薇菁梦岚苑婕馨瑗琰韵融园艺咏卿聪澜纯毓悦昭冰爽琬茗羽希宁欣飘育滢馥筠柔竹霭凝晓欢霄枫芸菲寒伊亚宜可姬舒影荔枝思丽"
ETHNICITIES = ("汉族",) * 18 + ("回族", "土家族", "苗族", "彝族", "壮族")
#: region codes (GB/T 2260) of places many Shanghai site workers come from; checked against stdnum below
REGIONS = (
    "310104",
    "310105",
    "310107",
    "310110",
    "310112",
    "310113",
    "310115",
    "310120",
    "320321",
    "320324",
    "321323",
    "340122",
    "341221",
    "341222",
    "341225",
    "342221",
    "410222",
    "411321",
    "411423",
    "411526",
    "412721",
    "412826",
    "421023",
    "430524",
    "500228",
    "510121",
    "511025",
    "511321",
    "512223",
    "513030",
    "522121",
    "532128",
)
EMPLOYERS = (
    "上海申城建设工程有限公司",
    "上海浦江建筑劳务有限公司",
    "江苏华建劳务分包有限公司",
    "安徽皖通建设工程有限公司",
    "四川蜀川建筑劳务有限公司",
    "河南中原建工集团有限公司",
    "上海东泰机电安装有限公司",
    "浙江之江幕墙工程有限公司",
)
TEAMS_TRADES = {
    "钢筋班组": ("钢筋工", "焊工"),
    "木工班组": ("木工",),
    "混凝土班组": ("混凝土工", "普工"),
    "架子工班组": ("架子工",),
    "水电班组": ("电工", "水暖工"),
    "泥工班组": ("瓦工", "抹灰工"),
    "塔吊班组": ("塔吊司机", "信号工"),
}
INSTITUTIONS = (
    ("浦东新区第一体检中心", "浦东新区"),
    ("徐汇区职工健康体检站", "徐汇区"),
    ("闵行区建设者健康服务中心", "闵行区"),
    ("宝山区社区卫生服务中心体检部", "宝山区"),
    ("嘉定区建工医院体检科", "嘉定区"),
    ("松江区职业健康检查所", "松江区"),
)
BANKS = (
    "中国工商银行",
    "中国农业银行",
    "中国银行",
    "中国建设银行",
    "交通银行",
    "上海农商银行",
    "中国邮政储蓄银行",
)
BANK_BINS = {
    "中国工商银行": "622202",
    "中国农业银行": "622848",
    "中国银行": "621661",
    "中国建设银行": "621700",
    "交通银行": "622260",
    "上海农商银行": "621065",
    "中国邮政储蓄银行": "621799",
}
PROJECT_NAMES = (
    "浦东新区张江科学城A3-2地块",
    "徐汇滨江西岸传媒港二期",
    "闵行区虹桥商务区北片区住宅",
    "宝山区吴淞创新城一期",
    "嘉定新城远香湖公建项目",
    "松江枢纽南广场工程",
    "临港新片区滴水湖金融湾",
    "杨浦滨江东段更新项目",
)
#: project centres (WGS-84) near Shanghai landmarks, fictional sites
CENTRES = (
    (31.2036, 121.5870),
    (31.1713, 121.4602),
    (31.2035, 121.3120),
    (31.3866, 121.4960),
    (31.3530, 121.2530),
    (31.0047, 121.2290),
    (30.9079, 121.9294),
    (31.2611, 121.5415),
)

BATCH = 5000


def _valid_regions() -> tuple[str, ...]:
    ok = []
    for code in REGIONS:
        probe = code + "19800101001"
        probe2 = code + "20050101001"
        if all(ric.is_valid(p + ric.calc_check_digit(p + "0")) for p in (probe, probe2)):
            ok.append(code)
    assert ok, "no usable region code"
    return tuple(ok)


@dataclass
class _Gen:
    rng: random.Random
    today: date
    regions: tuple[str, ...]
    used_ids: set[str]

    def uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def name(self, sex: str) -> str:
        given = GIVEN[:160] if sex == "M" else GIVEN[160:]
        n = self.rng.choice((1, 2, 2))
        return self.rng.choice(SURNAMES) + "".join(self.rng.choice(given) for _ in range(n))

    def birth_date(self, lo_age: int, hi_age: int) -> date:
        """A birth date giving an age (in full years, today) in [lo_age, hi_age]."""
        age = self.rng.randint(lo_age, hi_age)
        latest = date(self.today.year - age, self.today.month, min(self.today.day, 28))
        return latest - timedelta(days=self.rng.randint(1, 360))

    def id_number(self, birth: date, sex: str) -> str:
        while True:
            seq = self.rng.randint(0, 499) * 2 + (1 if sex == "M" else 0)
            body = f"{self.rng.choice(self.regions)}{birth:%Y%m%d}{seq:03d}"
            number = body + ric.calc_check_digit(body + "0")
            if number not in self.used_ids:
                self.used_ids.add(number)
                return number

    def card_number(self, bank: str) -> str:
        from stdnum import luhn

        body = BANK_BINS[bank] + "".join(str(self.rng.randint(0, 9)) for _ in range(12))
        return body + luhn.calc_check_digit(body)

    def mobile(self) -> str:
        return "1" + self.rng.choice("3456789") + "".join(str(self.rng.randint(0, 9)) for _ in range(9))


def _insert(conn: Connection, model: Any, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    last = take_revisions(conn, len(rows))
    for i, row in enumerate(rows):
        row["rev"] = last - len(rows) + 1 + i
    conn.execute(insert(model.__table__), rows)


def seed_demo(
    engine: Engine,
    *,
    workers: int = 300,
    projects: int = 2,
    seed: int = 1,
    today: date | None = None,
    examples: int = 5,
    on_progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Fill a migrated database with synthetic data; returns the summary (see module docstring)."""
    if workers < 1 or projects < 1:
        raise ValueError("workers and projects must be at least 1")
    projects = min(projects, len(PROJECT_NAMES) * 10)
    rng = random.Random(seed)
    now = utcnow()
    today = today or local_date(now)
    g = _Gen(rng, today, _valid_regions(), set())

    def stamp(row: dict[str, Any]) -> dict[str, Any]:
        row.setdefault("id", g.uuid())
        row.setdefault("created_at", now)
        row.setdefault("updated_at", now)
        return row

    summary: dict[str, Any] = {"seed": seed, "today": today.isoformat()}
    with translate_errors(str(engine.url)), engine.begin() as conn:
        employer_rows = [stamp({"name": n, "credit_code": None, "deleted_at": None}) for n in EMPLOYERS]
        _insert(conn, Employer, employer_rows)
        inst_rows = [
            stamp({"name": n, "district": d, "active": True, "deleted_at": None}) for n, d in INSTITUTIONS
        ]
        _insert(conn, HealthInstitution, inst_rows)
        project_rows = []
        for i in range(projects):
            lat, lon = CENTRES[i % len(CENTRES)]
            suffix = "" if i < len(PROJECT_NAMES) else f"（{i // len(PROJECT_NAMES) + 1}期）"
            project_rows.append(
                stamp(
                    {
                        "name": PROJECT_NAMES[i % len(PROJECT_NAMES)] + suffix,
                        "address": "上海市" + PROJECT_NAMES[i % len(PROJECT_NAMES)][:3],
                        "latitude": lat + (i // len(CENTRES)) * 0.01,
                        "longitude": lon,
                        "radius_m": 150.0,
                        "polygon": None,
                        "timezone": DEFAULT_ZONE,
                        "deleted_at": None,
                    }
                )
            )
        _insert(conn, Project, project_rows)
        project_ids = [r["id"] for r in project_rows]

        # officers: two per project, one more assigned to every project (the demo's project picker),
        # and one assigned to none (an unassigned officer is refused at unlock)
        officer_rows, assign_rows, officers_out = [], [], []
        for i, pid in enumerate(project_ids):
            for _ in range(2):
                o = stamp({"name": g.name("M"), "mobile": g.mobile(), "worker_id": None, "deleted_at": None})
                officer_rows.append(o)
                assign_rows.append(
                    stamp(
                        {
                            "officer_id": o["id"],
                            "project_id": pid,
                            "start_date": None,
                            "end_date": None,
                            "deleted_at": None,
                        }
                    )
                )
                officers_out.append({"id": str(o["id"]), "name": o["name"], "projects": [str(pid)]})
            del i
        chief = stamp({"name": g.name("F"), "mobile": g.mobile(), "worker_id": None, "deleted_at": None})
        officer_rows.append(chief)
        for pid in project_ids:
            assign_rows.append(
                stamp(
                    {
                        "officer_id": chief["id"],
                        "project_id": pid,
                        "start_date": None,
                        "end_date": None,
                        "deleted_at": None,
                    }
                )
            )
        officers_out.append(
            {"id": str(chief["id"]), "name": chief["name"], "projects": [str(p) for p in project_ids]}
        )
        loose = stamp({"name": g.name("M"), "mobile": g.mobile(), "worker_id": None, "deleted_at": None})
        officer_rows.append(loose)
        officers_out.append({"id": str(loose["id"]), "name": loose["name"], "projects": []})
        _insert(conn, Officer, officer_rows)
        _insert(conn, OfficerAssignment, assign_rows)

        kinds = _kinds(workers, rng)
        counts: dict[str, int] = {}
        ex: dict[str, list[str]] = {ELIGIBLE: []}
        ex.update({k: [] for k in SHARES})
        made = 0
        for chunk in _chunks(list(enumerate(kinds)), BATCH):
            rows: dict[Any, list[dict[str, Any]]] = {
                Worker: [],
                BankCard: [],
                HealthCheck: [],
                Employment: [],
            }
            for n, kind in chunk:
                pid = project_ids[n % len(project_ids)]
                w = _worker(g, kind, pid, project_ids, employer_rows, inst_rows, now, stamp, rows)
                counts[kind] = counts.get(kind, 0) + 1
                if pid == project_ids[0] and len(ex[kind]) < examples:
                    ex[kind].append(str(w))
            for model in (Worker, BankCard, HealthCheck, Employment):
                _insert(conn, model, rows[model])
            made += len(chunk)
            if on_progress:
                on_progress(made)

    summary["counts"] = {
        "workers": workers,
        "projects": projects,
        "employers": len(employer_rows),
        "officers": len(officer_rows),
        "health_institutions": len(inst_rows),
        "by_kind": counts,
    }
    summary["projects"] = [
        {
            "id": str(r["id"]),
            "name": r["name"],
            "latitude": r["latitude"],
            "longitude": r["longitude"],
            "radius_m": r["radius_m"],
        }
        for r in project_rows
    ]
    summary["officers"] = officers_out
    summary["shares"] = {ELIGIBLE: round(1 - sum(SHARES.values()), 4), **SHARES}
    summary["examples_project"] = str(project_ids[0])
    summary["examples"] = ex
    return summary


def _kinds(n: int, rng: random.Random) -> list[str]:
    """Which rule each worker fails: exact shares (rounded), shuffled deterministically."""
    kinds: list[str] = []
    for reason, share in SHARES.items():
        kinds += [reason] * max(1 if n >= 2 * len(SHARES) else 0, round(n * share))
    kinds = kinds[:n]
    kinds += [ELIGIBLE] * (n - len(kinds))
    rng.shuffle(kinds)
    return kinds


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _worker(
    g: _Gen,
    kind: str,
    pid: uuid.UUID,
    project_ids: list[uuid.UUID],
    employers: list[dict[str, Any]],
    institutions: list[dict[str, Any]],
    now: datetime,
    stamp: Callable[[dict[str, Any]], dict[str, Any]],
    rows: dict[Any, list[dict[str, Any]]],
) -> uuid.UUID:
    rng, today = g.rng, g.today
    sex = "M" if rng.random() < 0.85 else "F"
    if kind == Reason.AGE_POLICY.value:
        young = rng.random() < 0.4
        if young:
            birth = g.birth_date(16, 17)
        else:
            birth = g.birth_date(61, 64) if sex == "M" else g.birth_date(51, 54)
    else:
        birth = g.birth_date(19, 58 if sex == "M" else 49)
    number = g.id_number(birth, sex)
    verified = (
        None if kind == Reason.REALNAME_INCOMPLETE.value else now - timedelta(days=rng.randint(30, 400))
    )
    wid = g.uuid()
    name = g.name(sex)
    has_card = kind != Reason.NO_BANK_CARD.value
    rows[Worker].append(
        stamp(
            {
                "id": wid,
                "name": name,
                "sex": sex,
                "birth_date": birth,
                "ethnicity": rng.choice(ETHNICITIES),
                "address": None,
                "mobile": g.mobile(),
                "id_number": number,
                "id_number_masked": mask_id_number(number),
                "id_last4": number[-4:],
                "realname_verified_at": verified,
                "realname_verified_by": "demo-admin" if verified else None,
                "has_bank_card": has_card,
                "face_thumb": None,
                "deleted_at": None,
            }
        )
    )
    if has_card:
        bank = rng.choice(BANKS)
        card = g.card_number(bank)
        rows[BankCard].append(
            stamp(
                {
                    "worker_id": wid,
                    "bank_name": bank,
                    "card_number": card,
                    "card_masked": mask_card_number(card),
                    "holder_name": name,
                    "luhn_ok": True,
                }
            )
        )
    if kind != Reason.NO_HEALTH_CHECK.value:
        if kind == Reason.HEALTH_CHECK_EXPIRED.value:
            checked = today - timedelta(days=rng.randint(400, 700))
        else:
            checked = today - timedelta(days=rng.randint(5, 300))
        inst = rng.choice(institutions)
        rows[HealthCheck].append(
            stamp(
                {
                    "worker_id": wid,
                    "institution_id": inst["id"],
                    "institution_other": None,
                    "checked_on": checked,
                    "passed": kind != Reason.HEALTH_CHECK_FAILED.value,
                    "result_note": None,
                    "valid_until": None,
                    "deleted_at": None,
                }
            )
        )
    employ_on = pid
    if kind == Reason.NOT_EMPLOYED_ON_PROJECT.value:
        others = [p for p in project_ids if p != pid]
        if not others:
            return wid  # no employment at all
        employ_on = rng.choice(others)
    team = rng.choice(list(TEAMS_TRADES))
    start = today - timedelta(days=rng.randint(10, 500))
    end: date | None = None if rng.random() < 0.6 else today + timedelta(days=rng.randint(30, 400))
    if kind == Reason.EMPLOYMENT_NOT_STARTED.value:
        start, end = today + timedelta(days=rng.randint(2, 30)), None
    elif kind == Reason.EMPLOYMENT_ENDED.value:
        end = today - timedelta(days=rng.randint(1, 60))
        start = min(start, end - timedelta(days=30))
    confirmed = (
        None if kind == Reason.EMPLOYMENT_NOT_CONFIRMED.value else now - timedelta(days=rng.randint(1, 9))
    )
    rows[Employment].append(
        stamp(
            {
                "worker_id": wid,
                "employer_id": rng.choice(employers)["id"],
                "project_id": employ_on,
                "team": team,
                "trade": rng.choice(TEAMS_TRADES[team]),
                "start_date": start,
                "end_date": end,
                "confirmed_at": confirmed,
                "deleted_at": None,
            }
        )
    )
    return wid
