"""Resumable benchmark runner: one result file per sequence, written atomically in the reference format.

``run_sequence`` tracks one sequence and writes ``<seq>.txt`` (row 0 = ground truth, EVALUATION.md §2)
plus ``<seq>_time.txt`` (seconds per frame, pytracking convention); a sequence whose result file is
complete is skipped, so an interrupted run restarted with the same arguments ends with the same files.
``run_benchmark`` shares the remaining sequences between worker processes (one tracker built per
worker, GPUs assigned round-robin), logs one progress line per sequence (i/N, FPS, ETA) and a summary.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import queue
import time
import traceback
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence as SequenceT

import numpy as np

from lib.test.evaluation.data import Benchmark, DatasetError, ResultFormat, Sequence
from lib.utils.checkpoint_layout import epoch_label, resolve_test_checkpoint
from lib.utils.files import atomic_write_text
from lib.utils.timefmt import format_duration

logger = logging.getLogger(__name__)

MANIFEST_NAME = "run_manifest.json"


class ResultsConflictError(RuntimeError):
    """The results folder holds files from a different checkpoint / config than this run."""


# ----------------------------------------------------------------------------------------------------------
# Paths and names
# ----------------------------------------------------------------------------------------------------------

def default_results_dir(yaml_name: str, benchmark: str, epoch: str, save_dir: Optional[str] = None) -> str:
    """``<save_dir>/output/test/tracking_results/<yaml>/<Dataset>_<epoch>`` (reference tree, §2.1)."""
    if save_dir is None:
        from lib.config.environment import env_settings

        save_dir = str(env_settings().require_dir("save_dir"))
    return os.path.join(save_dir, "output", "test", "tracking_results", yaml_name, f"{benchmark}_{epoch}")


def result_files(results_dir: str, name: str, result_format: ResultFormat) -> Dict[str, str]:
    """Paths of one sequence's files; ``result`` is written last and marks the sequence as finished."""
    if result_format.layout == "flat":
        return {"result": os.path.join(results_dir, f"{name}.txt"),
                "time": os.path.join(results_dir, f"{name}_time.txt")}
    if result_format.layout == "vot_longterm":
        base = os.path.join(results_dir, name, f"{name}_001")
        return {"result": base + ".txt", "time": base + "_time.value", "confidence": base + "_confidence.value"}
    raise ValueError(f"result layout '{result_format.layout}' cannot be produced by the local runner; "
                     f"use the VOT toolkit workspace (VOT22RGBD_workspace) for multistart experiments")


def _count_rows(path: str) -> int:
    with open(path, "r", encoding="utf-8") as handle:
        return sum(1 for line in handle if line.strip())


def is_finished(results_dir: str, seq: Sequence, result_format: ResultFormat) -> bool:
    """True when the sequence's result file exists with one row per frame (a stale file is redone)."""
    path = result_files(results_dir, seq.name, result_format)["result"]
    if not os.path.isfile(path):
        return False
    rows = _count_rows(path)
    if rows != len(seq):
        logger.warning("%s has %d rows, the sequence has %d frames; running it again", path, rows, len(seq))
        return False
    return True


def format_rows(boxes: np.ndarray, result_format: ResultFormat) -> str:
    """Rows as ``np.savetxt(fmt, delimiter)`` writes them (EVALUATION.md §2.1 / §2.2)."""
    line = result_format.delimiter.join([result_format.fmt] * boxes.shape[1])
    return "".join(line % tuple(row) + "\n" for row in boxes)


def _vot_trajectory_text(boxes: np.ndarray) -> str:
    """VOT text trajectory: ``1`` (initialisation) on frame 0, then ``x,y,w,h`` per frame."""
    return "1\n" + "".join(",".join(repr(float(v)) for v in row) + "\n" for row in boxes[1:])


# ----------------------------------------------------------------------------------------------------------
# One sequence
# ----------------------------------------------------------------------------------------------------------

