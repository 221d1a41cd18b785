"""What every benchmark's scoring protocol provides, the registry of protocols, and shared helpers.

A :class:`Protocol` object holds everything one benchmark's evaluation needs: the ground-truth layouts
it accepts and their loader, the reader of its result files, how per-sequence curves and scores are
computed and aggregated, its score keys, its attribute names and which toolkit's rules it follows.
Protocols are registered in :data:`PROTOCOLS` under the benchmark names of
``lib.registry.BENCHMARKS`` (``LasHeR``, ``RGBT234``, ``VisEvent``, ``DepthTrack``);
:func:`get_protocol` looks them up case-insensitively. The protocols themselves live in
:mod:`lib.test.analysis.ope` and :mod:`lib.test.analysis.depthtrack`.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence, Union

import numpy as np

from lib.registry import Registry
from lib.test.analysis.readers import ResultFormatError, read_flags, read_sequence_list, read_values

logger = logging.getLogger(__name__)

PathLike = Union[str, Path]

#: Benchmark name -> its :class:`Protocol` instance.
PROTOCOLS = Registry("evaluation protocol")


def register_protocol(cls: type) -> type:
    """Class decorator: register one instance of a :class:`Protocol` subclass under its ``name``."""
    PROTOCOLS.register(cls.name)(cls())
    return cls


def get_protocol(name: str) -> "Protocol":
    """The protocol of benchmark ``name`` (case-insensitive: ``lasher`` -> LasHeR); unknown names raise
    a KeyError with the closest known name."""
    for known in PROTOCOLS.names():
        if name.lower() == known.lower():
            return PROTOCOLS.get(known)
    if name.lower() == "vot22rgbd":
        raise KeyError("VOT22RGBD is scored by the VOT toolkit's multistart analysis (EAO / A / R), not here: "
                       "run `vot analysis` in VOT22RGBD_workspace (docs/evaluation.md)")
    return PROTOCOLS.get(name)  # raises with a "did you mean" hint


class IncompleteResultsError(ValueError):
    """Some sequences have no usable result file; ``problems`` maps each such sequence to the reason."""

    def __init__(self, results_dir: PathLike, problems: Mapping[str, str], n_sequences: int):
        self.results_dir = Path(results_dir)
        self.problems = dict(problems)
        lines = [f"{self.results_dir}: {len(problems)} of {n_sequences} sequences have no usable result "
                 f"(nothing is averaged over fewer sequences; pass allow_missing=True / --allow_missing "
                 f"to score only the complete ones):"]
        by_reason: dict[str, list[str]] = {}
        for seq, reason in sorted(self.problems.items()):
            kind, _, detail = reason.partition(": ")
            by_reason.setdefault(kind, []).append(f"{seq} ({detail})" if detail else seq)
        for kind, items in by_reason.items():
            lines.append(f"  {kind} ({len(items)}): {', '.join(items)}")
        super().__init__("\n".join(lines))

    @property
    def sequences(self) -> list[str]:
        """Names of the sequences without a usable result, sorted."""
        return sorted(self.problems)


@dataclass
class GroundTruth:
    """Ground truth of one benchmark: boxes per sequence plus what the protocol needs besides them.

    ``boxes`` are ``(N, 4)`` ``x y w h`` arrays (RGBT234: the visible ones, DepthTrack: NaN rows for
    frames without a box); ``infrared`` (RGBT234), ``absent`` (VisEvent, 1 = absent) and
    ``image_sizes`` (DepthTrack, ``(width, height)``) are filled where the benchmark uses them.
    ``attributes`` maps attribute names to the sequences that have them, read from ``attribute_dir``;
    ``attribute_search`` lists the folders that were looked at when none was given.
    """

    dataset: str
    root: Path
    sequences: list[str]
    boxes: dict[str, np.ndarray]
    infrared: dict[str, np.ndarray] = field(default_factory=dict)
    absent: dict[str, np.ndarray] = field(default_factory=dict)
    image_sizes: dict[str, tuple[int, int]] = field(default_factory=dict)
    attributes: dict[str, list[str]] = field(default_factory=dict)
    attribute_dir: Path | None = None
    attribute_search: list[Path] = field(default_factory=list)

    def attribute_note(self) -> str:
        """One line saying where the attribute files came from, or where they were looked for."""
        if self.attribute_dir is not None:
            return f"attributes from {self.attribute_dir}"
        if not self.attribute_search:
            return f"{self.dataset} has no attribute files"
        return ("no attribute files found (looked in " + ", ".join(str(p) for p in self.attribute_search)
                + "; pass --attributes DIR)")


# ---------------------------------------------------------------------------------------------------
# Layout helpers shared by the protocols


def subdirs_with(root: Path, filename: str) -> list[str]:
    """Names of the sub-folders of ``root`` that contain ``filename``."""
    return sorted(p.name for p in root.iterdir() if p.is_dir() and (p / filename).is_file())


def flat_txt(root: Path) -> list[str]:
    """Sequence names of a folder of ``<seq>.txt`` files (``list.txt`` excluded)."""
    return sorted(p.stem for p in root.glob("*.txt") if p.name != "list.txt")


def first_existing(*paths: Path) -> Path | None:
    """The first of ``paths`` that is a file or folder, else None."""
    return next((p for p in paths if p.exists()), None)


def resolve_sequences(found: list[str], root: Path, sequences: Sequence[str] | PathLike | None) -> list[str]:
    """The sequence list: explicit list or list file, else ``list.txt`` in the root, else all found."""
    if sequences is not None:
        names = read_sequence_list(sequences) if isinstance(sequences, (str, Path)) else list(sequences)
    elif (root / "list.txt").is_file():
        names = read_sequence_list(root / "list.txt")
    else:
        names = found
    unknown = sorted(set(names) - set(found))
    if unknown:
        raise FileNotFoundError(f"{root}: no ground truth for {len(unknown)} sequences: {', '.join(unknown)}")
    if not names:
        raise FileNotFoundError(f"{root}: no ground-truth files found")
    return names


def read_frame_times(path: Path) -> np.ndarray:
    """Seconds per frame from a runner's ``<seq>_time.txt`` / VOT ``_time.value`` file (row 0 = initialisation)."""
    return read_values(path)


