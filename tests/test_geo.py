"""store/rules/geo.py against distances computed independently of it: Vincenty's inverse formula written
here, a published geodesic distance, and published GCJ-02 coordinate pairs."""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from store.db.models import Project
from store.errors import ValidationError
from store.reasons import Reason
from store.rules.geo import (
    KioskOutsideRange,
    check_place,
    distance_m,
    kiosk_in_range,
    kiosk_range_error,
    parse_point,
    parse_polygon,
    place_message,
    project_range,
    to_wgs84,
)

# --- an independent geodesic: Vincenty (1975) inverse on WGS-84 ----------------------------------

A = 6378137.0
F = 1 / 298.257223563
B = A * (1 - F)


def vincenty(p: tuple[float, float], q: tuple[float, float]) -> float:
    """Metres between two (lat, lon) on WGS-84 (Vincenty's inverse; converges for non-antipodal points)."""
    if p == q:
        return 0.0
    lat1, lon1, lat2, lon2 = map(math.radians, (*p, *q))
    u1 = math.atan((1 - F) * math.tan(lat1))
    u2 = math.atan((1 - F) * math.tan(lat2))
    big_l = lon2 - lon1
    lam = big_l
    su1, cu1, su2, cu2 = math.sin(u1), math.cos(u1), math.sin(u2), math.cos(u2)
    for _ in range(200):
        sl, cl = math.sin(lam), math.cos(lam)
        ss = math.hypot(cu2 * sl, cu1 * su2 - su1 * cu2 * cl)
        cs = su1 * su2 + cu1 * cu2 * cl
        sigma = math.atan2(ss, cs)
        sa = cu1 * cu2 * sl / ss
        c2a = 1 - sa * sa
        c2sm = cs - 2 * su1 * su2 / c2a if c2a else 0.0
        c = F / 16 * c2a * (4 + F * (4 - 3 * c2a))
        prev = lam
        lam = big_l + (1 - c) * F * sa * (sigma + c * ss * (c2sm + c * cs * (-1 + 2 * c2sm * c2sm)))
        if abs(lam - prev) < 1e-13:
            break
    u_sq = c2a * (A * A - B * B) / (B * B)
    k1 = (math.sqrt(1 + u_sq) - 1) / (math.sqrt(1 + u_sq) + 1)
    big_a = (1 + k1 * k1 / 4) / (1 - k1)
    big_b = k1 * (1 - 3 / 8 * k1 * k1)
    ds = (
        big_b
        * ss
        * (
            c2sm
            + big_b
            / 4
            * (cs * (-1 + 2 * c2sm * c2sm) - big_b / 6 * c2sm * (-3 + 4 * ss * ss) * (-3 + 4 * c2sm * c2sm))
        )
    )
    return B * big_a * (sigma - ds)


def point_at(centre: tuple[float, float], metres: float, bearing_deg: float) -> tuple[float, float]:
    """A point ``metres`` (by Vincenty) from ``centre`` along a fixed direction in degree space (bisection)."""
    b = math.radians(bearing_deg)
    dlat, dlon = math.cos(b), math.sin(b) / math.cos(math.radians(centre[0]))
    lo, hi = 0.0, metres / 50000.0  # degrees; 1° ≥ 50 km at these latitudes
    for _ in range(100):
        mid = (lo + hi) / 2
        if vincenty(centre, (centre[0] + mid * dlat, centre[1] + mid * dlon)) < metres:
            lo = mid
        else:
            hi = mid
    t = (lo + hi) / 2
    return centre[0] + t * dlat, centre[1] + t * dlon


def dms(d: int, m: int, s: float) -> float:
    return math.copysign(abs(d) + m / 60 + s / 3600, d)


CENTRE = (31.2304, 121.4737)  # People's Square, Shanghai (WGS-84)


def project(**kw: Any) -> Project:
    kw.setdefault("latitude", CENTRE[0])
    kw.setdefault("longitude", CENTRE[1])
    return Project(name="测试项目", **kw)


# --- distances -----------------------------------------------------------------------------------


