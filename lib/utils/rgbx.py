"""Reading RGB + X frames exactly as the reference does (``docs/evaluation.md``, ``docs/training.md``).

Training datasets, benchmark readers, the VOT entry point and the demo all build their 6-channel
frames here, so train and test see the same X encoding:

* ``rgbrgb`` (thermal, event): RGB plus the X image converted BGR->RGB;
* ``rgbcolormap`` (depth): RGB plus the JET colormap, in OpenCV's BGR order, of the depth map clipped at
  ``min(3 * median, 10000)`` and min-max normalised per frame.
"""
from __future__ import annotations

import os

import cv2
import numpy as np

X_MODES = ("color", "raw_x", "normalized_x", "3x", "colormap", "rgbcolormap", "rgb3x", "rgbrgb")


class FrameReadError(IOError):
    """An image that is missing, unreadable or of an unexpected shape; names the file."""


# End markers of complete files: a truncated download or copy lacks them (checked before decoding,
# because OpenCV's imread decodes a truncated JPEG to a grey-filled image with only a warning).
_JPEG_EOI = b"\xff\xd9"
_PNG_IEND = b"IEND\xaeB`\x82"


_TAIL_BYTES = 4096  # enough for an end marker behind any padding seen in practice


def _check_complete(path: str, head: bytes, tail: bytes, size: int) -> None:
    """Raise :class:`FrameReadError` when an image file is visibly cut short (JPEG, PNG, BMP).

    ``head`` and ``tail`` are the file's first and last bytes (at least 6 and up to 4096), ``size`` its length.
    """
    ext = os.path.splitext(path)[1].lower()
    if ext in (".jpg", ".jpeg"):
        ok = head[:2] == b"\xff\xd8" and _JPEG_EOI in tail.rstrip(b"\x00\r\n ")[-64:]
    elif ext == ".png":
        ok = _PNG_IEND in tail[-64:]
    elif ext == ".bmp":
        ok = size >= 6 and int.from_bytes(head[2:6], "little") <= size
    else:
        return
    if not ok:
        raise FrameReadError(f"cannot read image {path}: the file is truncated or damaged ({size} bytes, "
                             f"no {ext[1:].upper()} end marker); copy or extract it again")


def check_image_file(path: str) -> None:
    """Refuse a missing, unreadable or truncated image file without decoding it (reads its two ends only)."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as handle:
            head = handle.read(8)
            size = os.fstat(handle.fileno()).st_size
            handle.seek(max(0, size - _TAIL_BYTES))
            tail = handle.read()
    except FileNotFoundError:
        raise FrameReadError(f"cannot read image {path}: file does not exist") from None
    except OSError as e:
        raise FrameReadError(f"cannot read image {path}: {e.strerror or e}") from None
    _check_complete(path, head, tail, size)


def imread(path: str, flags: int) -> np.ndarray:
    """``cv2.imread`` that refuses missing, unreadable, truncated and undecodable files, naming them."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        raise FrameReadError(f"cannot read image {path}: file does not exist") from None
    except OSError as e:
        raise FrameReadError(f"cannot read image {path}: {e.strerror or e}") from None
    _check_complete(path, data[:8], data[-_TAIL_BYTES:], len(data))
    img = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    if img is None or img.size == 0:
        raise FrameReadError(f"cannot read image {path}: OpenCV cannot decode it")
    return img


def imread_rgb(path: str) -> np.ndarray:
    """Read a colour image as H x W x 3 uint8 in RGB order; raise :class:`FrameReadError` on failure."""
    return cv2.cvtColor(imread(path, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def imread_unchanged(path: str) -> np.ndarray:
    """Read an image as stored (16-bit depth PNGs stay uint16 H x W; colour JPEG/BMP stay BGR)."""
    return imread(path, cv2.IMREAD_UNCHANGED)


def clip_depth(depth: np.ndarray) -> np.ndarray:
    """Clip depth values above ``min(3 * median, 10000)`` (reference ``depth_clip=True``)."""
    max_depth = min(np.median(depth) * 3, 10000)
    depth = depth.copy()
    depth[depth > max_depth] = max_depth
    return depth


def normalize_x(x: np.ndarray) -> np.ndarray:
    """Per-frame min-max normalisation to uint8 (OpenCV NORM_MINMAX, a constant image gives zeros)."""
    return np.uint8(cv2.normalize(x, None, 0, 255, cv2.NORM_MINMAX))


def depth_to_colormap(depth: np.ndarray, clip: bool = True) -> np.ndarray:
    """16-bit depth -> JET colormap H x W x 3 in OpenCV's BGR order, as the RGB-D benchmarks feed it."""
    if clip:
        depth = clip_depth(depth)
    return cv2.applyColorMap(normalize_x(depth), cv2.COLORMAP_JET)


def merge_rgbx(rgb: np.ndarray, x: np.ndarray, path_hint: str = "") -> np.ndarray:
    """Stack RGB (H x W x 3) and X (H x W x 3) into H x W x 6; the sizes must agree."""
    if rgb.shape[:2] != x.shape[:2]:
        raise FrameReadError(
            f"RGB and X frames differ in size: {rgb.shape[:2]} vs {x.shape[:2]} {path_hint}".rstrip())
    return np.concatenate([rgb, x], axis=2)


def x_to_3ch_rgb(x: np.ndarray, path: str = "") -> np.ndarray:
    """A thermal / event image read by OpenCV (BGR) as 3-channel RGB; grey images are replicated."""
    if x.ndim == 2:
        x = cv2.cvtColor(x, cv2.COLOR_GRAY2BGR)
    if x.ndim != 3 or x.shape[2] not in (3, 4):
        raise FrameReadError(f"X image {path} has shape {x.shape}; expected H x W x 3")
    if x.dtype != np.uint8:
        raise FrameReadError(f"X image {path} has dtype {x.dtype}; 'rgbrgb' expects 8-bit images")
    return cv2.cvtColor(x[..., :3], cv2.COLOR_BGR2RGB)


def get_x_frame(color_path: str, x_path: str, dtype: str = "rgbrgb", depth_clip: bool = False) -> np.ndarray:
    """Read one RGB + X frame pair in one of the reference's modes (see module docstring).

    Raises :class:`FrameReadError` naming the file for a missing/unreadable image, a size mismatch
    or an unknown mode (the reference printed a message and returned None).
    """
    if dtype not in X_MODES:
        raise ValueError(f"unknown X mode '{dtype}'; expected one of {X_MODES}")
    rgb = imread_rgb(color_path)
    if dtype == "color":
        return rgb
    x = imread_unchanged(x_path)
    if depth_clip:
        x = clip_depth(x)
    if dtype == "raw_x":
        return x
    if dtype == "rgbrgb":
        return merge_rgbx(rgb, x_to_3ch_rgb(x, x_path), f"({color_path}, {x_path})")
    if x.ndim == 3:
        # a colour X image in a depth mode: use its first channel as the scalar map
        x = x[..., 0]
    norm = normalize_x(x)
    if dtype == "normalized_x":
        return norm
    if dtype == "3x":
        return np.stack([norm] * 3, axis=2)
    if dtype == "colormap":
        return cv2.applyColorMap(norm, cv2.COLORMAP_JET)
    if dtype == "rgb3x":
        return merge_rgbx(rgb, np.stack([norm] * 3, axis=2), f"({color_path}, {x_path})")
    # rgbcolormap: the JET map stays in OpenCV's BGR order, as the released weights were trained on
    return merge_rgbx(rgb, cv2.applyColorMap(norm, cv2.COLORMAP_JET), f"({color_path}, {x_path})")