# ---------------------------------------------------------------------------------------------------
# Results shared by every protocol


@dataclass
class PlotCurve:
    """One tracker's curve in one plot: ``y`` over ``x``, the legend score and an optional marked point."""

    x: np.ndarray
    y: np.ndarray
    score: float
    point: tuple[float, float] | None = None


@dataclass
class TrackerResult:
    """What every protocol's result holds besides its curves: names, skipped sequences, frame times.

    ``times[seq]`` are the seconds per frame of the runner's time file (frame 0 = initialisation),
    for the sequences that have one; ``results_dir`` is the folder the results were read from.
    """

    dataset: str
    tracker: str
    sequences: list[str]
    skipped: dict[str, str] = field(default_factory=dict)
    times: dict[str, np.ndarray] = field(default_factory=dict)
    results_dir: Path | None = None

    @property
    def protocol(self) -> "Protocol":
        return get_protocol(self.dataset)

    def fps(self) -> float:
        """Tracking speed over every timed sequence: frames after the first / their summed time.

        The initialisation frame is left out (it builds the template once per sequence), the others
        are pooled, so long sequences weigh more than short ones. NaN when no time file was found.
        """
        frames = sum(len(t) - 1 for t in self.times.values())
        seconds = sum(float(t[1:].sum()) for t in self.times.values())
        return frames / seconds if frames and seconds > 0 else float("nan")

    def sequence_fps(self) -> dict[str, float]:
        """Tracking speed of every timed sequence on its own (initialisation frame left out)."""
        return {seq: (len(t) - 1) / float(t[1:].sum()) if len(t) > 1 and t[1:].sum() > 0 else float("nan")
                for seq, t in self.times.items()}


