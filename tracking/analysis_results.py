"""Score result folders on LasHeR, RGBT234, VisEvent or DepthTrack and compare trackers.

    python tracking/analysis_results.py --dataset LasHeR --gt /data/LasHeR/testingset \\
        --tracker cstrack_s2=output/test/tracking_results/cstrack_s2/LasHeR_ep0030 \\
        --tracker APFNet=/path/to/APFNet_tracking_result --plot_dir plots --markdown

Prints the comparison table (and per-attribute tables when the benchmark's attribute files are found
or given with ``--attributes``); ``--plot_dir`` saves success / precision plots as PNG. A thin wrapper
over :mod:`lib.test.analysis`; the rules are those of the official toolkits (EVALUATION.md §1, §3.3).
"""
import argparse
import logging
import sys
from pathlib import Path

import _init_paths  # noqa: F401  (repository root on sys.path)

from lib.test.analysis import IncompleteResultsError, METRICS, compare_trackers, load_ground_truth
from lib.test.analysis.extract_results import default_tracker_name
from lib.test.analysis.report import (format_attribute_table, format_table, plot_attribute_curves, plot_curves,
                                      write_sequence_scores)


def get_args_parser() -> argparse.ArgumentParser:
    """Command-line options."""
    parser = argparse.ArgumentParser(description="Evaluate tracking results with the benchmarks' toolkit rules.")
    parser.add_argument("--dataset", required=True, help=f"benchmark: {', '.join(METRICS)}")
    parser.add_argument("--gt", required=True, type=Path,
                        help="dataset root in its standard layout, or a folder of <seq>.txt ground-truth files")
    parser.add_argument("--results_dir", nargs="+", action="extend", type=Path, default=[],
                        help="result folders; the tracker is named after the folder")
    parser.add_argument("--tracker", nargs="+", action="extend", default=[], metavar="NAME=DIR",
                        help="named result folders")
    parser.add_argument("--sequences", type=Path, help="file with the sequence names to score (default: all)")
    parser.add_argument("--attributes", type=Path, help="attribute folder (default: the one beside --gt, if any)")
    parser.add_argument("--plot_dir", type=Path, help="save success / precision plots here (PNG)")
    parser.add_argument("--plot_attributes", action="store_true", help="also plot every attribute subset")
    parser.add_argument("--per_sequence", type=Path, metavar="CSV", help="write per-sequence scores to this CSV")
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables")
    parser.add_argument("--percent", action="store_true", help="print scores in percent")
    parser.add_argument("--allow_missing", action="store_true",
                        help="score only the sequences that have a complete result file (others are listed)")
    parser.add_argument("--image_size", nargs=2, type=int, metavar=("WIDTH", "HEIGHT"),
                        help="DepthTrack frame size when --gt is a folder of <seq>.txt files")
    parser.add_argument("--vot_version", choices=("0.5.3", "0.9.0"), default="0.5.3",
                        help="DepthTrack: VOT toolkit overlap semantics for empty regions (default 0.5.3)")
    return parser


def _trackers(args: argparse.Namespace) -> dict:
    """Tracker name -> results folder from --results_dir and --tracker."""
    trackers = {}
    for item in args.tracker:
        name, sep, path = item.partition("=")
        if not sep or not name or not path:
            raise ValueError(f"--tracker expects NAME=DIR, got '{item}'")
        trackers[name] = Path(path)
    for path in args.results_dir:
        name = default_tracker_name(path)
        if name in trackers:
            raise ValueError(f"two result folders are named '{name}'; use --tracker NAME=DIR")
        trackers[name] = path
    if not trackers:
        raise ValueError("give at least one --results_dir or --tracker")
    return trackers


def main(argv=None) -> int:
    """Evaluate, print tables, write plots; returns the exit code."""
    args = get_args_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        trackers = _trackers(args)
        gt = load_ground_truth(args.dataset, args.gt, args.sequences, attributes=args.attributes,
                               image_size=tuple(args.image_size) if args.image_size else None)
        results = compare_trackers(gt.dataset, trackers, gt, allow_missing=args.allow_missing,
                                   vot_legacy=args.vot_version == "0.5.3")
    except (IncompleteResultsError, FileNotFoundError, KeyError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1

    print(format_table(results, markdown=args.markdown, percent=args.percent))
    if gt.attributes:
        for metric in METRICS[gt.dataset]:
            print()
            print(format_attribute_table(results, gt.attributes, metric, markdown=args.markdown,
                                         percent=args.percent))
    if args.per_sequence:
        write_sequence_scores(results, args.per_sequence)
    if args.plot_dir:
        plot_curves(results, args.plot_dir)
        if args.plot_attributes and gt.attributes:
            plot_attribute_curves(results, gt.attributes, args.plot_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
