"""Per-frame tracking latency of both stages: fp32 / bf16 / GPU autocast, lockstep batches, threads.

    python tracking/benchmark_speed.py                                # fp32, both stages, this machine
    python tracking/benchmark_speed.py --baseline 4d265d9             # side by side with an older revision
    python tracking/benchmark_speed.py --precision fp32 bf16 --threads 2 --write
    python tracking/benchmark_speed.py --device cuda --precision fp32 fp16 --batch 1 8

What is timed: the whole ``tracker.track`` step (crop, preprocessing, network, decoding, template
update) on synthetic 640x480 RGB-T frames with random full-size weights (speed does not depend on
the weight values), after warm-up frames; median and 90th percentile per frame, and the process's
peak memory (resident set on CPU, allocated GPU memory on a GPU). Every configuration runs in its own
process; with ``--baseline REV`` the tracker of that git revision (``git archive``, imported through
``PYTHONPATH``) runs beside this checkout's on the same frames and weights, the two processes taking
turns chunk by chunk so that both see the same machine load, and the table gives the speed ratio.
``bf16`` on a CPU without native bf16 falls back to fp32 (the tracker says so); ``--force-bf16``
measures the emulated speed anyway. ``--train-steps K`` also times K training steps
(``LTRTrainer.train_step``: forward, losses, backward, clipping, AdamW) on a synthetic batch of
``--train-batch`` samples, without and with ``TRAIN.AMP`` (fp16 with a loss scaler on CUDA, bf16 on a
CPU), and reports samples per second. ``--write`` puts the tables into BENCHMARKS.md with the machine.
"""
import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import _init_paths  # noqa: F401  (repository root on sys.path)

import numpy as np
import torch

from lib.config import load_config
from lib.models import build_model
from lib.quickstart.synthetic_rgbt import render_sequence
from lib.test.tracker.precision import native_bf16_cpu
from lib.utils.machine import cpu_flags, cpu_name, write_markdown_section

REPO_ROOT = Path(__file__).resolve().parents[1]
WORKER = Path(__file__).resolve().with_name("speed_worker.py")
BENCHMARKS = REPO_ROOT / "BENCHMARKS.md"
SECTION = "speed"  # BENCHMARKS.md section name
#: The tracker as it was before the fast path (template caching, fused projections, batched patch stages).
DEFAULT_BASELINE = "4d265d9"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stages", nargs="+", default=["s1", "s2"], choices=("s1", "s2"))
    parser.add_argument("--config", default=None, help="experiment name of both stages' yaml (default: the full model)")
    parser.add_argument("--device", default="cpu", help="cpu | cuda | cuda:N")
    parser.add_argument("--precision", nargs="+", default=["fp32"], choices=("fp32", "bf16", "fp16"))
    parser.add_argument("--batch", nargs="+", type=int, default=[1], help="sequences tracked in lockstep")
    parser.add_argument("--threads", nargs="+", type=int, default=[torch.get_num_threads()])
    parser.add_argument("--frames", type=int, default=20, help="timed frames per configuration")
    parser.add_argument("--warmup", type=int, default=3, help="untimed frames first")
    parser.add_argument("--chunk", type=int, default=5, help="frames per turn when two revisions alternate")
    parser.add_argument("--baseline", nargs="?", const=DEFAULT_BASELINE, default=None,
                        help=f"git revision to time beside this checkout (default when given alone: {DEFAULT_BASELINE})")
    parser.add_argument("--force-bf16", action="store_true", help="time bf16 even where it is emulated")
    parser.add_argument("--train-steps", type=int, default=0, help="also time this many training steps per stage")
    parser.add_argument("--train-batch", type=int, default=2, help="samples per training step")
    parser.add_argument("--write", action="store_true", help="write the table into BENCHMARKS.md")
    return parser


def _frames(folder: Path) -> Path:
    """32 synthetic 640x480 frames (RGB + thermal) and the first box, saved for the workers."""
    rgb, thermal, boxes = render_sequence(np.random.default_rng(0), 32, 640, 480, "car")
    frames = np.stack([np.concatenate([r[..., ::-1], t], axis=2) for r, t in zip(rgb, thermal)])
    path = folder / "frames.npz"
    np.savez(path, frames=frames, box=boxes[0].astype(np.float64))
    return path


