"""``kiosk decode [--decoder NAME] [--json] PATH...``: read the QR codes in images, folders and videos.

A diagnosis tool: does the camera's picture (or a saved frame, or a recording) hold a readable code,
and how long does reading it take? Prints the codes' texts, or with ``--json`` one line per frame:
``{"source": "<path>", "frame": <int>, "codes": ["<text>", ...], "ms": <decode time>}``.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk.cli.common import add_config_arg, print_json, progress

if TYPE_CHECKING:
    import numpy as np

ORDER = 40


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    # argparse registration, the shape every command shares (its own words); --db/--config: add_store_args
    p = sub.add_parser(
        "decode",
        help="识别图片/视频中的二维码 / read the QR codes in images, folders and videos",
        description="识别图片、图片文件夹和视频中的二维码。 / Decodes image files, folders of images (sorted "
        "by name) and video files with the kiosk's decoder chain. Exit status 0 when some frame held a code, "
        "1 when none did.",
    )
    p.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="图片、图片文件夹或视频 / image, folder of images, or video file",
    )
    p.add_argument(
        "--decoder",
        choices=("zxingcpp", "pyzbar", "opencv"),
        default=None,
        help="首选解码器 / first decoder of the chain (default: camera.decoder, zxingcpp)",
    )
    p.add_argument(
        "--only", action="store_true", help="只用该解码器 / that decoder alone: no fallback, no retries"
    )
    p.add_argument("--json", action="store_true", help="每帧一行 JSON / one JSON line per frame")
    add_config_arg(p)
    p.set_defaults(func=cmd_decode)


def _frames(path: Path) -> Iterator[tuple[str, int, np.ndarray]]:
    from kiosk.camera.sources import FolderSource, iter_frames, open_source

    src = open_source(str(path))
    try:
        for f in iter_frames(src):
            if isinstance(src, FolderSource):
                yield str(src.files[f.index]), f.index, f.image
            else:
                yield str(path), f.index, f.image
    finally:
        src.close()


def _count(path: Path) -> int | None:
    import cv2

    from kiosk.camera.sources import IMAGE_SUFFIXES

    if path.is_dir():
        return sum(1 for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return 1
    cap = cv2.VideoCapture(str(path))
    n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    cap.release()
    return n if n > 0 else None


def cmd_decode(args: argparse.Namespace) -> int:
    import time

    from kiosk.camera.decoders import make_decoder
    from kiosk.camera.sources import SourceError

    name = args.decoder
    if name is None:
        from kiosk.cli.common import config_of

        name = config_of(args).camera.decoder
    decode = make_decoder(name, fallback=not args.only, retries=not args.only)
    paths = [Path(p).expanduser() for p in args.paths]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:  # every path is checked before any work
        raise SourceError(
            f"找不到文件或文件夹：{'、'.join(missing)}", f"No such file or folder: {', '.join(missing)}"
        )
    frames = with_codes = 0
    with progress(False if args.json else None) as prog:
        for path in paths:
            task = prog.add_task(str(path), total=_count(path)) if prog else None
            for source, index, image in _frames(path):
                t0 = time.perf_counter()
                found = decode(image)
                ms = (time.perf_counter() - t0) * 1000.0
                frames += 1
                with_codes += bool(found)
                texts = [d.text for d in found]
                if args.json:
                    print_json({"source": source, "frame": index, "codes": texts, "ms": round(ms, 3)})
                else:
                    line = f"{source}#{index}: " + (" | ".join(map(repr, texts)) if texts else "—")
                    if prog is not None:
                        prog.console.print(line, markup=False, highlight=False)
                    else:
                        print(line, flush=True)
                if prog is not None and task is not None:
                    prog.advance(task)
    if not args.json:
        print(f"{with_codes}/{frames} 帧识别到二维码 / frames with a code", flush=True)
    return 0 if with_codes else 1
