"""Readers for tracking result files, ground-truth files and per-frame value files.

Result files come from our runners and from other trackers' released results, so the delimiter is not
fixed: comma, space and tab (and mixtures) are accepted, as MATLAB's ``dlmread`` does in the official
toolkits (docs/evaluation.md). VOT trajectories may mix rows of one value (special codes such as
``1`` = initialisation, ``0`` = lost) with ``x,y,w,h`` rows; :func:`read_vot_trajectory` maps the
special rows to NaN rows, the representation used by :mod:`lib.test.analysis.longterm`.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from lib.utils import annotations
from lib.utils.annotations import AnnotationError

#: The error of an unreadable result or annotation file (the shared reader's).
ResultFormatError = AnnotationError


def read_boxes(path: str | Path, columns: tuple[int, ...] = (4,)) -> np.ndarray:
    """A box file (one row per frame, any delimiter) as a float64 ``(N, C)`` array, ``C`` in ``columns``
    (4 for ``x y w h``, 8 for RGBT234 corner rows); an empty file gives ``(0, columns[0])``."""
    return annotations.read_boxes(path, widths=columns)


def read_vot_trajectory(path: str | Path) -> np.ndarray:
    """A VOT trajectory / ground-truth text file as ``(N, 4)`` boxes with NaN rows for special regions.

    A row of one value (VOT special code), or a box with a NaN, is a *special* (empty) region in the
    VOT toolkit (``vot/region/io.py: parse_region``); both become all-NaN rows here. Polygon rows are
    not supported (DepthTrack and VOT-RGBD use rectangles).
    """
    boxes = annotations.read_boxes(path, special_rows=True)
    boxes[np.isnan(boxes).any(axis=1)] = np.nan
    return boxes


def read_values(path: str | Path) -> np.ndarray:
    """Read a VOT per-frame value file (e.g. ``<seq>_001_confidence.value``), one value per line.

    An empty line means "no value for this frame" (the initialisation frame); the VOT toolkit then
    uses 0 for the confidence (``properties(i).get('confidence', 0)``), so empty lines read as 0.
    Trailing blank lines at the end of the file are ignored.
    """
    path = Path(path)
    lines = path.read_text().splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    try:
        return np.array([float(line) if line.strip() else 0.0 for line in lines], dtype=np.float64)
    except ValueError as e:
        raise ResultFormatError(f"{path}: non-numeric value ({e})") from e


def read_sequence_list(path: str | Path) -> list[str]:
    """Read a sequence list file (one name per line, blank lines ignored)."""
    return [line.strip() for line in Path(path).read_text().splitlines() if line.strip()]


def read_flags(path: str | Path) -> np.ndarray:
    """A file of 0/1 flags separated by commas, spaces or newlines (attribute and absent files)."""
    return annotations.read_values(path)

