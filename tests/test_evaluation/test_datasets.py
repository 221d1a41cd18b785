"""Benchmark readers on tiny synthetic datasets in the real layouts (``docs/evaluation.md``)."""
from pathlib import Path

import cv2
import numpy as np
import pytest

from lib.registry import BENCHMARKS
from lib.test.evaluation import DatasetError, load_benchmark
from lib.test.evaluation.data import load_boxes
from lib.test.vot.prepare_dataset import main as prepare_main, prepare_dataset
from lib.utils.rgbx import FrameReadError, depth_to_colormap

from tests.test_evaluation import benchmark_data as syn
from tests.test_workspaces.vot_workspace import require_toolkit


def test_all_benchmarks_registered():
    assert {"LasHeR", "RGBT234", "VisEvent", "DepthTrack", "VOT22RGBD"} <= set(BENCHMARKS.names())


def test_lasher_counts_gt_and_mixed_frame_names(tmp_path):
    # 'b' uses unpadded names (v1.jpg ... v12.jpg): plain sorted() would put v10 before v2.
    syn.make_rgbt(tmp_path, {"a": 5, "b": 12}, naming={"b": ("v%d.jpg", "%06d.jpg")})
    bench = load_benchmark("lasher", str(tmp_path))
    assert bench.name == "LasHeR" and bench.names() == ["a", "b"]
    assert bench.tracker_dataset == "lasher"
    assert (bench.result_format.delimiter, bench.result_format.fmt) == (" ", "%.18e")
    seq = bench["b"]
    assert len(seq) == 12 and seq.ground_truth.shape == (12, 4)
    assert [Path(p).name for p in seq.rgb_frames[:3]] == ["v0.jpg", "v1.jpg", "v2.jpg"]
    assert Path(seq.rgb_frames[10]).name == "v10.jpg" and Path(seq.x_frames[10]).name == "000010.jpg"
    np.testing.assert_array_equal(seq.ground_truth, np.floor(syn.boxes_for(12)))
    assert seq.init_bbox == [10.0, 8.0, 16.0, 12.0]
    frame = seq.frame(3)
    assert frame.shape == (48, 64, 6) and frame.dtype == np.uint8
    # rgbrgb: RGB then the thermal image converted BGR -> RGB (docs/evaluation.md)
    bgr = cv2.imread(seq.rgb_frames[3])
    np.testing.assert_array_equal(frame[..., :3], bgr[..., ::-1])
    np.testing.assert_array_equal(frame[..., 3:], cv2.imread(seq.x_frames[3])[..., ::-1])


def test_lasher_missing_x_frame_is_named(tmp_path):
    syn.make_rgbt(tmp_path, {"a": 6})
    (tmp_path / "a" / "infrared" / "i005.jpg").unlink()
    with pytest.raises(DatasetError, match=r"LasHeR sequence 'a': .*v005.jpg has no X frame with number 5"):
        load_benchmark("LasHeR", str(tmp_path))
    syn.make_rgbt(tmp_path / "other", {"c": 6})
    lines = (tmp_path / "other" / "c" / "visible.txt").read_text().splitlines()
    (tmp_path / "other" / "c" / "visible.txt").write_text("\n".join(lines[:4]) + "\n")
    (tmp_path / "other" / "c" / "infrared.txt").write_text("\n".join(lines[:4]) + "\n")
    with pytest.raises(DatasetError, match=r"6 frames but 4 rows in visible.txt"):
        load_benchmark("LasHeR", str(tmp_path / "other"))


def test_rgbt234_one_extra_frame_like_orangeman1(tmp_path):
    syn.make_rgbt(tmp_path, {"orangeman1": 6, "plain": 4}, extra_frames={"orangeman1": 1})
    bench = load_benchmark("RGBT234", str(tmp_path))
    assert bench.tracker_dataset == "lasher"  # the reference passes 'lasher' for RGBT234 too
    seq = bench["orangeman1"]
    assert len(seq) == 7 and len(seq.ground_truth) == 6
    assert seq.extras["infrared_gt"].shape == (6, 4)
    (tmp_path / "plain" / "infrared.txt").unlink()
    with pytest.raises(DatasetError, match="infrared.txt does not exist"):
        load_benchmark("RGBT234", str(tmp_path))


