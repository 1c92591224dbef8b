"""The roster readers (store/roster/: day, month, history, refused) on SQLite and PostgreSQL: counts and rows equal what the database says."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from support.rosterdata import DAY, NOW, Site, sign

from store.db.models import Attendance, SignInAttempt
from store.errors import StoreError
from store.projects import resolve_project
from store.reasons import Reason
from store.roster.day import Status, evacuation, filter_rows, load_roster, revision_mark
from store.roster.history import worker_detail
from store.roster.month import load_month
from store.roster.refused import refused_attempts
from store.timeutil import parse_day, parse_month


def test_counts_equal_the_database(site: Site) -> None:
    r = load_roster(site.engine, site.project_id, DAY)
    with site.engine.connect() as c:
        # The roster's numbers checked straight against the tables (test_roster_app.py counts alike).
        signed = c.execute(
            select(func.count())
            .select_from(Attendance)
            .where(
                Attendance.project_id == site.project_id,
                Attendance.work_date == DAY,  # type: ignore[arg-type]
            )
        ).scalar_one()
        refused = c.execute(
            select(func.count())
            .select_from(SignInAttempt)
            .where(
                SignInAttempt.project_id == site.project_id,  # type: ignore[arg-type]
                SignInAttempt.work_date == DAY,  # type: ignore[arg-type]
                SignInAttempt.outcome == "refused",  # type: ignore[arg-type]
            )
        ).scalar_one()
    assert (r.counts.signed_in, r.counts.refused) == (signed, refused) == (3, 2)
    assert r.counts.expected == 6  # 孙未确's employment is not confirmed
    assert r.counts.not_yet == 3
    by_name = {row.name: row for row in r.rows}
    assert by_name["张建国"].status is Status.SIGNED_IN
    assert by_name["赵大海"].way == "A" and by_name["赵大海"].kiosk is None
    assert by_name["李卫东"].kiosk == "1号门"
    assert by_name["刘德华"].status is Status.NOT_YET and by_name["刘德华"].first_at is None
    refused_row = by_name["孙未确"]
    assert refused_row.status is Status.REFUSED and not refused_row.expected
    assert refused_row.last_reason == Reason.EMPLOYMENT_NOT_CONFIRMED.value
    # grouped: employer, then team, then name
    keys = [(row.employer, row.team) for row in r.rows]
    assert keys == sorted(keys)
    # the masked number only, never the full one
    assert all("*" in row.id_masked for row in r.rows)


def test_work_dates_are_shanghai_dates(site: Site) -> None:
    # 2026-10-31 23:30 UTC is November 1st in Shanghai
    nov1 = load_roster(site.engine, site.project_id, date(2026, 11, 1))
    oct31 = load_roster(site.engine, site.project_id, date(2026, 10, 31))
    assert [r.name for r in nov1.rows if r.status is Status.SIGNED_IN] == ["张建国"]
    assert [r.name for r in oct31.rows if r.status is Status.SIGNED_IN] == ["张建国"]
    oct_ = load_month(site.engine, site.project_id, 2026, 10)
    nov = load_month(site.engine, site.project_id, 2026, 11)
    z_oct = next(r for r in oct_.rows if r.name == "张建国")
    z_nov = next(r for r in nov.rows if r.name == "张建国")
    assert z_oct.days == {31} and z_nov.days == {1, 2}
    assert oct_.n_days == 31 and nov.n_days == 30
    assert next(r for r in nov.rows if r.name == "刘德华").days == set()


def test_filter_and_search(site: Site) -> None:
    rows = load_roster(site.engine, site.project_id, DAY).rows
    assert {r.name for r in filter_rows(rows, status=Status.SIGNED_IN)} == {"张建国", "李卫东", "赵大海"}
    assert {r.name for r in filter_rows(rows, team="水电班组")} == {"赵大海", "陈国强"}
    assert {r.name for r in filter_rows(rows, trade="焊工")} == {"李卫东"}
    assert {r.name for r in filter_rows(rows, search="国")} == {"张建国", "陈国强"}
    target = next(r for r in rows if r.name == "王小明")
    assert [r.name for r in filter_rows(rows, search=target.id_last4[-3:])] == ["王小明"]
    assert filter_rows(rows, status=Status.NOT_YET, team="钢筋班组") == []


def test_refused_attempts_and_detail(site: Site) -> None:
    attempts = refused_attempts(site.engine, site.project_id, DAY, DAY)
    assert [a.reason for a in attempts] == [Reason.CODE_EXPIRED.value, Reason.EMPLOYMENT_NOT_CONFIRMED.value]
    assert attempts[0].name == "" and attempts[0].kiosk == "1号门"
    assert attempts[1].name == "孙未确" and attempts[1].team == "泥工班组"
    d = worker_detail(site.engine, site.project_id, site.workers["张建国"], DAY)
    assert [x.work_date for x in d.days] == [date(2026, 11, 2), date(2026, 11, 1), date(2026, 10, 31)]
    assert "*" in d.id_masked and d.refused == []
    d2 = worker_detail(site.engine, site.project_id, site.workers["孙未确"], DAY)
    assert d2.days == [] and [a.reason for a in d2.refused] == [Reason.EMPLOYMENT_NOT_CONFIRMED.value]


def test_evacuation_groups_signed_in_by_employer_and_team(site: Site) -> None:
    ev = evacuation(load_roster(site.engine, site.project_id, DAY))
    assert [(g.employer, g.team, g.count) for g in ev.groups] == [
        ("上海乙机电安装有限公司", "水电班组", 1),
        ("上海甲建筑劳务有限公司", "钢筋班组", 2),
    ]
    assert ev.total == 3


def test_revision_mark_changes_with_a_sign_in(site: Site) -> None:
    before = load_roster(site.engine, site.project_id, DAY)
    assert revision_mark(site.engine, site.project_id, DAY) == before.mark
    sign(site, "王小明", NOW)
    assert revision_mark(site.engine, site.project_id, DAY) != before.mark


def test_project_and_date_parsing(site: Site) -> None:
    with pytest.raises(StoreError) as exc:
        resolve_project(site.engine, None)  # two projects: must pick
    assert "--project" in exc.value.en
    assert resolve_project(site.engine, str(site.project_id)).name == "测试项目一号地块"
    # the 8 characters the admin shows, any unique beginning (hyphens or not), or the name
    assert resolve_project(site.engine, str(site.project_id)[:8]).id == site.project_id
    assert resolve_project(site.engine, site.project_id.hex[:12].upper()).id == site.project_id
    assert resolve_project(site.engine, "测试项目二号地块").id == site.other_project_id
    with pytest.raises(StoreError) as exc:
        resolve_project(site.engine, "not-a-uuid")
    assert str(site.project_id)[:8] in exc.value.en and "测试项目一号地块" in exc.value.zh  # what there is
    common = next(
        i
        for i, (a, b) in enumerate(zip(site.project_id.hex, site.other_project_id.hex, strict=True))
        if a != b
    )
    if common:  # both ids begin alike: that beginning is ambiguous, and said so
        with pytest.raises(StoreError) as exc:
            resolve_project(site.engine, site.project_id.hex[:common])
        assert "several" in exc.value.en
    with pytest.raises(StoreError):
        parse_day("2026-13-01")
    with pytest.raises(StoreError):
        parse_month("2026/11")
    assert parse_month("2026-02") == (2026, 2)


def test_reader_reads_reference_data_again_when_it_changes(site: Site) -> None:
    from sqlmodel import select as sm_select

    from store.db.engine import write_session
    from store.db.models import Employment
    from store.people import enroll
    from store.roster.day import RosterReader

    reader = RosterReader(site.engine, site.project_id)
    first = reader.load(DAY)
    assert first.counts.expected == 6
    sign(site, "王小明", NOW)  # attendance only: the cached expected workers are reused
    second = reader.load(DAY)
    assert second.counts.signed_in == first.counts.signed_in + 1 and second.mark != first.mark
    with write_session(site.engine) as s:  # 孙未确 confirms his employment: he becomes expected
        e = s.exec(sm_select(Employment).where(Employment.worker_id == site.workers["孙未确"])).one()
        enroll.confirm_employment(session=s, employment=e, at=NOW)
    third = reader.load(DAY)
    assert third.counts.expected == 7
    assert next(r for r in third.rows if r.name == "孙未确").expected
    assert [r.name for r in third.rows] == [
        r.name for r in load_roster(site.engine, site.project_id, DAY).rows
    ]
