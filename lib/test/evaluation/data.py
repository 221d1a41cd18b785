"""Benchmark sequences: frame paths, ground truth and the 6-channel frame reader used at test time.

A :class:`Sequence` knows its RGB and X frame files (paired by frame number), the ground truth ``(N, 4)``
``[x, y, w, h]`` (NaN rows = no box), how to turn a frame pair into the ``H x W x 6`` uint8 array the
tracker takes (``rgbrgb`` for thermal / event, ``rgbcolormap`` with depth clipping for depth,
``docs/evaluation.md``) and per-dataset extras (absent labels, the infrared ground truth, VOT anchors).
A :class:`Benchmark` is the ordered list of sequences of one test set plus what the runner needs to
write results in that benchmark's reference format.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Tuple

import numpy as np

from lib.utils.annotations import AnnotationError, read_boxes, read_values
from lib.utils.frame_lists import FramePairingError, list_frames, pair_frames
from lib.utils.rgbx import get_x_frame

logger = logging.getLogger(__name__)


class DatasetError(RuntimeError):
    """A benchmark folder or sequence that is missing or laid out differently than expected."""


@dataclass(frozen=True)
class ResultFormat:
    """How one benchmark's reference writes a result file (``docs/evaluation.md``).

    ``layout`` is ``"flat"`` (``<dir>/<seq>.txt``, one ``x y w h`` row per frame, row 0 = ground truth)
    or ``"vot_longterm"`` (``<dir>/<seq>/<seq>_001.txt`` + ``_confidence.value``, VOT toolkit layout).
    """

    delimiter: str = " "
    fmt: str = "%.18e"
    layout: str = "flat"


def paired_frames(seq_dir: str, rgb_dir: str, x_dir: str, context: str) -> Tuple[List[str], List[str]]:
    """Paths of a sequence's RGB and X frames, RGB frame k beside X frame k by frame number.

    Frames are listed and paired by :mod:`lib.utils.frame_lists`; a missing folder, a frame without
    its partner or a gap in the numbering is a :class:`DatasetError` naming ``context`` and the file.
    """
    rgb_folder, x_folder = os.path.join(seq_dir, rgb_dir), os.path.join(seq_dir, x_dir)
    try:
        rgb, x = pair_frames(rgb_folder, list_frames(rgb_folder), x_folder, list_frames(x_folder))
    except (FileNotFoundError, FramePairingError) as e:
        raise DatasetError(f"{context}: {e}") from None
    return [os.path.join(rgb_folder, n) for n in rgb], [os.path.join(x_folder, n) for n in x]


def load_boxes(path: str) -> np.ndarray:
    """A ground-truth file as ``(N, 4)`` float64 ``[x, y, w, h]``; NaN rows where there is no box.

    Any delimiter, ``nan`` tokens and VOT one-number special lines are accepted
    (:mod:`lib.utils.annotations`).
    """
    if not os.path.isfile(path):
        raise DatasetError(f"ground-truth file {path} does not exist")
    try:
        return read_boxes(path, special_rows=True)
    except AnnotationError as e:
        raise DatasetError(str(e)) from e


def load_labels(path: str) -> np.ndarray:
    """A one-integer-per-line label file (e.g. VisEvent ``absent_label.txt``) as int64."""
    if not os.path.isfile(path):
        raise DatasetError(f"label file {path} does not exist")
    try:
        return read_values(path).astype(np.int64)
    except AnnotationError as e:
        raise DatasetError(str(e)) from e


def first_visible_frame(visible: np.ndarray) -> int:
    """Index of the first frame a VisEvent sequence is tracked from, given ``absent_label.txt`` (1 = visible).

    The CSTrack runners drop the frames before the first visible one when the first frame is not
    visible (``argmax`` of the labels); a file without any visible frame is not trimmed (0).
    """
    return int(np.argmax(visible > 0)) if len(visible) and visible[0] == 0 else 0


@dataclass
class Sequence:
    """One test sequence: RGB / X frame files of equal count, ground truth and how to read frames."""

    name: str
    rgb_frames: List[str]
    x_frames: List[str]
    ground_truth: np.ndarray
    x_mode: str = "rgbrgb"
    depth_clip: bool = False
    dataset: str = ""
    extras: Dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.rgb_frames) != len(self.x_frames):
            raise DatasetError(f"{self.dataset} sequence '{self.name}': {len(self.rgb_frames)} RGB frames but "
                               f"{len(self.x_frames)} X frames")
        if len(self.rgb_frames) == 0:
            raise DatasetError(f"{self.dataset} sequence '{self.name}': no frames")
        self.ground_truth = np.asarray(self.ground_truth, dtype=np.float64).reshape(-1, 4)
        if len(self.ground_truth) == 0:
            raise DatasetError(f"{self.dataset} sequence '{self.name}': empty ground truth")

    def __len__(self) -> int:
        return len(self.rgb_frames)

    @property
    def init_bbox(self) -> List[float]:
        """The box the tracker is initialised with: ground-truth row 0 as a list of floats."""
        return [float(v) for v in self.ground_truth[0]]

    def frame(self, index: int) -> np.ndarray:
        """Frame ``index`` as ``H x W x 6`` uint8 (RGB then X), read as the reference does."""
        return get_x_frame(self.rgb_frames[index], self.x_frames[index], self.x_mode, self.depth_clip)


@dataclass
class Benchmark:
    """An ordered set of test sequences plus what the runner needs for this benchmark.

    ``tracker_dataset`` is the dataset name the reference passes to the tracker (it selects the
    template-update threshold: 'lasher' for LasHeR *and* RGBT234, quirk Q13 in ``docs/parity.md``).
    """

    name: str
    root: str
    sequences: List[Sequence]
    tracker_dataset: str
    result_format: ResultFormat = ResultFormat()

    def __len__(self) -> int:
        return len(self.sequences)

    def __iter__(self) -> Iterator[Sequence]:
        return iter(self.sequences)

    def __getitem__(self, key: int | str) -> Sequence:
        if isinstance(key, str):
            for seq in self.sequences:
                if seq.name == key:
                    return seq
            raise KeyError(f"{self.name} has no sequence '{key}' (root {self.root})")
        return self.sequences[key]

    def names(self) -> List[str]:
        return [s.name for s in self.sequences]
