"""Hostile uploads of issue 27, made here (nothing stored in the repo): a progressive JPEG with thousands
of repeated scans (every scan makes the decoder go over the whole picture again), and a 50-megapixel
PNG of a few hundred KB (one colour compresses to nothing; decoded it is 150 MB). Used by
tests/test_upload_limits.py and bench/phone.py."""

from __future__ import annotations

import io
import zlib

import numpy as np
from PIL import Image


def _segments(data: bytes) -> list[tuple[int, int, int]]:
    """(marker, start, end) of each marker segment of a JPEG, a scan's entropy-coded data included."""
    out: list[tuple[int, int, int]] = []
    i = 2  # after SOI
    while i < len(data) - 1:
        assert data[i] == 0xFF
        marker = data[i + 1]
        if marker == 0xD9:  # EOI
            out.append((marker, i, i + 2))
            break
        length = int.from_bytes(data[i + 2 : i + 4], "big")
        end = i + 2 + length
        if marker == 0xDA:  # the scan's data runs to the next marker that is not a stuffed FF 00 / RST
            while end < len(data) - 1 and not (
                data[end] == 0xFF and data[end + 1] not in (0x00, *range(0xD0, 0xD8))
            ):
                end += 1
        out.append((marker, i, end))
        i = end
    return out


def scan_bomb(scans: int = 6000, size: tuple[int, int] = (4000, 3000)) -> bytes:
    """A progressive JPEG of a smooth picture (a 12 MP phone photo's size) whose smallest scan is repeated
    until it holds ``scans`` scans: each copy is a few dozen bytes, each costs the decoder a full pass."""
    w, h = size
    ramp = np.linspace(60, 200, w, dtype=np.float32)[None, :, None]
    im = Image.fromarray(np.broadcast_to(ramp, (h, w, 3)).astype(np.uint8))
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=90, progressive=True)
    data = buf.getvalue()
    segs = _segments(data)
    sos = [s for s in segs if s[0] == 0xDA]
    last = min(sos, key=lambda seg: seg[2] - seg[1])  # the smallest scan: a refinement of nothing much
    eoi = segs[-1][1]
    extra = data[last[1] : last[2]] * (scans - len(sos))
    return data[:eoi] + extra + data[eoi:]


def png_bomb(width: int = 8660, height: int = 5770) -> bytes:
    """A valid RGB PNG of ``width`` × ``height`` (50 MP by default) of one grey, compressed to ~200 KB."""
    import struct

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    row = b"\x00" + b"\x80" * (width * 3)
    comp = zlib.compressobj(9)
    parts = [comp.compress(row) for _ in range(height)]
    parts.append(comp.flush())
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", b"".join(parts)) + chunk(b"IEND", b"")
