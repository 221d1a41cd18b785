"""Annotated side-by-side videos (RGB | X with boxes drawn) written with OpenCV, and their read-back check.

Used by the quickstart (ground truth and prediction on a synthetic test sequence) and by
``tracking/video_demo.py`` (the prediction on the user's frames)::

    frames = (annotate_pair(rgb, x, [(gt, GT_COLOR, "ground truth"), (pred, PRED_COLOR, "CSTrack")],
                            header=f"frame {i}") for i, (rgb, x, gt, pred) in enumerate(...))
    video = write_video("out.webm", frames, fps=15)
    assert read_video_info(video.path)["frames"] == video.frames

Browsers play VP8 in WebM and H.264 in MP4, not the ``mp4v`` (MPEG-4 Part 2) codec that every OpenCV
build writes. So ``.webm`` (the default of both tools) is written as VP8 (the OpenCV wheels ship
libvpx; VP9 is several times slower to encode), ``.mp4`` as H.264 where the build can encode it,
else ``mp4v``, and ``.avi`` as MJPG. When the requested format cannot be written, the next one of
:data:`CODECS` is used (``.webm`` -> ``.mp4`` -> ``.avi``) with a one-line warning naming the file
that was written and whether browsers play it.
"""
from __future__ import annotations

import contextlib
import logging
import math
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np

logger = logging.getLogger(__name__)

PathLike = Union[str, Path]
Color = Tuple[int, int, int]

GT_COLOR: Color = (60, 220, 60)       # BGR green
PRED_COLOR: Color = (40, 80, 255)     # BGR red-orange
STATIC_COLOR: Color = (200, 200, 200)



@dataclass(frozen=True)
class Codec:
    """A FourCC OpenCV is asked for, its common name, and whether browsers play it in its container."""

    fourcc: str
    name: str
    browser_playable: bool


# Per extension, the codecs to try in order; a format none of them can write falls back to the next
# extension of FALLBACK_ORDER.
CODECS: Dict[str, Tuple[Codec, ...]] = {
    ".webm": (Codec("VP80", "VP8", True),),
    ".mp4": (Codec("avc1", "H.264", True), Codec("mp4v", "MPEG-4 Part 2", False)),
    ".avi": (Codec("MJPG", "Motion JPEG", False),),
}
FALLBACK_ORDER = (".webm", ".mp4", ".avi")
HEADER_HEIGHT = 22
LEGEND_HEIGHT = 20


class VideoWriteError(IOError):
    """A video that cannot be written or read back; names the file."""


def box_is_valid(box: Optional[Sequence[float]]) -> bool:
    """A box with four finite values and positive width and height."""
    return box is not None and len(box) == 4 and all(math.isfinite(float(v)) for v in box) \
        and float(box[2]) > 0 and float(box[3]) > 0


def draw_box(img: np.ndarray, box: Optional[Sequence[float]], color: Color, scale: float = 1.0,
             thickness: int = 2) -> None:
    """Draw an ``[x, y, w, h]`` box (image pixels before ``scale``) in place; invalid boxes are skipped."""
    if not box_is_valid(box):
        return
    x, y, w, h = (float(v) * scale for v in box)
    cv2.rectangle(img, (int(round(x)), int(round(y))), (int(round(x + w)), int(round(y + h))), color, thickness,
                  cv2.LINE_AA)


def _label(img: np.ndarray, text: str, org: Tuple[int, int], color: Color = (255, 255, 255),
           size: float = 0.45) -> None:
    """White text on a dark box, readable on any background (``org`` is the text's bottom-left corner)."""
    (w, h), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, size, 1)
    x, y = org
    cv2.rectangle(img, (x - 3, y - h - 3), (x + w + 3, y + base), (32, 32, 32), -1)
    cv2.putText(img, text, org, cv2.FONT_HERSHEY_SIMPLEX, size, color, 1, cv2.LINE_AA)


