"""``kiosk phone signin``: way A (方式一) on the worker's phone, stood in for by the command line.

    kiosk phone signin --worker-code TOKEN --scan (IMAGE_FILE | TOKEN_TEXT) --at LAT,LON
                       [--accuracy METRES] [--crs wgs84|gcj02] --db SHARED_URL

``--scan`` is what the phone's camera read off the officer's screen: a photo of it (decoded here with
the camera's decoder chain) or the code's text. Prints one JSON object (outcome, reason, message_zh,
message_en, distance_m, …); exit status 0 when signed in or already signed in today, 1 when refused,
2 on bad input (no QR in the photo, a latitude of 95, …) — which records nothing. The logic lives in
``store/rules/way_a.py``. Registered by ``kiosk/cli/phone_cmd.py``; this module stays light to import.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from kiosk.cli.common import add_store_args, config_of, db_url, print_json

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".gif", ".tif", ".tiff")


def register_signin(psub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    # argparse registration, the shape every command shares (its own words); --db/--config: add_store_args
    p = psub.add_parser(
        "signin",
        help="方式一：手机扫签到员的码签到 / way A: the phone scans the officer's code",
        description="Way A: verify the officer's code (scanned: a photo or its text) and the worker's own "
        "code, check that the phone is inside the project's sign-in range, apply every worker rule and "
        "record the attendance. Prints one JSON object; exit 0 only when signed in or already.",
    )
    p.add_argument(
        "--worker-code", required=True, metavar="TOKEN", help="工人本人的个人建设码 / the worker's own code"
    )
    p.add_argument(
        "--scan",
        required=True,
        metavar="IMAGE_FILE|TOKEN_TEXT",
        help="扫到的签到员码：照片文件或码的文本 / the officer's code as scanned: a photo of it, or its text",
    )
    p.add_argument(
        "--at", required=True, metavar="LAT,LON", help="手机定位（纬度,经度） / the phone's position"
    )
    p.add_argument(
        "--accuracy", type=float, metavar="METRES", help="定位精度（米） / the reported accuracy, metres"
    )
    p.add_argument(
        "--crs",
        choices=("wgs84", "gcj02"),
        default="wgs84",
        help="坐标系：GPS 为 wgs84，高德/腾讯/微信地图为 gcj02 / coordinate system (default wgs84)",
    )
    add_store_args(
        p, help_="共享数据库地址 / the shared database URL (default: the config's shared database)"
    )
    p.set_defaults(func=cmd_signin)


def scanned_text(scan: str, decoder: str = "zxingcpp") -> str:
    """The officer's code from ``--scan``: decoded from a photo when it names a file, else the text itself."""
    from store.errors import ValidationError

    path = Path(scan).expanduser()
    looks_like_file = path.suffix.lower() in IMAGE_SUFFIXES or "/" in scan or "\\" in scan
    if not path.is_file():
        if looks_like_file:
            raise ValidationError("scan", f"找不到图片文件：{scan}", f"Image file not found: {scan}")
        return scan.strip()
    import cv2

    from kiosk.camera.decoders import make_decoder

    image = cv2.imread(str(path))
    if image is None:
        raise ValidationError("scan", f"无法读取图片：{path}", f"Cannot read the image {path}")
    found = [d.text.strip() for d in make_decoder(decoder)(image) if d.text.strip()]
    if not found:
        raise ValidationError(
            "scan", f"图片中没有可识别的二维码：{path}", f"No readable QR code in the image {path}"
        )
    if len(set(found)) > 1:
        raise ValidationError(
            "scan",
            f"图片中有{len(set(found))}个二维码，请只拍签到员的码",
            f"{len(set(found))} QR codes in the image: photograph the officer's code alone",
        )
    return found[0]


def cmd_signin(args: argparse.Namespace) -> int:
    from kiosk.cli.common import store_at
    from kiosk.wiring import verifier_for
    from store.rules.geo import parse_point, validate_accuracy
    from store.rules.way_a import sign_in_way_a

    cfg = config_of(args)
    lat, lon = parse_point(args.at)
    validate_accuracy(args.accuracy)
    officer_token = scanned_text(args.scan, cfg.camera.decoder)
    url = db_url(args, shared=True)
    with store_at(url) as engine:
        result = sign_in_way_a(
            engine,
            verifier_for(cfg, engine),
            officer_token=officer_token,
            worker_token=args.worker_code,
            latitude=lat,
            longitude=lon,
            accuracy_m=args.accuracy,
            crs=args.crs,
            max_accuracy_m=cfg.location.max_accuracy_m,
            policy=cfg.sign_in_policy(),
        )
    print_json(result.as_json())
    return 0 if result.ok else 1