@dataclass
class SequenceResult:
    """Outcome of one sequence: frames tracked and the tracker's own time (image reading excluded)."""

    name: str
    num_frames: int
    tracker_time: float
    skipped: bool = False

    @property
    def fps(self) -> float:
        return self.num_frames / self.tracker_time if self.tracker_time > 0 else float("nan")


def track_sequence(tracker: Any, seq: Sequence) -> Dict[str, np.ndarray]:
    """Run the tracker over ``seq``: boxes ``(N, 4)`` with row 0 = ground truth, scores ``(N,)``, times ``(N,)``."""
    n = len(seq)
    boxes = np.zeros((n, 4), dtype=np.float64)
    scores = np.full(n, np.nan, dtype=np.float64)
    times = np.zeros(n, dtype=np.float64)
    frame = seq.frame(0)
    start = time.perf_counter()
    tracker.initialize(frame, {"init_bbox": seq.init_bbox})
    times[0] = time.perf_counter() - start
    # EVALUATION.md §2.1 / §2.2: row 0 of the reference result is the ground truth of the first frame.
    boxes[0] = seq.ground_truth[0]
    for i in range(1, n):
        frame = seq.frame(i)
        start = time.perf_counter()
        out = tracker.track(frame)
        times[i] = time.perf_counter() - start
        boxes[i] = np.asarray(out["target_bbox"], dtype=np.float64).reshape(4)
        scores[i] = float(out.get("best_score", np.nan))
    return {"boxes": boxes, "scores": scores, "times": times}


def run_sequence(tracker: Any, seq: Sequence, results_dir: str, result_format: ResultFormat = ResultFormat(),
                 overwrite: bool = False) -> SequenceResult:
    """Track ``seq`` and write its files under ``results_dir``; skip it when already finished.

    The result file is replaced atomically and written last, so its presence means "done".
    """
    files = result_files(results_dir, seq.name, result_format)
    if not overwrite and is_finished(results_dir, seq, result_format):
        return SequenceResult(seq.name, len(seq), 0.0, skipped=True)
    out = track_sequence(tracker, seq)
    atomic_write_text(files["time"], "".join(f"{t:.6f}\n" for t in out["times"]), fsync=True)
    if result_format.layout == "vot_longterm":
        # VOT toolkit layout (EVALUATION.md §3.3): frame 0 has no confidence (an empty line).
        atomic_write_text(files["confidence"], "\n" + "".join(f"{s!r}\n" for s in out["scores"][1:].tolist()), fsync=True)
        atomic_write_text(files["result"], _vot_trajectory_text(out["boxes"]), fsync=True)
    else:
        atomic_write_text(files["result"], format_rows(out["boxes"], result_format), fsync=True)
    return SequenceResult(seq.name, len(seq), float(out["times"].sum()))


# ----------------------------------------------------------------------------------------------------------
# Many sequences, many workers
# ----------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TrackerFactory:
    """Picklable recipe for ``lib.test.tracker.build_tracker``; each worker calls it once."""

    script: str
    checkpoint: str
    dataset_name: str
    config: Optional[str] = None

    def __call__(self, device: str) -> Any:
        from lib.test.tracker import build_tracker

        return build_tracker(self.script, checkpoint=self.checkpoint, dataset_name=self.dataset_name,
                             device=device, config=self.config)

    def describe(self) -> Dict[str, Any]:
        """What identifies results produced by this tracker (stored in the results manifest)."""
        stat = os.stat(self.checkpoint)
        return {"script": self.script, "config": self.config, "dataset_name": self.dataset_name,
                "checkpoint": os.path.abspath(self.checkpoint), "checkpoint_size": stat.st_size}


