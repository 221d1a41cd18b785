"""A small synthetic RGB-T dataset in the real LasHeR layout, deterministic for a seed.

The quickstart trains and tests on it when no real dataset is on the machine yet::

    from lib.quickstart.synthetic_rgbt import SyntheticRGBTConfig, generate_dataset
    info = generate_dataset("output/quickstart/data/lasher", SyntheticRGBTConfig(seed=0))
    # info["train_dir"] = .../trainingset, info["test_dir"] = .../testingset

Layout (what ``lib.train.dataset.lasher.LasHeR`` and the ``LasHeR`` benchmark reader expect)::

    <root>/trainingset/<seq>/visible/v000001.jpg ...   RGB frames
    <root>/trainingset/<seq>/infrared/i000001.jpg ...  thermal frames (3-channel grey JPEG)
    <root>/trainingset/<seq>/visible.txt, infrared.txt  one "x,y,w,h" line per frame
    <root>/testingset/<seq>/...                          the same for the test split
    <root>/dataset.json                                  the generator settings (written last)

Each sequence shows one textured target (a person, car, ball or drone silhouette) moving over a
textured, slowly panning background, with scale change, 1-3 distractors of the same kind and
usually a static occluder the target passes behind once (hiding a third of it or more in at most an
fifth of the frames: a brief occlusion). The X channel looks like thermal
imagery: the target is warm (bright, hot core), distractors lukewarm, background and occluders cool,
and its textures differ from the RGB ones (smooth, blurred, no colour). The annotation is the
target's full box in every frame, occluded or not, as LasHeR annotates.
"""
from __future__ import annotations

import json
import logging
import math
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple, Union

import cv2
import numpy as np

from lib.utils.files import atomic_write_text

logger = logging.getLogger(__name__)

PathLike = Union[str, Path]
MANIFEST = "dataset.json"
FORMAT_VERSION = 3  # bump when the rendering changes, so old copies are regenerated

# kind -> (aspect ratio h / w, shape drawn by _shape_mask)
KINDS: Dict[str, Tuple[float, str]] = {
    "person": (2.0, "capsule"),
    "car": (0.55, "rounded"),
    "ball": (1.0, "ellipse"),
    "drone": (0.7, "ellipse"),
}


@dataclass(frozen=True)
class SyntheticRGBTConfig:
    """How many sequences of which length and size; everything else follows from ``seed``."""

    num_train: int = 24
    num_test: int = 6
    train_frames: int = 80
    test_frames: int = 120
    width: int = 256
    height: int = 192
    seed: int = 0

    def as_dict(self) -> Dict[str, int]:
        return {**asdict(self), "format_version": FORMAT_VERSION}


# ------------------------------------------------------------------------------------------ textures
def _smooth_noise(rng: np.random.Generator, height: int, width: int, cell: int, channels: int = 1) -> np.ndarray:
    """Low-frequency noise in [0, 1]: a random grid of ``cell``-pixel spacing, bicubically upsampled."""
    gh, gw = max(2, height // cell + 2), max(2, width // cell + 2)
    grid = rng.random((gh, gw, channels), dtype=np.float32)
    up = cv2.resize(grid, (gw * cell, gh * cell), interpolation=cv2.INTER_CUBIC)
    up = up.reshape(gh * cell, gw * cell, channels)[:height, :width]
    return np.clip(up, 0.0, 1.0)


def _rgb_background(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A colourful 'scene': colour patches, a ground gradient, random stripes and fine grain (float RGB 0-255)."""
    base = rng.uniform(60, 170, size=3).astype(np.float32)
    light = (_smooth_noise(rng, height, width, cell=48) - 0.5) * 110  # brightness, shared by the channels
    tint = (_smooth_noise(rng, height, width, cell=64, channels=3) - 0.5) * 50
    grain = (_smooth_noise(rng, height, width, cell=4) - 0.5) * 45
    img = base + light + tint + grain
    for _ in range(int(rng.integers(6, 14))):  # man-made structure: bars and blocks
        color = rng.uniform(20, 235, size=3)
        x0, y0 = int(rng.integers(0, width)), int(rng.integers(0, height))
        w, h = int(rng.integers(4, width // 4)), int(rng.integers(4, height // 4))
        img[y0:y0 + h, x0:x0 + w] = 0.6 * img[y0:y0 + h, x0:x0 + w] + 0.4 * color
    return np.clip(img, 0, 255)


def _thermal_background(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A cool, smooth thermal scene (float 0-255): a vertical gradient, soft blotches, a few faint warm spots."""
    rows = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    gradient = rng.uniform(-20, 20) * rows
    blotches = (_smooth_noise(rng, height, width, cell=64)[..., 0] - 0.5) * 40
    img = rng.uniform(55, 80) + gradient + blotches
    for _ in range(int(rng.integers(0, 3))):  # a lamp or a sunlit wall: warm-ish, blurry, static
        cx, cy = rng.uniform(0, width), rng.uniform(0, height)
        sigma = rng.uniform(4, 10)
        yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
        img = img + rng.uniform(30, 55) * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * sigma ** 2))
    return np.clip(img, 0, 255)


