"""CSTrack trackers: stage 1 (``cstrack_s1``) and stage 2 with the temporal memory (``cstrack_s2``).

Both follow the reference's tracking step, quirks included, so that the released checkpoints give the
reference's boxes (one frame through the tracker: ``docs/architecture.md``; quirks: ``docs/parity.md``).
Stage 2 only changes how the network is called (the memory it carries).
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Mapping

import numpy as np
import torch
import torch.nn as nn

from lib.registry import TRACKERS
from lib.test.tracker.crop_io import Preprocessor, clip_box, hann_window_2d, map_box_back
from lib.utils.crop import sample_target
from lib.utils.heatmap import box_token_mask

logger = logging.getLogger(__name__)

# Quirk Q13 (docs/parity.md): the reference hard-codes the template-update threshold per dataset and
# never reads TEST.UPDATE_THRESHOLD.DEFAULT. A dataset-named key in TEST.UPDATE_THRESHOLD (absent
# from the reference yamls) overrides this table.
LOW_THRESHOLD_DATASETS = ("LASHER", "RGBT234")


def update_threshold_for(dataset_name: str, cfg: Mapping) -> float:
    name = dataset_name.upper()
    configured = cfg.TEST.UPDATE_THRESHOLD
    if name in configured:
        return float(configured[name])
    return 0.45 if name in LOW_THRESHOLD_DATASETS else 0.7


def update_interval_for(dataset_name: str, cfg: Mapping) -> int:
    intervals = cfg.TEST.UPDATE_INTERVALS
    return int(intervals.get(dataset_name.upper(), intervals["DEFAULT"]))


class CSTrackTracker:
    """Stage-1 tracker. ``initialize(frame, {"init_bbox": [x, y, w, h]})`` then ``track(frame)`` per frame.

    Frames are H x W x 6 uint8 (RGB then X) or H x W x 3 (X is then a copy of RGB).
    """

    def __init__(self, net: nn.Module, cfg: Mapping, dataset_name: str = "default",
                 device: torch.device = torch.device("cpu")):
        self.net = net.to(device).eval()
        self.cfg = cfg
        self.device = device
        self.dataset_name = dataset_name
        test = cfg.TEST
        self.template_factor, self.template_size = test.TEMPLATE_FACTOR, test.TEMPLATE_SIZE
        self.search_factor, self.search_size = test.SEARCH_FACTOR, test.SEARCH_SIZE
        if test.NUM_TEMPLATES != 2:
            raise ValueError(f"TEST.NUM_TEMPLATES must be 2 (the network takes two templates), got {test.NUM_TEMPLATES}")
        self.stride = cfg.MODEL.BACKBONE.STRIDE
        self.feat_sz = self.search_size // self.stride
        self.update_interval = update_interval_for(dataset_name, cfg)
        self.update_threshold = update_threshold_for(dataset_name, cfg)
        self.preprocessor = Preprocessor(device)
        # Quirk Q14 (docs/parity.md): the Hann window is always applied; TEST.WINDOW is ignored.
        self.output_window = hann_window_2d(self.feat_sz, device)
        self.state: List[float] = []
        self.frame_id = 0

    # ---------------------------------------------------------------- helpers
    @staticmethod
    def _check_frame(image: np.ndarray) -> None:
        if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] not in (3, 6):
            shape = getattr(image, "shape", type(image).__name__)
            raise ValueError(f"expected an H x W x 6 (RGB + X) or H x W x 3 uint8 frame, got shape {shape}")
        if image.dtype != np.uint8:
            raise ValueError(f"expected a uint8 frame, got dtype {image.dtype}")

    def _template_mask(self, box: List[float], resize_factor: float) -> torch.Tensor:
        """Soft template mask (1, Nz, 1) of a box assumed centred in its crop (quirks Q16, Q17: docs/parity.md)."""
        w1 = int(box[2] * resize_factor)
        h1 = int(box[3] * resize_factor)
        # The reference hard-codes the crop centre 64 (= 128 / 2); half the template size in general.
        x0 = int(self.template_size // 2 - 0.5 * w1)
        y0 = int(self.template_size // 2 - 0.5 * h1)
        mask = box_token_mask(y0, y0 + h1 - 1, x0, x0 + w1 - 1, self.template_size, self.stride)
        return mask.unsqueeze(0).to(self.device)

    def _crop_template(self, image: np.ndarray, box: List[float]):
        crop, resize_factor = sample_target(image, box, self.template_factor, self.template_size)
        return self.preprocessor(crop), self._template_mask(box, resize_factor)

    # ---------------------------------------------------------------- network call (stage 2 overrides)
    def _reset_network_state(self) -> None:
        """Hook for per-sequence network state (none in stage 1)."""

    def _run_network(self, search: torch.Tensor) -> Dict[str, Any]:
        return self.net(template=self.templates, search=search, soft_token_template_mask=self.template_masks,
                        training=False)

    # ---------------------------------------------------------------- public API
    def initialize(self, image: np.ndarray, info: Mapping[str, Any]) -> None:
        """Start a sequence at ``info["init_bbox"]`` ([x, y, w, h], pixels); no network call."""
        self._check_frame(image)
        box = info.get("init_bbox") if isinstance(info, Mapping) else None
        if box is None or len(box) != 4:
            raise ValueError(f"initialize needs info={{'init_bbox': [x, y, w, h]}}, got {info!r}")
        box = [float(v) for v in box]  # Python floats: arithmetic that does not depend on the NumPy version
        if not all(np.isfinite(box)) or box[2] <= 0 or box[3] <= 0:
            raise ValueError(f"init_bbox must have finite values and positive width and height, got {box}")
        with torch.inference_mode():
            template, mask = self._crop_template(image, box)
        self.templates = [template, template]
        self.template_masks = [mask, mask]
        self.state = box
        self.frame_id = 0
        self._reset_network_state()

    def track(self, image: np.ndarray) -> Dict[str, Any]:
        """Track one frame: ``{"target_bbox": [x, y, w, h], "best_score": float}``."""
        if not self.state:
            raise RuntimeError("call initialize() before track()")
        self._check_frame(image)
        height, width = image.shape[:2]
        self.frame_id += 1
        with torch.inference_mode():
            crop, resize_factor = sample_target(image, self.state, self.search_factor, self.search_size)
            out = self._run_network(self.preprocessor(crop))
            boxes, best_score = self.net.box_head.decode(out["score_map"], out["size_map"], out["offset_map"],
                                                         window=self.output_window)
            pred_box = (boxes.view(-1, 4).mean(dim=0) * self.search_size / resize_factor).tolist()
            self.state = clip_box(map_box_back(self.state, pred_box, self.search_size, resize_factor),
                                  height, width, margin=10)
            best_score = best_score.item()
            # Template update (quirks Q13, Q15): slot 0 keeps the initial template, slot 1 the latest update.
            if self.frame_id % self.update_interval == 0 and best_score > self.update_threshold:
                template, mask = self._crop_template(image, self.state)
                self.templates = [self.templates[0], template]
                self.template_masks = [self.template_masks[0], mask]
        return {"target_bbox": list(self.state), "best_score": best_score}


class CSTrackTemporalTracker(CSTrackTracker):
    """Stage-2 tracker: carries the 4-slot token memory from frame to frame (``docs/architecture.md``).

    The memory is initialised on the first tracked frame; template updates do not touch it.
    """

    def _reset_network_state(self) -> None:
        self.temporal_infor: List[torch.Tensor] = []
        self.first_frame_flag = True

    def _run_network(self, search: torch.Tensor) -> Dict[str, Any]:
        out = self.net(template=self.templates, search=search, soft_token_template_mask=self.template_masks,
                       temporal_infor=self.temporal_infor, first_frame_flag=self.first_frame_flag, training=False)
        self.first_frame_flag = False
        self.temporal_infor = out["temporal_infor"]
        return out


TRACKERS.register("cstrack_s1")(CSTrackTracker)
TRACKERS.register("cstrack_s2")(CSTrackTemporalTracker)