def _checkpoint(folder: Path, script: str, config: str) -> Path:
    torch.manual_seed(0)
    net = build_model(load_config(config, script=script), arch=script)
    path = folder / f"{script}.pth.tar"
    torch.save({"net": net.state_dict()}, path)
    return path


def _baseline_tree(revision: str, folder: Path) -> Path:
    """The ``lib`` and ``experiments`` folders of ``revision``, extracted with ``git archive``."""
    archive = folder / "baseline.tar"
    with open(archive, "wb") as out:
        subprocess.run(["git", "-C", str(REPO_ROOT), "archive", revision, "lib", "experiments"], stdout=out,
                       check=True)
    tree = folder / "baseline"
    with tarfile.open(archive) as tar:
        tar.extractall(tree, filter="data")
    return tree


class Worker:
    """A ``speed_worker.py`` process importing ``lib`` from ``tree``."""

    def __init__(self, tree: Path, setup: dict):
        env = dict(os.environ, PYTHONPATH=str(tree), OMP_NUM_THREADS=str(setup["threads"]))
        self.proc = subprocess.Popen([sys.executable, str(WORKER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, env=env, cwd=str(tree))
        self.seconds = []
        self._ask(setup)

    def _ask(self, message: dict) -> dict:
        self.proc.stdin.write(json.dumps(message) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the speed worker stopped (exit code {self.proc.wait()})")
        return json.loads(line)

    def track(self, frames: int, keep: bool = True) -> None:
        seconds = self._ask({"frames": frames})["seconds"]
        if keep:
            self.seconds += seconds

    def stop(self) -> float:
        peak = self._ask({"stop": True})["peak_mib"]
        self.proc.wait()
        return peak


def measure(trees: dict, setup: dict, frames: int, warmup: int, chunk: int) -> dict:
    """Per-frame seconds and peak memory of each tree (its label -> path), turns taken chunk by chunk."""
    workers = {label: Worker(tree, setup) for label, tree in trees.items()}
    for worker in workers.values():
        worker.track(warmup, keep=False)
    done = 0
    while done < frames:
        step = min(chunk, frames - done)
        for worker in workers.values():
            worker.track(step)
        done += step
    results = {}
    for label, worker in workers.items():
        seconds = sorted(worker.seconds)
        results[label] = {"median_ms": 1000 * statistics.median(seconds),
                          "p90_ms": 1000 * seconds[math.ceil(0.9 * len(seconds)) - 1],  # nearest rank
                          "peak_mib": worker.stop()}
    return results


def training_speed(script: str, config: str, device: str, amp: bool, steps: int, batch: int) -> float:
    """Samples per second of ``LTRTrainer.train_step`` on a synthetic batch (after one untimed step)."""
    import time

    from lib.train.actors import build_actor
    from lib.train.admin.settings import RunSettings
    from lib.train.optim import build_optimizer, build_scheduler
    from lib.train.trainers import LTRTrainer
    from lib.train.trainers.ltr_trainer import move_to_device

    cfg = load_config(config, script=script, overrides={"TRAIN": {"AMP": amp, "BATCH_SIZE": batch}})
    torch.manual_seed(0)
    net = build_model(cfg, arch=script).to(device)
    for name in net.frozen_modules:
        for p in getattr(net, name).parameters():
            p.requires_grad_(False)
    actor = build_actor(script, net, cfg)
    optimizer = build_optimizer(net, cfg)
    trainer = LTRTrainer(actor, None, optimizer, build_scheduler(optimizer, cfg),
                         RunSettings(script=script, config=config, device=device), cfg, torch.device(device))
    t, s, frames = cfg.DATA.TEMPLATE.SIZE, cfg.DATA.SEARCH.SIZE, cfg.DATA.SEARCH.NUMBER
    boxes = lambda n: torch.tensor([[0.4, 0.4, 0.2, 0.2]]).repeat(n, batch, 1)  # noqa: E731
    data = move_to_device({"template_images": torch.randn(2, batch, 6, t, t),
                           "search_images": torch.randn(frames, batch, 6, s, s),
                           "template_anno": boxes(2), "search_anno": boxes(frames),
                           "dataset": ["lasher"] * batch}, torch.device(device))
    actor.train(True)
    trainer.train_step(data)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        trainer.train_step(data)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return steps * batch / (time.perf_counter() - start)


def machine_line(device: str) -> str:
    flags = cpu_flags()
    simd = ", ".join(f for f in ("avx2", "avx512f", "avx512_bf16", "amx_bf16") if f in flags) or "none listed"
    text = f"{cpu_name()}, {os.cpu_count()} logical cores, CPU flags: {simd}; torch {torch.__version__}"
    if device.startswith("cuda") and torch.cuda.is_available():
        text += f"; GPU {torch.cuda.get_device_name(torch.device(device))}"
    return text + f"; Python {platform.python_version()}"


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="cstrack_speed_") as tmp:
        tmp = Path(tmp)
        frames = _frames(tmp)
        trees = {"this checkout": REPO_ROOT}
        if args.baseline:
            trees = {f"baseline {args.baseline}": _baseline_tree(args.baseline, tmp), **trees}
        for stage in args.stages:
            script = f"cstrack_{stage}"
            config = args.config.replace("_s1", f"_{stage}") if args.config else script
            checkpoint = _checkpoint(tmp, script, config)
            for precision in args.precision:
                effective = precision
                if precision == "bf16" and args.device == "cpu" and not native_bf16_cpu() and not args.force_bf16:
                    print(f"{script} bf16: this CPU has no native bf16, skipped (--force-bf16 times the emulation)")
                    continue
                for threads in args.threads:
                    for batch in args.batch:
                        setup = {"script": script, "checkpoint": str(checkpoint), "config": config,
                                 "device": args.device, "precision": effective, "threads": threads, "batch": batch,
                                 "frames": str(frames)}
                        use = trees if batch == 1 else {"this checkout": REPO_ROOT}  # old trees have no step()
                        result = measure(use, setup, args.frames, args.warmup, args.chunk)
                        base = next((r for label, r in result.items() if label.startswith("baseline")), None)
                        for label, r in result.items():
                            ratio = base["median_ms"] / r["median_ms"] if base else float("nan")
                            rows.append((script, label, effective, batch, threads, r, ratio))
                            print(f"{script:10s} {label:22s} {effective:4s} batch {batch} threads {threads}: "
                                  f"median {r['median_ms']:.0f} ms, p90 {r['p90_ms']:.0f} ms, peak {r['peak_mib']:.0f} MiB"
                                  + (f", {ratio:.2f}x the baseline" if base and label == "this checkout" else ""),
                                  flush=True)
    table = render(rows, args)
    if args.train_steps:
        lines = ["", f"Training: `LTRTrainer.train_step` on a synthetic batch of {args.train_batch} samples, "
                     f"{args.train_steps} timed steps after one untimed step.", "",
                 "| stage | AMP | samples/s |", "|---|---|---:|"]
        for stage in args.stages:
            script = f"cstrack_{stage}"
            config = args.config.replace("_s1", f"_{stage}") if args.config else script
            for amp in (False, True):
                speed = training_speed(script, config, args.device, amp, args.train_steps, args.train_batch)
                label = ("fp16 + loss scaler" if args.device.startswith("cuda") else "bf16") if amp else "off (fp32)"
                lines.append(f"| {script} | {label} | {speed:.2f} |")
                print(f"{script} training, AMP {label}: {speed:.2f} samples/s", flush=True)
        table += "\n" + "\n".join(lines)
    print(table)
    if args.write:
        write_section(table)
    return 0


def render(rows, args) -> str:
    lines = [f"`python tracking/benchmark_speed.py {' '.join(sys.argv[1:])}`".replace(" --write", ""),
             "", f"Machine: {machine_line(args.device)}. {args.frames} timed frames after {args.warmup} warm-up "
             f"frames per row; ms per frame (a lockstep batch's step time divided by its sequences).", "",
             "| tracker | code | precision | batch | threads | median ms/frame | p90 ms | FPS | peak MiB | speed-up |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for script, label, precision, batch, threads, r, ratio in rows:
        speedup = f"{ratio:.2f}x" if ratio == ratio and not label.startswith("baseline") else ""
        lines.append(f"| {script} | {label} | {precision} | {batch} | {threads} | {r['median_ms']:.0f} | "
                     f"{r['p90_ms']:.0f} | {1000 / r['median_ms']:.2f} | {r['peak_mib']:.0f} | {speedup} |")
    return "\n".join(lines)


def write_section(table: str) -> None:
    write_markdown_section(BENCHMARKS, SECTION, f"## Tracking speed\n\n{table}")
    print(f"wrote the table into {BENCHMARKS}")


if __name__ == "__main__":
    sys.exit(main())
