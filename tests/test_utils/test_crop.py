"""``lib.utils.crop``: the reference crop's quirks on hand-computed cases (``docs/parity.md``: Q18, T25, T26)."""
import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lib.utils.crop import sample_target, transform_image_to_crop


def ramp_image(height=20, width=30, channels=3):
    """Every pixel distinct and non-zero, so crops can be located exactly."""
    values = np.arange(1, height * width * channels + 1).reshape(height, width, channels) % 250 + 1
    return values.astype(np.uint8)


def test_interior_crop_without_resize():
    img = ramp_image()
    crop, factor = sample_target(img, [5, 6, 4, 4], 1.0, None)
    assert factor == 1.0
    np.testing.assert_array_equal(crop, img[6:10, 5:9])


def test_resize_is_opencv_inter_linear_and_factor():
    img = ramp_image()
    crop, factor = sample_target(img, [10, 8, 3, 3], 2.0, 16)  # crop_sz = ceil(3 * 2) = 6
    assert factor == pytest.approx(16 / 6)
    np.testing.assert_array_equal(crop, cv2.resize(img[6:12, 8:14], (16, 16), interpolation=cv2.INTER_LINEAR))


@pytest.mark.parametrize("x, expected_x1", [(0.5, 0), (1.5, 2), (2.5, 2), (3.5, 4)])
def test_python_round_half_to_even(x, expected_x1):
    """x1 = round(x + w/2 - c/2) with Python's round: 0.5 -> 0, 1.5 -> 2, 2.5 -> 2 (not floor(v + 0.5))."""
    img = ramp_image()
    crop, _ = sample_target(img, [x, 4, 2, 2], 1.0, None)  # crop_sz 2, x1 = round(x)
    np.testing.assert_array_equal(crop, img[4:6, expected_x1:expected_x1 + 2])


def test_far_side_padding_has_an_extra_zero_line():
    """Quirk: x2 == W drops the last real column and pads a zero one (x2_pad = x2 - W + 1)."""
    img = ramp_image(height=20, width=10)
    crop, _ = sample_target(img, [6, 2, 4, 4], 1.0, None)  # x1 = 6, x2 = 10 = W
    assert crop.shape == (4, 4, 3)
    np.testing.assert_array_equal(crop[:, :3], img[2:6, 6:9])
    assert (crop[:, 3] == 0).all() and (img[2:6, 9] != 0).all()
    crop, _ = sample_target(img, [2, 16, 4, 4], 1.0, None)  # y2 = 20 = H
    np.testing.assert_array_equal(crop[:3], img[16:19, 2:6])
    assert (crop[3] == 0).all()


def test_near_side_padding_is_zero():
    img = ramp_image()
    crop, _ = sample_target(img, [-2, -1, 4, 4], 1.0, None)  # x1 = -2, y1 = -1
    assert (crop[:, :2] == 0).all() and (crop[:1] == 0).all()
    np.testing.assert_array_equal(crop[1:, 2:], img[0:3, 0:2])


def test_six_channels():
    img = ramp_image(channels=6)
    crop, _ = sample_target(img, [25, 15, 8, 8], 2.0, 32)  # reaches past both far borders
    assert crop.shape == (32, 32, 6) and crop.dtype == np.uint8
    crop3, _ = sample_target(np.ascontiguousarray(img[..., :3]), [25, 15, 8, 8], 2.0, 32)
    np.testing.assert_array_equal(crop[..., :3], crop3)


@pytest.mark.parametrize("box", [[3, 3, 0, 5], [3, 3, float("nan"), 5], [3, 3, -4, 5]])
def test_degenerate_boxes_raise_value_error(box):
    with pytest.raises(ValueError):
        sample_target(ramp_image(), box, 2.0, 16)


def test_box_types_and_crop_outside_image():
    img = ramp_image()
    a, _ = sample_target(img, np.array([5.0, 6.0, 4.0, 4.0]), 1.0, None)
    b, _ = sample_target(img, torch.tensor([5.0, 6.0, 4.0, 4.0]), 1.0, None)
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="does not overlap"):
        sample_target(img, [100, 5, 4, 4], 1.0, 8)


def test_mask_is_cropped_padded_and_resized_like_training():
    img = ramp_image(height=20, width=10)
    mask = torch.zeros(20, 10)
    mask[3:7, 7:10] = 1
    crop, factor, mask_crop = sample_target(img, [6, 2, 4, 4], 1.0, 4, mask=mask)
    expected = F.pad(mask[2:6, 6:9], (0, 1, 0, 0))  # same +1 far-side padding as the image
    torch.testing.assert_close(mask_crop, expected)
    _, _, mask_big = sample_target(img, [6, 2, 4, 4], 1.0, 8, mask=mask)
    torch.testing.assert_close(mask_big, F.interpolate(expected[None, None], (8, 8), mode="bilinear",
                                                       align_corners=False)[0, 0])


def test_transform_image_to_crop_normalises_by_size_minus_one():
    crop_sz = torch.tensor([128.0, 128.0])
    gt = torch.tensor([10.0, 20.0, 30.0, 40.0])
    box = transform_image_to_crop(gt, gt, 2.0, crop_sz, normalize=False)
    # centre maps to (S - 1) / 2 = 63.5, size scales by the resize factor
    torch.testing.assert_close(box, torch.tensor([63.5 - 30.0, 63.5 - 40.0, 60.0, 80.0]))
    torch.testing.assert_close(transform_image_to_crop(gt, gt, 2.0, crop_sz, normalize=True), box / 127)
    shifted = transform_image_to_crop(gt, gt + torch.tensor([5.0, 0.0, 0.0, 0.0]), 2.0, crop_sz)
    assert shifted[0] == box[0] - 10.0  # the extract box 5 px right moves the target 10 crop px left
