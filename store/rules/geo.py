"""Where a sign-in happened: a project's sign-in range (签到范围), distances, GCJ-02, the accuracy rule.

Distances are geodesic on the WGS-84 ellipsoid (geopy, Karney's algorithm, error well under a
millimetre). A project's range is either

- a **centre and radius** (``Project.latitude/longitude/radius_m``; 150 m by default), or
- a **polygon** (``Project.polygon``: JSON ``[[lat, lon], ...]``, WGS-84, at least three corners);
  when a polygon is set it is the range and the radius is ignored.

A point on the boundary counts as inside. Distances are kept to 0.1 m and the verdict goes by the
figure shown: 4 cm outside is "0.0 m", so inside (never a refusal saying "0 m outside").

"How far outside" is the geodesic distance from the point to the nearest point of the range (for a circle: distance to the centre minus the radius; for a
polygon: distance to its nearest edge, computed in an azimuthal equidistant frame centred on the
point, where distances from the point are exact; for site-sized polygons the straight edges differ
from geodesic edges by far less than a centimetre).

Coordinates from Chinese map apps (高德, 腾讯, the WeChat location picker) are GCJ-02, offset from
WGS-84 by a few hundred metres. ``to_wgs84(lat, lon, "gcj02")`` converts them with prcoords'
iterative inverse (``gcj_wgs_bored``, sub-millimetre); outside China GCJ-02 *is* WGS-84.

The accuracy rule (way A):

1. A phone that reports an accuracy (the radius of its 68 % circle, as Android and iOS give it)
   worse than ``[location] max_accuracy_m`` (100 m by default) is refused with
   ``LOCATION_INACCURATE``: the worker moves into the open and tries again.
2. Otherwise the **reported point itself** must be inside the range. The accuracy gives **no benefit
   of the doubt** (we do not accept "distance − accuracy ≤ radius"): the 150 m default radius is
   already generous for the 20–100 m error of phones among tall buildings, and with the benefit of
   the doubt a worker 250 m away would pass. Widen a project's radius instead.
3. A phone that reports no accuracy is judged by its point alone.

The distance (how far outside, 0 inside) and the accuracy are kept on the attempt for the supervisor.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

from store.errors import StoreError, ValidationError
from store.reasons import Reason
from store.rules.signin import Place

if TYPE_CHECKING:
    from shapely.geometry import Polygon

    from store.db.models import Project

Crs = Literal["wgs84", "gcj02"]
CRS_CHOICES: tuple[str, ...] = ("wgs84", "gcj02")
DEFAULT_MAX_ACCURACY_M = 100.0

F_AT = "at"
F_ACCURACY = "accuracy"
F_CRS = "crs"
F_POLYGON = "polygon"


# --- coordinates ---------------------------------------------------------------------------------


def validate_point(lat: float, lon: float, *, field: str = F_AT) -> tuple[float, float]:
    """``(lat, lon)`` as floats, or a ValidationError when they are not a place on Earth."""
    try:
        la, lo = float(lat), float(lon)
    except (TypeError, ValueError) as exc:
        raise ValidationError(field, "坐标必须是数字", "Coordinates must be numbers") from exc
    if not (math.isfinite(la) and -90.0 <= la <= 90.0):
        raise ValidationError(
            field, f"纬度应在 -90 到 90 之间：{lat}", f"Latitude must be within -90..90: {lat}"
        )
    if not (math.isfinite(lo) and -180.0 <= lo <= 180.0):
        raise ValidationError(
            field, f"经度应在 -180 到 180 之间：{lon}", f"Longitude must be within -180..180: {lon}"
        )
    return la, lo


def parse_point(text: str, *, field: str = F_AT) -> tuple[float, float]:
    """``"31.2304,121.4737"`` → ``(31.2304, 121.4737)`` (latitude first, as map apps copy it)."""
    parts = [p.strip() for p in str(text).replace("，", ",").split(",")]
    if len(parts) != 2 or not all(parts):
        raise ValidationError(
            field,
            f"坐标格式应为 纬度,经度（例如 31.2304,121.4737）：{text}",
            f"A position is LAT,LON (e.g. 31.2304,121.4737): {text}",
        )
    try:
        lat, lon = float(parts[0]), float(parts[1])
    except ValueError as exc:
        raise ValidationError(
            field,
            f"坐标必须是数字，格式为 纬度,经度：{text}",
            f"Coordinates must be numbers, as LAT,LON: {text}",
        ) from exc
    return validate_point(lat, lon, field=field)


def validate_accuracy(accuracy_m: float | None) -> float | None:
    if accuracy_m is None:
        return None
    try:
        acc = float(accuracy_m)
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            F_ACCURACY, "定位精度必须是数字（米）", "Accuracy must be a number of metres"
        ) from exc
    if not math.isfinite(acc) or acc < 0:
        raise ValidationError(
            F_ACCURACY,
            f"定位精度必须是非负的米数：{accuracy_m}",
            f"Accuracy must be metres ≥ 0: {accuracy_m}",
        )
    return acc


def to_wgs84(lat: float, lon: float, crs: str = "wgs84") -> tuple[float, float]:
    """A position in WGS-84. ``crs`` is ``wgs84`` (GPS, as is) or ``gcj02`` (Chinese map apps)."""
    lat, lon = validate_point(lat, lon)
    if crs == "wgs84":
        return lat, lon
    if crs != "gcj02":
        raise ValidationError(
            F_CRS,
            f"不支持的坐标系：{crs}（可用 wgs84、gcj02）",
            f"Unknown coordinate system {crs!r} (use wgs84 or gcj02)",
        )
    import prcoords

    if not prcoords.sanity_in_china_p(prcoords.Coords(lat, lon)):
        return lat, lon  # GCJ-02 is only offset inside China
    wgs = prcoords.gcj_wgs_bored((lat, lon), False)
    return float(wgs.lat), float(wgs.lon)


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Geodesic distance on WGS-84 in metres between two ``(lat, lon)``."""
    from geopy.distance import geodesic

    return float(geodesic(a, b).meters)


