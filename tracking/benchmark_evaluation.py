"""Measure how long the evaluation takes on real benchmark files (the timing the unit tests do not assert).

    python tracking/benchmark_evaluation.py [--golden ../shared/eval_golden] [--repeats 3]

Scores the published raw results of the evaluation goldens (LasHeR: APFNet, 245 sequences; RGBT234:
MTNet, 234 sequences) and writes the HTML report comparing APFNet and mfDiMP on LasHeR (no frames
there, so no thumbnails). Prints a Markdown table with the best of ``--repeats`` runs of each task.
"""
import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import _init_paths  # noqa: F401  (repository root on sys.path)

from lib.test.analysis import evaluate_tracker
from lib.test.analysis.html_report import write_html_report
from lib.utils.machine import cpu_name

DEFAULT_GOLDEN = Path(_init_paths.REPO_ROOT).parent / "shared" / "eval_golden"


def best_of(repeats: int, task) -> float:
    """The shortest wall time of ``repeats`` calls of ``task()`` in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        task()
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--golden", type=Path, default=Path(os.environ.get("CSTRACK_GOLDEN_DIR", DEFAULT_GOLDEN)),
                        help="the eval_golden folder (default: $CSTRACK_GOLDEN_DIR or ../shared/eval_golden)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per task; the best is reported")
    args = parser.parse_args(argv)
    if not args.golden.is_dir():
        parser.error(f"{args.golden} does not exist; pass --golden or set CSTRACK_GOLDEN_DIR")
    lasher, rgbt234 = args.golden / "lasher", args.golden / "rgbt234"
    apfnet, mtnet = lasher / "results" / "APFNet", rgbt234 / "results" / "MTNet"
    with tempfile.TemporaryDirectory(prefix="cstrack_eval_bench_") as tmp:
        rows = [
            ("LasHeR, 245 sequences (APFNet results): evaluate_tracker",
             best_of(args.repeats, lambda: evaluate_tracker("LasHeR", apfnet, lasher / "annos"))),
            ("RGBT234, 234 sequences (MTNet results): evaluate_tracker",
             best_of(args.repeats, lambda: evaluate_tracker("RGBT234", mtnet, rgbt234 / "gt"))),
            ("LasHeR, 2 trackers x 245 sequences: HTML report without thumbnails",
             best_of(args.repeats, lambda: write_html_report(
                 Path(tmp) / "report.html", "LasHeR", lasher / "annos",
                 {"APFNet": apfnet, "mfDiMP": lasher / "results" / "mfDiMP"},
                 sequences=lasher / "test_sequences.txt"))),
        ]
    print(f"CPU: {cpu_name()}, {os.cpu_count()} logical cores; Python {sys.version.split()[0]}; "
          f"best of {args.repeats} runs")
    print()
    print("| task | time |")
    print("|---|---:|")
    for task, seconds in rows:
        print(f"| {task} | {seconds:.2f} s |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
