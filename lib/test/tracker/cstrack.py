"""CSTrack trackers: stage 1 (``cstrack_s1``) and stage 2 with the temporal memory (``cstrack_s2``).

Both follow the reference's tracking step, quirks included, so that the released checkpoints give the
reference's boxes (one frame through the tracker: ``docs/architecture.md``; quirks: ``docs/parity.md``).
Stage 2 only changes how the network is called (the memory it carries).

What changes only at a template update (the templates' patch tokens and token-type terms) is computed
then and kept in the sequence's :class:`SequenceState`; every frame embeds only the search crop. One
:meth:`CSTrackTracker.step` tracks any number of sequences as one batch, each with its own templates,
memory and update schedule: ``track()`` is ``step()`` on a batch of one, so a lockstep batch runs the
same code as single sequences.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn

from lib.registry import TRACKERS
from lib.test.tracker.crop_io import Preprocessor, clip_box, hann_window_2d, map_box_back
from lib.test.tracker.precision import Precision, resolve_precision
from lib.utils.crop import sample_target
from lib.utils.heatmap import box_token_mask

logger = logging.getLogger(__name__)

Tensor = torch.Tensor

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


@dataclass
class SequenceState:
    """One sequence being tracked: everything its next frame needs.

    ``patches`` holds the RGB and X patch tokens of template slots 0 (initial) and 1 (latest update),
    ``masks`` their soft masks; ``tokens`` are both templates with their token types, per modality,
    as :meth:`~lib.models.cstrack.model.CSTRACK_S1.forward` takes them. ``memory`` is stage 2's.
    """

    box: List[float]
    patches: List[Tuple[Tensor, Tensor]]
    masks: List[Tensor]
    tokens: Tuple[Tensor, Tensor]
    frame_id: int = 0
    memory: List[Tensor] = field(default_factory=list)
    first_frame: bool = True


class CSTrackTracker:
    """Stage-1 tracker. ``initialize(frame, {"init_bbox": [x, y, w, h]})`` then ``track(frame)`` per frame.

    Frames are H x W x 6 uint8 (RGB then X) or H x W x 3 (X is then a copy of RGB). ``precision``
    (``fp32``, ``bf16``, ``fp16``) runs the network under autocast where the device supports it
    natively, or anyway with ``require_native=False`` (:mod:`lib.test.tracker.precision`); fp32 is the
    reference's arithmetic.
    """

    def __init__(self, net: nn.Module, cfg: Mapping, dataset_name: str = "default",
                 device: torch.device = torch.device("cpu"), precision: str = "fp32", require_native: bool = True):
        self.net = net.to(device).eval()
        self.cfg = cfg
        self.device = device
        self.dataset_name = dataset_name
        self.precision: Precision = resolve_precision(precision, device, require_native)
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
        self.sequence: SequenceState = None  # type: ignore[assignment]  (set by initialize)

    # ---------------------------------------------------------------- checks
    @staticmethod
    def _check_frame(image: np.ndarray) -> None:
        if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] not in (3, 6):
            shape = getattr(image, "shape", type(image).__name__)
            raise ValueError(f"expected an H x W x 6 (RGB + X) or H x W x 3 uint8 frame, got shape {shape}")
        if image.dtype != np.uint8:
            raise ValueError(f"expected a uint8 frame, got dtype {image.dtype}")

    @staticmethod
    def _check_box(info: Mapping[str, Any]) -> List[float]:
        box = info.get("init_bbox") if isinstance(info, Mapping) else None
        if box is None or len(box) != 4:
            raise ValueError(f"initialize needs info={{'init_bbox': [x, y, w, h]}}, got {info!r}")
        box = [float(v) for v in box]  # Python floats: arithmetic that does not depend on the NumPy version
        if not all(np.isfinite(box)) or box[2] <= 0 or box[3] <= 0:
            raise ValueError(f"init_bbox must have finite values and positive width and height, got {box}")
        return box

    # ---------------------------------------------------------------- templates
    def _template_mask(self, box: List[float], resize_factor: float) -> Tensor:
        """Soft template mask (1, Nz, 1) of a box assumed centred in its crop (quirks Q16, Q17: docs/parity.md)."""
        w1 = int(box[2] * resize_factor)
        h1 = int(box[3] * resize_factor)
        # The reference hard-codes the crop centre 64 (= 128 / 2); half the template size in general.
        x0 = int(self.template_size // 2 - 0.5 * w1)
        y0 = int(self.template_size // 2 - 0.5 * h1)
        mask = box_token_mask(y0, y0 + h1 - 1, x0, x0 + w1 - 1, self.template_size, self.stride)
        return mask.unsqueeze(0).to(self.device)

    def _embed_templates(self, images: Sequence[np.ndarray], boxes: Sequence[List[float]]):
        """Template crops at ``boxes`` -> per image: (RGB, X) patch tokens and the soft mask; one batch."""
        crops, masks = [], []
        for image, box in zip(images, boxes):
            crop, resize_factor = sample_target(image, box, self.template_factor, self.template_size)
            crops.append(self.preprocessor(crop))
            masks.append(self._template_mask(box, resize_factor))
        with self.precision.autocast():
            rgb, x = self.net.embed_rgb_x([torch.cat(crops, dim=0)])
        return [(rgb[0][i:i + 1], x[0][i:i + 1]) for i in range(len(crops))], masks

    def _template_tokens(self, state: SequenceState) -> Tuple[Tensor, Tensor]:
        add = self.net.backbone.add_template_token_types
        (rgb0, x0), (rgb1, x1) = state.patches
        return (add(rgb0, rgb1, state.masks[0], state.masks[1]), add(x0, x1, state.masks[0], state.masks[1]))

    # ---------------------------------------------------------------- sequences
    def new_sequence(self, image: np.ndarray, info: Mapping[str, Any]) -> SequenceState:
        """The state of a sequence starting at ``info["init_bbox"]`` ([x, y, w, h] px) in ``image``.

        Both template slots hold the initial template (no network call besides its patch embedding).
        """
        self._check_frame(image)
        box = self._check_box(info)
        with torch.inference_mode():
            (patches,), (mask,) = self._embed_templates([image], [box])
            state = SequenceState(box=box, patches=[patches, patches], masks=[mask, mask], tokens=None)
            state.tokens = self._template_tokens(state)
        return state

    def step(self, states: Sequence[SequenceState], images: Sequence[np.ndarray]) -> List[Dict[str, Any]]:
        """Track one frame of every sequence in ``states`` (``images`` in the same order) as one batch.

        Returns ``{"target_bbox": [x, y, w, h], "best_score": float}`` per sequence and updates the states.
        """
        if len(states) != len(images) or not states:
            raise ValueError(f"step needs one image per sequence state, got {len(images)} for {len(states)}")
        for image in images:
            self._check_frame(image)
        with torch.inference_mode():
            crops, factors = [], []
            for state, image in zip(states, images):
                state.frame_id += 1
                crop, resize_factor = sample_target(image, state.box, self.search_factor, self.search_size)
                crops.append(self.preprocessor(crop))
                factors.append(resize_factor)
            with self.precision.autocast():
                out = self._run_network(states, torch.cat(crops, dim=0))
            boxes, scores = self.net.box_head.decode(out["score_map"].float(), out["size_map"].float(),
                                                     out["offset_map"].float(), window=self.output_window)
            results, updates = [], []
            for i, (state, image) in enumerate(zip(states, images)):
                pred_box = (boxes[i] * self.search_size / factors[i]).tolist()
                height, width = image.shape[:2]
                state.box = clip_box(map_box_back(state.box, pred_box, self.search_size, factors[i]),
                                     height, width, margin=10)
                best_score = scores[i].item()
                # Template update (quirks Q13, Q15): slot 0 keeps the initial template, slot 1 the latest.
                if state.frame_id % self.update_interval == 0 and best_score > self.update_threshold:
                    updates.append(i)
                results.append({"target_bbox": list(state.box), "best_score": best_score})
            if updates:
                patches, masks = self._embed_templates([images[i] for i in updates], [states[i].box for i in updates])
                for i, new_patches, new_mask in zip(updates, patches, masks):
                    states[i].patches[1], states[i].masks[1] = new_patches, new_mask
                    states[i].tokens = self._template_tokens(states[i])
        return results

    def _run_network(self, states: Sequence[SequenceState], search: Tensor) -> Dict[str, Tensor]:
        """The network on a batch of search crops with each sequence's template tokens (stage 2 overrides)."""
        tokens = tuple(torch.cat([s.tokens[k] for s in states], dim=0) for k in range(2))
        return self.net(template=None, search=search, soft_token_template_mask=None, training=False,
                        template_tokens=tokens)

    # ---------------------------------------------------------------- one sequence
    def initialize(self, image: np.ndarray, info: Mapping[str, Any]) -> None:
        """Start a sequence at ``info["init_bbox"]`` ([x, y, w, h], pixels)."""
        self.sequence = self.new_sequence(image, info)

    def track(self, image: np.ndarray) -> Dict[str, Any]:
        """Track one frame: ``{"target_bbox": [x, y, w, h], "best_score": float}``."""
        if self.sequence is None:
            raise RuntimeError("call initialize() before track()")
        return self.step([self.sequence], [image])[0]

    @property
    def state(self) -> List[float]:
        """The current box [x, y, w, h] of the sequence started by :meth:`initialize`."""
        return list(self.sequence.box) if self.sequence is not None else []


