"""Benchmark test sets and the resumable runner that writes reference-format result files.

``data`` (sequences, result formats), ``datasets`` (the readers, registered in
``lib.registry.BENCHMARKS``: LasHeR, RGBT234, VisEvent, DepthTrack, VOT22RGBD), ``results`` (results
folders: paths, formats, manifest, lock), ``runner`` (one sequence), ``scheduler`` (a whole benchmark,
worker processes), ``errors`` (user errors and their one-line messages), ``cli`` (the workspace scripts).
"""
from lib.test.evaluation.data import Benchmark, DatasetError, ResultFormat, Sequence
from lib.test.evaluation.datasets import load_benchmark
from lib.test.evaluation.results import default_results_dir
from lib.test.evaluation.runner import TrackerFactory, run_sequence
from lib.test.evaluation.scheduler import BenchmarkSummary, run_benchmark

__all__ = ["Benchmark", "BenchmarkSummary", "DatasetError", "ResultFormat", "Sequence", "TrackerFactory",
           "default_results_dir", "load_benchmark", "run_benchmark", "run_sequence"]