def _shape_mask(shape: str, height: int, width: int) -> np.ndarray:
    """Float mask (0-1, anti-aliased by supersampling) of a silhouette filling an H x W box."""
    scale = 4
    hs, ws = height * scale, width * scale
    mask = np.zeros((hs, ws), np.uint8)
    if shape == "ellipse":
        cv2.ellipse(mask, (ws // 2, hs // 2), (ws // 2 - 1, hs // 2 - 1), 0, 0, 360, 255, -1)
    elif shape == "capsule":  # a head and a body
        head_r = ws // 3
        cv2.circle(mask, (ws // 2, head_r + 1), head_r, 255, -1)
        body_top = int(1.6 * head_r)
        cv2.ellipse(mask, (ws // 2, (body_top + hs) // 2), (ws // 2 - 1, (hs - body_top) // 2 - 1), 0, 0, 360, 255, -1)
    else:  # rounded rectangle
        r = min(hs, ws) // 4
        cv2.rectangle(mask, (r, 0), (ws - r - 1, hs - 1), 255, -1)
        cv2.rectangle(mask, (0, r), (ws - 1, hs - r - 1), 255, -1)
        for cx, cy in ((r, r), (ws - r - 1, r), (r, hs - r - 1), (ws - r - 1, hs - r - 1)):
            cv2.circle(mask, (cx, cy), r, 255, -1)
    return cv2.resize(mask, (width, height), interpolation=cv2.INTER_AREA).astype(np.float32) / 255.0


@dataclass
class _Sprite:
    """An object's appearance at a reference size: RGB texture, thermal texture, silhouette mask."""

    rgb: np.ndarray
    thermal: np.ndarray
    mask: np.ndarray


def _make_sprite(rng: np.random.Generator, shape: str, aspect: float, temperature: float) -> _Sprite:
    """A textured object: two colours in stripes, checks or spots (RGB); a hot core fading out (thermal)."""
    w = 48
    h = max(8, int(round(w * aspect)))
    c1, c2 = rng.uniform(0, 255, size=3), rng.uniform(0, 255, size=3)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    pattern = int(rng.integers(0, 3))
    period = rng.uniform(6, 14)
    if pattern == 0:  # stripes at a random angle
        angle = rng.uniform(0, math.pi)
        t = (np.sin((xx * math.cos(angle) + yy * math.sin(angle)) * 2 * math.pi / period) > 0)
    elif pattern == 1:  # checks
        t = ((xx // period + yy // period) % 2) > 0
    else:  # spots
        t = _smooth_noise(rng, h, w, cell=8)[..., 0] > 0.55
    rgb = np.where(t[..., None], c1, c2).astype(np.float32)
    rgb += (_smooth_noise(rng, h, w, cell=3, channels=3) - 0.5) * 30
    r = np.sqrt(((xx - w / 2) / (w / 2)) ** 2 + ((yy - h / 2) / (h / 2)) ** 2)
    thermal = temperature - 35 * np.clip(r, 0, 1) + (_smooth_noise(rng, h, w, cell=12)[..., 0] - 0.5) * 25
    return _Sprite(np.clip(rgb, 0, 255), np.clip(thermal, 0, 255), _shape_mask(shape, h, w))


# ------------------------------------------------------------------------------------------ motion
def _trajectory(rng: np.random.Generator, n: int, width: int, height: int, base_side: float, aspect: float,
                min_speed: float, max_speed: float) -> np.ndarray:
    """(n, 4) float boxes: a smooth random walk with bounces, and a smooth scale change (0.65x-1.5x)."""
    bw0 = base_side / math.sqrt(aspect)
    bh0 = base_side * math.sqrt(aspect)
    amp, period, phase = rng.uniform(0.2, 0.4), rng.uniform(0.6, 1.5) * n, rng.uniform(0, 2 * math.pi)
    speed = rng.uniform(min_speed, max_speed)
    heading = rng.uniform(0, 2 * math.pi)
    v = np.array([math.cos(heading), math.sin(heading)]) * speed
    c = np.array([rng.uniform(0.25, 0.75) * width, rng.uniform(0.25, 0.75) * height])
    boxes = np.zeros((n, 4))
    for t in range(n):
        s = math.exp(amp * math.sin(2 * math.pi * t / period + phase))
        bw, bh = bw0 * s, bh0 * s
        v = v + rng.normal(0, 0.25, size=2)
        norm = np.linalg.norm(v)
        if norm > max_speed:
            v *= max_speed / norm
        elif norm < min_speed:
            v *= min_speed / max(norm, 1e-6)
        c = c + v
        for k, (half, limit) in enumerate(((bw / 2, width), (bh / 2, height))):
            if c[k] < half + 2:
                c[k], v[k] = half + 2, abs(v[k])
            elif c[k] > limit - half - 2:
                c[k], v[k] = limit - half - 2, -abs(v[k])
        boxes[t] = [c[0] - bw / 2, c[1] - bh / 2, bw, bh]
    return boxes


def _covered_fraction(boxes: np.ndarray, rect: Tuple[int, int, int, int]) -> np.ndarray:
    """Fraction of each (x, y, w, h) box covered by the rectangle (x0, y0, x1, y1)."""
    x0, y0, x1, y1 = rect
    iw = np.clip(np.minimum(boxes[:, 0] + boxes[:, 2], x1) - np.maximum(boxes[:, 0], x0), 0, None)
    ih = np.clip(np.minimum(boxes[:, 1] + boxes[:, 3], y1) - np.maximum(boxes[:, 1], y0), 0, None)
    return iw * ih / (boxes[:, 2] * boxes[:, 3])


def _place_occluder(rng: np.random.Generator, boxes: np.ndarray, width: int,
                    height: int) -> Optional[Tuple[int, int, int, int]]:
    """A static bar (pole or fence) across the target's path between a third and two thirds of the sequence.

    It is drawn across the direction of motion there, and accepted only if it hides more than a third of
    the target in at most a fifth of the frames (a brief occlusion); None when no try fits.
    """
    n = len(boxes)
    max_frames = max(3, n // 5)
    for _ in range(20):
        t = int(rng.integers(n // 3, max(n // 3 + 1, 2 * n // 3)))
        x, y, w, h = boxes[t]
        step = boxes[min(t + 1, n - 1), :2] - boxes[max(t - 1, 0), :2]
        cx, cy = x + w / 2, y + h / 2
        if abs(step[0]) >= abs(step[1]):  # moving sideways: a vertical pole
            half_w, half_h = 0.5 * w * rng.uniform(0.25, 0.5), h * rng.uniform(1.0, 1.5)
        else:  # moving up or down: a horizontal bar
            half_w, half_h = w * rng.uniform(1.0, 1.5), 0.5 * h * rng.uniform(0.25, 0.5)
        rect = (int(max(0, cx - half_w)), int(max(0, cy - half_h)), int(min(width, cx + half_w)),
                int(min(height, cy + half_h)))
        covered = _covered_fraction(boxes, rect)
        if 0 < (covered > 1 / 3).sum() <= max_frames:
            return rect
    return None


def _paste(canvas: np.ndarray, patch: np.ndarray, alpha: np.ndarray, x: int, y: int) -> None:
    """Alpha-blend ``patch`` (h x w [x C]) into ``canvas`` at (x, y), clipped to the canvas."""
    h, w = alpha.shape
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, canvas.shape[1]), min(y + h, canvas.shape[0])
    if x1 <= x0 or y1 <= y0:
        return
    a = alpha[y0 - y:y1 - y, x0 - x:x1 - x]
    p = patch[y0 - y:y1 - y, x0 - x:x1 - x]
    region = canvas[y0:y1, x0:x1]
    if region.ndim == 3:
        a = a[..., None]
    canvas[y0:y1, x0:x1] = region * (1 - a) + p * a


def _draw_object(rgb: np.ndarray, thermal: np.ndarray, sprite: _Sprite, box: np.ndarray) -> None:
    """Draw ``sprite`` resized to ``box`` (rounded to whole pixels) into both modalities."""
    x, y, w, h = (int(round(v)) for v in box)
    w, h = max(w, 2), max(h, 2)
    mask = cv2.resize(sprite.mask, (w, h), interpolation=cv2.INTER_LINEAR)
    _paste(rgb, cv2.resize(sprite.rgb, (w, h), interpolation=cv2.INTER_LINEAR), mask, x, y)
    _paste(thermal, cv2.resize(sprite.thermal, (w, h), interpolation=cv2.INTER_LINEAR), mask, x, y)


# ------------------------------------------------------------------------------------------ one sequence
def render_sequence(rng: np.random.Generator, num_frames: int, width: int, height: int,
                    kind: str) -> Tuple[List[np.ndarray], List[np.ndarray], np.ndarray]:
    """Render one sequence: (RGB frames as BGR uint8, thermal frames as 3-channel uint8, (N, 4) boxes)."""
    aspect, shape = KINDS[kind]
    pan = 24
    bg_rgb = _rgb_background(rng, height + pan, width + pan)
    bg_thermal = _thermal_background(rng, height + pan, width + pan)
    pan_start, pan_end = rng.uniform(0, pan, size=2), rng.uniform(0, pan, size=2)

    side = rng.uniform(0.10, 0.16) * min(width, height) * 1.3
    boxes = _trajectory(rng, num_frames, width, height, side, aspect, 1.2, 3.5)
    target = _make_sprite(rng, shape, aspect, temperature=rng.uniform(215, 250))
    distractors = []
    for _ in range(int(rng.integers(1, 4))):
        d_side = side * rng.uniform(0.7, 1.2)
        d_boxes = _trajectory(rng, num_frames, width, height, d_side, aspect, 0.5, 2.5)
        sprite = _make_sprite(rng, shape, aspect, temperature=rng.uniform(125, 160))
        if rng.random() < 0.5:  # a look-alike in RGB (the target's texture, shifted colours); only X tells them apart
            sprite.rgb = np.clip(target.rgb + rng.uniform(-40, 40, size=3), 0, 255)
        distractors.append((sprite, d_boxes))

    occluder = _place_occluder(rng, boxes, width, height)
    occ_rgb = rng.uniform(20, 90, size=3)
    occ_temp = rng.uniform(35, 60)

    rgb_frames, thermal_frames = [], []
    for t in range(num_frames):
        f = t / max(1, num_frames - 1)
        px, py = (pan_start * (1 - f) + pan_end * f).astype(int)
        rgb = bg_rgb[py:py + height, px:px + width].copy()
        thermal = bg_thermal[py:py + height, px:px + width].copy()
        for sprite, d_boxes in distractors:
            _draw_object(rgb, thermal, sprite, d_boxes[t])
        _draw_object(rgb, thermal, target, boxes[t])
        if occluder is not None:
            x0, y0, x1, y1 = occluder
            rgb[y0:y1, x0:x1] = occ_rgb
            thermal[y0:y1, x0:x1] = occ_temp
        rgb += rng.normal(0, 4, size=rgb.shape).astype(np.float32)
        thermal = cv2.GaussianBlur(thermal, (5, 5), 1.2) + rng.normal(0, 2.5, size=thermal.shape).astype(np.float32)
        rgb_frames.append(cv2.cvtColor(np.clip(rgb, 0, 255).astype(np.uint8), cv2.COLOR_RGB2BGR))
        grey = np.clip(thermal, 0, 255).astype(np.uint8)
        thermal_frames.append(cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR))
    return rgb_frames, thermal_frames, np.round(boxes, 0)


def _write_image(path: Path, img: np.ndarray) -> None:
    if not cv2.imwrite(str(path), img, [cv2.IMWRITE_JPEG_QUALITY, 92]):
        raise OSError(f"cv2.imwrite failed for {path}")


def write_sequence(seq_dir: Path, rgb_frames: List[np.ndarray], thermal_frames: List[np.ndarray],
                   boxes: np.ndarray) -> None:
    """One LasHeR sequence folder: ``visible/``, ``infrared/``, ``visible.txt``, ``infrared.txt``."""
    (seq_dir / "visible").mkdir(parents=True, exist_ok=True)
    (seq_dir / "infrared").mkdir(parents=True, exist_ok=True)
    for t, (rgb, thermal) in enumerate(zip(rgb_frames, thermal_frames), start=1):
        _write_image(seq_dir / "visible" / f"v{t:06d}.jpg", rgb)
        _write_image(seq_dir / "infrared" / f"i{t:06d}.jpg", thermal)
    text = "".join(",".join(str(int(v)) for v in row) + "\n" for row in boxes)
    (seq_dir / "visible.txt").write_text(text, encoding="utf-8")
    (seq_dir / "infrared.txt").write_text(text, encoding="utf-8")


# ------------------------------------------------------------------------------------------ the dataset
def sequence_plan(config: SyntheticRGBTConfig) -> List[Tuple[str, int, str, int, str]]:
    """(split folder, position in the split, sequence name, number of frames, kind) for every sequence,
    in generation order."""
    plan = []
    kinds = list(KINDS)
    for split, count, frames in (("trainingset", config.num_train, config.train_frames),
                                 ("testingset", config.num_test, config.test_frames)):
        for i in range(count):
            kind = kinds[i % len(kinds)]
            plan.append((split, i, f"{kind}{i + 1:03d}", frames, kind))
    return plan


def read_manifest(root: PathLike) -> Optional[Dict]:
    """The settings a finished dataset at ``root`` was generated with, or None."""
    path = Path(root) / MANIFEST
    if not path.is_file():
        return None
    with open(path, "r", encoding="utf-8") as f:
        return json.load(f)


def generate_dataset(root: PathLike, config: SyntheticRGBTConfig = SyntheticRGBTConfig(),
                     progress: Optional[Callable[[str], None]] = None) -> Dict:
    """Write the dataset under ``root`` (or reuse it when a finished copy with the same settings is there).

    A partial or different copy is removed and written again. ``progress`` receives one line every few
    sequences. Returns the manifest: settings, ``train_dir``, ``test_dir``, sequence names, seconds taken.
    """
    root = Path(root)
    wanted = config.as_dict()
    existing = read_manifest(root)
    if existing is not None and existing.get("config") == wanted:
        return existing
    for split in ("trainingset", "testingset"):
        if (root / split).exists():
            logger.info("removing an old or partial copy %s", root / split)
            shutil.rmtree(root / split)
    if (root / MANIFEST).exists():
        (root / MANIFEST).unlink()
    start = time.perf_counter()
    plan = sequence_plan(config)
    for index, (split, position, name, frames, kind) in enumerate(plan):
        # Seeded by the position within its split: a test sequence does not depend on the size of the
        # training split, so both quickstart profiles start their test sequences with the same boxes.
        rng = np.random.default_rng([config.seed, 0 if split == "trainingset" else 1, position])
        rgb, thermal, boxes = render_sequence(rng, frames, config.width, config.height, kind)
        write_sequence(root / split / name, rgb, thermal, boxes)
        if progress is not None and ((index + 1) % 6 == 0 or index + 1 == len(plan)):
            progress(f"{index + 1}/{len(plan)} sequences written ({time.perf_counter() - start:.1f}s)")
    manifest = {
        "config": wanted,
        "train_dir": str((root / "trainingset").resolve()),
        "test_dir": str((root / "testingset").resolve()),
        "train_sequences": [n for s, _, n, _, _ in plan if s == "trainingset"],
        "test_sequences": [n for s, _, n, _, _ in plan if s == "testingset"],
        "seconds": round(time.perf_counter() - start, 2),
    }
    atomic_write_text(root / MANIFEST, json.dumps(manifest, indent=2) + "\n")
    return manifest


__all__ = ["KINDS", "MANIFEST", "SyntheticRGBTConfig", "generate_dataset", "read_manifest", "render_sequence",
           "sequence_plan", "write_sequence"]
