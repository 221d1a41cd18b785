"""Processing and transforms (docs/training.md) and the soft template mask."""
import numpy as np
import pytest
import torch

from lib.config import load_config
from lib.train.data.processing import TrackingProcessing
from lib.train.data.processing_utils import crop_size_ok, get_jittered_box, soft_template_mask
from lib.train.data.transforms import (FrameTransform, JointTransform, RandomSource, flip_image_box_mask,
                                       to_grayscale_rgbx)

MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]


def small_cfg(num_search=1):
    return load_config("cstrack_s1", overrides={"DATA": {
        "TEMPLATE": {"SIZE": 32, "FACTOR": 2.0}, "SEARCH": {"SIZE": 64, "FACTOR": 4.0, "NUMBER": num_search}}})


def frame_with_target(box, size=(80, 60), seed=0, rgbx_equal=True):
    rng = np.random.default_rng(seed)
    width, height = size
    rgb = rng.integers(0, 90, size=(height, width, 3), dtype=np.uint8)
    x, y, w, h = box
    rgb[y:y + h, x:x + w] = (40, 60, 230)
    x_half = rgb.copy() if rgbx_equal else 255 - rgb
    return np.concatenate([rgb, x_half], axis=2)


def sample(num_t=2, num_s=1, box=(30, 20, 16, 12), mask=False):
    frames = [frame_with_target(box, seed=i) for i in range(num_t + num_s)]
    boxes = [torch.tensor(box, dtype=torch.float32) for _ in frames]
    masks = None
    if mask:
        m = torch.zeros(60, 80)
        x, y, w, h = box
        m[y:y + h, x:x + w] = 1
        masks = [m.clone() for _ in frames]
    return {"template_images": frames[:num_t], "template_anno": boxes[:num_t],
            "template_masks": masks[:num_t] if masks else None,
            "search_images": frames[num_t:], "search_anno": boxes[num_t:], "search_masks": masks[num_t:] if masks else None,
            "dataset": "lasher", "test_class": None, "task_class": 1}


def test_processing_output_layout_and_ranges():
    proc = TrackingProcessing.from_cfg(small_cfg())
    out = proc(sample(mask=True), RandomSource.from_seed(3))
    assert out["valid"] is True
    assert out["template_images"].shape == (2, 6, 32, 32) and out["search_images"].shape == (1, 6, 64, 64)
    assert out["template_anno"].shape == (2, 4) and out["search_anno"].shape == (1, 4)
    assert out["template_masks"].shape == (2, 32, 32) and out["search_masks"].shape == (1, 64, 64)
    assert out["template_soft_mask"].shape == (2, 4, 1)  # 32 / 16 = 2x2 patches
    assert out["dataset"] == "lasher" and out["task_class"] == 1
    low = (0 - np.array(MEAN)) / np.array(STD)
    high = (1 - np.array(MEAN)) / np.array(STD)
    assert out["search_images"].min() >= low.min() - 1e-5 and out["search_images"].max() <= high.max() + 1e-5
    # templates are not jittered: the box is centred at (S - 1) / 2, normalised by S - 1
    centres = out["template_anno"][:, :2] + out["template_anno"][:, 2:] / 2
    torch.testing.assert_close(centres, torch.full((2, 2), 0.5))
    resize = 32 / float(np.ceil(np.sqrt(16 * 12) * 2.0))
    torch.testing.assert_close(out["template_anno"][:, 2:], torch.tensor([[16 * resize / 31, 12 * resize / 31]] * 2, dtype=torch.float32))
    assert out["template_masks"].max() > 0.5  # the COCO-style mask follows the crop


def test_search_centre_stays_inside_the_crop():
    proc = TrackingProcessing.from_cfg(small_cfg(num_search=3))
    rng = RandomSource.from_seed(0)
    for _ in range(30):
        out = proc(sample(num_s=3), rng)
        centre = out["search_anno"][:, :2] + out["search_anno"][:, 2:] / 2
        assert ((centre > 0) & (centre < 1)).all()


def test_too_small_box_marks_sample_invalid():
    proc = TrackingProcessing.from_cfg(small_cfg())
    data = sample()
    data["search_anno"] = [torch.tensor([30.0, 20.0, 0.0, 12.0])]
    assert proc(data, RandomSource.from_seed(0))["valid"] is False


def test_same_seed_same_output():
    proc = TrackingProcessing.from_cfg(small_cfg())
    a = proc(sample(), RandomSource.from_seed(11))
    b = proc(sample(), RandomSource.from_seed(11))
    c = proc(sample(), RandomSource.from_seed(12))
    assert torch.equal(a["search_images"], b["search_images"]) and torch.equal(a["search_anno"], b["search_anno"])
    assert not torch.equal(a["search_anno"], c["search_anno"])


def test_jitter():
    box = torch.tensor([10.0, 20.0, 30.0, 40.0])
    gen = torch.Generator().manual_seed(0)
    torch.testing.assert_close(get_jittered_box(box, 0.0, 0.0, gen), box)
    for _ in range(50):
        jittered = get_jittered_box(box, 0.5, 3.5, gen)
        offset = (jittered[:2] + jittered[2:] / 2) - (box[:2] + box[2:] / 2)
        assert (offset.abs() <= 1.75 * jittered[2:].prod().sqrt() + 1e-4).all()
    assert crop_size_ok(torch.tensor([[0.0, 0.0, 1.0, 1.0]]), 2.0)
    assert not crop_size_ok(torch.tensor([[0.0, 0.0, 0.0, 1.0]]), 2.0)


