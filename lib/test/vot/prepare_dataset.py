"""Write the VOT toolkit metadata for a local DepthTrack / VOT-RGBD folder so the toolkit never downloads.

The toolkit only loads sequence folders that have a ``sequence`` file (``channels.color=color/%08d.jpg``,
``channels.depth=depth/%08d.png``), and downloads the stack's dataset unless ``<sequences>/list.txt``
exists (``docs/evaluation.md``; the DepthTrack stack would otherwise fetch CDTB).
``python -m lib.test.vot.prepare_dataset /data/depthtrack/test --workspace Depthtrack_workspace``
writes both for every sequence folder (``color/``, ``depth/``, ``groundtruth.txt``), checks that colour
and depth frames pair by frame number from 1 without gaps (:mod:`lib.utils.frame_lists`), that no
frame is truncated (:func:`lib.utils.rgbx.check_image_file`) and that the counts match the ground
truth, and links ``<workspace>/sequences`` to the dataset.
"""
from __future__ import annotations

import argparse
import logging
import os
import re
import sys
from typing import List, Optional, Sequence

from lib.test.evaluation.data import DatasetError, load_boxes
from lib.test.evaluation.errors import run_reporting_user_errors
from lib.utils.files import atomic_write_text
from lib.utils.frame_lists import FramePairingError, frame_number, list_frames, pair_frames
from lib.utils.rgbx import check_image_file

logger = logging.getLogger(__name__)

CHANNELS = ("color", "depth")
VOT_EXTENSIONS = (".jpg", ".png")  # the only extensions the toolkit's file-pattern channel accepts


def channel_pattern(channel: str, names: Sequence[str]) -> str:
    """The toolkit's file pattern of a channel's frame names, e.g. ``color/%08d.jpg``."""
    extensions = {os.path.splitext(n)[1] for n in names}
    stems = [os.path.splitext(n)[0] for n in names]
    if len(extensions) != 1 or not all(re.fullmatch(r"\d+", s) for s in stems):
        raise DatasetError(f"{channel}/: frame names must be numbers with one extension (00000001.jpg), got e.g. "
                           f"{list(names[:3])}")
    widths = {len(s) for s in stems}
    number = f"%0{widths.pop()}d" if len(widths) == 1 else "%d"
    return f"{channel}/{number}{extensions.pop()}"


def sequence_frames(seq_dir: str) -> dict:
    """``{channel: names}`` of a sequence: colour and depth frames paired by number, numbered from 1, complete."""
    folders = {c: os.path.join(seq_dir, c) for c in CHANNELS}
    try:
        names = {c: list_frames(folders[c], VOT_EXTENSIONS) for c in CHANNELS}
        for channel in CHANNELS:
            if not names[channel]:
                raise DatasetError(f"{folders[channel]} has no .jpg/.png frames")
        color, depth = pair_frames(folders["color"], names["color"], folders["depth"], names["depth"])
    except (FileNotFoundError, FramePairingError) as e:
        raise DatasetError(f"{seq_dir}: {e} (expected color/00000001.jpg and depth/00000001.png)") from None
    if frame_number(color[0]) != 1:
        raise DatasetError(f"{folders['color']}: the first frame is {color[0]}; the toolkit numbers frames from 1")
    for channel, frame_names in (("color", color), ("depth", depth)):
        for name in frame_names:
            check_image_file(os.path.join(folders[channel], name))
    return {"color": color, "depth": depth}


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
    frames = sequence_frames(seq_dir)
    rows = len(load_boxes(os.path.join(seq_dir, "groundtruth.txt")))
    if rows != len(frames["color"]):
        raise DatasetError(f"{seq_dir}: {len(frames['color'])} frames but {rows} ground-truth rows")
    patterns = {c: channel_pattern(c, frames[c]) for c in CHANNELS}
    name = os.path.basename(os.path.normpath(seq_dir))
    lines = [f"channels.{c}={patterns[c]}" for c in CHANNELS] + ["format=default", f"fps={fps}", f"name={name}"]
    atomic_write_text(path, "\n".join(lines) + "\n")
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
        atomic_write_text(list_file, "\n".join(names) + "\n")
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
    """Command line; a problem with the dataset is one ``error:`` line naming the file, exit code 2."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", help="dataset folder holding one folder per sequence")
    parser.add_argument("--workspace", default=None, help="also link <workspace>/sequences to the dataset")
    parser.add_argument("--fps", type=int, default=30)
    parser.add_argument("--overwrite", action="store_true", help="rewrite existing sequence files and list.txt")
    args = parser.parse_args(argv)

    def run() -> None:
        prepare_dataset(args.root, overwrite=args.overwrite, fps=args.fps, workspace=args.workspace)

    return run_reporting_user_errors(run)


if __name__ == "__main__":
    sys.exit(main())