@dataclass
class BenchmarkSummary:
    """What ``run_benchmark`` did: counts, failures and speed."""

    benchmark: str
    results_dir: str
    num_sequences: int
    tracked: List[SequenceResult] = field(default_factory=list)
    skipped: List[str] = field(default_factory=list)
    failed: Dict[str, str] = field(default_factory=dict)
    wall_time: float = 0.0

    @property
    def mean_fps(self) -> float:
        """Mean of the per-sequence FPS over the sequences tracked in this run (NaN if none)."""
        fps = [r.fps for r in self.tracked if r.tracker_time > 0]
        return float(np.mean(fps)) if fps else float("nan")

    def line(self) -> str:
        return (f"{self.benchmark}: {len(self.tracked)} tracked, {len(self.skipped)} already done, "
                f"{len(self.failed)} failed of {self.num_sequences}; mean FPS {self.mean_fps:.1f}; "
                f"wall time {format_duration(self.wall_time)}; results in {self.results_dir}")


def worker_devices(workers: int, device: Optional[str] = None, num_gpus: Optional[int] = None) -> List[str]:
    """One device string per worker: CPU, one fixed device, or ``cuda:k`` round-robin over ``num_gpus``."""
    import torch

    if device is None:
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device != "cuda":
        return [device] * workers
    available = torch.cuda.device_count()
    if available == 0:
        raise RuntimeError("device 'cuda' requested but no CUDA device is visible")
    count = available if not num_gpus else min(num_gpus, available)
    return [f"cuda:{k % count}" for k in range(workers)]


def check_manifest(results_dir: str, run_info: Optional[Dict[str, Any]], overwrite: bool) -> None:
    """Refuse to mix results of different checkpoints / configs in one folder (PAIN_POINTS A13)."""
    if run_info is None:
        return
    path = os.path.join(results_dir, MANIFEST_NAME)
    if os.path.isfile(path) and not overwrite:
        with open(path, "r", encoding="utf-8") as handle:
            previous = json.load(handle)
        if previous != run_info:
            raise ResultsConflictError(
                f"{results_dir} holds results of another run ({previous}); this run is {run_info}. "
                f"Use --overwrite to redo every sequence or choose another --results_dir")
    atomic_write_text(path, json.dumps(run_info, indent=2, sort_keys=True) + "\n")


def _worker_main(worker_id: int, device: str, torch_threads: int, factory: Callable[[str], Any],
                 benchmark: Benchmark, results_dir: str, overwrite: bool, tasks: Any, messages: Any) -> None:
    """Worker process: build the tracker once, then run sequences from ``tasks`` until the sentinel."""
    import torch

    torch.set_num_threads(torch_threads)
    try:
        tracker = factory(device)
    except Exception:  # reported to the parent, which stops the run
        messages.put(("fatal", worker_id, traceback.format_exc()))
        return
    while True:
        index = tasks.get()
        if index is None:
            break
        seq = benchmark.sequences[index]
        try:
            result = run_sequence(tracker, seq, results_dir, benchmark.result_format, overwrite)
            messages.put(("done", index, asdict(result)))
        except Exception:  # one bad sequence must not take the others down; the parent fails the run
            messages.put(("error", index, traceback.format_exc()))


class _Progress:
    """One log line per finished sequence with i/N, FPS and an ETA from the frames still to do."""

    def __init__(self, benchmark: Benchmark, pending: SequenceT[int]):
        self.total = len(benchmark)
        self.done = self.total - len(pending)
        self.frames_left = sum(len(benchmark.sequences[i]) for i in pending)
        self.frames_done = 0
        self.start = time.time()

    def update(self, seq: Sequence, text: str) -> None:
        self.done += 1
        self.frames_done += len(seq)
        self.frames_left -= len(seq)
        elapsed = time.time() - self.start
        eta = elapsed / self.frames_done * self.frames_left if self.frames_done else float("nan")
        logger.info("[%d/%d] %s: %s | elapsed %s, ETA %s", self.done, self.total, seq.name, text,
                    format_duration(elapsed), format_duration(eta))


