"""Benchmark evaluation in Python: LasHeR, RGBT234, VisEvent (OPE toolkits) and DepthTrack (VOT long-term).

Scores follow the official toolkits' rules as written out in EVALUATION.md §1 and §3.3::

    from lib.test.analysis import evaluate_tracker
    scores = evaluate_tracker("LasHeR", "output/.../LasHeR_ep0030", "<data>/LasHeR/testingset")
    # {'PR': 0.5001, 'NPR': 0.4393, 'SR': 0.3624}

:func:`compute_curves` / :func:`compare_trackers` keep the per-sequence curves (per-sequence and
per-attribute scores, plots); :mod:`lib.test.analysis.report` formats tables and draws plots.
"""
from lib.test.analysis.extract_results import (ATTRIBUTE_NAMES, METRICS, GroundTruth, IncompleteResultsError,
                                               LongTermResult, OPEResult, compare_trackers, compute_curves,
                                               evaluate_tracker, load_attributes, load_ground_truth)
from lib.test.analysis.readers import ResultFormatError

__all__ = [
    "ATTRIBUTE_NAMES", "METRICS", "GroundTruth", "IncompleteResultsError", "LongTermResult", "OPEResult",
    "ResultFormatError", "compare_trackers", "compute_curves", "evaluate_tracker", "load_attributes",
    "load_ground_truth",
]
