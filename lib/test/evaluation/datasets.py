"""Test-set readers for the RGB-X benchmarks, registered in ``BENCHMARKS`` (layouts: ``docs/evaluation.md``).

Each reader takes an explicit root (tests, ``--dataset_dir``) or falls back to the matching field of
``lib.config.environment.env_settings()``, checks the on-disk layout and returns a :class:`Benchmark`.
RGB and X frames are paired by frame number (:func:`~lib.test.evaluation.data.paired_frames`):

* ``LasHeR`` / ``RGBT234``: ``<root>/<seq>/visible|infrared/*.jpg``, ``visible.txt`` / ``infrared.txt``;
* ``VisEvent``: ``<root>/<seq>/vis_imgs|event_imgs/*.bmp``, ``groundtruth.txt``, ``absent_label.txt``;
* ``DepthTrack`` / ``VOT22RGBD``: ``<root>/<seq>/color/*.jpg``, 16-bit ``depth/*.png``,
  ``groundtruth.txt``, optionally the VOT ``sequence`` metadata file and ``<root>/list.txt``.
"""
from __future__ import annotations

import logging
import os
from typing import Callable, Dict, List, Optional, Sequence as SequenceT, Tuple

import numpy as np

from lib.registry import BENCHMARKS
from lib.test.evaluation.data import (Benchmark, DatasetError, ResultFormat, Sequence, first_visible_frame,
                                      load_boxes, load_labels, paired_frames)

logger = logging.getLogger(__name__)

# The reference's writers (docs/evaluation.md): np.savetxt defaults (space, %.18e) for RGB-T; comma, %.14f for VisEvent.
RGBT_FORMAT = ResultFormat(delimiter=" ", fmt="%.18e", layout="flat")
RGBE_FORMAT = ResultFormat(delimiter=",", fmt="%.14f", layout="flat")
VOT_LONGTERM_FORMAT = ResultFormat(delimiter=",", fmt="%.4f", layout="vot_longterm")
VOT_MULTISTART_FORMAT = ResultFormat(delimiter=",", fmt="%.4f", layout="vot_multistart")

LAYOUTS = {
    "LasHeR": "<root>/<seq>/visible/*.jpg, <root>/<seq>/infrared/*.jpg, <root>/<seq>/visible.txt "
              "(e.g. LasHeR_Divided_data/testingset)",
    "RGBT234": "<root>/<seq>/visible/*.jpg, <root>/<seq>/infrared/*.jpg, <root>/<seq>/visible.txt, "
               "<root>/<seq>/infrared.txt",
    "VisEvent": "<root>/<seq>/vis_imgs/*.bmp, <root>/<seq>/event_imgs/*.bmp, <root>/<seq>/groundtruth.txt, "
                "<root>/<seq>/absent_label.txt (e.g. VisEvent_dataset/test_subset)",
    "DepthTrack": "<root>/<seq>/color/%08d.jpg, <root>/<seq>/depth/%08d.png (16-bit), "
                  "<root>/<seq>/groundtruth.txt [+ <root>/list.txt, <root>/<seq>/sequence for the VOT toolkit]",
    "VOT22RGBD": "<root>/list.txt, <root>/<seq>/sequence, <root>/<seq>/color/, <root>/<seq>/depth/, "
                 "<root>/<seq>/groundtruth.txt (as written by `vot initialize vot2022/rgbd`)",
}
SETTINGS = {"LasHeR": "lasher_test_dir", "RGBT234": "rgbt234_dir", "VisEvent": "visevent_test_dir",
            "DepthTrack": "depthtrack_test_dir", "VOT22RGBD": "vot22rgbd_dir"}


