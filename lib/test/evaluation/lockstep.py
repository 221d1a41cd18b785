"""Tracking several benchmark sequences in lockstep: one frame of each per network call.

A GPU (or a wide CPU) is used far better by a batch of search crops than by one. ``track_in_lockstep``
keeps up to ``batch_size`` sequences running; each step gathers the next frame of every running
sequence and calls :meth:`~lib.test.tracker.cstrack.CSTrackTracker.step` once. Each sequence keeps its
own templates, memory and update schedule, so its boxes are those of a run on its own; when one ends
(or fails) it is handed back at once and the next pending sequence takes its place.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, Iterator, List, Optional, Tuple

import numpy as np

from lib.test.evaluation.data import Sequence


@dataclass
class _Running:
    """One sequence in the batch: its tracker state and the arrays ``track_sequence`` would return."""

    seq: Sequence
    state: Any = None
    next_frame: int = 1
    boxes: np.ndarray = None
    scores: np.ndarray = None
    times: np.ndarray = None
    pending_frame: Optional[np.ndarray] = field(default=None, repr=False)

    def outputs(self) -> Dict[str, np.ndarray]:
        return {"boxes": self.boxes, "scores": self.scores, "times": self.times}


def _start(tracker: Any, seq: Sequence) -> _Running:
    n = len(seq)
    run = _Running(seq, boxes=np.zeros((n, 4)), scores=np.full(n, np.nan), times=np.zeros(n))
    frame = seq.frame(0)
    start = time.perf_counter()
    run.state = tracker.new_sequence(frame, {"init_bbox": seq.init_bbox})
    run.times[0] = time.perf_counter() - start
    run.boxes[0] = seq.ground_truth[0]
    return run


def track_in_lockstep(tracker: Any, sequences: Iterable[Sequence], batch_size: int
                      ) -> Iterator[Tuple[Sequence, Optional[Dict[str, np.ndarray]], Optional[Exception]]]:
    """Yield ``(sequence, outputs, None)`` for each finished sequence, ``(sequence, None, error)`` for a failed one.

    ``outputs`` are what :func:`~lib.test.evaluation.runner.track_sequence` returns (boxes with row 0 =
    the first ground-truth box, scores, per-frame seconds: a step's time shared by the sequences in it).
    """
    if batch_size < 1:
        raise ValueError(f"batch size must be at least 1, got {batch_size}")
    waiting = iter(sequences)
    running: List[_Running] = []
    exhausted = False
    while True:
        while not exhausted and len(running) < batch_size:
            seq = next(waiting, None)
            if seq is None:
                exhausted = True
                break
            try:
                run = _start(tracker, seq)
            except Exception as e:  # this sequence fails; the others go on (as in one-at-a-time runs)
                yield seq, None, e
                continue
            if len(seq) == 1:
                yield seq, run.outputs(), None
            else:
                running.append(run)
        if not running:
            return
        ready: List[_Running] = []
        for run in running:
            try:
                run.pending_frame = run.seq.frame(run.next_frame)
                ready.append(run)
            except Exception as e:  # an unreadable frame ends only its own sequence
                yield run.seq, None, e
        running = ready
        if not running:
            continue
        start = time.perf_counter()
        outs = tracker.step([r.state for r in running], [r.pending_frame for r in running])
        share = (time.perf_counter() - start) / len(running)
        still: List[_Running] = []
        for run, out in zip(running, outs):
            k = run.next_frame
            run.boxes[k] = np.asarray(out["target_bbox"], dtype=np.float64).reshape(4)
            run.scores[k] = float(out["best_score"])
            run.times[k] = share
            run.next_frame, run.pending_frame = k + 1, None
            if run.next_frame == len(run.seq):
                yield run.seq, run.outputs(), None
            else:
                still.append(run)
        running = still


__all__ = ["track_in_lockstep"]
