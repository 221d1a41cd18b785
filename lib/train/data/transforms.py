"""Data augmentation (docs/training.md): joint, before cropping, and per frame, after cropping.

All randomness comes from a :class:`RandomSource` owned by the sampler (one per DataLoader worker),
so tests can pin it and workers never share a stream. The reference drew from the global Python,
NumPy and torch generators; the distributions are the same.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch
import torchvision.transforms.functional as TF


@dataclass
class RandomSource:
    """The three generators the pipeline draws from (reference: ``random``, ``np.random``, torch)."""

    py: random.Random
    np: np.random.Generator
    torch: torch.Generator

    @classmethod
    def from_seed(cls, seed: int) -> "RandomSource":
        seed = int(seed) % (2 ** 63)
        gen = torch.Generator()
        gen.manual_seed(seed)
        return cls(py=random.Random(seed), np=np.random.default_rng(seed), torch=gen)


def to_grayscale_rgbx(image: np.ndarray) -> np.ndarray:
    """Grey version of an H x W x 3|6 RGB(+X) image (OpenCV RGB->GRAY weights 0.299/0.587/0.114).

    If the X half equals the RGB half (an RGB dataset) all six channels become grey; otherwise only
    channels 0-2 do and the X channels are kept (docs/training.md).
    """
    rgb = np.ascontiguousarray(image[..., :3])
    gray = np.repeat(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)
    if image.shape[2] == 3:
        return gray
    x = image[..., 3:]
    if np.array_equal(x, rgb):
        return np.concatenate([gray, gray], axis=2)
    return np.concatenate([gray, x], axis=2)


def flip_image_box_mask(image: np.ndarray, box: torch.Tensor, mask: Optional[torch.Tensor]):
    """Mirror a raw frame left-right with its xywh pixel box and mask.

    Quirk (kept for parity, docs/training.md): the box becomes x' = (W - 1) - (x + w).
    """
    width = image.shape[1]
    flipped = np.ascontiguousarray(image[:, ::-1])
    box = box.clone()
    box[0] = (width - 1) - (box[0] + box[2])
    return flipped, box, (mask.flip((-1,)) if mask is not None else None)


class JointTransform:
    """Grayscale (p = 0.05) and horizontal flip (p = 0.5), one roll shared by all frames of a sample."""

    def __init__(self, grayscale_prob: float = 0.05, flip_prob: float = 0.5):
        self.grayscale_prob = grayscale_prob
        self.flip_prob = flip_prob

    def roll(self, rng: RandomSource) -> Tuple[bool, bool]:
        """(grayscale, flip) decisions for one sample (Python RNG, as the reference)."""
        return rng.py.random() < self.grayscale_prob, rng.py.random() < self.flip_prob

    @staticmethod
    def apply(images: Sequence[np.ndarray], boxes: Sequence[torch.Tensor], masks: Sequence[Optional[torch.Tensor]],
              roll: Tuple[bool, bool]) -> Tuple[List[np.ndarray], List[torch.Tensor], List[Optional[torch.Tensor]]]:
        gray, flip = roll
        images, boxes, masks = list(images), list(boxes), list(masks)
        if gray:
            images = [to_grayscale_rgbx(img) for img in images]
        if flip:
            out = [flip_image_box_mask(img, box, mask) for img, box, mask in zip(images, boxes, masks)]
            images, boxes, masks = [o[0] for o in out], [o[1] for o in out], [o[2] for o in out]
        return images, boxes, masks


class FrameTransform:
    """Per-frame brightness jitter, flip and normalisation of a crop (docs/training.md).

    1. HWC uint8 -> CHW float, ``clamp(img * b / 255, 0, 1)`` with b ~ U(0.8, 1.2) (NumPy RNG), on all channels;
    2. with p = 0.5 (Python RNG) mirror the crop, its mask and its normalised box (x' = 1 - (x + w));
    3. ImageNet mean/std on channels 0-2 and again on channels 3-5.

    Quirk (T23 in docs/parity.md): this flip is independent of the joint one, so each frame ends up
    mirrored with p = 0.5 independently, also within a stage-2 clip.
    """

    def __init__(self, mean: Sequence[float], std: Sequence[float], brightness_jitter: float = 0.2,
                 flip_prob: float = 0.5):
        self.mean = list(mean)
        self.std = list(std)
        self.brightness_jitter = brightness_jitter
        self.flip_prob = flip_prob

    def __call__(self, image: np.ndarray, box: torch.Tensor, mask: torch.Tensor, rng: RandomSource):
        factor = rng.np.uniform(max(0.0, 1.0 - self.brightness_jitter), 1.0 + self.brightness_jitter)
        tensor = torch.from_numpy(np.ascontiguousarray(image.transpose((2, 0, 1)))).float()
        tensor = tensor.mul(factor / 255.0).clamp(0.0, 1.0)
        if rng.py.random() < self.flip_prob:
            tensor = tensor.flip((2,))
            mask = mask.flip((-1,))
            box = box.clone()
            box[0] = 1 - (box[0] + box[2])
        channels = tensor.shape[0]
        reps = channels // len(self.mean)
        tensor = TF.normalize(tensor, self.mean * reps, self.std * reps)
        return tensor, box, mask