class Protocol:
    """One benchmark's evaluation: ground-truth layouts, result reader, curves and scores.

    Subclasses set the class attributes and implement :meth:`load_ground_truth`,
    :meth:`read_result` and :meth:`collect`.
    """

    #: Benchmark name, as in ``lib.registry.BENCHMARKS``.
    name: str = ""
    #: Score keys of :meth:`TrackerResult.scores`, fractions in [0, 1]; the first one orders tables.
    score_keys: tuple[str, ...] = ()
    #: Whose rules are followed, and where our documentation describes them.
    toolkit: str = ""
    #: Ground-truth layouts :meth:`load_ground_truth` accepts (for messages and help texts).
    ground_truth_layouts: tuple[str, ...] = ()
    #: Result-file layout :meth:`read_result` reads.
    result_layout: str = ""
    #: Attribute names in the column order of per-sequence attribute files (empty: none shipped).
    attribute_names: tuple[str, ...] = ()
    #: Names of the attribute folders shipped beside the ground truth.
    attribute_dirs: tuple[str, ...] = ()

    @property
    def main_score(self) -> str:
        """The score the per-sequence table is sorted by by default (the success / F score)."""
        return self.score_keys[-1]

    def rule_note(self, vot_legacy: bool) -> str:
        """The scoring option in effect, for report headers ("" when the protocol has none)."""
        return ""

    def load_ground_truth(self, root: Path, sequences: Sequence[str] | PathLike | None,
                          image_size: Any = None) -> GroundTruth:
        """Boxes and per-protocol extras of ``root`` (attributes are added by the caller)."""
        raise NotImplementedError

    def read_result(self, results_dir: Path, seq: str, truth: GroundTruth) -> Any:
        """One sequence's result, validated against the ground truth.

        Raises FileNotFoundError("missing") or ValueError / ResultFormatError whose text starts with
        the reason (``empty``, ``short``, ``unreadable``) for :class:`IncompleteResultsError`.
        """
        raise NotImplementedError

    def collect(self, tracker: str, sequences: list[str], loaded: Mapping[str, Any], truth: GroundTruth,
                vot_legacy: bool) -> TrackerResult:
        """The tracker's result object from the read results of ``sequences``."""
        raise NotImplementedError

    def result_boxes(self, results_dir: Path, seq: str, truth: GroundTruth) -> np.ndarray:
        """``(N, 4)`` ``x y w h`` boxes of one result file for drawing (NaN rows: no box)."""
        raise NotImplementedError

    def time_file_candidates(self, results_dir: Path, seq: str) -> tuple[Path, ...]:
        """Where a runner writes this sequence's seconds-per-frame file (pytracking ``<seq>_time.txt``)."""
        return (results_dir / f"{seq}_time.txt",)

    def read_times(self, results_dir: Path, seq: str) -> np.ndarray | None:
        """The sequence's seconds per frame, or None without a (readable) time file."""
        path = first_existing(*self.time_file_candidates(results_dir, seq))
        if path is None:
            return None
        try:
            times = read_frame_times(path)
        except (OSError, ResultFormatError) as e:
            logger.warning("ignoring time file %s: %s", path, e)
            return None
        return times

    def attribute_candidates(self, root: Path) -> list[Path]:
        """Attribute folders looked for beside the ground truth, in order."""
        return [base / name for name in self.attribute_dirs for base in (root, root.parent)]

    def load_attributes(self, path: PathLike, sequences: Sequence[str]) -> dict[str, list[str]]:
        """Attribute -> sequences, from an attribute folder.

        Two layouts: per-sequence flag files ``<seq>.txt`` / ``<seq>_attribute.txt`` holding one 0/1
        flag per attribute in the order of :attr:`attribute_names` (LasHeR ``AttriSeqsTxt``, VisEvent
        ``att``), or, when the folder has a ``SequencesName.txt``, per-attribute flag files
        ``<ATTR>.txt`` with one flag per line in that sequence order (RGBT234 ``attr_txt``).
        Attributes without any sequence are left out.
        """
        path = Path(path)
        if not path.is_dir():
            raise FileNotFoundError(f"attribute folder {path} does not exist")
        selected: dict[str, list[str]] = {}
        if (path / "SequencesName.txt").is_file():
            order = read_sequence_list(path / "SequencesName.txt")
            wanted = set(sequences)
            for attr_file in sorted(path.glob("*.txt")):
                if attr_file.name == "SequencesName.txt":
                    continue
                flags = read_flags(attr_file)
                if len(flags) != len(order):
                    raise ValueError(f"{attr_file}: {len(flags)} flags for {len(order)} sequences in "
                                     f"SequencesName.txt")
                selected[attr_file.stem] = [s for s, f in zip(order, flags) if f > 0 and s in wanted]
        else:
            names = self.attribute_names
            if not names:
                raise ValueError(f"{self.name} has no per-sequence attribute files")
            files = {s: first_existing(path / f"{s}_attribute.txt", path / f"{s}.txt") for s in sequences}
            missing = [s for s, f in files.items() if f is None]
            if missing:
                raise FileNotFoundError(f"{path}: no attribute file for {', '.join(missing)}")
            selected = {name: [] for name in names}
            for seq, attr_file in files.items():
                flags = read_flags(attr_file)
                if len(flags) != len(names):
                    raise ValueError(f"{attr_file}: {len(flags)} flags, {self.name} has {len(names)} attributes")
                for name, flag in zip(names, flags):
                    if flag > 0:
                        selected[name].append(seq)
        return {name: seqs for name, seqs in selected.items() if seqs}

    def add_attributes(self, truth: GroundTruth, attributes: PathLike | None) -> None:
        """Fill ``truth.attributes`` from ``attributes`` or, when None, the first folder found beside it.

        A folder given explicitly must load; one found by name is an optional extra, so a problem with
        it is logged and the evaluation goes on without attributes.
        """
        if attributes is not None:
            truth.attributes = self.load_attributes(attributes, truth.sequences)
            truth.attribute_dir = Path(attributes)
            return
        truth.attribute_search = self.attribute_candidates(truth.root)
        found = next((p for p in truth.attribute_search if p.is_dir()), None)
        if found is None:
            return
        try:
            truth.attributes = self.load_attributes(found, truth.sequences)
            truth.attribute_dir = found
        except (OSError, ValueError) as e:
            logger.warning("ignoring attribute folder %s: %s", found, e)
