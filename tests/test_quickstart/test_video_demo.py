"""``tracking/video_demo.py`` on generated inputs: frame folders and video files, thermal-like and
16-bit depth X, and the user mistakes it must explain (differing frame counts, an unreadable file, a
checkpoint that does not fit, no --init without a GUI). A tiny random-weight stage-1 checkpoint is
enough: the tests check the plumbing, not the tracking quality.
"""
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from lib.config import load_config
from lib.models import build_model
from lib.quickstart.demo import DemoError, check_init_box, prepare_pair, run_demo
from lib.quickstart.display import gui_unavailable_reason
from lib.quickstart.synthetic_rgbt import render_sequence
from lib.utils.checkpoint import save_network
from lib.utils.rgbx import get_x_frame

from tests.script_loading import load_script

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "tracking" / "video_demo.py"
N = 8
TINY = ["--script", "cstrack_s1", "--config", "cstrack_s1_tiny", "--device", "cpu"]


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """One intra-op thread: the toy model does not need more, and several are very slow on a busy machine."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def cli():
    return load_script("video_demo_cli", DEMO)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """Frame folders (RGB, thermal, 16-bit depth), an RGB and a thermal video, a tiny checkpoint, the init box."""
    root = tmp_path_factory.mktemp("demo_inputs")
    rgb, thermal, boxes = render_sequence(np.random.default_rng(3), N, 160, 120, "car")
    paths = {k: root / k for k in ("rgb", "thermal", "depth")}
    for folder in paths.values():
        folder.mkdir()
    for t in range(N):
        cv2.imwrite(str(paths["rgb"] / f"{t + 1:05d}.jpg"), rgb[t])
        cv2.imwrite(str(paths["thermal"] / f"{t + 1:05d}.jpg"), thermal[t])
        depth = (6000 - 20 * thermal[t][..., 0].astype(np.int32)).astype(np.uint16)  # warm = near
        cv2.imwrite(str(paths["depth"] / f"{t + 1:08d}.png"), depth)
    for name, frames in (("rgb_video", rgb), ("thermal_video", thermal)):
        path = root / f"{name}.avi"
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (160, 120))
        for frame in frames:
            writer.write(frame)
        writer.release()
        paths[name] = path
    net = build_model(load_config("cstrack_s1_tiny"))
    paths["checkpoint"] = root / "tiny_s1.pth.tar"
    save_network(net, str(paths["checkpoint"]))
    paths["init"] = ",".join(str(int(v)) for v in boxes[0])
    return paths


def video_frame_count(path):
    cap = cv2.VideoCapture(str(path))
    count = 0
    while cap.read()[0]:
        count += 1
    cap.release()
    return count


def check_outputs(out, init):
    assert video_frame_count(out) == N
    boxes = np.loadtxt(Path(out).with_suffix(".txt"), delimiter=",", ndmin=2)
    assert boxes.shape == (N, 4) and np.isfinite(boxes).all()
    np.testing.assert_allclose(boxes[0], [float(v) for v in init.split(",")])
    assert not list(Path(out).parent.glob(".tmp_*"))


@pytest.mark.parametrize("rgb_key, x_key, x_type, extension", [
    ("rgb", "thermal", "thermal", ".webm"),             # two frame folders
    ("rgb_video", "thermal_video", "thermal", ".mp4"),  # two video files
    ("rgb_video", "depth", "depth", ".avi"),            # a video and 16-bit depth PNGs (auto-detected)
])
def test_demo_writes_boxes_and_a_readable_video(cli, inputs, tmp_path, capsys, rgb_key, x_key, x_type, extension):
    out = tmp_path / f"out{extension}"
    assert cli.main(["--rgb", str(inputs[rgb_key]), "--x", str(inputs[x_key]),
                     "--checkpoint", str(inputs["checkpoint"]),
                     "--init", inputs["init"], "--out", str(out), *TINY]) == 0
    check_outputs(out, inputs["init"])
    printed = capsys.readouterr().out
    assert f"X = {x_type}" in printed and str(out) in printed


def test_precision_is_passed_to_the_tracker_and_printed(cli, inputs, tmp_path, capsys, monkeypatch):
    from lib.test.tracker import precision

    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset({"avx2"}))  # no native bf16: fp32
    args = ["--rgb", str(inputs["rgb"]), "--x", str(inputs["thermal"]), "--checkpoint", str(inputs["checkpoint"]),
            "--init", inputs["init"], "--precision", "bf16", *TINY]
    assert cli.main([*args, "--out", str(tmp_path / "a.webm")]) == 0
    assert "(X = thermal, fp32)" in capsys.readouterr().out
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset({"avx512f", "avx512_bf16"}))
    assert cli.main([*args, "--out", str(tmp_path / "b.webm")]) == 0
    assert "(X = thermal, bf16)" in capsys.readouterr().out
    check_outputs(tmp_path / "b.webm", inputs["init"])


def test_depth_is_converted_as_the_rgbd_benchmarks_do(inputs):
    rgb_path = sorted(inputs["rgb"].iterdir())[0]
    depth_path = sorted(inputs["depth"].iterdir())[0]
    frame, shown = prepare_pair(cv2.imread(str(rgb_path)), cv2.imread(str(depth_path), cv2.IMREAD_UNCHANGED), "depth")
    expected = get_x_frame(str(rgb_path), str(depth_path), dtype="rgbcolormap", depth_clip=True)
    np.testing.assert_array_equal(frame, expected)
    assert shown.dtype == np.uint8 and shown.shape == (120, 160, 3)


def test_thermal_is_converted_as_the_rgbt_benchmarks_do(inputs):
    rgb_path = sorted(inputs["rgb"].iterdir())[0]
    x_path = sorted(inputs["thermal"].iterdir())[0]
    frame, _ = prepare_pair(cv2.imread(str(rgb_path)), cv2.imread(str(x_path), cv2.IMREAD_UNCHANGED), "thermal")
    np.testing.assert_array_equal(frame, get_x_frame(str(rgb_path), str(x_path), dtype="rgbrgb"))


def _demo(inputs, tmp_path, **kwargs):
    args = dict(rgb=inputs["rgb"], x=inputs["thermal"], checkpoint=inputs["checkpoint"],
                init=[float(v) for v in inputs["init"].split(",")], out=tmp_path / "o.mp4", script="cstrack_s1",
                config="cstrack_s1_tiny", device="cpu", progress=lambda line: None)
    args.update(kwargs)
    return run_demo(**args)


def test_mismatched_frame_counts(inputs, tmp_path):
    short = tmp_path / "short"
    short.mkdir()
    for path in sorted(inputs["thermal"].iterdir())[:N - 2]:
        (short / path.name).write_bytes(path.read_bytes())
    with pytest.raises(DemoError, match=rf"do not pair up: .*{N - 1:05d}.jpg has no X frame with number {N - 1}"):
        _demo(inputs, tmp_path, x=short)
    with pytest.raises(DemoError, match=rf"differ in length: .* has {N} frames, .* has {N - 2}"):
        _demo(inputs, tmp_path, rgb=inputs["rgb_video"], x=short)


def test_folders_are_paired_by_frame_number(inputs, tmp_path):
    """X frames numbered from 0 while RGB starts at 1: same count, but frame 1 has no partner."""
    shifted = tmp_path / "shifted"
    shifted.mkdir()
    for path in sorted(inputs["thermal"].iterdir()):
        (shifted / f"{int(path.stem) - 1:05d}.jpg").write_bytes(path.read_bytes())
    with pytest.raises(DemoError, match=r"do not pair up: .*00000.jpg has no RGB frame with number 0"):
        _demo(inputs, tmp_path, x=shifted)


def test_unreadable_and_missing_files(inputs, tmp_path):
    broken = tmp_path / "broken"
    broken.mkdir()
    for path in sorted(inputs["thermal"].iterdir()):
        (broken / path.name).write_bytes(path.read_bytes())
    bad = sorted(broken.iterdir())[3]
    bad.write_bytes(b"not a jpeg")
    out = tmp_path / "o.mp4"
    with pytest.raises(DemoError, match=rf"cannot read image {bad}"):
        _demo(inputs, tmp_path, x=broken, out=out)
    assert not out.exists() and not list(tmp_path.glob(".tmp_*"))  # no half-written video
    with pytest.raises(DemoError, match="no such file or folder"):
        _demo(inputs, tmp_path, x=tmp_path / "nowhere")
    not_video = tmp_path / "notes.mp4"
    not_video.write_text("hello")
    with pytest.raises(DemoError, match="cannot open this file as a video"):
        _demo(inputs, tmp_path, rgb=not_video)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DemoError, match="holds no image files"):
        _demo(inputs, tmp_path, x=empty)


def test_wrong_checkpoints(inputs, tmp_path):
    with pytest.raises(DemoError, match="does not match the network .*CSTRACK_S2"):
        _demo(inputs, tmp_path, script="cstrack_s2", config="cstrack_s2_tiny")  # stage-1 weights, stage-2 model
    wider = tmp_path / "wider.yaml"  # the tiny model with a wider backbone
    wider.write_text(f"_base_: {REPO / 'experiments' / 'cstrack_s1' / 'cstrack_s1_tiny.yaml'}\n"
                     f"MODEL:\n  BACKBONE:\n    EMBED_DIM: 96\n", encoding="utf-8")
    with pytest.raises(DemoError, match="shape mismatch"):
        _demo(inputs, tmp_path, config=str(wider))
    text = tmp_path / "weights.pth.tar"
    text.write_text("not a checkpoint")
    with pytest.raises(DemoError, match="cannot read checkpoint"):
        _demo(inputs, tmp_path, checkpoint=text)
    with pytest.raises(DemoError, match="no such file"):
        _demo(inputs, tmp_path, checkpoint=tmp_path / "missing.pth.tar")
    with pytest.raises(DemoError, match="no experiment config 'nonexistent'"):
        _demo(inputs, tmp_path, config="nonexistent")


def test_missing_init_without_a_display_asks_for_init(inputs, tmp_path, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    if not sys.platform.startswith("linux"):
        pytest.skip("the no-display rule is Linux-specific")
    assert gui_unavailable_reason() is not None
    with pytest.raises(DemoError, match=r"Pass the target's box in the first frame with --init x,y,w,h"):
        _demo(inputs, tmp_path, init=None)


def test_bad_init_values(cli, inputs, tmp_path):
    for bad in ("1,2,3", "a,b,c,d", "10,10,0,5", "1,2,nan,4"):
        with pytest.raises(SystemExit) as info:
            cli.main(["--rgb", str(inputs["rgb"]), "--x", str(inputs["thermal"]), "--checkpoint",
                      str(inputs["checkpoint"]), "--init", bad, *TINY])
        assert info.value.code == 2
    with pytest.raises(DemoError, match="outside the first frame"):
        _demo(inputs, tmp_path, init=[500, 500, 10, 10])


@pytest.mark.parametrize("box, message", [
    ((0, 0, 1e6, 1e6), r"larger than the first frame \(160x120\)"),      # OpenCV would allocate a 4e6-px crop
    ((10, 10, 161, 20), "larger than the first frame"),
    ((10, 10, 0.5, 40), "at least 2 pixels wide and high"),
    ((10, 10, 40, float("inf")), "must be finite"),
    ((150, 50, 30, 30), "centre must be inside the frame"),                # more than half outside on the right
    ((-20, -20, 30, 30), "centre must be inside the frame"),
])
def test_init_box_is_checked_against_the_frame(box, message):
    with pytest.raises(DemoError, match=message) as err:
        check_init_box(box, 160, 120)
    assert "\n" not in str(err.value) and str(err.value).startswith("--init ")


def test_init_boxes_a_user_can_draw_are_accepted():
    for box in ((0, 0, 160, 120), (140, 100, 30, 30), (-5, -5, 20, 20), (10.5, 20.25, 2, 2)):
        check_init_box(box, 160, 120)


def test_huge_init_box_is_refused_before_any_crop(cli, inputs, tmp_path, capsys):
    """The CLI answers with one line and exit status 2 instead of trying to allocate a giant crop."""
    with pytest.raises(SystemExit) as info:
        cli.main(["--rgb", str(inputs["rgb"]), "--x", str(inputs["thermal"]), "--checkpoint", str(inputs["checkpoint"]),
                  "--init", "0,0,100000000,100000000", "--out", str(tmp_path / "o.webm"), *TINY])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --init 0,0,1e+08,1e+08: the box is larger than the first frame")
    assert not (tmp_path / "o.webm").exists()


@pytest.mark.parametrize("display", [None, ":%d"], ids=["no DISPLAY", "dead DISPLAY"])
def test_cli_exit_status_and_message(inputs, tmp_path, display):
    """The script itself: exit status 2 and a one-line 'error:' for a user mistake (here, no --init and no
    usable display). With a DISPLAY nothing answers on, Qt would abort the process (status 134)."""
    if not sys.platform.startswith("linux"):
        pytest.skip("the display rules are Linux-specific")
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    if display is not None:
        number = next(n for n in range(90, 200) if not Path(f"/tmp/.X11-unix/X{n}").exists())
        env["DISPLAY"] = display % number
    result = subprocess.run([sys.executable, str(DEMO), "--rgb", str(inputs["rgb"]), "--x", str(inputs["thermal"]),
                             "--checkpoint", str(inputs["checkpoint"]), *TINY], cwd=str(tmp_path), env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: cannot ask for the first box") and "--init" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    if display is not None:
        assert f"no X server answers on DISPLAY={env['DISPLAY']}" in result.stderr
