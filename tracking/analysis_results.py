"""Score result folders on LasHeR, RGBT234, VisEvent or DepthTrack, compare trackers, write an HTML report.

    python tracking/analysis_results.py --dataset LasHeR --gt /data/LasHeR/testingset \\
        --tracker cstrack_s2=output/test/tracking_results/cstrack_s2/LasHeR_ep0030 \\
        --tracker APFNet=/path/to/APFNet_tracking_result --plot_dir plots --markdown --html report.html

Prints the comparison table (FPS from the runner's ``<seq>_time.txt`` files when present) and
per-attribute tables when the benchmark's attribute files are found or given with ``--attributes``;
``--plot_dir`` saves success / precision plots as PNG; ``--html`` writes one self-contained HTML file
(tables, plots, sortable per-sequence table with thumbnails, optional video). A thin wrapper over
:mod:`lib.test.analysis`; the rules are those of the official toolkits (docs/evaluation.md).
"""
import argparse
import logging
import sys
from pathlib import Path

import _init_paths  # noqa: F401  (repository root on sys.path)

from lib.test.analysis import PROTOCOLS, IncompleteResultsError, compare_trackers, get_protocol, load_ground_truth
from lib.test.analysis.depthtrack import VOT_OVERLAP_RULES
from lib.test.analysis.extract_results import default_tracker_name
from lib.test.analysis.html_report import render_html_report
from lib.test.analysis.report import (format_attribute_table, format_table, plot_attribute_curves, plot_curves,
                                      write_sequence_scores)
from lib.test.evaluation.data import DatasetError
from lib.utils.files import atomic_write_text


def get_args_parser() -> argparse.ArgumentParser:
    """Command-line options."""
    parser = argparse.ArgumentParser(description="Evaluate tracking results with the benchmarks' toolkit rules.")
    parser.add_argument("--dataset", required=True, help=f"benchmark: {', '.join(PROTOCOLS.names())}")
    parser.add_argument("--gt", required=True, type=Path,
                        help="dataset root in its standard layout, or a folder of <seq>.txt ground-truth files")
    parser.add_argument("--results_dir", nargs="+", action="extend", type=Path, default=[],
                        help="result folders; the tracker is named after the folder")
    parser.add_argument("--tracker", nargs="+", action="extend", default=[], metavar="NAME=DIR",
                        help="named result folders")
    parser.add_argument("--sequences", type=Path, help="file with the sequence names to score (default: all)")
    parser.add_argument("--attributes", type=Path, help="attribute folder (default: the one beside --gt, if any)")
    parser.add_argument("--plot_dir", type=Path, help="save success / precision plots here (PNG)")
    parser.add_argument("--plot_attributes", action="store_true",
                        help="also plot every attribute subset (needs --plot_dir and attribute files)")
    parser.add_argument("--per_sequence", type=Path, metavar="CSV",
                        help="write per-sequence scores to this CSV")
    parser.add_argument("--html", type=Path, metavar="OUT",
                        help="write a self-contained HTML report (tables, plots, sortable per-sequence table with "
                             "thumbnails) to this file")
    parser.add_argument("--frames", type=Path, metavar="DIR",
                        help="dataset root with the frames for the report's thumbnails (default: --gt when it is "
                             "a dataset root)")
    parser.add_argument("--thumbnails", type=int, default=4, metavar="N",
                        help="frames per sequence in the HTML report (0: none; default 4)")
    parser.add_argument("--video", type=Path, help="a .webm / .mp4 video to embed in the HTML report")
    parser.add_argument("--title", help="title of the HTML report")
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables")
    parser.add_argument("--percent", action="store_true", help="print scores in percent")
    parser.add_argument("--allow_missing", action="store_true",
                        help="score only the sequences that have a complete result file (others are listed)")
    parser.add_argument("--image_size", nargs=2, type=int, metavar=("WIDTH", "HEIGHT"),
                        help="DepthTrack frame size when --gt is a folder of <seq>.txt files")
    parser.add_argument("--vot_overlap_rule", choices=tuple(VOT_OVERLAP_RULES), default="0.5.3",
                        help="DepthTrack only: how a frame is scored where the ground truth or the tracker has no "
                             "box. 0.5.3 (default; the vot-toolkit version behind the published DepthTrack "
                             "numbers): overlap 0. 0.6+ (vot-toolkit 0.6 and later, e.g. the installed 0.7.4): "
                             "overlap 1 when both have no box. Equal for trackers that always report a box, as "
                             "CSTrack does")
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
    """Evaluate, print tables, write plots and the report; returns the exit code."""
    parser = get_args_parser()
    args = parser.parse_args(argv)
    if args.plot_attributes and not args.plot_dir:
        parser.error("--plot_attributes needs --plot_dir")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    vot_legacy = VOT_OVERLAP_RULES[args.vot_overlap_rule]
    try:
        trackers = _trackers(args)
        gt = load_ground_truth(args.dataset, args.gt, args.sequences, attributes=args.attributes,
                               image_size=tuple(args.image_size) if args.image_size else None)
        results = compare_trackers(gt.dataset, trackers, gt, allow_missing=args.allow_missing, vot_legacy=vot_legacy)
    except (IncompleteResultsError, FileNotFoundError, KeyError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1

    print(format_table(results, markdown=args.markdown, percent=args.percent))
    if gt.attributes:
        for metric in get_protocol(gt.dataset).score_keys:
            print()
            print(format_attribute_table(results, gt.attributes, metric, markdown=args.markdown,
                                         percent=args.percent))
    if args.per_sequence:
        write_sequence_scores(results, args.per_sequence)
    if args.plot_dir:
        plot_curves(results, args.plot_dir)
        if args.plot_attributes:
            if gt.attributes:
                plot_attribute_curves(results, gt.attributes, args.plot_dir)
            else:
                print(f"--plot_attributes: {gt.attribute_note()}")
    if args.html:
        try:
            page = render_html_report(results, gt, title=args.title, frames_root=args.frames, video=args.video,
                                      thumbnails_per_sequence=args.thumbnails, vot_legacy=vot_legacy)
        except (DatasetError, OSError, ValueError) as e:
            print(f"error: cannot write the HTML report: {e}", file=sys.stderr)
            return 1
        atomic_write_text(args.html, page)
        print(f"HTML report: {args.html.resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