# --- ranges --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SignInRange:
    """A project's sign-in range: a centre and radius, or a polygon (which then wins)."""

    centre: tuple[float, float] | None = None
    radius_m: float = 150.0
    polygon: tuple[tuple[float, float], ...] | None = None

    @property
    def defined(self) -> bool:
        return self.polygon is not None or self.centre is not None

    def outside_by_m(self, lat: float, lon: float) -> float:
        """How far (metres, geodesic) the point is outside the range; 0.0 inside or on the edge."""
        if self.polygon is not None:
            return _outside_polygon_m(self.polygon, (lat, lon))
        if self.centre is None:
            raise NoRange()
        return max(0.0, distance_m(self.centre, (lat, lon)) - self.radius_m)

    def contains(self, lat: float, lon: float) -> bool:
        return self.outside_by_m(lat, lon) == 0.0


class NoRange(StoreError):
    """The project has no sign-in range (no centre, no polygon): way A cannot be used there."""

    def __init__(self) -> None:
        super().__init__(
            "项目未设置签到范围（中心点或多边形），无法手机扫码签到",
            "The project has no sign-in range (centre or polygon): way A cannot be used",
        )


def parse_polygon(text: str) -> tuple[tuple[float, float], ...]:
    """``Project.polygon`` JSON → corners ``((lat, lon), ...)``; a ValidationError says what is wrong."""
    try:
        data = json.loads(text)
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            F_POLYGON, "签到范围多边形不是有效的 JSON", "The range polygon is not valid JSON"
        ) from exc
    if not isinstance(data, list) or not all(isinstance(p, list | tuple) and len(p) == 2 for p in data):
        raise ValidationError(
            F_POLYGON, "签到范围多边形应为 [[纬度, 经度], ...]", "The range polygon must be [[lat, lon], ...]"
        )
    corners = [validate_point(p[0], p[1], field=F_POLYGON) for p in data]
    if len(corners) > 1 and corners[0] == corners[-1]:
        corners.pop()  # a closed ring: the last corner repeats the first
    if len(set(corners)) < 3:
        raise ValidationError(
            F_POLYGON,
            "签到范围多边形至少需要3个不同的顶点",
            "The range polygon needs at least 3 distinct corners",
        )
    poly = _planar(tuple(corners), corners[0])
    if not poly.is_valid or poly.area <= 0:
        raise ValidationError(
            F_POLYGON, "签到范围多边形的边自相交或面积为零", "The range polygon crosses itself or has no area"
        )
    return tuple(corners)


def project_range(project: Project) -> SignInRange:
    """The range of a project (``defined`` is False when it has neither centre nor polygon)."""
    polygon = _polygon_cached(project.polygon) if project.polygon else None
    centre = None
    if project.latitude is not None and project.longitude is not None:
        centre = validate_point(project.latitude, project.longitude, field="latitude")
    return SignInRange(centre=centre, radius_m=float(project.radius_m), polygon=polygon)


@lru_cache(maxsize=256)
def _polygon_cached(text: str) -> tuple[tuple[float, float], ...]:
    return parse_polygon(text)


def _local_xy(origin: tuple[float, float], p: tuple[float, float]) -> tuple[float, float]:
    """``p`` in metres in the azimuthal equidistant frame centred on ``origin`` (x east, y north)."""
    from geographiclib.geodesic import Geodesic

    g = Geodesic.WGS84.Inverse(origin[0], origin[1], p[0], p[1])
    azi = math.radians(g["azi1"])
    return g["s12"] * math.sin(azi), g["s12"] * math.cos(azi)


def _planar(corners: tuple[tuple[float, float], ...], origin: tuple[float, float]) -> Polygon:
    from shapely.geometry import Polygon

    return Polygon([_local_xy(origin, c) for c in corners])