def run_benchmark(benchmark: Benchmark, tracker_factory: Callable[[str], Any], results_dir: str, threads: int = 1,
                  num_gpus: Optional[int] = None, device: Optional[str] = None, overwrite: bool = False,
                  run_info: Optional[Dict[str, Any]] = None, start_method: str = "spawn") -> BenchmarkSummary:
    """Run every unfinished sequence of ``benchmark``; ``threads`` > 1 uses that many worker processes.

    ``tracker_factory(device)`` builds a tracker (picklable for workers, e.g. :class:`TrackerFactory`).
    Raises RuntimeError after the summary if any sequence failed, so a CLI exits non-zero.
    """
    os.makedirs(results_dir, exist_ok=True)
    check_manifest(results_dir, run_info, overwrite)
    summary = BenchmarkSummary(benchmark.name, results_dir, len(benchmark))
    pending = []
    for index, seq in enumerate(benchmark.sequences):
        if not overwrite and is_finished(results_dir, seq, benchmark.result_format):
            summary.skipped.append(seq.name)
        else:
            pending.append(index)
    if summary.skipped:
        logger.info("%s: %d of %d sequences already finished in %s, skipping them", benchmark.name,
                    len(summary.skipped), len(benchmark), results_dir)
    progress = _Progress(benchmark, pending)
    workers = max(1, min(threads, len(pending)))
    start = time.time()
    if pending and workers == 1:
        tracker = tracker_factory(worker_devices(1, device, num_gpus)[0])
        for index in pending:
            seq = benchmark.sequences[index]
            try:
                result = run_sequence(tracker, seq, results_dir, benchmark.result_format, overwrite)
            except Exception as e:  # recorded and re-raised below, after the other sequences ran
                logger.error("%s failed: %s", seq.name, e, exc_info=True)
                summary.failed[seq.name] = f"{type(e).__name__}: {e}"
                progress.update(seq, "FAILED")
                continue
            summary.tracked.append(result)
            progress.update(seq, f"{result.num_frames} frames, {result.fps:.1f} FPS")
    elif pending:
        _run_parallel(benchmark, tracker_factory, results_dir, overwrite, pending,
                      worker_devices(workers, device, num_gpus), start_method, summary, progress)
    summary.wall_time = time.time() - start
    logger.info("%s", summary.line())
    if summary.failed:
        raise RuntimeError(f"{len(summary.failed)} sequence(s) failed: {sorted(summary.failed)}; finished ones "
                           f"are kept, run the same command again to retry the rest")
    return summary


