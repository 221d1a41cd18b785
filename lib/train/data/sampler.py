"""Random training samples drawn from weighted datasets (docs/training.md, frame_sample_mode "order").

Every item is an independent draw (the index is ignored): a dataset by ratio, a sequence with enough
visible frames, then ``Nt + Ns`` visible frame ids from a +-MAX_SAMPLE_INTERVAL window around a
random visible base frame, sorted ascending or (p = 0.5) descending; the first ``Nt`` are templates.
Frames are passed on as read: 6 channels (RGB ‖ X) or 3 (RGB-only data, X = RGB is added by the
processing after cropping, docs/training.md).

Bad data (an unreadable or missing frame, a NaN or zero-size box, differing RGB / X frame counts, a
malformed annotation) is logged once per message (the message names the file or sequence), counted
per dataset and redrawn. A dataset whose draws fail ``max_failures`` times in a row raises
:class:`~lib.train.dataset.base_video_dataset.DatasetError` naming it (T14 in docs/parity.md: the
reference silently dropped such a dataset). Programming errors are not caught.
"""
from __future__ import annotations

import logging
import math
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch.utils.data import Dataset

from lib.train.data.transforms import RandomSource
from lib.train.dataset.base_video_dataset import DatasetError, SampleError

logger = logging.getLogger(__name__)

MIN_SEQUENCE_LENGTH = 20  # T21 in docs/parity.md


