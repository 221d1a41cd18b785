"""The real ``vot evaluate`` / ``vot analysis`` / ``vot report`` on the repository's workspaces.

A synthetic RGB-D sequence (VOT layout with ``sequence`` files and ``list.txt``, so nothing is
downloaded) is run through ``Depthtrack_workspace`` (long-term stack: Pr / Re / F) with the authors'
``cstrack_s1`` name through ``python -m lib.test.vot.evaluate`` (run identity recorded), and through
``VOT22RGBD_workspace`` (``vot2022/rgbd`` multistart: EAO / A / R) with ``vot evaluate cstrack_s2``:
the toolkit starts ``python -m lib.test.vot.run_vot`` from the repository's ``trackers.ini`` via
traxpython, with tiny-config checkpoints, one of them in the authors' trainer format. A stage-1
checkpoint only loads (strictly) into stage 1, so the S1 entry really runs stage 1.
"""
import json
import os
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import yaml

from lib.registry import TRACKERS
from lib.test.vot import evaluate as vot_evaluate
from lib.test.vot import run_vot

from tests.authors_format import write_authors_checkpoint
from tests.test_evaluation import benchmark_data as syn
from tests.test_workspaces import vot_workspace as vws


vws.require_toolkit()


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    """Random-weight tiny checkpoints for both stages: stage 1 as ``{"net": ...}``, stage 2 in the authors'
    trainer format (the layout of the released weights)."""
    from lib.config import load_config
    from lib.models import build_model

    folder = tmp_path_factory.mktemp("ckpt")
    paths = {}
    for script in TRACKERS.names():
        torch.manual_seed(0)
        net = build_model(load_config(f"{script}_tiny", script=script), arch=script)
        paths[script] = folder / f"{script.upper()}_ep0002.pth.tar"
        if script == "cstrack_s2":
            write_authors_checkpoint(paths[script], net.state_dict(), epoch=2, net_type="CSTRACK_S2", script=script)
        else:
            torch.save({"net": net.state_dict()}, paths[script])
    return paths


def _env(script: str, checkpoints) -> dict:
    return {f"{script.upper()}_CHECKPOINT": str(checkpoints[script]), "CSTRACK_CONFIG": f"{script}_tiny",
            "CSTRACK_DEVICE": "cpu", "VOT_RESULTS_BINARY": "0"}


def _evaluate_with_identity(ws, tracker, env, *extra):
    return subprocess.run([sys.executable, "-m", "lib.test.vot.evaluate", "--workspace", str(ws), *extra, tracker],
                          env={**os.environ, **env, "VOT_PERSISTENT_CACHE": "0"},
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)


@pytest.mark.slow
def test_longterm_workspace_stage1_with_run_identity(tmp_path, checkpoints):
    data = syn.make_rgbd(tmp_path / "sequences", {"bag": 10}, absent={"bag": [6, 7]})
    ws = vws.make_workspace(tmp_path / "ws", "Depthtrack_workspace", data)
    env = _env("cstrack_s1", checkpoints)
    proc = _evaluate_with_identity(ws, "cstrack_s1", env)
    assert proc.returncode == 0 and "Traceback" not in proc.stdout and "Error" not in proc.stdout, proc.stdout
    folder = ws / "results" / "cstrack_s1" / "rgbd-unsupervised" / "bag"
    trajectory = (folder / "bag_001.txt").read_text().splitlines()
    assert len(trajectory) == 10 and trajectory[0] == "1" and len(trajectory[1].split(",")) == 4
    confidence = (folder / "bag_001_confidence.value").read_text().split("\n")
    assert confidence[0] == "" and all(0.0 <= float(c) <= 1.0 for c in confidence[1:10])
    record = json.loads((ws / "results" / "cstrack_s1" / vot_evaluate.IDENTITY_FILE).read_text())
    assert record["fields"]["script"] == "cstrack_s1" and record["info"]["checkpoint"] == str(checkpoints["cstrack_s1"])

    vws.run_vot(ws, "analysis", "cstrack_s1", "--name", "lt", "--format", "json")
    pr, re, f = vws.analysis_scores(ws, "lt", "rgbd-unsupervised")["PrecisionRecall"][0]
    assert 0.0 <= pr <= 1.0 and 0.0 <= re <= 1.0
    assert f == pytest.approx(2 * pr * re / (pr + re) if pr + re > 0 else 0.0)
    vws.run_vot(ws, "report", "cstrack_s1", "--format", "html", "--name", "rep")
    html = (ws / "reports" / "rep" / "report.html").read_text()
    assert "cstrack_s1" in html and "F-score" in html and f"{f:.3f}" in html

    # retrained weights behind the same name: the toolkit would call every sequence finished; the wrapper refuses
    from lib.config import load_config
    from lib.models import build_model

    torch.manual_seed(1)
    retrained = tmp_path / "CSTRACK_S1_ep0002.pth.tar"
    torch.save({"net": build_model(load_config("cstrack_s1_tiny", script="cstrack_s1"), arch="cstrack_s1").state_dict()},
               retrained)
    proc = _evaluate_with_identity(ws, "cstrack_s1", {**env, "CSTRACK_S1_CHECKPOINT": str(retrained)})
    assert proc.returncode == 2 and "Traceback" not in proc.stdout
    error = proc.stdout.strip().splitlines()[-1]
    assert error.startswith("error: ") and "another run" in error and "weights_sha256" in error