def _run_parallel(benchmark: Benchmark, factory: Callable[[str], Any], results_dir: str, overwrite: bool,
                  pending: List[int], devices: List[str], start_method: str, summary: BenchmarkSummary,
                  progress: _Progress) -> None:
    """Share ``pending`` between ``len(devices)`` worker processes through a task queue."""
    import multiprocessing

    ctx = multiprocessing.get_context(start_method)
    tasks, messages = ctx.Queue(), ctx.Queue()
    for index in pending:
        tasks.put(index)
    for _ in devices:
        tasks.put(None)
    torch_threads = max(1, (os.cpu_count() or 1) // len(devices))
    procs = [ctx.Process(target=_worker_main, name=f"cstrack-eval-{k}",
                         args=(k, dev, torch_threads, factory, benchmark, results_dir, overwrite, tasks, messages))
             for k, dev in enumerate(devices)]
    for proc in procs:
        proc.start()
    remaining = set(pending)
    last_chance = False  # after every worker exited, read the queue once more before giving up
    try:
        while remaining:
            try:
                kind, key, payload = messages.get(timeout=1.0)
            except queue.Empty:
                if any(p.is_alive() for p in procs):
                    continue
                if last_chance:
                    raise RuntimeError(f"all workers exited with {len(remaining)} sequence(s) left "
                                       f"(exit codes {[p.exitcode for p in procs]})") from None
                last_chance = True
                continue
            if kind == "fatal":
                raise RuntimeError(f"worker {key} could not build the tracker:\n{payload}")
            seq = benchmark.sequences[key]
            remaining.discard(key)
            if kind == "done":
                result = SequenceResult(**payload)
                summary.tracked.append(result)
                progress.update(seq, f"{result.num_frames} frames, {result.fps:.1f} FPS")
            else:
                logger.error("%s failed:\n%s", seq.name, payload)
                summary.failed[seq.name] = payload.strip().splitlines()[-1]
                progress.update(seq, "FAILED")
    finally:
        for proc in procs:
            if proc.is_alive() and remaining:
                proc.terminate()
            proc.join()


# ----------------------------------------------------------------------------------------------------------
# Command line (RGBT_workspace/test_rgbt_mgpus.py, RGBE_workspace/test_rgbe_mgpus.py)
# ----------------------------------------------------------------------------------------------------------

def build_arg_parser(datasets: SequenceT[str], description: str) -> argparse.ArgumentParser:
    """The reference's arguments (``--script_name --yaml_name --dataset_name --threads --num_gpus --mode
    --video``) plus ``--checkpoint/--ckpt_name``, ``--epoch``, ``--device``, ``--dataset_dir``,
    ``--results_dir`` and ``--overwrite``."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--script_name", default="cstrack_s2", help="tracker family, e.g. cstrack_s1 | cstrack_s2")
    parser.add_argument("--yaml_name", default=None, help="experiment yaml name or path (default: script name)")
    parser.add_argument("--dataset_name", default=datasets[0], choices=list(datasets))
    parser.add_argument("--checkpoint", "--ckpt_name", default=None,
                        help="checkpoint file, or a file name under the 'network_path' setting")
    parser.add_argument("--epoch", type=int, default=None,
                        help="without --checkpoint: <checkpoints_path>/train/<script>/<yaml>/*_ep<EEEE>.pth.tar")
    parser.add_argument("--threads", type=int, default=1, help="worker processes (each builds one tracker)")
    parser.add_argument("--num_gpus", type=int, default=None, help="GPUs to spread workers over (default: all)")
    parser.add_argument("--mode", choices=("parallel", "sequential"), default="parallel",
                        help="'sequential' runs in this process (same as --threads 1)")
    parser.add_argument("--device", default=None, help="cpu | cuda | cuda:N (default: cuda if available)")
    parser.add_argument("--video", default="", help="run only this sequence")
    parser.add_argument("--dataset_dir", default=None, help="dataset root (default: from the settings)")
    parser.add_argument("--results_dir", default=None,
                        help="default <save_dir>/output/test/tracking_results/<yaml>/<Dataset>_<epoch>")
    parser.add_argument("--overwrite", action="store_true", help="redo sequences that are already finished")
    return parser


def run_from_args(args: argparse.Namespace) -> BenchmarkSummary:
    """Resolve checkpoint, dataset and results folder from parsed CLI arguments, then run the benchmark."""
    from lib.test.evaluation.datasets import load_benchmark

    yaml_name = args.yaml_name or args.script_name
    checkpoint = resolve_test_checkpoint(args.script_name, os.path.splitext(os.path.basename(yaml_name))[0],
                                    args.checkpoint, args.epoch)
    benchmark = load_benchmark(args.dataset_name, args.dataset_dir, [args.video] if args.video else None)
    epoch = f"ep{args.epoch:04d}" if args.epoch is not None else epoch_label(checkpoint)
    results_dir = args.results_dir or default_results_dir(os.path.splitext(os.path.basename(yaml_name))[0],
                                                          benchmark.name, epoch)
    factory = TrackerFactory(args.script_name, checkpoint, benchmark.tracker_dataset, yaml_name)
    threads = 1 if args.mode == "sequential" else args.threads
    logger.info("%s: %d sequences, checkpoint %s, results in %s", benchmark.name, len(benchmark), checkpoint,
                results_dir)
    return run_benchmark(benchmark, factory, results_dir, threads=threads, num_gpus=args.num_gpus,
                         device=args.device, overwrite=args.overwrite, run_info=factory.describe())


def main(datasets: SequenceT[str], description: str, argv: Optional[SequenceT[str]] = None) -> int:
    """Entry point of the workspace scripts; returns the process exit code."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    parser = build_arg_parser(datasets, description)
    args = parser.parse_args(argv)
    try:
        run_from_args(args)
    except (DatasetError, FileNotFoundError, ResultsConflictError) as e:
        parser.exit(2, f"error: {e}\n")
    return 0