def resolve_root(benchmark: str, root: Optional[str]) -> str:
    """The dataset root: ``root`` if given, else the settings field; a clear error if it is missing."""
    setting = SETTINGS[benchmark]
    if not root:
        from lib.config.environment import env_settings

        return str(env_settings().require_dir(setting, LAYOUTS[benchmark]))
    if not os.path.isdir(root):
        raise DatasetError(f"{benchmark}: dataset root '{root}' does not exist (given explicitly instead of the "
                           f"'{setting}' setting). Expected layout: {LAYOUTS[benchmark]}")
    return os.path.abspath(root)


def list_sequence_dirs(root: str, benchmark: str, required: SequenceT[str] = ()) -> List[str]:
    """Sequence names: ``list.txt`` when present (VOT order), else the sorted sub-folders (reference)."""
    list_file = os.path.join(root, "list.txt")
    if os.path.isfile(list_file):
        with open(list_file, "r", encoding="utf-8") as handle:
            names = [line.strip() for line in handle if line.strip()]
        missing = [n for n in names if not os.path.isdir(os.path.join(root, n))]
        if missing:
            raise DatasetError(f"{benchmark}: {list_file} lists {len(missing)} missing sequence folder(s), "
                               f"e.g. {missing[:3]}")
    else:
        names = sorted(n for n in os.listdir(root)
                       if not n.startswith(".") and os.path.isdir(os.path.join(root, n))
                       and all(os.path.exists(os.path.join(root, n, r)) for r in required))
    if not names:
        raise DatasetError(f"{benchmark}: no sequences found in {root}. Expected layout: {LAYOUTS[benchmark]}")
    return names


def _select(names: List[str], wanted: Optional[SequenceT[str]], benchmark: str, root: str) -> List[str]:
    if not wanted:
        return names
    unknown = [w for w in wanted if w not in names]
    if unknown:
        raise DatasetError(f"{benchmark}: sequence(s) {unknown} not found in {root}")
    return list(wanted)


def _rgbt_sequence(root: str, name: str, benchmark: str) -> Sequence:
    """One LasHeR / RGBT234 sequence; visible and infrared frames paired by frame number."""
    seq_dir = os.path.join(root, name)
    visible, infrared = paired_frames(seq_dir, "visible", "infrared", f"{benchmark} sequence '{name}'")
    gt = load_boxes(os.path.join(seq_dir, "visible.txt"))
    extras = {}
    infrared_gt_file = os.path.join(seq_dir, "infrared.txt")
    if os.path.isfile(infrared_gt_file):
        extras["infrared_gt"] = load_boxes(infrared_gt_file)
        if len(extras["infrared_gt"]) != len(gt):
            raise DatasetError(f"{benchmark} sequence '{name}': visible.txt has {len(gt)} rows but infrared.txt "
                               f"has {len(extras['infrared_gt'])}")
    elif benchmark == "RGBT234":
        raise DatasetError(f"RGBT234 sequence '{name}': {infrared_gt_file} does not exist")
    if len(visible) != len(gt):
        # docs/evaluation.md (RGBT234): 'orangeman1' has 921 frames and 920 GT rows; the reference tracks all
        # frames, initialises with visible.txt row 0 and the toolkit scores the first 920 rows.
        if benchmark == "RGBT234" and len(visible) == len(gt) + 1:
            logger.warning("RGBT234 sequence '%s': %d frames, %d ground-truth rows; tracking all frames as the "
                           "reference does", name, len(visible), len(gt))
        else:
            raise DatasetError(f"{benchmark} sequence '{name}': {len(visible)} frames but {len(gt)} rows in "
                               f"visible.txt ({seq_dir})")
    return Sequence(name, visible, infrared, gt, x_mode="rgbrgb", depth_clip=False, dataset=benchmark,
                    extras=extras)


def _rgbt_benchmark(benchmark: str, root: Optional[str], sequences: Optional[SequenceT[str]]) -> Benchmark:
    root = resolve_root(benchmark, root)
    names = _select(list_sequence_dirs(root, benchmark), sequences, benchmark, root)
    # Quirk Q13 (docs/parity.md): the reference passes 'lasher' for LasHeR and RGBT234 alike (threshold 0.45).
    return Benchmark(benchmark, root, [_rgbt_sequence(root, n, benchmark) for n in names], "lasher", RGBT_FORMAT)