class CSTrackTemporalTracker(CSTrackTracker):
    """Stage-2 tracker: carries the 4-slot token memory from frame to frame (``docs/architecture.md``).

    The memory is initialised on a sequence's first tracked frame; template updates do not touch it.
    In a batch, sequences on their first frame restart only their own rows of the memory.
    """

    def _run_network(self, states: Sequence[SequenceState], search: Tensor) -> Dict[str, Tensor]:
        tokens = tuple(torch.cat([s.tokens[k] for s in states], dim=0) for k in range(2))
        first = [s.first_frame for s in states]
        if all(first):
            memory, first_frame = [], True
        else:
            slots = len(next(s.memory for s in states if s.memory))
            template = next(s.memory[0] for s in states if s.memory)
            memory = [torch.cat([s.memory[k] if s.memory else torch.zeros_like(template) for s in states], dim=0)
                      for k in range(slots)]
            first_frame = torch.tensor(first, device=search.device) if any(first) else False
        out = self.net(template=None, search=search, soft_token_template_mask=None, temporal_infor=memory,
                       first_frame_flag=first_frame, training=False, template_tokens=tokens)
        for i, state in enumerate(states):
            state.memory = [slot[i:i + 1] for slot in out["temporal_infor"]]
            state.first_frame = False
        return out


TRACKERS.register("cstrack_s1")(CSTrackTracker)
TRACKERS.register("cstrack_s2")(CSTrackTemporalTracker)
