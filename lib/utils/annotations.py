"""One reader for box and label text files: ground truth, tracking results, VOT trajectories, flags.

The benchmarks and other trackers' released results mix delimiters (comma, tab, space, semicolon,
sometimes a comma followed by spaces), so every one of them is accepted on every line:

* an empty field between two delimiters (``1,,3,4``) is a missing value and reads as NaN, as does a
  ``nan`` token (DepthTrack marks absent targets with ``nan,nan,nan,nan``);
* with ``special_rows`` a row of a single number (a VOT special code: ``0`` lost, ``1`` initialised)
  reads as a NaN box, the toolkit's "empty region";
* every row must have the same width, one of ``widths`` (4 for ``x y w h``, 8 for corner rows).

Errors are :class:`AnnotationError` naming the file and line; callers turn them into their own
error type (a bad benchmark file stops a run, a bad training file skips a sample).
"""
from __future__ import annotations

import io
import math
import re
from pathlib import Path
from typing import List, Sequence, Union

import numpy as np

PathLike = Union[str, Path]

_SPLIT = re.compile(r"\s*[,;\t]\s*|\s+")
_TO_SPACES = str.maketrans({",": " ", ";": " ", "\t": " "})


class AnnotationError(ValueError):
    """An annotation or result file that exists but cannot be read as boxes or labels."""


def read_text(path: PathLike) -> str:
    """The file's text; FileNotFoundError if missing, :class:`AnnotationError` if it is not text."""
    try:
        return Path(path).read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise AnnotationError(f"{path}: not a text file ({e.reason} at byte {e.start})") from e


def _parse_row(line: str, source: str, line_no: int) -> List[float]:
    tokens = _SPLIT.split(line.strip())
    try:
        return [float(t) if t else math.nan for t in tokens]
    except ValueError:
        raise AnnotationError(f"{source}:{line_no}: cannot read '{line.strip()}' as numbers") from None


def parse_boxes(text: str, source: str, widths: Sequence[int] = (4,), special_rows: bool = False) -> np.ndarray:
    """Box rows of ``text`` as a float64 ``(N, W)`` array (``(0, widths[0])`` for an empty text)."""
    if not text.strip():
        return np.zeros((0, widths[0]), dtype=np.float64)
    try:  # fast path for large well-formed files (every row complete and of one width)
        boxes = np.loadtxt(io.StringIO(text.translate(_TO_SPACES)), dtype=np.float64, ndmin=2, comments=None)
        if boxes.shape[1] in widths:
            return boxes
    except ValueError:
        pass  # ragged, empty fields, special rows or text: read line by line below
    rows: List[List[float]] = []
    width = None
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        values = _parse_row(line, source, line_no)
        if special_rows and len(values) == 1:
            values = [math.nan] * (width or widths[0])
        if len(values) not in widths or (width is not None and len(values) != width):
            expected = " or ".join(str(w) for w in ([width] if width else widths))
            raise AnnotationError(f"{source}:{line_no}: {len(values)} values, expected {expected} (x,y,w,h) "
                                  f"on every line")
        width = len(values)
        rows.append(values)
    return np.asarray(rows, dtype=np.float64).reshape(-1, width or widths[0])


def read_boxes(path: PathLike, widths: Sequence[int] = (4,), special_rows: bool = False) -> np.ndarray:
    """:func:`parse_boxes` of a file (see the module docstring for what is accepted)."""
    return parse_boxes(read_text(path), str(path), widths, special_rows)


def parse_values(text: str, source: str) -> np.ndarray:
    """All numbers of ``text``, whatever separates them (flags, attribute rows, labels), as float64."""
    values: List[float] = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            values.extend(_parse_row(line, source, line_no))
    return np.asarray(values, dtype=np.float64)


def read_values(path: PathLike) -> np.ndarray:
    """:func:`parse_values` of a file."""
    return parse_values(read_text(path), str(path))


__all__ = ["AnnotationError", "parse_boxes", "parse_values", "read_boxes", "read_text", "read_values"]
