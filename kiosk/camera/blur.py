"""Blur kernels and their undoing: what a webcam does to a phone screen, and OpenCV-based inverses.

``disc_kernel`` (defocus) and ``line_kernel`` (motion blur) are used both ways: the simulated phone
(``simulate``) blurs frames with them, the decoder chain (``decoders``) deconvolves with them
(``wiener``, on OpenCV's DFT). ``motion_angle`` finds a motion blur's direction from the structure
tensor; ``busiest_window`` finds where in a frame a code most likely is when zxing-cpp saw none (the
square of densest gradients: a QR code is the busiest thing a phone screen shows).
"""

from __future__ import annotations

from typing import cast

import cv2
import numpy as np

Box = tuple[tuple[int, int], ...]


def disc_kernel(radius: float) -> np.ndarray:
    """A defocus blur: a disc of ``radius`` pixels (anti-aliased edge), summing to 1."""
    r = max(radius, 0.5)
    n = int(np.ceil(r)) * 2 + 3
    c = n // 2
    yy, xx = np.mgrid[:n, :n]
    k = np.clip(r + 0.5 - np.hypot(xx - c, yy - c), 0, 1).astype(np.float32)
    return cast(np.ndarray, k / k.sum())


def line_kernel(length: float, angle: float) -> np.ndarray:
    """A motion blur: a line of ``length`` pixels at ``angle`` degrees through the centre, summing to 1."""
    length = max(length, 1.0)
    n = int(np.ceil(length)) + 3
    n += 1 - n % 2
    c = n // 2
    k = np.zeros((n, n), np.float32)
    # points every 1/8 pixel along the line, each spread over its four nearest pixels (bilinear)
    t = np.linspace(-length / 2, length / 2, int(np.ceil(length * 8)) + 1)
    a = np.deg2rad(angle)
    xs, ys = c + t * np.cos(a), c + t * np.sin(a)
    x0, y0 = np.floor(xs).astype(int), np.floor(ys).astype(int)
    fx, fy = (xs - x0).astype(np.float32), (ys - y0).astype(np.float32)
    for dx, dy, wgt in (
        (0, 0, (1 - fx) * (1 - fy)),
        (1, 0, fx * (1 - fy)),
        (0, 1, (1 - fx) * fy),
        (1, 1, fx * fy),
    ):
        np.add.at(k, (y0 + dy, x0 + dx), wgt)
    return cast(np.ndarray, k / k.sum())


def wiener(gray: np.ndarray, psf: np.ndarray, nsr: float = 0.02) -> np.ndarray:
    """Wiener deconvolution of a grey image by the blur ``psf`` (noise-to-signal ratio ``nsr``), with
    OpenCV's DFT: ``G · conj(H) / (|H|² + nsr)``. The image is padded (mirrored) to a size the DFT
    likes, which also keeps the edges from ringing into the picture."""
    h, w = gray.shape[:2]
    kh, kw = psf.shape
    fh, fw = cv2.getOptimalDFTSize(h + kh), cv2.getOptimalDFTSize(w + kw)
    g = cv2.copyMakeBorder(gray, 0, fh - h, 0, fw - w, cv2.BORDER_REFLECT).astype(np.float32) / 255.0
    pad = np.zeros((fh, fw), np.float32)
    pad[:kh, :kw] = psf
    pad = np.roll(pad, (-(kh // 2), -(kw // 2)), axis=(0, 1))
    big = cv2.dft(g, flags=cv2.DFT_COMPLEX_OUTPUT)
    k = cv2.dft(pad, flags=cv2.DFT_COMPLEX_OUTPUT)
    num = cv2.mulSpectrums(big, k, 0, conjB=True)
    power = cv2.mulSpectrums(k, k, 0, conjB=True)[..., 0] + nsr
    back = cv2.idft(num / power[..., None], flags=cv2.DFT_SCALE | cv2.DFT_REAL_OUTPUT)[:h, :w]
    return cast(np.ndarray, np.clip(back * 255.0, 0, 255).astype(np.uint8))


def _tensor(gray: np.ndarray) -> tuple[float, float, float]:
    g = gray.astype(np.float32)
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3)
    return float((gx * gx).mean()), float((gy * gy).mean()), float((gx * gy).mean())


def motion_angle(gray: np.ndarray) -> float:
    """The direction of a motion blur (degrees, 0–180): along the motion the image has lost its
    gradients, so it is the eigenvector of the structure tensor with the smaller eigenvalue."""
    jxx, jyy, jxy = _tensor(gray)
    strong = 0.5 * np.degrees(np.arctan2(2 * jxy, jxx - jyy))
    return float((strong + 90.0) % 180.0)


def coherence(gray: np.ndarray) -> float:
    """0 (gradients every way) … 1 (all one way): how directional an image is (a motion blur makes
    a QR code so)."""
    jxx, jyy, jxy = _tensor(gray)
    total = jxx + jyy
    return float(np.hypot(jxx - jyy, 2 * jxy) / total) if total > 0 else 0.0


def edge_share(gray: np.ndarray, threshold: float = 40.0) -> float:
    """The share of a (half-size) square's pixels on an edge (Sobel magnitude over ``threshold``): a
    QR code, blurred or not, 0.3–0.7; an empty gate's busiest square under 0.1 (boxes, a gradient)."""
    half = cv2.resize(gray, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA).astype(np.float32)
    gx = cv2.Sobel(half, cv2.CV_32F, 1, 0)
    gy = cv2.Sobel(half, cv2.CV_32F, 0, 1)
    return float((cv2.magnitude(gx, gy) > threshold).mean())


def busiest_window(gray: np.ndarray, side: int) -> Box:
    """The ``side``-pixel square of ``gray`` with the most gradient energy (on a quarter-size copy),
    as its four corners clockwise from top-left."""
    f = 4
    small = cv2.resize(gray, None, fx=1 / f, fy=1 / f, interpolation=cv2.INTER_AREA).astype(np.float32)
    gx = cv2.Sobel(small, cv2.CV_32F, 1, 0)
    gy = cv2.Sobel(small, cv2.CV_32F, 0, 1)
    s = max(3, side // f)
    energy = cv2.boxFilter(gx * gx + gy * gy, -1, (s, s))
    y, x = np.unravel_index(int(np.argmax(energy)), energy.shape)
    h, w = gray.shape[:2]
    x0, y0 = max(0, int(x) * f - side // 2), max(0, int(y) * f - side // 2)
    x1, y1 = min(w, x0 + side), min(h, y0 + side)
    return ((x0, y0), (x1, y0), (x1, y1), (x0, y1))
