"""Benchmark test sets and the resumable runner that writes reference-format result files.

Importing this package registers the readers in ``lib.registry.BENCHMARKS`` (LasHeR, RGBT234, VisEvent,
DepthTrack, VOT22RGBD).
"""
from lib.test.evaluation.data import Benchmark, DatasetError, ResultFormat, Sequence
from lib.test.evaluation.datasets import load_benchmark
from lib.test.evaluation.running import (BenchmarkSummary, TrackerFactory, default_results_dir, run_benchmark,
                                         run_sequence)

__all__ = ["Benchmark", "BenchmarkSummary", "DatasetError", "ResultFormat", "Sequence", "TrackerFactory",
           "default_results_dir", "load_benchmark", "run_benchmark", "run_sequence"]
