"""A small LasHeR-layout evaluation case for the report tests: frames, two trackers, time files, attributes.

``make_report_case(root)`` writes ``root/data`` (three RGB-T sequences of ``benchmark_data``),
``root/AttriSeqsTxt`` (beside the dataset root, where the LasHeR protocol looks for it) and two result
folders with the runner's ``<seq>_time.txt`` files: ``Good`` (boxes within about a pixel) and ``Bad``
(boxes off by several pixels); ``with_attributes=False`` leaves the attribute files out.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tests.test_evaluation import benchmark_data as syn

SEQUENCES = {"alpha": 30, "bravo": 24, "charlie": 40}
#: Seconds per tracked frame written to the time files (frame 0, the initialisation, takes 0.5 s).
FRAME_SECONDS = {"Good": 0.01, "Bad": {"alpha": 0.02, "bravo": 0.04, "charlie": 0.02}}
INIT_SECONDS = 0.5
#: Sequences flagged with each attribute (the others are 0 in the attribute files).
ATTRIBUTES = {"LI": ("alpha",), "FM": ("bravo", "charlie")}


@dataclass
class ReportCase:
    data: Path
    trackers: dict[str, Path]
    attributes: Path | None


def frame_seconds(tracker: str, seq: str) -> float:
    value = FRAME_SECONDS[tracker]
    return value[seq] if isinstance(value, dict) else value


def make_report_case(root: Path, with_attributes: bool = True) -> ReportCase:
    data = syn.make_rgbt(root / "data", SEQUENCES)
    rng = np.random.default_rng(0)
    trackers = {}
    for tracker, noise in (("Good", 0.5), ("Bad", 6.0)):
        folder = root / tracker
        folder.mkdir()
        for seq, n in SEQUENCES.items():
            gt = np.loadtxt(data / seq / "visible.txt", delimiter=",", ndmin=2)
            boxes = gt + rng.normal(0.0, noise, gt.shape) * [1.0, 1.0, 0.3, 0.3]
            boxes[0] = gt[0]  # row 0 is the ground truth, as the runners write it
            np.savetxt(folder / f"{seq}.txt", boxes)
            times = np.full(n, frame_seconds(tracker, seq))
            times[0] = INIT_SECONDS
            np.savetxt(folder / f"{seq}_time.txt", times, fmt="%.6f")
        trackers[tracker] = folder
    if not with_attributes:
        return ReportCase(data, trackers, None)
    names = ("NO", "PO", "TO", "HO", "MB", "LI", "HI", "AIV", "LR", "DEF", "BC", "SA", "CM", "TC", "FL", "OV",
             "FM", "SV", "ARC")  # LasHeR's attribute order
    attributes = root / "AttriSeqsTxt"
    attributes.mkdir()
    for seq in SEQUENCES:
        flags = [int(seq in ATTRIBUTES.get(name, ())) for name in names]
        (attributes / f"{seq}.txt").write_text(",".join(map(str, flags)) + "\n")
    return ReportCase(data, trackers, attributes)
