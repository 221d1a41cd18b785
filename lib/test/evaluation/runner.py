"""Tracking one benchmark sequence and writing its result files.

``track_sequence`` runs a tracker over a :class:`~lib.test.evaluation.data.Sequence` (row 0 of the
result is the first ground-truth box, as in the reference's result files, ``docs/evaluation.md``);
``run_sequence`` also writes ``<seq>.txt`` and its timing file atomically. Which sequences still need
tracking is decided by :class:`~lib.test.evaluation.results.ResultsFolder`; ``TrackerFactory`` is the
picklable recipe each worker process builds its tracker from.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Dict, Iterable, Iterator, Optional, Tuple

import numpy as np

from lib.test.evaluation.data import ResultFormat, Sequence
from lib.test.evaluation.lockstep import track_in_lockstep
from lib.test.evaluation.results import write_sequence_results


@dataclass
class SequenceResult:
    """Outcome of one sequence: frames tracked and the tracker's own time (image reading excluded)."""

    name: str
    num_frames: int
    tracker_time: float

    @property
    def fps(self) -> float:
        return self.num_frames / self.tracker_time if self.tracker_time > 0 else float("nan")


def track_sequence(tracker: Any, seq: Sequence) -> Dict[str, np.ndarray]:
    """Run the tracker over ``seq``: boxes ``(N, 4)`` with row 0 = ground truth, scores ``(N,)``, times ``(N,)``.

    A frame that cannot be read stops the sequence with :class:`~lib.utils.rgbx.FrameReadError`
    naming the file.
    """
    n = len(seq)
    boxes = np.zeros((n, 4), dtype=np.float64)
    scores = np.full(n, np.nan, dtype=np.float64)
    times = np.zeros(n, dtype=np.float64)
    frame = seq.frame(0)
    start = time.perf_counter()
    tracker.initialize(frame, {"init_bbox": seq.init_bbox})
    times[0] = time.perf_counter() - start
    boxes[0] = seq.ground_truth[0]
    for i in range(1, n):
        frame = seq.frame(i)
        start = time.perf_counter()
        out = tracker.track(frame)
        times[i] = time.perf_counter() - start
        boxes[i] = np.asarray(out["target_bbox"], dtype=np.float64).reshape(4)
        scores[i] = float(out.get("best_score", np.nan))
    return {"boxes": boxes, "scores": scores, "times": times}


def run_sequence(tracker: Any, seq: Sequence, results_dir: str,
                 result_format: ResultFormat = ResultFormat()) -> SequenceResult:
    """Track ``seq`` and write its files under ``results_dir`` (the result file last, atomically)."""
    return write_outputs(seq, track_sequence(tracker, seq), results_dir, result_format)


def write_outputs(seq: Sequence, out: Dict[str, np.ndarray], results_dir: str,
                  result_format: ResultFormat) -> SequenceResult:
    """Write what :func:`track_sequence` (or a lockstep batch) returned for ``seq``."""
    write_sequence_results(results_dir, seq.name, result_format, out["boxes"], out["scores"], out["times"])
    return SequenceResult(seq.name, len(seq), float(out["times"].sum()))


def run_sequences(tracker: Any, sequences: Iterable[Sequence], results_dir: str, result_format: ResultFormat,
                  batch: int = 1) -> Iterator[Tuple[Sequence, Optional[SequenceResult], Optional[Exception]]]:
    """Track and write ``sequences`` one at a time (``batch`` 1) or ``batch`` at once in lockstep.

    Yields ``(sequence, result, None)`` as each finishes, ``(sequence, None, error)`` for a failed one
    (the others go on). A lockstep batch gives every sequence the boxes it gets alone.
    """
    if batch <= 1:
        for seq in sequences:
            try:
                yield seq, run_sequence(tracker, seq, results_dir, result_format), None
            except Exception as e:  # reported by the caller; the other sequences go on
                yield seq, None, e
        return
    for seq, out, error in track_in_lockstep(tracker, sequences, batch):
        if error is not None:
            yield seq, None, error
            continue
        try:
            yield seq, write_outputs(seq, out, results_dir, result_format), None
        except Exception as e:  # e.g. the folder became unwritable
            yield seq, None, e


@dataclass(frozen=True)
class TrackerFactory:
    """Picklable recipe for :func:`lib.test.tracker.build_tracker`; each worker calls it once."""

    script: str
    checkpoint: str
    dataset_name: str
    config: Optional[str] = None
    precision: str = "fp32"
    require_native: bool = True

    def __call__(self, device: str) -> Any:
        from lib.test.tracker import build_tracker

        return build_tracker(self.script, checkpoint=self.checkpoint, dataset_name=self.dataset_name,
                             device=device, config=self.config, precision=self.precision,
                             require_native=self.require_native)


__all__ = ["SequenceResult", "TrackerFactory", "run_sequence", "run_sequences", "track_sequence", "write_outputs"]
