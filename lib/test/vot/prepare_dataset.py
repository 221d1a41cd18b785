"""Write the VOT toolkit metadata for a local DepthTrack / VOT-RGBD folder so the toolkit never downloads.

The toolkit only loads sequence folders that have a ``sequence`` file (``channels.color=color/%08d.jpg``,
``channels.depth=depth/%08d.png``), and downloads the stack's dataset unless ``<sequences>/list.txt``
exists (EVALUATION.md §3.5, §4; PAIN_POINTS A12: the DepthTrack stack otherwise fetches CDTB).
``python -m lib.test.vot.prepare_dataset /data/depthtrack/test --workspace Depthtrack_workspace``
writes both for every sequence folder (``color/``, ``depth/``, ``groundtruth.txt``), checks frame
numbering and counts, and links ``<workspace>/sequences`` to the dataset.
"""
from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from typing import List, Optional, Sequence

from lib.test.evaluation.data import DatasetError, load_boxes

logger = logging.getLogger(__name__)

CHANNELS = ("color", "depth")
VOT_EXTENSIONS = (".jpg", ".png")  # the only extensions the toolkit's file-pattern channel accepts


def detect_pattern(seq_dir: str, channel: str) -> tuple:
    """``(pattern, count)`` of a channel folder, e.g. ``("color/%08d.jpg", 412)``.

    Frames must be numbered 1..N without gaps (the toolkit starts at 1 and stops at the first gap).
    """
    folder = os.path.join(seq_dir, channel)
    if not os.path.isdir(folder):
        example = "color/00000001.jpg" if channel == "color" else "depth/00000001.png"
        raise DatasetError(f"{folder} does not exist (expected {example})")
    names = sorted(n for n in os.listdir(folder) if os.path.splitext(n)[1].lower() in VOT_EXTENSIONS)
    if not names:
        raise DatasetError(f"{folder} has no .jpg/.png frames")
    extensions = {os.path.splitext(n)[1] for n in names}
    stems = [os.path.splitext(n)[0] for n in names]
    if len(extensions) != 1 or not all(re.fullmatch(r"\d+", s) for s in stems):
        raise DatasetError(f"{folder}: frame names must be numbers with one extension (00000001.jpg), got e.g. "
                           f"{names[:3]}")
    indices = sorted(int(s) for s in stems)
    if indices != list(range(1, len(indices) + 1)):
        raise DatasetError(f"{folder}: frames must be numbered 1..{len(indices)} without gaps (first "
                           f"{indices[:3]}, last {indices[-1]})")
    widths = {len(s) for s in stems}
    number = f"%0{widths.pop()}d" if len(widths) == 1 else "%d"
    return f"{channel}/{number}{extensions.pop()}", len(indices)


def sequence_folders(root: str) -> List[str]:
    """Sub-folders of ``root`` that look like RGB-D sequences (``color/`` and ``groundtruth.txt``), sorted."""
    return sorted(n for n in os.listdir(root)
                  if os.path.isdir(os.path.join(root, n, "color"))
                  and os.path.isfile(os.path.join(root, n, "groundtruth.txt")))


def write_sequence_file(seq_dir: str, fps: int = 30, overwrite: bool = False) -> bool:
    """Write ``<seq_dir>/sequence``; returns False when it existed and ``overwrite`` is off."""
    path = os.path.join(seq_dir, "sequence")
    if os.path.isfile(path) and not overwrite:
        return False
    patterns = {}
    counts = {}
    for channel in CHANNELS:
        patterns[channel], counts[channel] = detect_pattern(seq_dir, channel)
    rows = len(load_boxes(os.path.join(seq_dir, "groundtruth.txt")))
    if len(set(counts.values())) != 1 or rows != counts["color"]:
        raise DatasetError(f"{seq_dir}: {counts['color']} color frames, {counts['depth']} depth frames and "
                           f"{rows} ground-truth rows must be equal")
    name = os.path.basename(os.path.normpath(seq_dir))
    lines = [f"channels.{c}={patterns[c]}" for c in CHANNELS] + ["format=default", f"fps={fps}", f"name={name}"]
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    return True


def prepare_dataset(root: str, overwrite: bool = False, fps: int = 30, workspace: Optional[str] = None) -> List[str]:
    """Write missing ``sequence`` files and ``list.txt`` under ``root``; optionally link a workspace.

    Returns the sequence names in ``list.txt`` order. With ``workspace``, ``<workspace>/sequences`` becomes
    a symbolic link to ``root`` (an existing different ``sequences`` entry is an error).
    """
    if not os.path.isdir(root):
        raise DatasetError(f"dataset folder {root} does not exist; expected <root>/<seq>/color/00000001.jpg, "
                           f"<root>/<seq>/depth/00000001.png, <root>/<seq>/groundtruth.txt")
    names = sequence_folders(root)
    if not names:
        raise DatasetError(f"no sequence folders (with color/ and groundtruth.txt) in {root}")
    written = sum(write_sequence_file(os.path.join(root, n), fps, overwrite) for n in names)
    list_file = os.path.join(root, "list.txt")
    if overwrite or not os.path.isfile(list_file):
        with open(list_file, "w", encoding="utf-8") as handle:
            handle.write("\n".join(names) + "\n")
    else:
        with open(list_file, "r", encoding="utf-8") as handle:
            names = [line.strip() for line in handle if line.strip()]
    logger.info("%s: %d sequence files written, list.txt has %d names", root, written, len(names))
    if workspace:
        link = os.path.join(workspace, "sequences")
        target = os.path.abspath(root)
        if os.path.lexists(link):
            if os.path.realpath(link) != os.path.realpath(target):
                raise FileExistsError(f"{link} exists and is not {target}; remove it or point it at the dataset")
        else:
            os.symlink(target, link, target_is_directory=True)
            logger.info("linked %s -> %s", link, target)
    return names


def main(argv: Optional[Sequence[str]] = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", help="dataset folder holding one folder per sequence")
    parser.add_argument("--workspace", default=None, help="also link <workspace>/sequences to the dataset")
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--overwrite", action="store_true", help="rewrite existing sequence files and list.txt")
    args = parser.parse_args(argv)
    prepare_dataset(args.root, overwrite=args.overwrite, fps=args.fps, workspace=args.workspace)
    return 0


if __name__ == "__main__":
    sys.exit(main())
