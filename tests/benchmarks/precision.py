"""What bf16 (or fp16) inference costs in accuracy, measured on trained weights.

    python -m tests.benchmarks.precision --checkpoint output/quickstart/train/.../CSTRACK_S2_ep0006.pth.tar \
        --dataset_dir output/quickstart/data/testingset [--precision bf16] [--parity-dir ../shared/parity] [--write]

1. The test split is tracked twice by the benchmark runner, in fp32 and in the lower precision (emulated
   where the CPU has no native support: the numbers are the same, only slower), and both are scored with
   the LasHeR rules (``lib.test.analysis``): SR, PR and NPR side by side.
2. With ``--parity-dir``, single-step agreement on the parity sequence with its name-seeded stage-2
   weights: every frame is tracked once from the ground-truth box of the frame before, in both
   precisions, and the boxes are compared (centre distance, IoU). The fixture weights are random, so
   their score maps are flat and rounding can move the peak; this shows the raw rounding effect, the
   trained weights above show what it costs a tracker.

``--write`` puts the tables into BENCHMARKS.md with the machine they ran on.
"""
import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

from lib.test.analysis import evaluate_tracker
from lib.test.evaluation.datasets import load_benchmark
from lib.test.evaluation.runner import TrackerFactory
from lib.test.evaluation.scheduler import run_benchmark
from lib.test.tracker import build_tracker
from lib.test.tracker.precision import native_bf16_cpu
from lib.utils.machine import cpu_name, write_markdown_section

REPO_ROOT = Path(__file__).resolve().parents[2]
BENCHMARKS = REPO_ROOT / "BENCHMARKS.md"


def score_both(checkpoint: str, dataset_dir: str, precision: str, device: str, workdir: Path) -> dict:
    benchmark = load_benchmark("LasHeR", dataset_dir)
    scores = {}
    for name in ("fp32", precision):
        factory = TrackerFactory("cstrack_s2", checkpoint, benchmark.tracker_dataset, None, name, require_native=False)
        results = workdir / name
        run_benchmark(benchmark, factory, str(results), device=device)
        scores[name] = evaluate_tracker("LasHeR", str(results), dataset_dir)
    return scores


def _iou(a, b) -> float:
    ax2, ay2, bx2, by2 = a[0] + a[2], a[1] + a[3], b[0] + b[2], b[1] + b[3]
    inter = max(0.0, min(ax2, bx2) - max(a[0], b[0])) * max(0.0, min(ay2, by2) - max(a[1], b[1]))
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def single_step_agreement(parity_dir: Path, precision: str, device: str, workdir: Path) -> dict:
    import torch

    from tests.parity_fixtures import fixture_sequence, fixture_state_dict

    checkpoint = workdir / "fixture_s2.pth.tar"
    torch.save({"net": fixture_state_dict(parity_dir, "s2")}, checkpoint)
    frames, gt = fixture_sequence(parity_dir)
    trackers = {name: build_tracker("cstrack_s2", str(checkpoint), "lasher", device, precision=name,
                                    require_native=False) for name in ("fp32", precision)}
    shifts, ious = [], []
    for t in range(1, len(frames)):
        boxes = []
        for tracker in trackers.values():
            tracker.initialize(frames[t - 1], {"init_bbox": gt[t - 1].tolist()})
            boxes.append(tracker.track(frames[t])["target_bbox"])
        a, b = boxes
        shifts.append(np.hypot(a[0] + a[2] / 2 - b[0] - b[2] / 2, a[1] + a[3] / 2 - b[1] - b[3] / 2))
        ious.append(_iou(a, b))
    shifts, ious = np.array(shifts), np.array(ious)
    return {"steps": len(shifts), "identical": int((shifts == 0).sum()), "median_shift": float(np.median(shifts)),
            "max_shift": float(shifts.max()), "mean_iou": float(ious.mean()), "min_iou": float(ious.min())}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", required=True, help="trained stage-2 checkpoint (e.g. the full quickstart's)")
    parser.add_argument("--dataset_dir", required=True, help="its test split in the LasHeR layout")
    parser.add_argument("--precision", default="bf16", choices=("bf16", "fp16"))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--parity-dir", default=None, help="../shared/parity: also single-step agreement")
    parser.add_argument("--write", action="store_true", help="write the tables into BENCHMARKS.md")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="cstrack_precision_") as tmp:
        scores = score_both(args.checkpoint, args.dataset_dir, args.precision, args.device, Path(tmp))
        agreement = (single_step_agreement(Path(args.parity_dir), args.precision, args.device, Path(tmp))
                     if args.parity_dir else None)
    native = "native" if args.device != "cpu" or native_bf16_cpu() else "emulated (no native bf16 on this CPU)"
    lines = [f"`python -m tests.benchmarks.precision --checkpoint <{Path(args.checkpoint).name}> --dataset_dir "
             f"<test split> --precision {args.precision}{' --parity-dir <parity>' if args.parity_dir else ''}` on "
             f"{cpu_name()} ({args.device}, {args.precision} {native}).", "",
             "| precision | SR | PR | NPR |", "|---|---:|---:|---:|"]
    for name, s in scores.items():
        lines.append(f"| {name} | {s['SR']:.3f} | {s['PR']:.3f} | {s['NPR']:.3f} |")
    delta = {k: scores[args.precision][k] - scores["fp32"][k] for k in ("SR", "PR", "NPR")}
    lines.append(f"| difference | {delta['SR']:+.3f} | {delta['PR']:+.3f} | {delta['NPR']:+.3f} |")
    if agreement:
        lines += ["", f"Single-step agreement on the parity sequence (fixture weights, {agreement['steps']} steps from "
                      f"the ground truth): {agreement['identical']} identical boxes; centre shift median "
                      f"{agreement['median_shift']:.2f} px, max {agreement['max_shift']:.2f} px; IoU mean "
                      f"{agreement['mean_iou']:.3f}, min {agreement['min_iou']:.3f}."]
    table = "\n".join(lines)
    print(table)
    if args.write:
        write_markdown_section(BENCHMARKS, "precision", f"## Accuracy of bf16 inference\n\n{table}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
