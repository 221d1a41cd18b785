"""Parameters, FLOPs and per-frame latency of the CSTrack trackers on this machine.

Method (also printed with the results):
* parameters: ``sum(p.numel())`` over the network built from the experiment yaml;
* FLOPs: ``torch.utils.flop_counter.FlopCounterMode`` over one tracking-time forward (batch 1, two
  templates, one search crop; stage 2 with a full memory), counting a multiply-add as 2 FLOPs;
* latency: ``tracker.track`` on random 6-channel 480x640 frames, ``--warmup`` frames discarded, then the
  median and mean over ``--frames`` frames of wall time (``time.perf_counter``, CUDA synchronised).
  This is the whole per-frame step (crop, preprocessing, network, box decoding), with random weights:
  the speed does not depend on the weight values.

    python tracking/profile_model.py --device cpu --frames 20 [--scripts cstrack_s1 cstrack_s2] [--output FILE]
"""
import argparse
import os
import statistics
import sys
import tempfile
import time

import _init_paths  # noqa: F401 (repository root on sys.path)
import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from lib.utils.machine import cpu_name
from lib.config import load_config
from lib.models import build_model
from lib.test.tracker import build_tracker
from lib.utils.device import resolve_device
from lib.utils.checkpoint import save_network


def count_flops(net, cfg, device) -> int:
    t, s = cfg.TEST.TEMPLATE_SIZE, cfg.TEST.SEARCH_SIZE
    nz = (t // cfg.MODEL.BACKBONE.STRIDE) ** 2
    templates = [torch.randn(1, 6, t, t, device=device) for _ in range(2)]
    masks = [torch.rand(1, nz, 1, device=device) for _ in range(2)]
    search = torch.randn(1, 6, s, s, device=device)
    kwargs = {}
    with torch.inference_mode():
        if hasattr(net, "temporal_fusion"):
            kwargs = {"temporal_infor": net(templates, search, masks, first_frame_flag=True,
                                            training=False)["temporal_infor"]}
        with FlopCounterMode(display=False) as counter:
            net(templates, search, masks, training=False, **kwargs)
    return counter.get_total_flops()


def time_tracker(script, config, device, frames, warmup, workdir):
    cfg = load_config(config or script, script=script)
    net = build_model(cfg, arch=script)
    ckpt = os.path.join(workdir, f"{script}.pth.tar")
    save_network(net, ckpt)
    tracker = build_tracker(script, ckpt, "lasher", device, config=config)
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, size=(480, 640, 6), dtype=np.uint8) for _ in range(4)]
    tracker.initialize(images[0], {"init_bbox": [300, 200, 60, 50]})
    times = []
    for i in range(warmup + frames):
        start = time.perf_counter()
        tracker.track(images[i % 4])
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        if i >= warmup:
            times.append(time.perf_counter() - start)
    params = sum(p.numel() for p in net.parameters())
    flops = count_flops(tracker.net, cfg, device)
    return params, flops, times



def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scripts", nargs="+", default=["cstrack_s1", "cstrack_s2"])
    parser.add_argument("--config", default=None, help="yaml name or path (default: the script's own)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--frames", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--output", default=None, help="also write the Markdown table to this file")
    args = parser.parse_args()
    device = resolve_device(args.device)
    machine = (torch.cuda.get_device_name(device) if device.type == "cuda"
               else f"{cpu_name()}, {torch.get_num_threads()} threads")
    lines = [f"Device: {device.type} ({machine}); torch {torch.__version__}; "
             f"{args.frames} timed frames after {args.warmup} warm-up frames.", "",
             "| tracker | parameters | GFLOPs / frame | median ms / frame | mean ms / frame | FPS (median) |",
             "|---|---|---|---|---|---|"]
    with tempfile.TemporaryDirectory() as workdir:
        for script in args.scripts:
            params, flops, times = time_tracker(script, args.config, device, args.frames, args.warmup, workdir)
            med = statistics.median(times)
            lines.append(f"| {script} | {params / 1e6:.2f} M | {flops / 1e9:.1f} | {med * 1e3:.0f} | "
                         f"{statistics.mean(times) * 1e3:.0f} | {1 / med:.2f} |")
    text = "\n".join(lines)
    print(text)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