class TrackingSampler(Dataset):
    """A ``torch`` Dataset of ``samples_per_epoch`` processed samples (each one a fresh random draw).

    Args:
        datasets: dataset objects (``lib.train.dataset``).
        p_datasets: sampling ratios (normalised here); None = uniform.
        samples_per_epoch: ``len(self)`` (``DATA.TRAIN.SAMPLE_PER_EPOCH``).
        max_gap: half width of the frame window (``DATA.MAX_SAMPLE_INTERVAL``).
        num_search_frames, num_template_frames: Ns, Nt.
        processing: callable ``(data, rng) -> data`` (:class:`TrackingProcessing`); None returns raw samples.
        frame_sample_mode: only ``"order"`` (the mode the reference trains with).
        seed: seed of the sampler's generators; None = ``torch.initial_seed()``. DataLoader workers are
            reseeded through :meth:`reseed` (see ``loader.seed_worker``).
        max_failures: consecutive failed draws of one dataset before it is declared unusable.
        max_sequence_tries: sequence draws per dataset draw before giving up on that draw.
    """

    def __init__(self, datasets: Sequence[Any], p_datasets: Optional[Sequence[float]], samples_per_epoch: int,
                 max_gap: int, num_search_frames: int, num_template_frames: int = 2, processing=None,
                 frame_sample_mode: str = "order", seed: Optional[int] = None, max_failures: int = 100,
                 max_sequence_tries: int = 200):
        if frame_sample_mode != "order":
            raise ValueError(f"frame_sample_mode '{frame_sample_mode}' is not implemented; CSTrack trains with "
                             f"'order' (the reference's 'causal' mode is unused)")
        self.datasets = list(datasets)
        if not self.datasets:
            raise DatasetError("no training datasets given")
        for ds in self.datasets:
            if ds.get_num_sequences() == 0:
                raise DatasetError(f"dataset '{ds.get_name()}' ({getattr(ds, 'root', '?')}) has no sequences")
        weights = [1.0] * len(self.datasets) if p_datasets is None else [float(p) for p in p_datasets]
        if len(weights) != len(self.datasets) or min(weights) < 0 or sum(weights) <= 0:
            raise ValueError(f"dataset ratios {list(p_datasets or [])} do not fit {len(self.datasets)} datasets")
        self.p_datasets = [w / sum(weights) for w in weights]
        self.samples_per_epoch = int(samples_per_epoch)
        self.max_gap = int(max_gap)
        self.num_search_frames = int(num_search_frames)
        self.num_template_frames = int(num_template_frames)
        self.processing = processing
        self.max_failures = int(max_failures)
        self.max_sequence_tries = int(max_sequence_tries)
        # Shared memory, so counts made inside DataLoader workers are visible to the main process
        # (increments from different workers may race; the counts are diagnostics).
        self._failures = torch.zeros(len(self.datasets), dtype=torch.int64).share_memory_()
        self._consecutive = [0] * len(self.datasets)
        self._logged: set = set()
        self.rng = RandomSource.from_seed(torch.initial_seed() if seed is None else seed)

    def __len__(self) -> int:
        return self.samples_per_epoch

    def reseed(self, seed: int) -> None:
        """Restart the sampler's generators from ``seed`` (called once per DataLoader worker)."""
        self.rng = RandomSource.from_seed(seed)

    def failure_counts(self) -> Dict[str, int]:
        """Bad-data draws per dataset name since construction (all workers together)."""
        counts: Dict[str, int] = {}
        for ds, n in zip(self.datasets, self._failures.tolist()):
            counts[ds.get_name()] = counts.get(ds.get_name(), 0) + int(n)
        return counts

    # ----- drawing -----
    def __getitem__(self, index: int) -> Dict[str, Any]:
        """One sample; ``index`` is ignored (docs/training.md)."""
        while True:
            ds_idx = self.rng.py.choices(range(len(self.datasets)), self.p_datasets)[0]
            dataset = self.datasets[ds_idx]
            try:
                data = self._draw(dataset)
            except (SampleError, OSError) as e:
                self._record_failure(ds_idx, e)
                continue
            if data.get("valid", True):
                self._consecutive[ds_idx] = 0
                return data
            self._record_unproductive(ds_idx, "processing rejected the sample (crop too small)")

    def _draw(self, dataset) -> Dict[str, Any]:
        seq_id, visible, seq_info = self._sample_sequence(dataset)
        if dataset.is_video_sequence():
            template_ids, search_ids = self._sample_frame_ids_order(visible)
        else:  # image dataset: every frame is the same image (docs/training.md)
            template_ids, search_ids = [0] * self.num_template_frames, [0] * self.num_search_frames
        t_frames, t_anno, meta = dataset.get_frames(seq_id, template_ids, seq_info)
        s_frames, s_anno, _ = dataset.get_frames(seq_id, search_ids, seq_info)
        self._check_boxes(dataset, seq_id, template_ids + search_ids, t_anno["bbox"] + s_anno["bbox"])
        data = {"template_images": t_frames, "template_anno": t_anno["bbox"], "template_masks": t_anno.get("mask"),
                "search_images": s_frames, "search_anno": s_anno["bbox"], "search_masks": s_anno.get("mask"),
                "dataset": dataset.get_name(), "test_class": meta.get("object_class_name"),
                "task_class": dataset.task_class}
        if self.processing is None:
            return data
        return self.processing(data, self.rng)

    def _sample_sequence(self, dataset) -> Tuple[int, torch.Tensor, Dict[str, torch.Tensor]]:
        """A sequence with more than 2 (Nt + Ns) visible frames and at least 20 frames (docs/training.md)."""
        min_visible = 2 * (self.num_search_frames + self.num_template_frames)
        for _ in range(self.max_sequence_tries):
            seq_id = self.rng.py.randint(0, dataset.get_num_sequences() - 1)
            seq_info = dataset.get_sequence_info(seq_id)
            visible = seq_info["visible"]
            if not dataset.is_video_sequence():
                return seq_id, visible, seq_info
            if int(visible.sum()) > min_visible and len(visible) >= MIN_SEQUENCE_LENGTH:
                return seq_id, visible, seq_info
        raise SampleError(f"{dataset.get_name()}: no sequence with more than {min_visible} visible frames and at "
                          f"least {MIN_SEQUENCE_LENGTH} frames in {self.max_sequence_tries} draws")

    def _sample_visible_ids(self, visible: np.ndarray, num_ids: int, min_id: int = 0,
                            max_id: Optional[int] = None) -> List[int]:
        """``num_ids`` visible frame ids in [min_id, max_id), drawn uniformly with replacement."""
        max_id = len(visible) if max_id is None else min(len(visible), max_id)
        candidates = np.flatnonzero(visible[max(0, min_id):max_id]) + max(0, min_id)
        return self.rng.py.choices(candidates.tolist(), k=num_ids)

    def _sample_frame_ids_order(self, visible: torch.Tensor) -> Tuple[List[int], List[int]]:
        """Ids around a visible base frame, sorted, reversed with p = 0.5 (docs/training.md).

        Quirk (T22 in docs/parity.md): drawn with replacement, so duplicate frames are possible.
        """
        vis = visible.numpy().astype(bool)
        base = self._sample_visible_ids(vis, 1)[0]
        ids = self._sample_visible_ids(vis, self.num_template_frames + self.num_search_frames,
                                       min_id=base - self.max_gap, max_id=base + self.max_gap)
        ids.sort(reverse=bool(torch.rand(1, generator=self.rng.torch) < 0.5))
        return ids[:self.num_template_frames], ids[self.num_template_frames:]

    @staticmethod
    def _check_boxes(dataset, seq_id: int, frame_ids: Sequence[int], boxes: Sequence[torch.Tensor]) -> None:
        for f_id, box in zip(frame_ids, boxes):
            values = box.tolist()
            if not all(math.isfinite(v) for v in values) or values[2] <= 0 or values[3] <= 0:
                raise SampleError(f"{dataset.describe(seq_id)}: frame {f_id} has box {values} "
                                  f"(NaN or non-positive size)")

    # ----- bookkeeping -----
    def _record_failure(self, ds_idx: int, error: Exception) -> None:
        self._failures[ds_idx] += 1
        message = str(error)
        if message not in self._logged:
            self._logged.add(message)
            logger.warning("%s: bad data, drawing again: %s", self.datasets[ds_idx].get_name(), message)
        self._record_unproductive(ds_idx, message)

    def _record_unproductive(self, ds_idx: int, reason: str) -> None:
        self._consecutive[ds_idx] += 1
        if self._consecutive[ds_idx] >= self.max_failures:
            dataset = self.datasets[ds_idx]
            raise DatasetError(f"dataset '{dataset.get_name()}' ({getattr(dataset, 'root', '?')}) produced no usable "
                               f"sample in {self.max_failures} consecutive draws; last problem: {reason}. "
                               f"Check its root and layout ({getattr(dataset, 'LAYOUT', '')})")
