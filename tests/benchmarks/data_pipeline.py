"""Measure the training data pipeline (sampling, decoding, augmentation, cropping, collation) on CPU.

    python -m tests.benchmarks.data_pipeline [--frame_size 640x480] [--workers 0 2] [--batches 5]

(from the repository root). Synthetic copies of all nine training datasets (``tests/synthetic_data.py``)
are written to a temp folder; stage-1 (B = 18, 2 templates + 1 search) and stage-2 (B = 10, 2 templates
+ 6 searches) batches with the reference crop sizes are drawn, and a Markdown table of samples/s is printed.
"""
import argparse
import logging
import os
import sys
import tempfile
import time

import torch

from lib.config import load_config
from lib.train.data import build_dataloaders
from lib.utils.machine import cpu_name
from tests.synthetic_data import env_from_overrides, write_all_training_datasets

STAGES = {"cstrack_s1": 18, "cstrack_s2": 10}
# The synthetic sequences are in no official split list: every sequence of these datasets.
ALL_SEQUENCES = ["LASOT", "GOT10K_vottrain", "LasHeR_train", "DepthTrack_train"]


def measure(stage: str, batch_size: int, workers: int, batches: int, env) -> dict:
    """Time ``batches`` batches after one warm-up batch (worker start-up excluded)."""
    cfg = load_config(stage, overrides={"DATA": {"TRAIN": {"SAMPLE_PER_EPOCH": batch_size * (batches + 1)},
                                                 "ALL_SEQUENCES": ALL_SEQUENCES}})
    loader = build_dataloaders(cfg, env, batch_size=batch_size, num_workers=workers, seed=0)
    iterator = iter(loader)
    next(iterator)
    start = time.perf_counter()
    count = 0
    for batch in iterator:
        count += batch["search_images"].shape[1]
    elapsed = time.perf_counter() - start
    frames = cfg.DATA.TEMPLATE.NUMBER + cfg.DATA.SEARCH.NUMBER
    return {"stage": stage, "batch": batch_size, "workers": workers, "frames": frames,
            "samples_per_s": count / elapsed, "crops_per_s": count * frames / elapsed,
            "ms_per_batch": 1000 * elapsed / max(1, count // batch_size)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frame_size", default="640x480", help="synthetic frame size WxH")
    parser.add_argument("--num_seqs", type=int, default=2, help="sequences per dataset")
    parser.add_argument("--num_frames", type=int, default=30, help="frames per sequence")
    parser.add_argument("--workers", type=int, nargs="+", default=[0, 2], help="DataLoader worker counts")
    parser.add_argument("--batches", type=int, default=5, help="timed batches per setting")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    width, height = (int(v) for v in args.frame_size.lower().split("x"))
    torch.set_num_threads(1)

    with tempfile.TemporaryDirectory(prefix="cstrack_bench_") as tmp:
        overrides = write_all_training_datasets(tmp, num_seqs=args.num_seqs, num_frames=args.num_frames,
                                                size=(width, height), lmdb=False)
        env = env_from_overrides(overrides)
        rows = [measure(stage, batch, workers, args.batches, env)
                for stage, batch in STAGES.items() for workers in args.workers]

    print(f"CPU: {cpu_name()}, {os.cpu_count()} logical cores; {torch.get_num_threads()} torch thread per process; "
          f"frames {width}x{height}; torch {torch.__version__}; Python {sys.version.split()[0]}")
    print()
    print("| stage | batch | frames/sample | workers | samples/s | crops/s | ms/batch |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['stage']} | {r['batch']} | {r['frames']} | {r['workers']} | {r['samples_per_s']:.1f} | "
              f"{r['crops_per_s']:.1f} | {r['ms_per_batch']:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