@BENCHMARKS.register("LasHeR")
def lasher(root: Optional[str] = None, sequences: Optional[SequenceT[str]] = None) -> Benchmark:
    """LasHeR test set (245 sequences in the official split)."""
    return _rgbt_benchmark("LasHeR", root, sequences)


@BENCHMARKS.register("RGBT234")
def rgbt234(root: Optional[str] = None, sequences: Optional[SequenceT[str]] = None) -> Benchmark:
    """RGBT234 (234 sequences)."""
    return _rgbt_benchmark("RGBT234", root, sequences)


def _visevent_sequence(root: str, name: str) -> Sequence:
    """One VisEvent sequence with the reference's leading-absent trimming (``docs/evaluation.md``)."""
    seq_dir = os.path.join(root, name)
    rgb, event = paired_frames(seq_dir, "vis_imgs", "event_imgs", f"VisEvent sequence '{name}'")
    gt = load_boxes(os.path.join(seq_dir, "groundtruth.txt"))
    absent = load_labels(os.path.join(seq_dir, "absent_label.txt"))
    counts = {"vis_imgs": len(rgb), "event_imgs": len(event), "groundtruth.txt": len(gt),
              "absent_label.txt": len(absent)}
    if len(set(counts.values())) != 1:
        raise DatasetError(f"VisEvent sequence '{name}': frame / label counts differ {counts} ({seq_dir})")
    # docs/evaluation.md (VisEvent): the dataset's absent_label.txt is read as visibility (1 = present) and frames
    # before the first present one are dropped; a file without a present frame is not trimmed.
    start = first_visible_frame(absent)
    if absent[0] == 0 and start == 0:
        logger.warning("VisEvent sequence '%s': absent_label.txt has no present frame; not trimmed", name)
    extras = {"absent_label": absent[start:], "start_frame": start, "num_frames_full": len(rgb)}
    return Sequence(name, rgb[start:], event[start:], gt[start:], x_mode="rgbrgb", depth_clip=False,
                    dataset="VisEvent", extras=extras)


@BENCHMARKS.register("VisEvent")
def visevent(root: Optional[str] = None, sequences: Optional[SequenceT[str]] = None) -> Benchmark:
    """VisEvent test subset (320 sequences); results are comma separated ``%.14f``."""
    root = resolve_root("VisEvent", root)
    names = _select(list_sequence_dirs(root, "VisEvent"), sequences, "VisEvent", root)
    return Benchmark("VisEvent", root, [_visevent_sequence(root, n) for n in names], "visevent", RGBE_FORMAT)


def read_vot_metadata(seq_dir: str) -> Dict[str, str]:
    """The ``key=value`` pairs of a VOT ``sequence`` file, or ``{}`` when the file does not exist."""
    path = os.path.join(seq_dir, "sequence")
    if not os.path.isfile(path):
        return {}
    metadata = {}
    with open(path, "r", encoding="utf-8") as handle:
        for line in handle:
            key, sep, value = line.strip().partition("=")
            if sep:
                metadata[key.strip()] = value.strip()
    return metadata


def pattern_pairs(seq_dir: str, color_pattern: str, depth_pattern: str, context: str) -> Tuple[List[str], List[str]]:
    """Frames of two VOT channel patterns (``color/%08d.jpg``, ``depth/%08d.png``) from index 1 on.

    The toolkit stops a channel at its first missing index; here both channels must have frame k for
    every k up to the last one either has, so a missing frame is named instead of shifting the pairs.
    """
    color, depth = [], []
    index = 1
    while True:
        paths = [os.path.join(seq_dir, pattern % index) for pattern in (color_pattern, depth_pattern)]
        present = [os.path.isfile(p) for p in paths]
        if not any(present):
            break
        if not all(present):
            missing = paths[present.index(False)]
            raise DatasetError(f"{context}: {missing} is missing but {paths[present.index(True)]} exists "
                               f"(every frame needs both channels)")
        color.append(paths[0])
        depth.append(paths[1])
        index += 1
    if not color:
        raise DatasetError(f"{context}: no frame matches {os.path.join(seq_dir, color_pattern)} "
                           f"(VOT numbering starts at 1)")
    return color, depth