def to_bgr(image: np.ndarray) -> np.ndarray:
    """Any displayable image (grey, BGR, BGRA, 16-bit) as 8-bit 3-channel BGR."""
    if image.dtype != np.uint8:
        image = cv2.normalize(image, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return image


def annotate_pair(rgb_bgr: np.ndarray, x_bgr: np.ndarray,
                  boxes: Sequence[Tuple[Optional[Sequence[float]], Color, str]], header: str = "",
                  labels: Tuple[str, str] = ("RGB", "X"), scale: float = 1.0) -> np.ndarray:
    """One video frame: a header line, RGB and X side by side with every box on both, and a legend.

    Args:
        rgb_bgr, x_bgr: the two images to show (BGR, same size; X already in displayable form).
        boxes: ``(box [x, y, w, h] or None, colour, legend name)``, drawn in order, each one thinner than
            the one before, so that boxes that coincide all stay visible.
        header: text of the top line (frame number, scores).
        labels: names written in the corner of each panel.
        scale: resize factor of both panels (small frames are easier to see at 2x).
    """
    panels = []
    for image, label in zip((rgb_bgr, x_bgr), labels):
        panel = to_bgr(image)
        if scale != 1.0:
            panel = cv2.resize(panel, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
        else:
            panel = panel.copy()
        for index, (box, color, _) in enumerate(boxes):
            draw_box(panel, box, color, scale, thickness=1 + len(boxes) - index)
        _label(panel, label, (6, 16))
        panels.append(panel)
    if panels[0].shape != panels[1].shape:
        raise ValueError(f"RGB and X panels differ in size: {panels[0].shape} vs {panels[1].shape}")
    gap = np.full((panels[0].shape[0], 4, 3), 255, np.uint8)
    body = np.hstack([panels[0], gap, panels[1]])
    width = body.shape[1]
    top = np.full((HEADER_HEIGHT, width, 3), 32, np.uint8)
    _label(top, header, (6, 15))
    legend = np.full((LEGEND_HEIGHT, width, 3), 32, np.uint8)
    x = 6
    for _, color, name in boxes:
        cv2.rectangle(legend, (x, 5), (x + 18, 15), color, 2)
        _label(legend, name, (x + 24, 14))
        x += 40 + cv2.getTextSize(name, cv2.FONT_HERSHEY_SIMPLEX, 0.45, 1)[0][0]
    return np.vstack([top, body, legend])


@dataclass(frozen=True)
class WrittenVideo:
    """A finished video: where it is, how many frames it holds and how it is encoded."""

    path: Path
    frames: int
    codec: Codec


@contextlib.contextmanager
def _native_stderr_to(sink) -> Iterator[None]:
    """Send what native code prints on file descriptor 2 to ``sink`` (a file) for the duration.

    Opening a writer makes FFmpeg / OpenCV print lines such as "tag 'VP80' is not supported ... fallback"
    for a codec that then works, or an error block per hardware H.264 encoder it probes; those are noise
    to a user who gets a working file, and are shown only when no codec could be opened.
    """
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        os.dup2(sink.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _open_writer(path: Path, size: Tuple[int, int], fps: float) -> Tuple[cv2.VideoWriter, Path, Codec]:
    """A VideoWriter for ``path``: the first codec of its extension that opens, else the next extension's."""
    suffix = path.suffix.lower()
    if suffix not in CODECS:
        raise VideoWriteError(f"{path}: unsupported video extension '{path.suffix}'; use {', '.join(FALLBACK_ORDER)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    candidates = FALLBACK_ORDER[FALLBACK_ORDER.index(suffix):]
    tried: List[str] = []
    with tempfile.TemporaryFile(mode="w+") as native_output:
        for extension in candidates:
            target = path.with_suffix(extension)
            for codec in CODECS[extension]:
                with _native_stderr_to(native_output):
                    writer = cv2.VideoWriter(str(target), cv2.VideoWriter_fourcc(*codec.fourcc), float(fps), size)
                if writer.isOpened():
                    return writer, target, codec
                writer.release()
                target.unlink(missing_ok=True)
                tried.append(f"{extension} {codec.name}")
        native_output.seek(0)
        details = native_output.read().strip()
    raise VideoWriteError(f"OpenCV cannot open a video writer for {path} (size {size}; tried {', '.join(tried)})"
                          + (f"; OpenCV said: {details.splitlines()[-1]}" if details else ""))


def write_video(path: PathLike, frames: Iterable[np.ndarray], fps: float = 15.0) -> WrittenVideo:
    """Write BGR frames (all the same size) to ``path`` or, if its format cannot be written, a fallback.

    The file is written under a temporary name and renamed when complete, so a finished-looking video
    is never a partial one. A fallback (another codec or extension) is logged as one warning line.
    Raises :class:`VideoWriteError` if no frame was given or writing fails.
    """
    path = Path(path)
    writer = None
    tmp = None
    codec = None
    count = 0
    try:
        for frame in frames:
            if writer is None:
                size = frame.shape[:2]
                writer, tmp, codec = _open_writer(path.with_name(f".tmp_{path.name}"), (size[1], size[0]), fps)
            if frame.shape[:2] != size:
                raise VideoWriteError(f"{path}: frame {count} is {frame.shape[:2]}, the video is {size}")
            writer.write(np.ascontiguousarray(frame))
            count += 1
    except BaseException:
        if writer is not None:
            writer.release()
            tmp.unlink(missing_ok=True)
        raise
    if writer is None:
        raise VideoWriteError(f"{path}: no frames to write")
    writer.release()
    final = path.with_suffix(tmp.suffix)
    os.replace(tmp, final)
    if final != path or codec is not CODECS[path.suffix.lower()][0]:
        logger.warning("this OpenCV build cannot write %s as %s; wrote %s (%s), which browsers %s",
                       path.name, CODECS[path.suffix.lower()][0].name, final, codec.name,
                       "play" if codec.browser_playable else "do not play (VLC and ffplay do)")
    return WrittenVideo(final, count, codec)


def read_video_info(path: PathLike) -> Dict[str, float]:
    """Decode a video completely: ``{"frames": decoded frame count, "width", "height", "fps"}``.

    Counting by decoding is exact where the container's frame count (CAP_PROP_FRAME_COUNT) may not be.
    """
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise VideoWriteError(f"OpenCV cannot open the video {path}")
    try:
        info = {"fps": float(cap.get(cv2.CAP_PROP_FPS)), "width": 0, "height": 0, "frames": 0}
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            info["frames"] += 1
            info["height"], info["width"] = frame.shape[:2]
    finally:
        cap.release()
    return info


def check_video(path: PathLike, expected_frames: int) -> Dict[str, float]:
    """Read a written video back and check its frame count; :class:`VideoWriteError` if it differs."""
    info = read_video_info(path)
    if info["frames"] != expected_frames:
        raise VideoWriteError(f"{path}: OpenCV reads back {info['frames']} frames, {expected_frames} were written")
    return info


__all__ = ["CODECS", "Codec", "FALLBACK_ORDER", "GT_COLOR", "PRED_COLOR", "STATIC_COLOR", "VideoWriteError",
           "WrittenVideo", "annotate_pair", "box_is_valid", "check_video", "draw_box", "read_video_info", "to_bgr",
           "write_video"]
