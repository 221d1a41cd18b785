"""The square context crop shared by training and tracking (``docs/architecture.md``, ``docs/training.md``).

``sample_target`` cuts a square of side ``ceil(sqrt(w*h) * factor)`` centred on a box, zero-pads what
falls outside the image and resizes it with OpenCV. The reference's rounding and padding quirks are
kept on purpose: the released weights were trained on, and the tracker is tested against, exactly
these crops.
"""
from __future__ import annotations

import math
from typing import Optional, Sequence, Tuple, Union

import cv2
import numpy as np
import torch
import torch.nn.functional as F

BoxLike = Union[Sequence[float], np.ndarray, torch.Tensor]


def _box_values(box: BoxLike) -> Tuple[float, float, float, float]:
    """Box values as Python floats (the reference calls ``tolist`` on non-lists)."""
    if isinstance(box, (np.ndarray, torch.Tensor)):
        box = box.tolist()
    x, y, w, h = (float(v) for v in box)
    return x, y, w, h


def sample_target(image: np.ndarray, box_xywh: BoxLike, factor: float, output_sz: Optional[int],
                  mask: Optional[Union[np.ndarray, torch.Tensor]] = None):
    """Crop a square of ``ceil(sqrt(w*h) * factor)`` pixels around ``box_xywh`` and resize it.

    Args:
        image: H x W x C uint8 (C = 3 or 6).
        box_xywh: (x, y, w, h) in pixels (list, array or tensor).
        factor: crop side relative to the box's sqrt-area (2.0 template, 4.0 search).
        output_sz: output side; None keeps the crop size (resize factor 1.0).
        mask: optional H x W mask cropped the same way (training; bilinear, align_corners=False).
    Returns:
        ``(crop uint8 output_sz x output_sz x C, resize_factor)``, plus the cropped mask as a float
        tensor ``(output_sz, output_sz)`` when ``mask`` is given.
    Raises:
        ValueError: crop size < 1 (or NaN box), or a crop that does not overlap the image.
    """
    x, y, w, h = _box_values(box_xywh)
    try:
        crop_sz = math.ceil(math.sqrt(w * h) * factor)
    except ValueError as e:  # NaN or negative area
        raise ValueError(f"cannot crop around box {[x, y, w, h]}: {e}") from e
    if crop_sz < 1:
        raise ValueError(f"Too small bounding box {[x, y, w, h]} (crop size {crop_sz} < 1)")

    # T25 (docs/parity.md): Python round() rounds half to even.
    x1 = round(x + 0.5 * w - crop_sz * 0.5)
    x2 = x1 + crop_sz
    y1 = round(y + 0.5 * h - crop_sz * 0.5)
    y2 = y1 + crop_sz

    img_h, img_w = image.shape[:2]
    # T25 and quirk Q18 (docs/parity.md): the far-side padding has a +1, so a crop reaching the
    # right/bottom border drops the last image column/row and pads one extra zero line.
    x1_pad = max(0, -x1)
    x2_pad = max(x2 - img_w + 1, 0)
    y1_pad = max(0, -y1)
    y2_pad = max(y2 - img_h + 1, 0)

    # Python slicing as in the reference (a negative end wraps around, like the original).
    im_crop = image[y1 + y1_pad:y2 - y2_pad, x1 + x1_pad:x2 - x2_pad]
    if im_crop.size == 0:
        raise ValueError(f"crop of side {crop_sz} around box {[x, y, w, h]} does not overlap the "
                         f"{img_w}x{img_h} image")
    im_crop_padded = cv2.copyMakeBorder(im_crop, y1_pad, y2_pad, x1_pad, x2_pad, cv2.BORDER_CONSTANT, value=0)
    if im_crop_padded.ndim == 2 and image.ndim == 3:  # OpenCV drops a singleton channel axis
        im_crop_padded = im_crop_padded[:, :, None]

    if output_sz is None:
        resize_factor = 1.0
    else:
        resize_factor = output_sz / crop_sz
        im_crop_padded = cv2.resize(im_crop_padded, (output_sz, output_sz))  # INTER_LINEAR
        if im_crop_padded.ndim == 2 and image.ndim == 3:
            im_crop_padded = im_crop_padded[:, :, None]
    if mask is None:
        return im_crop_padded, resize_factor

    mask_t = torch.as_tensor(mask, dtype=torch.float32)
    mask_crop = mask_t[y1 + y1_pad:y2 - y2_pad, x1 + x1_pad:x2 - x2_pad]
    mask_crop_padded = F.pad(mask_crop, pad=(x1_pad, x2_pad, y1_pad, y2_pad), mode="constant", value=0)
    if output_sz is not None:
        mask_crop_padded = F.interpolate(mask_crop_padded[None, None], (output_sz, output_sz),
                                         mode="bilinear", align_corners=False)[0, 0]
    return im_crop_padded, resize_factor, mask_crop_padded


def transform_image_to_crop(box_in: torch.Tensor, box_extract: torch.Tensor, resize_factor: float,
                            crop_sz: torch.Tensor, normalize: bool = False) -> torch.Tensor:
    """Map a box (xywh px) into the coordinates of the crop made around ``box_extract`` (``docs/training.md``).

    ``crop_sz`` is ``tensor([S, S])``. T26 (``docs/parity.md``): the crop centre is ``(S - 1) / 2``
    and normalisation divides by ``S - 1`` (127 / 255), while the heatmap and the soft template mask use S.
    """
    box_extract_center = box_extract[0:2] + 0.5 * box_extract[2:4]
    box_in_center = box_in[0:2] + 0.5 * box_in[2:4]
    box_out_center = (crop_sz - 1) / 2 + (box_in_center - box_extract_center) * resize_factor
    box_out_wh = box_in[2:4] * resize_factor
    box_out = torch.cat((box_out_center - 0.5 * box_out_wh, box_out_wh))
    if normalize:
        return box_out / (crop_sz[0] - 1)
    return box_out
