"""Tiny synthetic datasets in each benchmark's real on-disk layout (``docs/evaluation.md``), for the tests.

Not a test module: the test files load it by path (``load_synthetic()``), as pytest runs with
``--import-mode=importlib``. Images are 64 x 48 with a bright box moving one pixel per frame, so the
ground truth is meaningful; thermal / event frames are 3-channel, depth frames 16-bit PNGs in mm.
"""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Optional, Sequence

import cv2
import numpy as np

WIDTH, HEIGHT = 64, 48


def boxes_for(num_frames: int, start=(10.0, 8.0), size=(16.0, 12.0)) -> np.ndarray:
    """A box moving right and down by one pixel per frame, ``(N, 4)`` ``[x, y, w, h]``."""
    t = np.arange(num_frames, dtype=np.float64)
    return np.stack([start[0] + t, start[1] + 0.5 * t, np.full_like(t, size[0]), np.full_like(t, size[1])], axis=1)


def draw_rgb(box: np.ndarray, seed: int) -> np.ndarray:
    """BGR uint8 frame with a noisy background and a bright box (NaN box: background only)."""
    rng = np.random.default_rng(seed)
    img = rng.integers(0, 60, size=(HEIGHT, WIDTH, 3), dtype=np.uint8)
    if not np.isnan(box).any():
        x, y, w, h = [int(round(v)) for v in box]
        img[max(y, 0):y + h, max(x, 0):x + w] = (40, 200, 250)
    return img


def draw_depth(box: np.ndarray, seed: int) -> np.ndarray:
    """uint16 depth map (mm): a far background plane with a near target."""
    rng = np.random.default_rng(seed)
    depth = (3000 + rng.integers(0, 200, size=(HEIGHT, WIDTH))).astype(np.uint16)
    if not np.isnan(box).any():
        x, y, w, h = [int(round(v)) for v in box]
        depth[max(y, 0):y + h, max(x, 0):x + w] = 1200
    return depth


def write_boxes(path: Path, boxes: np.ndarray, delimiter: str = ",", fmt: str = "%g") -> None:
    lines = []
    for row in boxes:
        lines.append(delimiter.join("nan" if np.isnan(v) else fmt % v for v in row))
    path.write_text("\n".join(lines) + "\n")


def make_rgbt(root: Path, names: Dict[str, int], naming: Optional[Dict[str, tuple]] = None,
              extra_frames: Optional[Dict[str, int]] = None) -> Path:
    """LasHeR / RGBT234 layout: ``<seq>/visible|infrared/*.jpg``, ``visible.txt``, ``infrared.txt``.

    ``naming[seq] = (visible_fmt, infrared_fmt)`` sets file names (default ``v%03d.jpg`` / ``i%03d.jpg``);
    ``extra_frames[seq] = k`` writes k more frames than ground-truth rows (RGBT234 orangeman1).
    """
    naming = naming or {}
    extra_frames = extra_frames or {}
    for s, (name, n) in enumerate(names.items()):
        seq = root / name
        (seq / "visible").mkdir(parents=True)
        (seq / "infrared").mkdir()
        frames = n + extra_frames.get(name, 0)
        boxes = np.floor(boxes_for(frames))  # integer boxes, as in the RGB-T datasets
        vis_fmt, ir_fmt = naming.get(name, ("v%03d.jpg", "i%03d.jpg"))
        for i in range(frames):
            img = draw_rgb(boxes[i], seed=1000 * s + i)
            cv2.imwrite(str(seq / "visible" / (vis_fmt % i)), img)
            cv2.imwrite(str(seq / "infrared" / (ir_fmt % i)), 255 - img)
        write_boxes(seq / "visible.txt", boxes[:n], fmt="%d")
        write_boxes(seq / "infrared.txt", boxes[:n] + [1, 0, 0, 0], fmt="%d")
        write_boxes(seq / "init.txt", boxes[:n], fmt="%d")
    return root


def make_visevent(root: Path, names: Dict[str, int], leading_absent: Optional[Dict[str, int]] = None) -> Path:
    """VisEvent layout: ``vis_imgs`` / ``event_imgs`` BMPs, ``groundtruth.txt``, ``absent_label.txt``
    (1 = present, as the reference reads it; the first ``leading_absent[seq]`` frames are 0 with a zero box)."""
    leading_absent = leading_absent or {}
    for s, (name, n) in enumerate(names.items()):
        seq = root / name
        (seq / "vis_imgs").mkdir(parents=True)
        (seq / "event_imgs").mkdir()
        boxes = boxes_for(n) + 0.25
        absent = np.ones(n, dtype=int)
        k = leading_absent.get(name, 0)
        absent[:k] = 0
        boxes[:k] = 0
        for i in range(n):
            img = draw_rgb(boxes[i] if absent[i] else np.full(4, np.nan), seed=2000 * s + i)
            cv2.imwrite(str(seq / "vis_imgs" / f"frame{i:04d}.bmp"), img)
            cv2.imwrite(str(seq / "event_imgs" / f"frame{i:04d}.bmp"), img[..., ::-1].copy())
        write_boxes(seq / "groundtruth.txt", boxes, fmt="%.4f")
        (seq / "absent_label.txt").write_text("\n".join(str(a) for a in absent) + "\n")
    return root


def make_rgbd(root: Path, names: Dict[str, int], absent: Optional[Dict[str, Sequence[int]]] = None,
              vot_metadata: bool = True, anchors: Optional[Dict[str, Sequence[int]]] = None) -> Path:
    """DepthTrack / VOT-RGBD layout: ``color/%08d.jpg``, 16-bit ``depth/%08d.png`` numbered from 1,
    ``groundtruth.txt`` (``nan`` rows where the target is absent) and, with ``vot_metadata``, the VOT
    ``sequence`` files and ``list.txt``; ``anchors[seq]`` lists frames marked in ``anchor.value``."""
    absent = absent or {}
    anchors = anchors or {}
    for s, (name, n) in enumerate(names.items()):
        seq = root / name
        (seq / "color").mkdir(parents=True)
        (seq / "depth").mkdir()
        boxes = boxes_for(n)
        for i in absent.get(name, ()):
            boxes[i] = np.nan
        for i in range(n):
            cv2.imwrite(str(seq / "color" / f"{i + 1:08d}.jpg"), draw_rgb(boxes[i], seed=3000 * s + i))
            cv2.imwrite(str(seq / "depth" / f"{i + 1:08d}.png"), draw_depth(boxes[i], seed=3000 * s + i))
        write_boxes(seq / "groundtruth.txt", boxes, fmt="%g")
        if name in anchors:
            marks = np.zeros(n)
            marks[list(anchors[name])] = 1
            (seq / "anchor.value").write_text("\n".join("%g" % v for v in marks) + "\n")
        if vot_metadata:
            (seq / "sequence").write_text("channels.color=color/%08d.jpg\nchannels.depth=depth/%08d.png\n"
                                          "fps=30\nformat=default\nname=" + name + "\n")
    if vot_metadata:
        (root / "list.txt").write_text("\n".join(names) + "\n")
    return root


def list_files(folder: Path) -> List[str]:
    """Relative paths of all files under ``folder``, sorted."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