def test_published_distance_flinders_peak_to_buninyong() -> None:
    # Vincenty (1975), the classic worked example: 54 972.271 m (on the GRS-80/WGS-84 ellipsoid)
    flinders = (dms(-37, 57, 3.72030), dms(144, 25, 29.52440))
    buninyong = (dms(-37, 39, 10.15610), dms(143, 55, 35.38390))
    assert vincenty(flinders, buninyong) == pytest.approx(54972.271, abs=0.002)  # the test's own formula
    assert distance_m(flinders, buninyong) == pytest.approx(54972.271, abs=0.002)


@pytest.mark.parametrize("metres", [1.0, 37.5, 149.0, 2500.0])
@pytest.mark.parametrize("bearing", [0, 45, 90, 200, 315])
def test_distance_agrees_with_vincenty(metres: float, bearing: float) -> None:
    p = point_at(CENTRE, metres, bearing)
    assert distance_m(CENTRE, p) == pytest.approx(vincenty(CENTRE, p), abs=0.001)


# --- centre and radius ---------------------------------------------------------------------------


@pytest.mark.parametrize("bearing", [0, 90, 135, 270])
def test_inside_outside_and_on_the_edge_of_the_circle(bearing: float) -> None:
    p = project()  # default radius 150 m
    assert project_range(p).radius_m == 150.0
    inside = check_place(p, *point_at(CENTRE, 120.0, bearing))
    assert inside.refusal is None and inside.distance_m == 0.0
    edge_in = check_place(p, *point_at(CENTRE, 149.99, bearing))
    assert edge_in.refusal is None and edge_in.distance_m == 0.0
    edge_out = check_place(p, *point_at(CENTRE, 150.2, bearing))
    assert edge_out.refusal is Reason.OUTSIDE_RANGE and edge_out.distance_m == pytest.approx(0.2, abs=0.05)
    far = check_place(p, *point_at(CENTRE, 380.0, bearing))
    assert far.refusal is Reason.OUTSIDE_RANGE and far.distance_m == pytest.approx(230.0, abs=0.05)
    assert place_message(far) == "不在项目签到范围内：距签到范围还有 230 米"
    assert place_message(far, lang="en") == "Outside the project's sign-in range: 230 m outside"


def test_a_project_radius_is_honoured() -> None:
    p = project(radius_m=500.0)
    assert check_place(p, *point_at(CENTRE, 480.0, 10)).refusal is None
    assert check_place(p, *point_at(CENTRE, 520.0, 10)).distance_m == pytest.approx(20.0, abs=0.05)


def test_project_without_range_refuses_way_a() -> None:
    place = check_place(Project(name="无坐标项目"), *CENTRE)
    assert place.refusal is Reason.OUTSIDE_RANGE and place.distance_m is None
    assert "未设置签到范围" in (place_message(place) or "")


# --- polygons ------------------------------------------------------------------------------------

# a 200 m (east-west) × 100 m (north-south) rectangle with its south-west corner at SW
SW = (31.2300, 121.4700)
NE_LAT = point_at(SW, 100.0, 0)[0]
NE_LON = point_at(SW, 200.0, 90)[1]
RECT = [[SW[0], SW[1]], [SW[0], NE_LON], [NE_LAT, NE_LON], [NE_LAT, SW[1]]]


def test_polygon_inside_and_outside_by_nearest_edge() -> None:
    import json

    p = project(polygon=json.dumps(RECT), radius_m=1.0)  # the polygon wins over the circle
    mid_lat = (SW[0] + NE_LAT) / 2
    assert check_place(p, mid_lat, (SW[1] + NE_LON) / 2).refusal is None
    assert check_place(p, mid_lat, NE_LON - 0.00001).refusal is None  # ~1 m inside the east edge
    east = point_at((mid_lat, NE_LON), 60.0, 90)
    place = check_place(p, *east)
    assert place.refusal is Reason.OUTSIDE_RANGE
    assert place.distance_m == pytest.approx(vincenty(east, (mid_lat, NE_LON)), abs=0.1)
    assert place.distance_m == pytest.approx(60.0, abs=0.1)
    south = point_at(((SW[0]), (SW[1] + NE_LON) / 2), 25.0, 180)
    assert check_place(p, *south).distance_m == pytest.approx(25.0, abs=0.1)
    # beyond a corner the nearest point is the corner itself
    corner = point_at((NE_LAT, NE_LON), 40.0, 45)
    assert check_place(p, *corner).distance_m == pytest.approx(vincenty(corner, (NE_LAT, NE_LON)), abs=0.1)