def test_visevent_leading_absent_frames_are_trimmed(tmp_path):
    syn.make_visevent(tmp_path, {"s1": 8, "s2": 6}, leading_absent={"s1": 3})
    bench = load_benchmark("VisEvent", str(tmp_path))
    assert bench.tracker_dataset == "visevent"
    assert (bench.result_format.delimiter, bench.result_format.fmt) == (",", "%.14f")
    s1, s2 = bench["s1"], bench["s2"]
    assert len(s1) == 5 and s1.extras["start_frame"] == 3 and s1.extras["num_frames_full"] == 8
    assert Path(s1.rgb_frames[0]).name == "frame0003.bmp" and Path(s1.x_frames[0]).name == "frame0003.bmp"
    np.testing.assert_allclose(s1.ground_truth, syn.boxes_for(8)[3:] + 0.25)
    assert s1.extras["absent_label"].tolist() == [1] * 5
    assert len(s2) == 6 and s2.extras["start_frame"] == 0
    assert s1.frame(0).shape == (48, 64, 6)


def test_visevent_all_absent_is_not_trimmed_like_the_reference(tmp_path):
    syn.make_visevent(tmp_path, {"s": 4}, leading_absent={"s": 4})
    seq = load_benchmark("VisEvent", str(tmp_path))["s"]
    assert len(seq) == 4 and seq.extras["start_frame"] == 0  # argmax of all zeros is 0


def test_visevent_missing_absent_label(tmp_path):
    syn.make_visevent(tmp_path, {"s": 4})
    (tmp_path / "s" / "absent_label.txt").unlink()
    with pytest.raises(DatasetError, match="absent_label.txt does not exist"):
        load_benchmark("VisEvent", str(tmp_path))


@pytest.mark.parametrize("vot_metadata", [True, False])
def test_depthtrack_depth_is_16bit_colormap(tmp_path, vot_metadata):
    syn.make_rgbd(tmp_path, {"bag": 6, "cup": 5}, absent={"bag": [3]}, vot_metadata=vot_metadata)
    bench = load_benchmark("DepthTrack", str(tmp_path))
    assert bench.tracker_dataset == "depthtrack" and bench.result_format.layout == "vot_longterm"
    seq = bench["bag"]
    assert len(seq) == 6 and seq.x_mode == "rgbcolormap" and seq.depth_clip
    assert np.isnan(seq.ground_truth[3]).all() and not np.isnan(seq.ground_truth[2]).any()
    depth = cv2.imread(seq.x_frames[2], cv2.IMREAD_UNCHANGED)
    assert depth.dtype == np.uint16
    frame = seq.frame(2)
    assert frame.shape == (48, 64, 6)
    np.testing.assert_array_equal(frame[..., 3:], depth_to_colormap(depth, clip=True))
    # target (1200 mm) and background (~3000 mm) land at different ends of the JET map
    x, y = int(seq.ground_truth[2, 0]) + 2, int(seq.ground_truth[2, 1]) + 2
    assert not np.array_equal(frame[y, x, 3:], frame[1, 1, 3:])


def test_vot22rgbd_reads_sequence_files_list_and_anchors(tmp_path):
    syn.make_rgbd(tmp_path, {"z": 4, "a": 5}, anchors={"a": [0, 3]})
    bench = load_benchmark("VOT22RGBD", str(tmp_path))
    assert bench.names() == ["z", "a"]  # list.txt order, not sorted
    assert bench["a"].extras["anchor"].tolist() == [1, 0, 0, 1, 0]
    assert bench.result_format.layout == "vot_multistart"


def test_missing_root_names_setting_path_and_layout(tmp_path, monkeypatch):
    with pytest.raises(DatasetError, match=r"LasHeR: dataset root .*nowhere.*lasher_test_dir.*visible/\*\.jpg"):
        load_benchmark("LasHeR", str(tmp_path / "nowhere"))
    monkeypatch.setenv("CSTRACK_VISEVENT_TEST_DIR", str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError, match=r"visevent_test_dir.*missing.*vis_imgs"):
        load_benchmark("VisEvent")
    monkeypatch.setenv("CSTRACK_VISEVENT_TEST_DIR", str(tmp_path))
    with pytest.raises(DatasetError, match="no sequences found"):
        load_benchmark("VisEvent")


def test_unknown_sequence_and_benchmark(tmp_path):
    syn.make_rgbt(tmp_path, {"a": 3})
    with pytest.raises(DatasetError, match=r"\['zz'\] not found"):
        load_benchmark("LasHeR", str(tmp_path), ["zz"])
    with pytest.raises(KeyError, match="unknown benchmark"):
        load_benchmark("LaSOTX", str(tmp_path))


