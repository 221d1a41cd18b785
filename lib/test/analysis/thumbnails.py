"""Small annotated frames for the HTML report: RGB above X, ground truth and every tracker's box drawn.

Frames come from the benchmark readers (``lib.test.evaluation.datasets.load_benchmark``), whose
``Sequence.frame(i)`` gives the ``H x W x 6`` RGB‖X array the tracker saw (depth already colour-mapped).
"""
from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np

from lib.quickstart.visualize import draw_box

Color = tuple[int, int, int]


def hex_to_bgr(color: str) -> Color:
    """``#rrggbb`` -> OpenCV BGR tuple."""
    value = color.lstrip("#")
    if len(value) != 6:
        raise ValueError(f"colour '{color}' is not #rrggbb")
    r, g, b = (int(value[i:i + 2], 16) for i in (0, 2, 4))
    return b, g, r


def frame_indices(num_frames: int, count: int) -> list[int]:
    """``count`` evenly spaced frame indices from the first to the last frame (fewer for short sequences)."""
    if count <= 0 or num_frames <= 0:
        return []
    return sorted(set(np.linspace(0, num_frames - 1, min(count, num_frames)).round().astype(int).tolist()))


def _label(image: np.ndarray, text: str) -> None:
    """White text on a dark box in the top-left corner."""
    (w, h), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.35, 1)
    cv2.rectangle(image, (0, 0), (w + 4, h + base + 3), (32, 32, 32), -1)
    cv2.putText(image, text, (2, h + 2), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (255, 255, 255), 1, cv2.LINE_AA)


def thumbnail(frame: np.ndarray, boxes: Sequence[tuple[np.ndarray, Color]], height: int, label: str = "") -> np.ndarray:
    """One thumbnail (BGR): the RGB half of ``frame`` above its X half, each ``height`` pixels high.

    Args:
        frame: ``H x W x 6`` uint8, RGB then X (``Sequence.frame``).
        boxes: ``(x y w h box, BGR colour)`` in drawing order; the first (ground truth) is drawn 3 px wide,
            the trackers' 1 px on top of it, so a box on the ground truth leaves it visible.
            Boxes with a NaN or a non-positive size are not drawn.
        height: height of each half in pixels.
        label: text written in the corner of the RGB half (e.g. the frame number).
    """
    if frame.ndim != 3 or frame.shape[2] != 6:
        raise ValueError(f"expected an H x W x 6 RGB-X frame, got shape {frame.shape}")
    scale = height / frame.shape[0]
    size = (max(1, round(frame.shape[1] * scale)), height)
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    halves = []
    for channels in (slice(0, 3), slice(3, 6)):
        half = cv2.resize(np.ascontiguousarray(frame[..., channels][..., ::-1]), size, interpolation=interpolation)
        for index, (box, color) in enumerate(boxes):
            draw_box(half, box, color, scale, thickness=3 if index == 0 else 1)
        halves.append(half)
    if label:
        _label(halves[0], label)
    gap = np.full((2, size[0], 3), 255, np.uint8)
    return np.vstack([halves[0], gap, halves[1]])


def encode_jpeg(image: np.ndarray, quality: int = 85) -> bytes:
    """A BGR image as JPEG bytes."""
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError(f"OpenCV cannot encode a {image.shape} image as JPEG")
    return data.tobytes()
