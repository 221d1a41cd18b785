"""A benchmark run split over the processes of a ``torchrun`` job, on one machine or many.

Every process builds its tracker; the job goes on only if all of them built the same one (same run
identity: weights, config, code). Process 0 then takes the results folder's lock, checks the folder
against that identity and writes the manifest, exactly as a single runner does; the sequences still to
track are dealt out round-robin, each process writes its sequences' files into the shared results
folder, and at the end process 0 records them all in the manifest and reports the summary. A job that
is killed leaves the finished files but not their manifest entries, so a rerun tracks those sequences
again: results are never reused without the record that proves where they came from.
The processes talk through ``torch.distributed`` (gloo, over the rendezvous torchrun sets up).
"""
from __future__ import annotations

import logging
import os
import time
from dataclasses import asdict
from typing import Any, Callable, List, Mapping, Optional, Tuple

import torch.distributed as dist

from lib.test.evaluation.data import Benchmark
from lib.test.evaluation.errors import BenchmarkFailed, WorkerStartError, describe, is_user_error
from lib.test.evaluation.results import ResultsFolder
from lib.test.evaluation.runner import SequenceResult, run_sequences
from lib.test.evaluation.scheduler import BenchmarkSummary, _Run
from lib.test.tracker.identity import identity_of

logger = logging.getLogger(__name__)


def torchrun_placement(environ: Optional[Mapping[str, str]] = None) -> Optional[Tuple[int, int, int]]:
    """``(rank, local_rank, world_size)`` when this process is one of several started by torchrun, else None."""
    environ = os.environ if environ is None else environ
    world = int(environ.get("WORLD_SIZE", "1"))
    if world <= 1 or "RANK" not in environ:
        return None
    return int(environ["RANK"]), int(environ.get("LOCAL_RANK", "0")), world


def _device_for(device: Optional[str], local_rank: int) -> str:
    import torch

    if device in (None, "cuda") and torch.cuda.is_available():
        return f"cuda:{local_rank % torch.cuda.device_count()}"
    return device or "cpu"


def _agree(outcome: Tuple) -> List[Tuple]:
    everyone: List[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(everyone, outcome)
    return everyone


def run_sharded(benchmark: Benchmark, tracker_factory: Callable[[str], Any], results_dir: str,
                device: Optional[str] = None, overwrite: bool = False, wait: bool = False,
                batch: int = 1) -> BenchmarkSummary:
    """This process's part of a torchrun benchmark job (see the module docstring); every process returns
    the job's summary and raises :class:`BenchmarkFailed` when any sequence of the job failed."""
    rank, local_rank, world = torchrun_placement()
    started_group = not dist.is_initialized()
    if started_group:
        dist.init_process_group("gloo")
    try:
        return _run_rank(benchmark, tracker_factory, results_dir, _device_for(device, local_rank), overwrite, wait,
                         batch, rank, world)
    finally:
        if started_group:
            dist.destroy_process_group()


def _run_rank(benchmark: Benchmark, factory: Callable[[str], Any], results_dir: str, device: str, overwrite: bool,
              wait: bool, batch: int, rank: int, world: int) -> BenchmarkSummary:
    start = time.time()
    try:
        tracker = factory(device)
        built = ("ok", identity_of(tracker).digest, "")
    except Exception as e:  # every process must learn that this one cannot take part
        tracker, built = None, ("error", describe(e), is_user_error(e))
    outcomes = _agree(built)
    failed_builds = [(r, o) for r, o in enumerate(outcomes) if o[0] == "error"]
    if failed_builds:
        r, (_, reason, user_error) = failed_builds[0]
        raise WorkerStartError(f"process {r} could not build the tracker: {reason}", user_error)
    if len({o[1] for o in outcomes}) != 1:
        raise WorkerStartError("the processes built trackers with different run identities (another checkpoint, "
                               "config or code version on some machine?); give every machine the same files", True)

    folder, run, plan = None, None, [("error", "process 0 did not answer", False)]
    if rank == 0:
        try:
            folder = ResultsFolder(results_dir, benchmark.result_format).open(wait=wait)
            run = _Run(benchmark, folder, overwrite)
            plan = [("ok", run.adopt(identity_of(tracker)), "")]
        except Exception as e:  # e.g. the folder is locked by another runner: all processes stop
            plan = [("error", describe(e), is_user_error(e))]
    dist.broadcast_object_list(plan, src=0)
    kind, pending, user_error = plan[0]
    if kind == "error":
        if folder is not None:
            folder.close()
        raise WorkerStartError(pending, user_error)

    try:
        mine = pending[rank::world]
        logger.info("process %d of %d: %d of the %d sequences to track", rank, world, len(mine), len(pending))
        index_of = {benchmark.sequences[i].name: i for i in mine}
        finished = []
        for seq, result, error in run_sequences(tracker, (benchmark.sequences[i] for i in mine), results_dir,
                                                benchmark.result_format, batch):
            if error is None:
                logger.info("[process %d] %s: %d frames, %.1f FPS", rank, seq.name, result.num_frames, result.fps)
                finished.append((index_of[seq.name], "done", asdict(result)))
            else:
                logger.error("[process %d] %s failed: %s", rank, seq.name, describe(error))
                finished.append((index_of[seq.name], "error", describe(error), is_user_error(error)))
        everyone = _agree(tuple(finished))
        summary = BenchmarkSummary(benchmark.name, results_dir, len(benchmark))
        summary.skipped = [s.name for i, s in enumerate(benchmark.sequences) if i not in set(pending)]
        user_errors_only = True
        for item in sorted((entry for part in everyone for entry in part), key=lambda entry: entry[0]):
            seq = benchmark.sequences[item[0]]
            if item[1] == "done":
                summary.tracked.append(SequenceResult(**item[2]))
                if rank == 0:
                    folder.record(seq)
            else:
                summary.failed[seq.name] = item[2]
                user_errors_only = user_errors_only and item[3]
        summary.wall_time = time.time() - start
    finally:
        if folder is not None:
            folder.close()
    if rank == 0:
        logger.info("%s (%d processes)", summary.line(), world)
    if summary.failed:
        raise BenchmarkFailed(summary.failed, user_errors_only)
    return summary


__all__ = ["run_sharded", "torchrun_placement"]