def _rgbd_sequence(root: str, name: str, benchmark: str) -> Sequence:
    """One DepthTrack / VOT-RGBD sequence; the VOT ``sequence`` file's channel patterns win when present."""
    seq_dir = os.path.join(root, name)
    context = f"{benchmark} sequence '{name}'"
    metadata = read_vot_metadata(seq_dir)
    if "channels.color" in metadata and "channels.depth" in metadata:
        color, depth = pattern_pairs(seq_dir, metadata["channels.color"], metadata["channels.depth"], context)
    else:
        color, depth = paired_frames(seq_dir, "color", "depth", context)
    gt = load_boxes(os.path.join(seq_dir, "groundtruth.txt"))
    if len(gt) != len(color):
        raise DatasetError(f"{benchmark} sequence '{name}': {len(color)} frames but {len(gt)} rows in "
                           f"groundtruth.txt ({seq_dir})")
    if np.isnan(gt[0]).any():
        raise DatasetError(f"{benchmark} sequence '{name}': the first ground-truth row has no box")
    extras = {"vot_metadata": metadata}
    anchor_file = os.path.join(seq_dir, "anchor.value")
    if os.path.isfile(anchor_file):
        extras["anchor"] = np.loadtxt(anchor_file, dtype=np.float64, ndmin=1)
    # docs/evaluation.md: depth is clipped at min(3*median, 10000), min-max normalised, JET colour-mapped.
    return Sequence(name, color, depth, gt, x_mode="rgbcolormap", depth_clip=True, dataset=benchmark,
                    extras=extras)


def _rgbd_benchmark(benchmark: str, root: Optional[str], sequences: Optional[SequenceT[str]],
                    result_format: ResultFormat) -> Benchmark:
    root = resolve_root(benchmark, root)
    names = _select(list_sequence_dirs(root, benchmark, required=("color",)), sequences, benchmark, root)
    # docs/evaluation.md: the VOT entry point builds the tracker with 'depthtrack' (threshold 0.7).
    return Benchmark(benchmark, root, [_rgbd_sequence(root, n, benchmark) for n in names], "depthtrack",
                     result_format)


@BENCHMARKS.register("DepthTrack")
def depthtrack(root: Optional[str] = None, sequences: Optional[SequenceT[str]] = None) -> Benchmark:
    """DepthTrack test set (50 sequences); the local runner writes the VOT long-term result layout."""
    return _rgbd_benchmark("DepthTrack", root, sequences, VOT_LONGTERM_FORMAT)


@BENCHMARKS.register("VOT22RGBD")
def vot22rgbd(root: Optional[str] = None, sequences: Optional[SequenceT[str]] = None) -> Benchmark:
    """VOT-RGBD2022; scored by the VOT toolkit's multistart experiment (VOT22RGBD_workspace)."""
    return _rgbd_benchmark("VOT22RGBD", root, sequences, VOT_MULTISTART_FORMAT)


def load_benchmark(name: str, root: Optional[str] = None, sequences: Optional[SequenceT[str]] = None) -> Benchmark:
    """Read benchmark ``name`` (case-insensitive, e.g. 'lasher', 'VisEvent') from ``root`` or the settings."""
    matches = [n for n in BENCHMARKS.names() if n.lower() == name.lower()]
    reader: Callable[..., Benchmark] = BENCHMARKS.get(matches[0] if matches else name)
    return reader(root, sequences)
