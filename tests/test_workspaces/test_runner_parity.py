"""The RGBT runner, full-size stage-2 model with the fixture weights, reproduces the reference's boxes.

The parity sequence is written as a LasHeR-layout folder with lossless PNG frames and run through
``RGBT_workspace/test_rgbt_mgpus.py`` exactly as a user would, from a checkpoint in the authors' trainer
format (the layout of the released weights, loaded with no flag and with the experiment yaml since the
file stores no config); its result file must equal ``tracker_s2_lasher.npz`` (1e-3 px). This is the
only test of that fixture run (tests/test_tracker/test_tracker_parity.py tracks the other three).
"""
import runpy
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.authors_format import write_authors_checkpoint
from tests.parity_fixtures import fixture_sequence, fixture_state_dict

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_rgbt_runner_reproduces_reference_tracking_run(parity_dir, tmp_path, monkeypatch):
    frames, gt = fixture_sequence(parity_dir)
    rgb, x = frames[..., :3], frames[..., 3:]
    seq = tmp_path / "LasHeR" / "parityseq"
    (seq / "visible").mkdir(parents=True)
    (seq / "infrared").mkdir()
    for i in range(len(rgb)):
        cv2.imwrite(str(seq / "visible" / f"v{i:06d}.png"), cv2.cvtColor(rgb[i], cv2.COLOR_RGB2BGR))
        cv2.imwrite(str(seq / "infrared" / f"i{i:06d}.png"), cv2.cvtColor(x[i], cv2.COLOR_RGB2BGR))
    np.savetxt(seq / "visible.txt", gt, fmt="%d", delimiter=",")
    np.savetxt(seq / "infrared.txt", gt, fmt="%d", delimiter=",")
    checkpoint = tmp_path / "CSTRACK_S2_ep0050.pth.tar"
    write_authors_checkpoint(checkpoint, fixture_state_dict(parity_dir, "s2"), epoch=50, net_type="CSTRACK_S2",
                             script="cstrack_s2")
    results = tmp_path / "results"
    script = REPO_ROOT / "RGBT_workspace" / "test_rgbt_mgpus.py"
    monkeypatch.setattr(sys, "argv", [str(script), "--script_name", "cstrack_s2", "--yaml_name", "cstrack_s2",
                                      "--dataset_name", "LasHeR", "--checkpoint", str(checkpoint),
                                      "--device", "cpu", "--threads", "1", "--dataset_dir", str(seq.parent),
                                      "--results_dir", str(results)])
    with pytest.raises(SystemExit) as exit_info:
        runpy.run_path(str(script), run_name="__main__")
    assert exit_info.value.code == 0
    boxes = np.loadtxt(results / "parityseq.txt")
    ref = np.load(parity_dir / "tracker_s2_lasher.npz")
    assert boxes.shape == ref["boxes"].shape
    np.testing.assert_allclose(boxes, ref["boxes"], rtol=0, atol=1e-3)