def test_box_file_reader(tmp_path):
    (tmp_path / "gt.txt").write_text("1,2,3,4\n5\t6\t7\t8\n\nnan,nan,nan,nan\n0\n9 10 11 12\n")
    boxes = load_boxes(str(tmp_path / "gt.txt"))
    assert boxes.shape == (5, 4) and np.isnan(boxes[2]).all() and np.isnan(boxes[3]).all()
    assert boxes[4].tolist() == [9, 10, 11, 12]
    (tmp_path / "bad.txt").write_text("1,2,3\n")
    with pytest.raises(DatasetError, match=r"bad.txt:1: 3 values, expected 4"):
        load_boxes(str(tmp_path / "bad.txt"))


def test_prepare_dataset_writes_metadata_the_reader_and_toolkit_use(tmp_path):
    root = syn.make_rgbd(tmp_path / "data", {"b": 4, "a": 3}, vot_metadata=False)
    workspace = tmp_path / "ws"
    workspace.mkdir()
    names = prepare_dataset(str(root), workspace=str(workspace))
    assert names == ["a", "b"]
    assert (root / "list.txt").read_text().split() == ["a", "b"]
    text = (root / "a" / "sequence").read_text()
    assert "channels.color=color/%08d.jpg" in text and "channels.depth=depth/%08d.png" in text
    assert (workspace / "sequences").resolve() == root.resolve()
    require_toolkit()
    from vot.dataset import load_dataset

    dataset = load_dataset(str(workspace / "sequences"))
    assert len(dataset) == 2 and len(dataset["b"]) == 4 and set(dataset["b"].channels()) == {"color", "depth"}
    (root / "b" / "depth" / "00000002.png").unlink()
    with pytest.raises(DatasetError, match=r"color/00000002.jpg has no X frame with number 2"):
        prepare_dataset(str(root), overwrite=True)


def test_prepare_dataset_refuses_truncated_frames_in_one_line(tmp_path, capsys):
    root = syn.make_rgbd(tmp_path / "data", {"a": 3}, vot_metadata=False)
    depth = root / "a" / "depth" / "00000003.png"
    depth.write_bytes(depth.read_bytes()[:-30])
    assert prepare_main([str(root)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and err.startswith("error: ") and str(depth) in err and "truncated" in err
    assert not (root / "a" / "sequence").exists()


def test_one_x_frame_removed_and_one_added_at_the_end_is_caught_in_every_reader(tmp_path):
    """Positional pairing would shift every later pair by one frame; pairing by number names the gap."""
    syn.make_rgbt(tmp_path / "lasher", {"a": 6})
    ir = tmp_path / "lasher" / "a" / "infrared"
    (ir / "i002.jpg").unlink()
    (ir / "i005.jpg").rename(ir / "i006.jpg")
    (ir / "i004.jpg").replace(ir / "i005.jpg")
    with pytest.raises(DatasetError, match=r"v002.jpg has no X frame with number 2"):
        load_benchmark("LasHeR", str(tmp_path / "lasher"))
    syn.make_visevent(tmp_path / "visevent", {"s": 5})
    (tmp_path / "visevent" / "s" / "event_imgs" / "frame0001.bmp").unlink()
    (tmp_path / "visevent" / "s" / "event_imgs" / "frame0004.bmp").rename(
        tmp_path / "visevent" / "s" / "event_imgs" / "frame0005.bmp")
    with pytest.raises(DatasetError, match=r"VisEvent sequence 's': .*frame0001.bmp has no X frame"):
        load_benchmark("VisEvent", str(tmp_path / "visevent"))
    for metadata in (True, False):
        root = syn.make_rgbd(tmp_path / f"rgbd{metadata}", {"d": 5}, vot_metadata=metadata)
        depth = root / "d" / "depth"
        (depth / "00000002.png").unlink()
        (depth / "00000005.png").rename(depth / "00000006.png")
        with pytest.raises(DatasetError, match=r"00000002.(png is missing|jpg has no X frame)"):
            load_benchmark("DepthTrack", str(root))


def test_a_truncated_frame_is_named_when_read(tmp_path):
    syn.make_visevent(tmp_path, {"s": 4})
    frame = tmp_path / "s" / "vis_imgs" / "frame0002.bmp"
    frame.write_bytes(frame.read_bytes()[:-100])
    seq = load_benchmark("VisEvent", str(tmp_path))["s"]
    assert seq.frame(1).shape == (48, 64, 6)
    with pytest.raises(FrameReadError, match=r"frame0002.bmp: the file is truncated"):
        seq.frame(2)
