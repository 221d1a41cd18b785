"""Running a whole benchmark: the results folder's lock and identity, then the sequences still to do.

``run_benchmark`` holds the results folder's lock for the whole run, builds the tracker (one per worker
process when ``threads`` > 1, GPUs round-robin), checks the folder against the tracker's run identity
(:mod:`lib.test.tracker.identity`) and only then writes the manifest, tracks every sequence that is not
finished for that identity, records each one as it finishes and logs one progress line per sequence
(i/N, FPS, ETA) and a summary. Worker processes die with the runner: on Linux through
``PR_SET_PDEATHSIG``, elsewhere through a thread that watches the parent's pid.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import queue
import signal
import sys
import threading
import time
import traceback
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence as SequenceT

import numpy as np

from lib.test.evaluation.data import Benchmark, Sequence
from lib.test.evaluation.errors import BenchmarkFailed, WorkerStartError, describe, is_user_error
from lib.test.evaluation.results import ResultsFolder
from lib.test.evaluation.runner import SequenceResult, run_sequences
from lib.test.tracker.identity import RunIdentity, identity_of
from lib.utils.timefmt import format_duration

logger = logging.getLogger(__name__)

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
PARENT_POLL_SECONDS = 1.0


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


class _Run:
    """The bookkeeping of one ``run_benchmark`` call shared by the serial and the parallel paths."""

    def __init__(self, benchmark: Benchmark, folder: ResultsFolder, overwrite: bool):
        self.benchmark, self.folder, self.overwrite = benchmark, folder, overwrite
        self.summary = BenchmarkSummary(benchmark.name, folder.path, len(benchmark))
        self.user_errors_only = True
        self.progress: Optional[_Progress] = None

    def adopt(self, identity: RunIdentity) -> List[int]:
        """Check and write the manifest for ``identity``; return the sequences still to track."""
        self.folder.adopt(identity.extended(benchmark=self.benchmark.name,
                                            result_format=asdict(self.benchmark.result_format)), self.overwrite)
        pending = self.folder.pending(self.benchmark.sequences, self.overwrite)
        todo = set(pending)
        self.summary.skipped = [s.name for i, s in enumerate(self.benchmark.sequences) if i not in todo]
        if self.summary.skipped:
            logger.info("%s: %d of %d sequences already finished for this run identity in %s, skipping them",
                        self.benchmark.name, len(self.summary.skipped), len(self.benchmark), self.folder.path)
        self.progress = _Progress(self.benchmark, pending)
        return pending

    def done(self, index: int, result: SequenceResult) -> None:
        self.folder.record(self.benchmark.sequences[index])
        self.summary.tracked.append(result)
        self.progress.update(self.benchmark.sequences[index], f"{result.num_frames} frames, {result.fps:.1f} FPS")

    def failed(self, index: int, reason: str, user_error: bool, details: str) -> None:
        seq = self.benchmark.sequences[index]
        if user_error:
            logger.error("%s failed: %s", seq.name, reason)
            logger.debug("%s", details)
        else:
            logger.error("%s failed:\n%s", seq.name, details)
            self.user_errors_only = False
        self.summary.failed[seq.name] = reason
        self.progress.update(seq, "FAILED")


def run_benchmark(benchmark: Benchmark, tracker_factory: Callable[[str], Any], results_dir: str, threads: int = 1,
                  num_gpus: Optional[int] = None, device: Optional[str] = None, overwrite: bool = False,
                  wait: bool = False, start_method: str = "spawn", batch: int = 1) -> BenchmarkSummary:
    """Run every sequence of ``benchmark`` not yet finished in ``results_dir`` for this run's identity.

    ``tracker_factory(device)`` builds a tracker (picklable for workers, e.g.
    :class:`~lib.test.evaluation.runner.TrackerFactory`); ``threads`` > 1 uses that many worker
    processes; ``batch`` > 1 tracks that many sequences in lockstep per tracker (same boxes, fuller
    GPUs). ``wait`` waits for another runner's lock instead of stopping. Raises
    :class:`~lib.test.evaluation.errors.BenchmarkFailed` after the summary if any sequence failed.
    """
    with ResultsFolder(results_dir, benchmark.result_format).open(wait=wait) as folder:
        run = _Run(benchmark, folder, overwrite)
        unfinished = len(benchmark) if overwrite else folder.unfinished_for_recorded_identity(benchmark.sequences)
        workers = max(1, min(threads, unfinished))
        start = time.time()
        devices = worker_devices(workers, device, num_gpus)
        if workers == 1:
            _run_serial(run, tracker_factory, devices[0], batch)
        else:
            _run_parallel(run, tracker_factory, devices, start_method, batch)
        run.summary.wall_time = time.time() - start
    logger.info("%s", run.summary.line())
    if run.summary.failed:
        raise BenchmarkFailed(run.summary.failed, run.user_errors_only)
    return run.summary


def _run_serial(run: _Run, factory: Callable[[str], Any], device: str, batch: int) -> None:
    tracker = factory(device)
    pending = run.adopt(identity_of(tracker))
    index_of = {run.benchmark.sequences[i].name: i for i in pending}
    for seq, result, error in run_sequences(tracker, (run.benchmark.sequences[i] for i in pending), run.folder.path,
                                            run.benchmark.result_format, batch):
        if error is not None:  # recorded; the run fails after the other sequences
            run.failed(index_of[seq.name], describe(error), is_user_error(error), _trace(error))
        else:
            run.done(index_of[seq.name], result)


def _trace(error: Exception) -> str:
    return "".join(traceback.format_exception(type(error), error, error.__traceback__))


# ------------------------------------------------------------------------------------ worker processes
def die_with_parent(parent_pid: int) -> None:
    """End this process when ``parent_pid`` goes away, even by ``kill -9`` (no orphaned workers).

    SIGTERM (raised as SystemExit, so temporary files are removed) through ``PR_SET_PDEATHSIG`` on
    Linux; a daemon thread comparing ``os.getppid()`` covers other systems and the race where the
    parent died before the request was made.
    """
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        except (OSError, AttributeError) as e:
            logger.debug("prctl(PR_SET_PDEATHSIG) unavailable (%s); relying on the parent watch", e)
    threading.Thread(target=_watch_parent, args=(parent_pid,), name="cstrack-parent-watch", daemon=True).start()


def _exit_on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)


def _watch_parent(parent_pid: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(PARENT_POLL_SECONDS)
    os.kill(os.getpid(), signal.SIGTERM)


def _worker_main(worker_id: int, parent_pid: int, device: str, torch_threads: int, factory: Callable[[str], Any],
                 benchmark: Benchmark, results_dir: str, tasks: Any, messages: Any, batch: int) -> None:
    """Worker process: build the tracker once, report its identity, then run sequences until the sentinel."""
    die_with_parent(parent_pid)
    import torch

    torch.set_num_threads(torch_threads)
    try:
        tracker = factory(device)
    except Exception as e:  # reported to the parent, which stops the run
        messages.put(("fatal", worker_id, (describe(e), is_user_error(e), traceback.format_exc())))
        return
    messages.put(("ready", worker_id, identity_of(tracker)))
    index_of = {seq.name: i for i, seq in enumerate(benchmark.sequences)}
    assigned = (benchmark.sequences[index] for index in iter(tasks.get, None))
    for seq, result, error in run_sequences(tracker, assigned, results_dir, benchmark.result_format, batch):
        if error is None:
            messages.put(("done", index_of[seq.name], asdict(result)))
        else:  # one bad sequence must not take the others down; the parent fails the run
            messages.put(("error", index_of[seq.name], (describe(error), is_user_error(error), _trace(error))))


def _run_parallel(run: _Run, factory: Callable[[str], Any], devices: List[str], start_method: str,
                  batch: int) -> None:
    """Start one worker per device, agree on the identity, then share the pending sequences through a queue."""
    import multiprocessing

    ctx = multiprocessing.get_context(start_method)
    tasks, messages = ctx.Queue(), ctx.Queue()
    torch_threads = max(1, (os.cpu_count() or 1) // len(devices))
    procs = [ctx.Process(target=_worker_main, name=f"cstrack-eval-{k}",
                         args=(k, os.getpid(), dev, torch_threads, factory, run.benchmark, run.folder.path, tasks,
                               messages, batch))
             for k, dev in enumerate(devices)]
    for proc in procs:
        proc.start()
    try:
        identities = {}
        while len(identities) < len(procs):
            kind, key, payload = _next_message(messages, procs)
            if kind == "fatal":
                reason, user_error, details = payload
                logger.debug("%s", details)
                raise WorkerStartError(reason if user_error else f"worker {key} could not build the tracker:\n{details}",
                                       user_error)
            identities[key] = payload
        if len({identity.digest for identity in identities.values()}) != 1:
            raise RuntimeError("the workers built trackers with different identities (was the checkpoint replaced "
                               "while they started?); run the command again")
        pending = run.adopt(identities[0])
        for index in pending:
            tasks.put(index)
        for _ in procs:
            tasks.put(None)
        remaining = set(pending)
        while remaining:
            kind, key, payload = _next_message(messages, procs)
            remaining.discard(key)
            if kind == "done":
                run.done(key, SequenceResult(**payload))
            else:
                run.failed(key, *payload)
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
            proc.join()


def _next_message(messages: Any, procs: List[Any]) -> tuple:
    """The next worker message; RuntimeError when every worker has exited and the queue stays empty."""
    last_chance = False  # after every worker exited, read the queue once more before giving up
    while True:
        try:
            return messages.get(timeout=1.0)
        except queue.Empty:
            if any(p.is_alive() for p in procs):
                continue
            if last_chance:
                raise RuntimeError(f"all workers exited early (exit codes {[p.exitcode for p in procs]})") from None
            last_chance = True


__all__ = ["BenchmarkSummary", "die_with_parent", "run_benchmark", "worker_devices"]
