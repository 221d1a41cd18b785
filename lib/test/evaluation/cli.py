"""Command line of the benchmark runners (``RGBT_workspace/test_rgbt_mgpus.py``, ``RGBE_workspace/test_rgbe_mgpus.py``).

The reference's arguments plus this framework's; a mistake in the user's files, folders or settings
prints one ``error: ...`` line naming the file and the fix and exits with code 2 (the traceback only
with ``--verbose``); a bug keeps its traceback and exits with code 1.
"""
from __future__ import annotations

import argparse
import logging
import os
from typing import Optional, Sequence as SequenceT

import lib.test.tracker  # noqa: F401 (registers the trackers --script_name chooses from)
from lib.registry import TRACKERS
from lib.test.evaluation.errors import run_reporting_user_errors
from lib.test.evaluation.results import default_results_dir
from lib.test.evaluation.runner import TrackerFactory
from lib.test.evaluation.scheduler import BenchmarkSummary, run_benchmark
from lib.test.evaluation.sharded import run_sharded, torchrun_placement
from lib.utils.checkpoint_layout import epoch_label, resolve_test_checkpoint

logger = logging.getLogger(__name__)


def build_arg_parser(datasets: SequenceT[str], description: str) -> argparse.ArgumentParser:
    """The reference's arguments (``--script_name --yaml_name --dataset_name --threads --num_gpus --mode
    --debug --video``) plus ``--checkpoint/--ckpt_name``, ``--epoch``, ``--device``, ``--dataset_dir``,
    ``--results_dir``, ``--overwrite``, ``--wait`` and ``--verbose``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--script_name", default="cstrack_s2", choices=TRACKERS.names(), help="tracker")
    parser.add_argument("--yaml_name", default=None, help="experiment yaml name or path (default: the config stored "
                        "in the checkpoint, else experiments/<script>/<script>.yaml)")
    parser.add_argument("--dataset_name", default=datasets[0], choices=list(datasets))
    parser.add_argument("--checkpoint", "--ckpt_name", default=None,
                        help="checkpoint file, or a file name under the 'network_path' setting")
    parser.add_argument("--epoch", type=int, default=None,
                        help="without --checkpoint: <checkpoints_path>/train/<script>/<yaml>/*_ep<EEEE>.pth.tar")
    parser.add_argument("--threads", type=int, default=1, help="worker processes (each builds one tracker)")
    parser.add_argument("--batch", type=int, default=1,
                        help="sequences tracked together in lockstep per tracker, one frame of each per network call "
                             "(same boxes as one at a time; pays off on GPUs)")
    parser.add_argument("--precision", choices=("fp32", "bf16", "fp16"), default="fp32",
                        help="fp32 (the reference's arithmetic); bf16 on CPUs with AVX512-BF16/AMX or GPUs; fp16 on "
                             "GPUs; elsewhere fp32 with a notice")
    parser.add_argument("--num_gpus", type=int, default=None, help="GPUs to spread workers over (default: all)")
    parser.add_argument("--mode", choices=("parallel", "sequential"), default="parallel",
                        help="'sequential' runs in this process (same as --threads 1)")
    parser.add_argument("--device", default=None, help="cpu | cuda | cuda:N (default: cuda if available)")
    parser.add_argument("--video", default="", help="run only this sequence")
    parser.add_argument("--dataset_dir", default=None, help="dataset root (default: from the settings)")
    parser.add_argument("--results_dir", default=None,
                        help="default <save_dir>/output/test/tracking_results/<yaml>/<Dataset>_<epoch> "
                             "(<save_dir>/test/... when save_dir is itself a folder named output)")
    parser.add_argument("--overwrite", action="store_true",
                        help="redo every sequence, also in a folder holding another run's results")
    parser.add_argument("--wait", action="store_true", help="wait for another runner using the results folder")
    parser.add_argument("--verbose", action="store_true", help="debug messages and tracebacks of user errors")
    parser.add_argument("--debug", type=int, default=0,
                        help="the reference's debug level: 0 (default) or > 0, which is --verbose "
                             "(results are written in every case)")
    return parser


def run_from_args(args: argparse.Namespace) -> BenchmarkSummary:
    """Resolve checkpoint, dataset and results folder from parsed CLI arguments, then run the benchmark."""
    from lib.test.evaluation.datasets import load_benchmark

    yaml_stem = os.path.splitext(os.path.basename(args.yaml_name or args.script_name))[0]
    checkpoint = resolve_test_checkpoint(args.script_name, yaml_stem, args.checkpoint, args.epoch)
    benchmark = load_benchmark(args.dataset_name, args.dataset_dir, [args.video] if args.video else None)
    epoch = f"ep{args.epoch:04d}" if args.epoch is not None else epoch_label(checkpoint)
    results_dir = args.results_dir or default_results_dir(yaml_stem, benchmark.name, epoch)
    factory = TrackerFactory(args.script_name, checkpoint, benchmark.tracker_dataset, args.yaml_name, args.precision)
    threads = 1 if args.mode == "sequential" else args.threads
    logger.info("%s: %d sequences, checkpoint %s, results in %s", benchmark.name, len(benchmark), checkpoint,
                results_dir)
    if torchrun_placement() is not None:
        return run_sharded(benchmark, factory, results_dir, device=args.device, overwrite=args.overwrite,
                           wait=args.wait, batch=args.batch)
    return run_benchmark(benchmark, factory, results_dir, threads=threads, num_gpus=args.num_gpus,
                         device=args.device, overwrite=args.overwrite, wait=args.wait, batch=args.batch)


def main(datasets: SequenceT[str], description: str, argv: Optional[SequenceT[str]] = None) -> int:
    """Entry point of the workspace scripts; returns the process exit code."""
    parser = build_arg_parser(datasets, description)
    args = parser.parse_args(argv)
    if args.batch < 1:
        parser.error(f"--batch must be at least 1, got {args.batch}")
    if torchrun_placement() is not None and args.threads > 1 and args.mode != "sequential":
        parser.error("under torchrun every process tracks its share of the sequences: use torchrun's "
                     "--nproc_per_node (and --nnodes) instead of --threads")
    verbose = args.verbose or args.debug > 0
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if verbose:
        logging.getLogger("lib").setLevel(logging.DEBUG)

    def run() -> None:
        run_from_args(args)

    return run_reporting_user_errors(run, verbose)


__all__ = ["build_arg_parser", "main", "run_from_args"]