@pytest.mark.slow
def test_multistart_workspace_stage2_authors_name_and_format(tmp_path, checkpoints):
    data = syn.make_rgbd(tmp_path / "sequences", {"cup": 10}, anchors={"cup": [0, 5]})
    ws = vws.make_workspace(tmp_path / "ws", "VOT22RGBD_workspace", data)
    vws.run_vot(ws, "evaluate", "cstrack_s2", env=_env("cstrack_s2", checkpoints))
    folder = ws / "results" / "cstrack_s2" / "baseline" / "cup"
    assert len((folder / "cup_00000000.txt").read_text().splitlines()) == 10
    assert len((folder / "cup_00000005.txt").read_text().splitlines()) == 5

    vws.run_vot(ws, "analysis", "cstrack_s2", "--name", "ms", "--format", "json")
    scores = vws.analysis_scores(ws, "ms", "baseline")
    eao = scores["EAOScore"][0][0]
    accuracy, robustness = scores["AverageAccuracyRobustness"][0][:2]
    assert 0.0 <= eao <= 1.0 and 0.0 <= accuracy <= 1.0 and 0.0 <= robustness <= 1.0
    vws.run_vot(ws, "report", "cstrack_s2", "--format", "html", "--name", "rep")
    assert "cstrack_s2" in (ws / "reports" / "rep" / "report.html").read_text()


@pytest.mark.parametrize("workspace", ["Depthtrack_workspace", "VOT22RGBD_workspace"])
def test_authors_names_and_old_names_are_the_same_trackers(tmp_path, workspace):
    from vot.tracker import Registry

    ws = vws.make_workspace(tmp_path / "ws", workspace, tmp_path / "sequences")
    registry = Registry([str(p) for p in yaml.safe_load((ws / "config.yaml").read_text())["registry"]],
                        root=str(ws))
    for authors, ours in (("cstrack_s1", "CSTrack_S1"), ("cstrack_s2", "CSTrack_S2")):
        a, b = registry[authors].describe(), registry[ours].describe()
        assert a["env"] == b["env"] == {"CSTRACK_SCRIPT": authors, "CSTRACK_VOT_DATASET": "depthtrack"}
        assert (a["command"], a["protocol"]) == (b["command"], b["protocol"]) == ("lib.test.vot.run_vot", "traxpython")


def test_results_of_unknown_origin_or_another_run_are_refused(tmp_path):
    from lib.test.tracker.identity import RunIdentity

    folder = tmp_path / "results" / "cstrack_s2"
    identity = RunIdentity({"weights_sha256": "b"})
    vot_evaluate.check_results_folder(folder, identity, force=False)  # nothing there yet
    (folder / "baseline" / "cup").mkdir(parents=True)
    with pytest.raises(run_vot.StartError, match="unknown origin.*--force"):
        vot_evaluate.check_results_folder(folder, identity, force=False)
    (folder / vot_evaluate.IDENTITY_FILE).write_text(json.dumps(RunIdentity({"weights_sha256": "a"}).to_dict()))
    with pytest.raises(run_vot.StartError, match="another run.*weights_sha256: 'a' -> 'b'"):
        vot_evaluate.check_results_folder(folder, identity, force=False)
    vot_evaluate.check_results_folder(folder, identity, force=True)


def test_run_vot_errors_are_one_line_and_the_checkpoint_lookup(tmp_path, monkeypatch, capsys, checkpoints):
    for name in ("CSTRACK_CHECKPOINT", "CSTRACK_S1_CHECKPOINT", "CSTRACK_S2_CHECKPOINT", "CSTRACK_SCRIPT",
                 "CSTRACK_CONFIG", "CSTRACK_RUN_IDENTITY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CSTRACK_CHECKPOINTS_PATH", str(tmp_path))

    def error_line(argv):
        assert run_vot.main(argv) == 2
        err = capsys.readouterr().err
        assert "Traceback" not in err
        return err.strip().splitlines()[-1]

    assert "CSTRACK_S1_CHECKPOINT" in error_line(["--script", "cstrack_s1"])
    assert "must be one of ['cstrack_s1', 'cstrack_s2']" in error_line([])
    monkeypatch.setenv("CSTRACK_SCRIPT", "cstrack_s3")
    assert "cstrack_s3" in error_line([])
    broken = tmp_path / "broken.pth.tar"
    broken.write_bytes(b"not a checkpoint")
    line = error_line(["--script", "cstrack_s1", "--checkpoint", str(broken), "--config", "cstrack_s1_tiny"])
    assert line.startswith("run_vot: error: ") and str(broken) in line
    # a tracker that is not the run the results folder was started with stops before serving
    monkeypatch.setenv("CSTRACK_RUN_IDENTITY", "0" * 64)
    line = error_line(["--script", "cstrack_s2", "--checkpoint", str(checkpoints["cstrack_s2"]),
                       "--config", "cstrack_s2_tiny", "--device", "cpu"])
    assert "was the checkpoint replaced" in line
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
