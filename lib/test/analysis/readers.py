"""Readers for tracking result files, ground-truth files and per-frame value files.

Result files come from our runners and from other trackers' released results, so the delimiter is not
fixed: comma, space and tab (and mixtures) are accepted, as MATLAB's ``dlmread`` does in the official
toolkits (EVALUATION.md §1.1-1.3). VOT trajectories may mix rows of one value (special codes such as
``1`` = initialisation, ``0`` = lost) with ``x,y,w,h`` rows; :func:`read_vot_trajectory` maps the
special rows to NaN rows, the representation used by :mod:`lib.test.analysis.longterm`.
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np

# comma, semicolon and tab become spaces, so that one whitespace split reads every delimiter.
_SEPARATORS = str.maketrans({",": " ", ";": " ", "\t": " "})


class ResultFormatError(ValueError):
    """A result or annotation file exists but cannot be parsed into boxes."""


def _normalized_text(path: Path) -> str:
    """File text with every delimiter turned into a space."""
    try:
        return Path(path).read_text().translate(_SEPARATORS)
    except UnicodeDecodeError as e:
        raise ResultFormatError(f"{path}: not a text file") from e


def _token_rows(path: Path, text: str | None = None) -> list[list[str]]:
    """Split a text file into rows of number tokens; blank lines are dropped."""
    text = _normalized_text(path) if text is None else text
    return [row for row in (line.split() for line in text.splitlines()) if row]


def read_boxes(path: str | Path, columns: tuple[int, ...] = (4,)) -> np.ndarray:
    """Read a box file (one row per frame, comma/space/tab separated) as a float64 ``(N, C)`` array.

    ``columns`` lists the accepted row widths (4 for ``x y w h``, 8 for RGBT234 corner rows); every row
    must have the same width. An empty file gives a ``(0, columns[0])`` array.
    """
    path = Path(path)
    text = _normalized_text(path)
    if not text.strip():
        return np.zeros((0, columns[0]))
    try:
        boxes = np.loadtxt(io.StringIO(text), dtype=np.float64, ndmin=2, comments=None)
    except ValueError:
        boxes = None  # ragged or non-numeric: diagnose row by row below
    if boxes is not None and boxes.shape[1] in columns:
        return boxes
    rows = _token_rows(path, text)
    expected = " or ".join(map(str, columns))
    for i, row in enumerate(rows):
        if len(row) not in columns or len(row) != len(rows[0]):
            raise ResultFormatError(f"{path}: row {i + 1} has {len(row)} values; expected {expected} "
                                    f"values on every row")
    raise ResultFormatError(f"{path}: non-numeric value")


def read_vot_trajectory(path: str | Path) -> np.ndarray:
    """Read a VOT trajectory / ground-truth text file as ``(N, 4)`` boxes with NaN rows for special regions.

    A row of one value (VOT special code), or a box with a NaN, is a *special* (empty) region in the
    VOT toolkit (``vot/region/io.py: parse_region``); both become NaN rows here. Polygon rows are not
    supported (DepthTrack and VOT-RGBD use rectangles).
    """
    path = Path(path)
    rows = _token_rows(path)
    boxes = np.full((len(rows), 4), np.nan)
    for i, row in enumerate(rows):
        if len(row) == 4:
            try:
                boxes[i] = [float(v) for v in row]
            except ValueError as e:
                raise ResultFormatError(f"{path}: row {i + 1} is not numeric ({e})") from e
        elif len(row) != 1:
            raise ResultFormatError(
                f"{path}: row {i + 1} has {len(row)} values; only rectangles (4) and special codes (1) "
                f"are supported")
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
    """Read a file of 0/1 flags separated by commas, spaces or newlines (attribute and absent files)."""
    rows = _token_rows(Path(path))
    try:
        return np.array([float(v) for row in rows for v in row], dtype=np.float64)
    except ValueError as e:
        raise ResultFormatError(f"{path}: non-numeric flag ({e})") from e