def _outside_polygon_m(corners: tuple[tuple[float, float], ...], point: tuple[float, float]) -> float:
    from shapely.geometry import Point

    poly = _planar(corners, point)
    here = Point(0.0, 0.0)
    return 0.0 if poly.covers(here) else float(poly.exterior.distance(here))


# --- the checks ----------------------------------------------------------------------------------


# Keyword arguments like way_a's sign_in_way_a: the place and the code each take theirs.
def check_place(
    project: Project,
    lat: float,
    lon: float,
    *,
    accuracy_m: float | None = None,
    crs: str = "wgs84",
    max_accuracy_m: float = DEFAULT_MAX_ACCURACY_M,
) -> Place:
    """Way A: where the worker's phone is, and whether that lets him sign in (``Place.refusal``).

    The returned ``Place`` has the position in WGS-84, the accuracy, how far outside the range it is
    (0 inside) and the refusal: ``LOCATION_INACCURATE`` (accuracy worse than ``max_accuracy_m``; it
    wins over the distance, which is then unreliable), ``OUTSIDE_RANGE``, or None. A project with no
    range refuses ``OUTSIDE_RANGE`` with no distance. Bad input (latitude 95, accuracy -3, crs "bd09")
    is a ValidationError, not a refusal.
    """
    wlat, wlon = to_wgs84(lat, lon, crs)
    acc = validate_accuracy(accuracy_m)
    rng = project_range(project)
    outside = round(rng.outside_by_m(wlat, wlon), 1) if rng.defined else None
    refusal: Reason | None = None
    if acc is not None and acc > max_accuracy_m:
        refusal = Reason.LOCATION_INACCURATE
    elif outside is None or outside > 0.0:
        refusal = Reason.OUTSIDE_RANGE
    return Place(
        latitude=wlat,
        longitude=wlon,
        accuracy_m=acc,
        distance_m=outside,
        refusal=refusal,
    )


class KioskOutsideRange(StoreError):
    """The kiosk's configured position is outside the project's range: it will not unlock for it."""

    reason = Reason.KIOSK_OUTSIDE_RANGE

    def __init__(self, project_name: str, distance_m: float) -> None:
        self.distance_m = distance_m
        d = _metres(distance_m)
        super().__init__(
            f"{Reason.KIOSK_OUTSIDE_RANGE.zh}：本机位置距「{project_name}」签到范围还有 {d} 米，"
            "请核对项目或本机配置的位置（[kiosk] latitude/longitude）",
            f"{Reason.KIOSK_OUTSIDE_RANGE.en}: this kiosk is {d} m outside the range of "
            f"'{project_name}'; check the project or the kiosk position in the config ([kiosk] latitude/longitude)",
        )


def kiosk_range_error(
    project: Project, kiosk_lat: float | None, kiosk_lon: float | None
) -> KioskOutsideRange | None:
    """The geofence at unlock, with the message to show (None: may unlock).

    Passes when the kiosk's position is not configured or the project has no range (nothing to
    check); the kiosk's position is WGS-84 (config ``[kiosk] latitude/longitude``).
    """
    if kiosk_lat is None or kiosk_lon is None:
        return None
    rng = project_range(project)
    if not rng.defined:
        return None
    lat, lon = validate_point(kiosk_lat, kiosk_lon, field="kiosk")
    outside = round(rng.outside_by_m(lat, lon), 1)
    return KioskOutsideRange(project.name, outside) if outside > 0.0 else None


def kiosk_in_range(project: Project, kiosk_lat: float | None, kiosk_lon: float | None) -> Reason | None:
    """``KIOSK_OUTSIDE_RANGE`` when the kiosk is outside the project's range, else None.

    ``kiosk_range_error`` gives the same verdict with the message (how far outside) to show.
    """
    err = kiosk_range_error(project, kiosk_lat, kiosk_lon)
    return err.reason if err is not None else None


def _metres(d: float) -> str:
    """Whole metres, rounded up (a person reads "12456 米", not "12455.6"; 100.5 → "101", so an
    accuracy just over a limit of 100 never reads as the limit itself)."""
    return str(math.ceil(round(d, 3)))


def place_message(
    place: Place,
    reason: Reason | None = None,
    *,
    lang: str = "zh",
    max_accuracy_m: float = DEFAULT_MAX_ACCURACY_M,
) -> str | None:
    """A refusal of the place said plainly, with the figures (how far outside, how inaccurate)."""
    reason = reason or place.refusal
    if reason is Reason.OUTSIDE_RANGE:
        if place.distance_m is None:
            return NoRange().message(lang)
        d = _metres(place.distance_m)
        return f"{reason.en}: {d} m outside" if lang == "en" else f"{reason.zh}：距签到范围还有 {d} 米"
    if reason is Reason.LOCATION_INACCURATE:
        acc = _metres(place.accuracy_m or 0.0)
        limit = _metres(max_accuracy_m)
        return (
            f"{reason.en} (±{acc} m; at most ±{limit} m accepted)"
            if lang == "en"
            else f"{reason.zh}（当前 ±{acc} 米，要求 ±{limit} 米以内）"
        )
    return None