def test_concave_polygon_notch_is_outside() -> None:
    import json

    # an L: the rectangle without its north-east quarter
    mid_lat = (SW[0] + NE_LAT) / 2
    mid_lon = (SW[1] + NE_LON) / 2
    ell = [
        [SW[0], SW[1]],
        [SW[0], NE_LON],
        [mid_lat, NE_LON],
        [mid_lat, mid_lon],
        [NE_LAT, mid_lon],
        [NE_LAT, SW[1]],
        [SW[0], SW[1]],
    ]  # closed ring: the repeated corner is accepted
    p = project(polygon=json.dumps(ell))
    in_notch = point_at((mid_lat, mid_lon), 20.0, 45)  # 20 m into the missing quarter, diagonally
    place = check_place(p, *in_notch)
    assert place.refusal is Reason.OUTSIDE_RANGE
    assert place.distance_m == pytest.approx(vincenty(in_notch, (mid_lat, in_notch[1])), abs=0.1)
    assert check_place(p, *point_at((mid_lat, mid_lon), 20.0, 225)).refusal is None


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("not json", "JSON"),
        ("[[31.2, 121.4], [31.3, 121.4]]", "3"),
        ('{"lat": 1}', "[[lat, lon]"),
        ("[[31.2, 121.4], [31.3, 121.5], [31.2, 121.5], [31.3, 121.4]]", "crosses itself"),  # a bow tie
        ("[[95, 121.4], [31.3, 121.5], [31.2, 121.5]]", "Latitude"),
    ],
)
def test_bad_polygons_are_named(text: str, what: str) -> None:
    with pytest.raises(ValidationError) as err:
        parse_polygon(text)
    assert err.value.field == "polygon" and what in err.value.en and err.value.zh


# --- GCJ-02 --------------------------------------------------------------------------------------

# published pairs (WGS-84 → GCJ-02) from the eviltransform test suite (googollee/eviltransform)
GCJ_PAIRS = [
    ((31.1774276, 121.5272106), (31.17530398364597, 121.531541859215)),  # Shanghai
    ((22.543847, 113.912316), (22.540796131694766, 113.9171764808363)),  # Shenzhen
    ((39.911954, 116.377817), (39.91334545536069, 116.38404722455657)),  # Beijing
]


@pytest.mark.parametrize(("wgs", "gcj"), GCJ_PAIRS)
def test_gcj02_to_wgs84_matches_published_pairs(wgs: tuple[float, float], gcj: tuple[float, float]) -> None:
    back = to_wgs84(*gcj, "gcj02")
    assert vincenty(back, wgs) < 0.01  # centimetre
    assert vincenty(gcj, wgs) > 100  # the offset it removes is hundreds of metres


def test_gcj02_outside_china_is_wgs84() -> None:
    assert to_wgs84(48.8584, 2.2945, "gcj02") == (48.8584, 2.2945)


def test_a_map_app_position_is_converted_before_the_range_check() -> None:
    wgs, gcj = GCJ_PAIRS[0]
    p = project(latitude=wgs[0], longitude=wgs[1])
    ok = check_place(p, *gcj, crs="gcj02", accuracy_m=15)
    assert ok.refusal is None and ok.distance_m == 0.0
    assert vincenty((ok.latitude, ok.longitude), wgs) < 0.01  # the record keeps WGS-84
    wrong = check_place(p, *gcj)  # the same numbers taken for GPS: hundreds of metres off
    assert wrong.refusal is Reason.OUTSIDE_RANGE
    assert wrong.distance_m == pytest.approx(vincenty(gcj, wgs) - 150.0, abs=0.1)


# --- accuracy ------------------------------------------------------------------------------------


