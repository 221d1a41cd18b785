"""The protocol registry, the shared VisEvent trimming rule, and FPS from the runners' time files."""
import numpy as np
import pytest

from lib.registry import BENCHMARKS
from lib.test.analysis import PROTOCOLS, compute_curves, get_protocol, load_ground_truth
from lib.test.evaluation.data import first_visible_frame
from lib.test.evaluation import load_benchmark, run_benchmark

from tests.test_evaluation import benchmark_data as syn


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_every_protocol_is_a_benchmark_of_the_readers():
    import lib.test.evaluation.datasets  # noqa: F401  (fills BENCHMARKS)

    assert PROTOCOLS.names() == ["DepthTrack", "LasHeR", "RGBT234", "VisEvent"]
    assert set(PROTOCOLS.names()) <= set(BENCHMARKS.names())
    for name in PROTOCOLS.names():
        protocol = get_protocol(name)
        assert protocol.name == name and protocol.score_keys and protocol.toolkit and protocol.ground_truth_layouts


def test_lookup_is_case_insensitive_with_helpful_errors():
    assert get_protocol("lasher") is get_protocol("LASHER") is PROTOCOLS.get("LasHeR")
    with pytest.raises(KeyError, match="did you mean 'VisEvent'"):
        get_protocol("VisEvnt")
    with pytest.raises(KeyError, match="VOT toolkit.*VOT22RGBD_workspace"):
        get_protocol("vot22rgbd")


def test_score_keys_and_curves_per_benchmark():
    assert get_protocol("LasHeR").score_keys == ("PR", "NPR", "SR")
    assert get_protocol("VisEvent").score_keys == ("PR", "NPR", "SR")
    assert get_protocol("RGBT234").score_keys == ("MPR", "MSR")
    assert get_protocol("DepthTrack").score_keys == ("Pr", "Re", "F")
    assert get_protocol("RGBT234").curve_names == ("success", "precision")
    assert [get_protocol(n).main_score for n in ("LasHeR", "RGBT234", "DepthTrack")] == ["SR", "MSR", "F"]


@pytest.mark.parametrize("labels, start", [([0, 0, 1, 1, 0], 2), ([1, 0, 1], 0), ([0, 0, 0], 0), ([], 0)])
def test_first_visible_frame(labels, start):
    assert first_visible_frame(np.array(labels)) == start


def test_visevent_ground_truth_and_dataset_reader_trim_the_same_frames(tmp_path):
    root = syn.make_visevent(tmp_path / "vis", {"v1": 8, "v2": 6}, leading_absent={"v1": 3})
    truth = load_ground_truth("VisEvent", root)
    bench = load_benchmark("VisEvent", str(root))
    for seq in bench:
        np.testing.assert_array_equal(truth.boxes[seq.name], seq.ground_truth)
    assert len(truth.boxes["v1"]) == 5 and len(truth.boxes["v2"]) == 6


def test_fps_leaves_out_the_first_frame_and_pools_sequences(tmp_path):
    for seq, n in (("a", 5), ("b", 3)):
        write(tmp_path / "gt" / f"{seq}.txt", "10,10,10,10\n" * n)
        write(tmp_path / "res" / f"{seq}.txt", "10,10,10,10\n" * n)
    write(tmp_path / "res" / "a_time.txt", "0.5\n0.01\n0.01\n0.01\n0.01\n")  # 4 tracked frames in 0.04 s
    write(tmp_path / "res" / "b_time.txt", "0.5\n0.1\n0.1\n")  # 2 tracked frames in 0.2 s
    result = compute_curves("LasHeR", tmp_path / "res", tmp_path / "gt")
    assert result.sequence_fps() == pytest.approx({"a": 100.0, "b": 10.0})
    assert result.fps() == pytest.approx(6 / 0.24)  # pooled: 6 frames in 0.24 s, not the mean 55
    (tmp_path / "res" / "a_time.txt").unlink()
    (tmp_path / "res" / "b_time.txt").unlink()
    assert np.isnan(compute_curves("LasHeR", tmp_path / "res", tmp_path / "gt").fps())


class _Steady:
    """Fake tracker: returns its initial box."""

    def initialize(self, frame, info):
        self.box = info["init_bbox"]

    def track(self, frame):
        return {"target_bbox": self.box, "best_score": 0.5}


@pytest.mark.parametrize("name, make", [
    ("LasHeR", lambda root: syn.make_rgbt(root, {"s1": 4})),
    ("DepthTrack", lambda root: syn.make_rgbd(root, {"s1": 4})),
])
def test_time_files_of_the_runner_are_found(tmp_path, name, make):
    data = make(tmp_path / "data")
    run_benchmark(load_benchmark(name, str(data)), lambda device: _Steady(), str(tmp_path / "res"), device="cpu")
    result = compute_curves(name, tmp_path / "res", data)
    assert list(result.times) == ["s1"] and len(result.times["s1"]) == 4
    assert result.fps() > 0


def test_result_boxes_for_drawing_are_x_y_w_h(tmp_path):
    write(tmp_path / "gt" / "c1" / "visible.txt", "10,10,10,10\n10,10,10,10\n")
    write(tmp_path / "gt" / "c1" / "infrared.txt", "10,10,10,10\n10,10,10,10\n")
    # corner rows x1 y1 x2 y1 x2 y2 x1 y2 -> x, y, x2 - x1, y2 - y1 (rounded)
    write(tmp_path / "res" / "c1.txt", "10 10 20 10 20 20 10 20\n20.4 10 30 10 30 25.6 20.4 25.6\n")
    protocol = get_protocol("RGBT234")
    truth = load_ground_truth("RGBT234", tmp_path / "gt")
    np.testing.assert_array_equal(protocol.result_boxes(tmp_path / "res", "c1", truth),
                                  [[10, 10, 10, 10], [20, 10, 10, 16]])
