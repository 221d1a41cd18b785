"""Precision: bf16 only where the CPU has it natively (else fp32 with a notice), and it really runs in bf16."""
import logging

import numpy as np
import pytest
import torch

from lib.config import load_config
from lib.models import build_model
from lib.test.tracker import build_tracker, precision


def test_bf16_falls_back_to_fp32_with_one_notice_on_cpus_without_it(monkeypatch, caplog):
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset({"avx2", "fma"}))
    with caplog.at_level(logging.WARNING):
        chosen = precision.resolve_precision("bf16", torch.device("cpu"))
    assert chosen.name == "fp32" and chosen.dtype is None
    assert len(caplog.records) == 1 and "no native bf16" in caplog.records[0].getMessage()
    monkeypatch.setattr(precision, "cpu_flags", lambda: frozenset({"avx512f", "avx512_bf16"}))
    assert precision.resolve_precision("bf16", torch.device("cpu")).dtype == torch.bfloat16
    assert precision.resolve_precision("fp16", torch.device("cpu")).name == "fp32"
    assert precision.resolve_precision("fp16", torch.device("cpu"), require_native=False).dtype == torch.float16
    with pytest.raises(ValueError, match="'int8' is not one of"):
        precision.resolve_precision("int8", torch.device("cpu"))


def test_a_bf16_tracker_runs_its_network_in_bf16_and_says_so_in_its_identity(tmp_path, one_torch_thread):
    torch.manual_seed(0)
    net = build_model(load_config("cstrack_s2_tiny"), arch="cstrack_s2")
    path = tmp_path / "w.pth.tar"
    torch.save({"net": net.state_dict()}, path)
    frame = np.random.default_rng(0).integers(0, 256, size=(96, 128, 6), dtype=np.uint8)
    trackers = {name: build_tracker("cstrack_s2", str(path), "lasher", "cpu", config="cstrack_s2_tiny",
                                    precision=name, require_native=False) for name in ("fp32", "bf16")}
    seen = []
    run = trackers["bf16"]._run_network
    trackers["bf16"]._run_network = lambda states, search: seen.append(run(states, search)) or seen[-1]
    boxes = {}
    for name, tracker in trackers.items():
        tracker.initialize(frame, {"init_bbox": [40, 30, 24, 18]})
        boxes[name] = [tracker.track(frame)["target_bbox"] for _ in range(3)]
    assert seen[0]["score_map"].dtype == torch.bfloat16  # autocast really ran
    assert trackers["bf16"].identity.fields["precision"] == "bf16"
    assert trackers["bf16"].identity.digest != trackers["fp32"].identity.digest
    assert np.isfinite(boxes["bf16"]).all()
