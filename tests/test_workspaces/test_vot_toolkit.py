"""The real ``vot evaluate`` / ``vot analysis`` / ``vot report`` on the repository's workspaces.

A synthetic RGB-D sequence (VOT layout with ``sequence`` files and ``list.txt``, so nothing is
downloaded) is run through ``Depthtrack_workspace`` (long-term stack: Pr / Re / F) with the
``CSTrack_S1`` entry and ``VOT22RGBD_workspace`` (``vot2022/rgbd`` multistart: EAO / A / R) with
``CSTrack_S2``: the toolkit starts ``python -m lib.test.vot.run_vot`` from the repository's
``trackers.ini`` via traxpython, with tiny-config checkpoints. A stage-1 checkpoint only loads
(strictly) into stage 1, so the S1 entry really runs stage 1 (PAIN_POINTS A12).
"""
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from lib.test.vot import run_vot

from tests.test_evaluation import benchmark_data as syn
from tests.test_workspaces import vot_workspace as vws


vws.require_toolkit()


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    """Random-weight tiny checkpoints for both stages, saved as released files are (``{"net": ...}``)."""
    from lib.config import load_config
    from lib.models import build_model

    folder = tmp_path_factory.mktemp("ckpt")
    paths = {}
    for script in run_vot.SCRIPTS:
        torch.manual_seed(0)
        net = build_model(load_config(f"{script}_tiny", script=script), arch=script)
        paths[script] = folder / f"{script.upper()}_ep0002.pth.tar"
        torch.save({"net": net.state_dict()}, paths[script])
    return paths


def _env(script: str, checkpoints) -> dict:
    return {f"{script.upper()}_CHECKPOINT": str(checkpoints[script]), "CSTRACK_CONFIG": f"{script}_tiny",
            "CSTRACK_DEVICE": "cpu", "VOT_RESULTS_BINARY": "0"}


def test_longterm_workspace_stage1(tmp_path, checkpoints):
    data = syn.make_rgbd(tmp_path / "sequences", {"bag": 10}, absent={"bag": [6, 7]})
    ws = vws.make_workspace(tmp_path / "ws", "Depthtrack_workspace", data)
    vws.run_vot(ws, "evaluate", "CSTrack_S1", env=_env("cstrack_s1", checkpoints))
    folder = ws / "results" / "CSTrack_S1" / "rgbd-unsupervised" / "bag"
    trajectory = (folder / "bag_001.txt").read_text().splitlines()
    assert len(trajectory) == 10 and trajectory[0] == "1" and len(trajectory[1].split(",")) == 4
    confidence = (folder / "bag_001_confidence.value").read_text().split("\n")
    assert confidence[0] == "" and all(0.0 <= float(c) <= 1.0 for c in confidence[1:10])

    vws.run_vot(ws, "analysis", "CSTrack_S1", "--name", "lt", "--format", "json")
    pr, re, f = vws.analysis_scores(ws, "lt", "rgbd-unsupervised")["PrecisionRecall"][0]
    assert 0.0 <= pr <= 1.0 and 0.0 <= re <= 1.0
    assert f == pytest.approx(2 * pr * re / (pr + re) if pr + re > 0 else 0.0)
    vws.run_vot(ws, "report", "CSTrack_S1", "--format", "html", "--name", "rep")
    html = (ws / "reports" / "rep" / "report.html").read_text()
    assert "CSTrack_S1" in html and "F-score" in html and f"{f:.3f}" in html


