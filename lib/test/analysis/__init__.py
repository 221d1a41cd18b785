"""Benchmark evaluation in Python: LasHeR, RGBT234, VisEvent (OPE toolkits) and DepthTrack (VOT long-term).

Scores follow the official toolkits' rules (docs/evaluation.md), one registered protocol per benchmark::

    from lib.test.analysis import evaluate_tracker
    scores = evaluate_tracker("LasHeR", "output/.../LasHeR_ep0030", "<data>/LasHeR/testingset")
    # {'PR': 0.5001, 'NPR': 0.4393, 'SR': 0.3624}

:func:`compute_curves` / :func:`compare_trackers` keep the per-sequence curves (per-sequence and
per-attribute scores, plots, FPS); :mod:`lib.test.analysis.report` formats tables and draws plots,
:mod:`lib.test.analysis.html_report` writes a self-contained HTML report.
"""
from lib.test.analysis.depthtrack import LongTermResult
from lib.test.analysis.extract_results import (compare_trackers, compute_curves, evaluate_tracker, load_attributes,
                                               load_ground_truth)
from lib.test.analysis.ope import OPEResult
from lib.test.analysis.protocol import (PROTOCOLS, GroundTruth, IncompleteResultsError, Protocol, TrackerResult,
                                        get_protocol)
from lib.test.analysis.readers import ResultFormatError

__all__ = [
    "GroundTruth", "IncompleteResultsError", "LongTermResult", "OPEResult", "PROTOCOLS", "Protocol",
    "ResultFormatError", "TrackerResult", "compare_trackers", "compute_curves", "evaluate_tracker", "get_protocol",
    "load_attributes", "load_ground_truth",
]