def test_soft_template_mask_hand_computed():
    # box_px = box * 128 = (16, 16, 32, 32): rows/cols 16 .. int(16 + 32 - 1) - 1 = 46 (last line left out)
    mask = soft_template_mask(torch.tensor([[16 / 128, 16 / 128, 32 / 128, 32 / 128]]), 128, 16)
    grid = mask.view(8, 8)
    assert mask.shape == (1, 64, 1)
    assert grid[1, 1] == 1.0 and grid[1, 2] == pytest.approx(15 / 16) and grid[2, 2] == pytest.approx(225 / 256)
    assert grid[0].sum() == 0 and grid[3:].sum() == 0 and grid[:, 3:].sum() == 0
    # truncation toward zero: x = 15.9 -> 15
    grid = soft_template_mask(torch.tensor([[15.9 / 128, 0.0, 20 / 128, 20 / 128]]), 128, 16).view(8, 8)
    assert grid[0, 0] == pytest.approx(1 * 16 / 256)  # column 15 only, rows 0..15 of this patch
    assert grid[0, 1] == pytest.approx(16 * 16 / 256) and grid[1, 1] == pytest.approx(16 * 3 / 256)  # rows 16..18
    # Quirk: a negative start wraps around like Python slicing: cols -10 .. 189 -> the last 10 columns
    grid = soft_template_mask(torch.tensor([[-10 / 128, 0.0, 200 / 128, 16 / 128]]), 128, 16).view(8, 8)
    assert grid[0, 7] == pytest.approx(10 * 15 / 256) and grid[0, :7].sum() == 0


def test_grayscale_keeps_x_of_rgbx_data():
    rgb_only = frame_with_target((5, 5, 10, 10))
    gray = to_grayscale_rgbx(rgb_only)
    assert (gray == gray[..., :1]).all()  # RGB dataset: all six channels grey
    rgbx = frame_with_target((5, 5, 10, 10), rgbx_equal=False)
    gray = to_grayscale_rgbx(rgbx)
    assert (gray[..., :3] == gray[..., :1]).all()
    np.testing.assert_array_equal(gray[..., 3:], rgbx[..., 3:])


def test_joint_flip_box_formula_and_shared_roll():
    img = np.zeros((48, 64, 6), np.uint8)
    flipped, box, mask = flip_image_box_mask(img, torch.tensor([10.0, 5.0, 20.0, 10.0]), None)
    assert box.tolist() == [63 - 30, 5.0, 20.0, 10.0] and mask is None  # x' = (W - 1) - (x + w)
    joint = JointTransform(grayscale_prob=0.0, flip_prob=1.0)
    roll = joint.roll(RandomSource.from_seed(0))
    images, boxes, _ = joint.apply([img, img], [torch.tensor([1.0, 2, 3, 4])] * 2, [None, None], roll)
    assert all(b[0] == 63 - 4 for b in boxes)


def test_frame_transform_brightness_flip_normalise():
    crop = np.full((4, 4, 6), 100, np.uint8)
    crop[:, 0] = 200
    transform = FrameTransform(MEAN, STD, brightness_jitter=0.0, flip_prob=1.0)
    tensor, box, mask = transform(crop, torch.tensor([0.1, 0.2, 0.3, 0.4]), torch.eye(4), RandomSource.from_seed(0))
    expected = (torch.full((6, 4, 4), 100 / 255.0) - torch.tensor(MEAN * 2).view(6, 1, 1)) / torch.tensor(STD * 2).view(6, 1, 1)
    expected[:, :, 3] = (((200 / 255.0) - torch.tensor(MEAN * 2)) / torch.tensor(STD * 2)).view(6, 1)  # col 0 -> 3
    torch.testing.assert_close(tensor, expected)
    torch.testing.assert_close(box, torch.tensor([1 - 0.4, 0.2, 0.3, 0.4]))  # x' = 1 - (x + w)
    assert torch.equal(mask, torch.eye(4).flip(-1))
    jitter = FrameTransform(MEAN, STD, brightness_jitter=0.2, flip_prob=0.0)
    rng = RandomSource.from_seed(1)
    values = [jitter(crop, torch.zeros(4), torch.zeros(4, 4), rng)[0][0, 0, 1].item() for _ in range(200)]
    brightness = (np.array(values) * STD[0] + MEAN[0]) * 255 / 100
    assert brightness.min() >= 0.8 - 1e-4 and brightness.max() <= 1.2 + 1e-4 and brightness.std() > 0.05


def test_three_channel_frames_are_duplicated_after_cropping_bit_identically():
    """RGB-only data is read with 3 channels; duplicating the crop equals cropping RGB ‖ RGB (docs/training.md)."""
    proc = TrackingProcessing.from_cfg(small_cfg(num_search=2))
    six = sample(num_s=2)
    three = dict(six, template_images=[f[..., :3].copy() for f in six["template_images"]],
                 search_images=[f[..., :3].copy() for f in six["search_images"]])
    for seed in range(12):  # both flip branches; grayscale forced on for half of the seeds
        proc.joint.grayscale_prob = float(seed % 2)
        a, b = proc(six, RandomSource.from_seed(seed)), proc(three, RandomSource.from_seed(seed))
        for key in ("template_images", "search_images", "search_anno", "template_soft_mask"):
            assert torch.equal(a[key], b[key]), (seed, key)
    assert torch.equal(b["search_images"][:, :3], b["search_images"][:, 3:])