def test_multistart_workspace_stage2(tmp_path, checkpoints):
    data = syn.make_rgbd(tmp_path / "sequences", {"cup": 10}, anchors={"cup": [0, 5]})
    ws = vws.make_workspace(tmp_path / "ws", "VOT22RGBD_workspace", data)
    vws.run_vot(ws, "evaluate", "CSTrack_S2", env=_env("cstrack_s2", checkpoints))
    folder = ws / "results" / "CSTrack_S2" / "baseline" / "cup"
    assert len((folder / "cup_00000000.txt").read_text().splitlines()) == 10
    assert len((folder / "cup_00000005.txt").read_text().splitlines()) == 5

    vws.run_vot(ws, "analysis", "CSTrack_S2", "--name", "ms", "--format", "json")
    scores = vws.analysis_scores(ws, "ms", "baseline")
    eao = scores["EAOScore"][0][0]
    accuracy, robustness = scores["AverageAccuracyRobustness"][0][:2]
    assert 0.0 <= eao <= 1.0 and 0.0 <= accuracy <= 1.0 and 0.0 <= robustness <= 1.0
    vws.run_vot(ws, "report", "CSTrack_S2", "--format", "html", "--name", "rep")
    assert "CSTrack_S2" in (ws / "reports" / "rep" / "report.html").read_text()


def test_run_vot_checkpoint_errors_and_lookup(tmp_path, monkeypatch):
    for name in ("CSTRACK_CHECKPOINT", "CSTRACK_S1_CHECKPOINT", "CSTRACK_S2_CHECKPOINT", "CSTRACK_SCRIPT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CSTRACK_CHECKPOINTS_PATH", str(tmp_path))
    with pytest.raises(SystemExit, match="CSTRACK_S1_CHECKPOINT"):
        run_vot.main(["--script", "cstrack_s1"])
    with pytest.raises(SystemExit, match="must be one of"):
        run_vot.main([])
    monkeypatch.setenv("CSTRACK_SCRIPT", "cstrack_s3")
    with pytest.raises(SystemExit, match="cstrack_s3"):
        run_vot.main([])
    # the settings folder: the latest epoch of the script's training folder
    folder = tmp_path / "train" / "cstrack_s2" / "cstrack_s2"
    folder.mkdir(parents=True)
    for epoch in (10, 50, 9):
        (folder / f"CSTRACK_S2_ep{epoch:04d}.pth.tar").write_bytes(b"")
    assert run_vot.resolve_vot_checkpoint("cstrack_s2", "cstrack_s2").endswith("CSTRACK_S2_ep0050.pth.tar")
    monkeypatch.setenv("CSTRACK_CHECKPOINT", str(tmp_path / "missing.pth.tar"))
    with pytest.raises(FileNotFoundError, match="missing.pth.tar"):
        run_vot.resolve_vot_checkpoint("cstrack_s2", "cstrack_s2")


class _FakeServer:
    """Stands in for ``trax.Server``: replays requests, records replies."""

    def __init__(self, requests):
        self.requests, self.replies = list(requests), []

    def wait(self):
        return self.requests.pop(0)

    def status(self, objects, properties=None):
        self.replies.append(objects)


def test_serve_handles_every_initialisation_in_one_process(tmp_path):
    import trax
    from trax.region import Rectangle

    data = syn.make_rgbd(tmp_path, {"s": 4})
    files = {"color": data / "s" / "color" / "00000001.jpg", "depth": data / "s" / "depth" / "00000001.png"}
    image = {c: SimpleNamespace(path=lambda p=p: str(p)) for c, p in files.items()}
    init = SimpleNamespace(type=trax.TraxStatus.INITIALIZE, image=image,
                           objects=[(Rectangle.create(10, 8, 16, 12), {})])
    frame = SimpleNamespace(type=trax.TraxStatus.FRAME, image=image, objects=None)
    quit_ = SimpleNamespace(type=trax.TraxStatus.QUIT, image=None, objects=None)

    class Tracker:
        inits = []

        def initialize(self, img, info):
            assert img.shape == (48, 64, 6)
            self.inits.append(info["init_bbox"])

        def track(self, img):
            return {"target_bbox": np.array([1.0, 2.0, 3.0, 4.0]), "best_score": np.float32(0.25)}

    server = _FakeServer([init, frame, frame, init, frame, quit_])
    assert run_vot.serve(Tracker(), server) == 2
    assert Tracker.inits == [[10.0, 8.0, 16.0, 12.0]] * 2
    region, props = server.replies[1][0]
    assert region.bounds() == (1.0, 2.0, 3.0, 4.0) and props == {"confidence": 0.25}