def test_accuracy_rule() -> None:
    p = project()
    near = point_at(CENTRE, 50.0, 0)
    assert check_place(p, *near, accuracy_m=100.0).refusal is None  # the limit itself is accepted
    bad = check_place(p, *near, accuracy_m=100.5)
    assert bad.refusal is Reason.LOCATION_INACCURATE and bad.accuracy_m == 100.5 and bad.distance_m == 0.0
    assert place_message(bad) == "定位精度不足，请到开阔处重试（当前 ±101 米，要求 ±100 米以内）"
    assert place_message(bad, lang="en") == (
        "Location too inaccurate: move into the open and retry (±101 m; at most ±100 m accepted)"
    )
    assert check_place(p, *near, accuracy_m=180.0, max_accuracy_m=200.0).refusal is None  # configurable
    # no benefit of the doubt: 30 m outside with ±80 m is still outside
    out = check_place(p, *point_at(CENTRE, 180.0, 0), accuracy_m=80.0)
    assert out.refusal is Reason.OUTSIDE_RANGE and out.distance_m == pytest.approx(30.0, abs=0.05)
    # inaccurate wins over outside: the distance is unreliable, the worker should retry in the open
    assert check_place(p, *point_at(CENTRE, 900.0, 0), accuracy_m=300.0).refusal is Reason.LOCATION_INACCURATE


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: check_place(project(), 95.0, 121.0), "at"),
        (lambda: check_place(project(), 31.0, 181.0), "at"),
        (lambda: check_place(project(), math.nan, 121.0), "at"),
        (lambda: check_place(project(), *CENTRE, accuracy_m=-3.0), "accuracy"),
        (lambda: check_place(project(), *CENTRE, accuracy_m=math.inf), "accuracy"),
        (lambda: check_place(project(), *CENTRE, crs="bd09"), "crs"),
        (lambda: parse_point("31.2"), "at"),
        (lambda: parse_point("north,east"), "at"),
    ],
)
def test_bad_input_is_a_validation_error(call, field: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError) as err:
        call()
    assert err.value.field == field and err.value.zh and err.value.en


def test_parse_point() -> None:
    assert parse_point(" 31.2304 , 121.4737 ") == (31.2304, 121.4737)
    assert parse_point("31.2304，121.4737") == (31.2304, 121.4737)  # a full-width comma from a Chinese IME


# --- the kiosk geofence --------------------------------------------------------------------------


def test_kiosk_geofence() -> None:
    p = project()
    assert kiosk_in_range(p, *point_at(CENTRE, 100.0, 60)) is None
    assert kiosk_in_range(p, None, None) is None  # position not configured: nothing to check
    assert kiosk_in_range(Project(name="无坐标"), *CENTRE) is None  # no range: nothing to check
    far = point_at(CENTRE, 1350.0, 60)
    assert kiosk_in_range(p, *far) is Reason.KIOSK_OUTSIDE_RANGE
    err = kiosk_range_error(p, *far)
    assert isinstance(err, KioskOutsideRange) and err.distance_m == pytest.approx(1200.0, abs=0.05)
    assert "1200 米" in err.zh and "测试项目" in err.zh and "1200 m outside" in err.en


@settings(max_examples=60, deadline=None)
@given(metres=st.floats(0.0, 3000.0), bearing=st.floats(0.0, 360.0))
def test_circle_distance_property(metres: float, bearing: float) -> None:
    p = point_at(CENTRE, metres, bearing)
    place = check_place(project(), *p)
    expected = max(0.0, vincenty(CENTRE, p) - 150.0)
    assert place.distance_m == pytest.approx(expected, abs=0.051)  # kept to 0.1 m
    assert (place.refusal is None) == (place.distance_m == 0.0)


def test_kiosk_geofence_with_a_polygon() -> None:
    import json

    p = project(polygon=json.dumps(RECT))
    mid = ((SW[0] + NE_LAT) / 2, (SW[1] + NE_LON) / 2)
    assert kiosk_in_range(p, *mid) is None
    west = point_at((mid[0], SW[1]), 75.0, 270)
    err = kiosk_range_error(p, *west)
    assert err is not None and err.distance_m == pytest.approx(75.0, abs=0.1) and "75 米" in err.zh
