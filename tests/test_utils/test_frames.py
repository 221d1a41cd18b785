"""Frame integrity and RGB-X pairing: damaged or misaligned input stops with the file named."""
import cv2
import numpy as np
import pytest

from lib.utils.frame_lists import FramePairingError, list_frames, pair_frames
from lib.utils.rgbx import FrameReadError, get_x_frame, imread_rgb, imread_unchanged


def _image(seed=0):
    rng = np.random.default_rng(seed)
    img = np.full((48, 64, 3), 120, np.uint8)
    img[10:30, 8:40] = rng.integers(0, 255, (20, 32, 3), dtype=np.uint8)
    return img


@pytest.mark.parametrize("ext", [".jpg", ".png", ".bmp"])
def test_truncated_images_are_refused_with_their_name(tmp_path, ext):
    path = tmp_path / f"00000007{ext}"
    cv2.imwrite(str(path), _image())
    assert imread_rgb(str(path)).shape == (48, 64, 3)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * 0.7)])
    with pytest.raises(FrameReadError, match=r"00000007\%s.*(truncated|decode)" % ext):
        imread_rgb(str(path))


def test_truncated_16bit_depth_and_missing_files(tmp_path):
    depth = tmp_path / "00000001.png"
    cv2.imwrite(str(depth), (np.arange(48 * 64).reshape(48, 64) * 3).astype(np.uint16))
    assert imread_unchanged(str(depth)).dtype == np.uint16
    depth.write_bytes(depth.read_bytes()[:-20])
    with pytest.raises(FrameReadError, match="00000001.png"):
        get_x_frame(str(depth), str(depth), "rgbcolormap")
    with pytest.raises(FrameReadError, match="does not exist"):
        imread_rgb(str(tmp_path / "none.jpg"))


def test_the_decoded_pixels_are_what_imread_gives(tmp_path):
    path = tmp_path / "a.jpg"
    cv2.imwrite(str(path), _image(3))
    np.testing.assert_array_equal(imread_rgb(str(path)), cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB))


def test_frames_are_ordered_by_number_and_paired_by_number(tmp_path):
    rgb = [f"v{i}.jpg" for i in (10, 2, 1, 0)]
    x = [f"i{i:03d}.jpg" for i in (0, 1, 2, 10)]
    for folder, names in (("visible", rgb), ("infrared", x)):
        (tmp_path / folder).mkdir()
        for name in names:
            (tmp_path / folder / name).write_bytes(b"")
    assert list_frames(str(tmp_path / "visible")) == ["v0.jpg", "v1.jpg", "v2.jpg", "v10.jpg"]
    with pytest.raises(FramePairingError, match=r"jump from 2 \(v2.jpg\) to 10"):
        pair_frames("visible", list_frames(str(tmp_path / "visible")), "infrared", list_frames(str(tmp_path / "infrared")))
    assert pair_frames("v", ["v1.jpg", "v0.jpg"], "i", ["i000.jpg", "i001.jpg"]) == (["v0.jpg", "v1.jpg"],
                                                                                     ["i000.jpg", "i001.jpg"])


def test_one_x_frame_removed_and_one_added_at_the_end_is_caught():
    rgb = [f"{i:08d}.jpg" for i in range(1, 11)]
    x = [f"{i:08d}.png" for i in range(1, 12) if i != 5]  # 10 X frames, but 5 is missing and 11 extra
    with pytest.raises(FramePairingError, match=r"00000005.jpg has no X frame"):
        pair_frames("color", rgb, "depth", x)


def test_names_without_numbers_pair_by_position_and_need_equal_counts():
    assert pair_frames("a", ["x.jpg", "y.jpg"], "b", ["p.jpg", "q.jpg"]) == (["x.jpg", "y.jpg"], ["p.jpg", "q.jpg"])
    with pytest.raises(FramePairingError, match="has 2 frames but b has 1"):
        pair_frames("a", ["x.jpg", "y.jpg"], "b", ["p.jpg"])
    with pytest.raises(FramePairingError, match="same frame number 1"):
        pair_frames("a", ["v1.jpg", "v01.jpg"], "b", ["i1.jpg", "i2.jpg"])
