"""DepthTrack Pr / Re / F of ``lib.test.analysis`` equal the real VOT toolkit's long-term analysis.

A trajectory is produced on a synthetic RGB-D set (three sequences with absent stretches, >98
confidences so the toolkit subsamples its thresholds, ``docs/evaluation.md``) and scored twice: by
``vot analysis`` in a workspace using ``Depthtrack_workspace``'s stack, and by ``evaluate_tracker``
on the same result files. A second case feeds the toolkit the files our local runner writes.
"""
from pathlib import Path

import numpy as np
import pytest

from tests.test_evaluation import benchmark_data as syn
from tests.test_workspaces import vot_workspace as vws

HERE = Path(__file__).resolve().parent


vws.require_toolkit()
pytestmark = pytest.mark.slow  # each case runs the toolkit's analysis in a subprocess

SEQUENCES = {"alpha": 40, "bravo": 35, "charlie": 42}
ABSENT = {"alpha": range(12, 18), "charlie": range(30, 36)}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    return syn.make_rgbd(tmp_path_factory.mktemp("rgbd") / "sequences", SEQUENCES, absent=ABSENT)


def _registry(tmp_path: Path) -> Path:
    ini = tmp_path / "replay.ini"
    ini.write_text(f"[Replay]\nprotocol = traxpython\ncommand = replay_tracker\npaths = {HERE}\n\n"
                   f"[Local]\nprotocol = traxpython\ncommand = replay_tracker\npaths = {HERE}\n")
    return ini


def _toolkit_vs_ours(workspace: Path, tracker: str, dataset: Path):
    from lib.test.analysis import evaluate_tracker

    vws.run_vot(workspace, "analysis", tracker, "--name", "lt", "--format", "json")
    toolkit = vws.analysis_scores(workspace, "lt", "rgbd-unsupervised")["PrecisionRecall"][0]
    results = workspace / "results" / tracker / "rgbd-unsupervised"
    ours = [evaluate_tracker("DepthTrack", results, dataset, vot_legacy=legacy) for legacy in (True, False)]
    return toolkit, ours


def test_fscore_equals_vot_toolkit_longterm_analysis(tmp_path, dataset):
    workspace = vws.make_workspace(tmp_path / "ws", "Depthtrack_workspace", dataset, registry=[_registry(tmp_path)])
    vws.run_vot(workspace, "evaluate", "Replay", env={"VOT_RESULTS_BINARY": "0"})
    confidences = []
    for name in SEQUENCES:
        values = (workspace / "results" / "Replay" / "rgbd-unsupervised" / name / f"{name}_001_confidence.value")
        confidences += [float(v) for v in values.read_text().split()]
    assert len(confidences) > 98 and len(set(confidences)) > 80  # thresholds are subsampled
    (pr, re, f), ours = _toolkit_vs_ours(workspace, "Replay", dataset)
    assert 0.05 < f < 0.95
    for scores in ours:
        assert scores["Pr"] == pytest.approx(pr, abs=1e-12)
        assert scores["Re"] == pytest.approx(re, abs=1e-12)
        assert scores["F"] == pytest.approx(f, abs=1e-12)


class _Wobble:
    """Deterministic fake tracker for the local runner: jittered boxes, varying confidence."""

    def initialize(self, frame, info):
        self.box, self.i = np.asarray(info["init_bbox"], float), 0

    def track(self, frame):
        self.i += 1
        box = self.box + [self.i * 1.0 + (self.i % 3), self.i * 0.5, self.i % 4, 0]
        return {"target_bbox": box.tolist(), "best_score": ((self.i * 53) % 89) / 88.0}


def test_local_runner_files_score_the_same_in_the_toolkit(tmp_path, dataset):
    from lib.test.evaluation import load_benchmark, run_benchmark

    workspace = vws.make_workspace(tmp_path / "ws", "Depthtrack_workspace", dataset, registry=[_registry(tmp_path)])
    bench = load_benchmark("DepthTrack", str(dataset))
    run_benchmark(bench, lambda device: _Wobble(), str(workspace / "results" / "Local" / "rgbd-unsupervised"),
                  device="cpu")
    (pr, re, f), ours = _toolkit_vs_ours(workspace, "Local", dataset)
    assert 0.05 < f < 0.95
    assert ours[0]["F"] == pytest.approx(f, abs=1e-12) and ours[0]["Pr"] == pytest.approx(pr, abs=1e-12)
