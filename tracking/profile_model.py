"""Parameters, FLOPs and per-frame latency of the CSTrack trackers on this machine.

Method (also printed with the results):
* parameters: ``sum(p.numel())`` over the network built from the experiment yaml;
* FLOPs: ``torch.utils.flop_counter.FlopCounterMode`` over one tracking-time forward (batch 1, two
  templates, one search crop; stage 2 with a full memory), counting a multiply-add as 2 FLOPs;
* latency: ``tracker.track`` on random 6-channel 480x640 frames, ``--warmup`` frames discarded, then the
  median and mean over ``--frames`` frames of wall time (``time.perf_counter``, CUDA synchronised).
  This is the whole per-frame step (crop, preprocessing, network, box decoding), with random weights:
  the speed does not depend on the weight values.
* ``--breakdown``: where a frame's time goes, part by part (median over ``--frames`` calls of each
  part alone): the templates' patch embedding (paid every frame by a tracker that does not keep it,
  only at a template update by this one), the search crop's, the Spatial Compact Module, the main
  blocks with and without the concatenated q/k/v and SwiGLU projections, the head (and the temporal
  module), and the rest of the step (crops, preprocessing, decoding).

    python tracking/profile_model.py --device cpu --frames 20 [--scripts cstrack_s1 cstrack_s2] [--breakdown] [--output FILE]
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


def count_flops(net, cfg, device) -> tuple:
    """FLOPs of one tracking-time forward: embedding the templates again (the reference's tracker), and with
    the template tokens kept from the last update (this tracker)."""
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
        tokens = net.embed_templates(templates, masks)
        with FlopCounterMode(display=False) as kept:
            net(None, search, None, training=False, template_tokens=tokens, **kwargs)
    return counter.get_total_flops(), kept.get_total_flops()


def _median_ms(fn, repeats: int) -> float:
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def breakdown(net, cfg, device, repeats: int) -> list:
    """(part, ms) for the pieces of one tracking-time forward (see the module docstring)."""
    from lib.models.layers import fused

    t, s = cfg.TEST.TEMPLATE_SIZE, cfg.TEST.SEARCH_SIZE
    nz = (t // cfg.MODEL.BACKBONE.STRIDE) ** 2
    templates = [torch.randn(1, 6, t, t, device=device) for _ in range(2)]
    masks = [torch.rand(1, nz, 1, device=device) for _ in range(2)]
    search = torch.randn(1, 6, s, s, device=device)
    bb, p = net.backbone, net.num_prompts
    parts = []
    with torch.inference_mode():
        tokens = net.embed_templates(templates, masks)
        parts.append(("templates: patch embedding, 2 crops x RGB+X", _median_ms(lambda: net.embed_templates(
            templates, masks), repeats)))
        parts.append(("search: patch embedding, RGB+X as one batch", _median_ms(lambda: net.embed_rgb_x([search]),
                                                                             repeats)))
        rgb, x = net.embed_rgb_x([search])
        pos = net.positional_table()
        streams = [torch.cat([tokens[0], bb.add_search_token_type(rgb[0])], 1),
                   torch.cat([tokens[1], bb.add_search_token_type(x[0])], 1)]
        q = torch.cat([net.rgb_prompts.weight.unsqueeze(0), streams[0]], 1)
        m = torch.cat([net.det_prompts.weight.unsqueeze(0), streams[1]], 1)
        parts.append(("Spatial Compact Module", _median_ms(lambda: net.backbone_rgb_det_fusion(q, m, pos[:, p + 1:]),
                                                          repeats)))
        fused_in = net.backbone_rgb_det_fusion(q, m, pos[:, p + 1:])
        default = fused.ENABLED
        try:
            for enabled, name in ((True, "concatenated"), (False, "separate")):
                fused.ENABLED = enabled
                parts.append((f"main blocks, {name} projections",
                              _median_ms(lambda: bb.forward_main_blocks(fused_in, pos), repeats)))
        finally:
            fused.ENABLED = default
        kwargs = {}
        if hasattr(net, "temporal_fusion"):
            kwargs = {"temporal_infor": net(None, search, None, training=False, template_tokens=tokens,
                                            first_frame_flag=True)["temporal_infor"]}
        whole = _median_ms(lambda: net(None, search, None, training=False, template_tokens=tokens, **kwargs), repeats)
        known = sum(ms for name, ms in parts if "separate" not in name and not name.startswith("templates"))
        parts.append(("head" + (" and temporal module" if kwargs else "") + " (the rest of the network call)",
                      whole - known))
        parts.append(("network call with kept template tokens", whole))
    return parts


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
    return params, flops, times, tracker, cfg


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scripts", nargs="+", default=["cstrack_s1", "cstrack_s2"])
    parser.add_argument("--config", default=None, help="yaml name or path (default: the script's own)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--frames", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--breakdown", action="store_true", help="also time the parts of a frame")
    parser.add_argument("--output", default=None, help="also write the Markdown table to this file")
    args = parser.parse_args()
    device = resolve_device(args.device)
    machine = (torch.cuda.get_device_name(device) if device.type == "cuda"
               else f"{cpu_name()}, {torch.get_num_threads()} threads")
    lines = [f"Device: {device.type} ({machine}); torch {torch.__version__}; "
             f"{args.frames} timed frames after {args.warmup} warm-up frames.", "",
             "| tracker | parameters | GFLOPs / frame (templates re-embedded / kept) | median ms / frame | "
             "mean ms / frame | FPS (median) |", "|---|---|---|---|---|---|"]
    parts_tables = []
    with tempfile.TemporaryDirectory() as workdir:
        for script in args.scripts:
            params, flops, times, tracker, cfg = time_tracker(script, args.config, device, args.frames, args.warmup,
                                                              workdir)
            med = statistics.median(times)
            lines.append(f"| {script} | {params / 1e6:.2f} M | {flops[0] / 1e9:.1f} / {flops[1] / 1e9:.1f} | "
                         f"{med * 1e3:.0f} | "
                         f"{statistics.mean(times) * 1e3:.0f} | {1 / med:.2f} |")
            if args.breakdown:
                parts = breakdown(tracker.net, cfg, device, args.frames)
                rows = [f"| {name} | {ms:.0f} | {100 * ms / (med * 1e3):.0f} % |" for name, ms in parts]
                rows.append(f"| whole tracker step (crop, preprocessing, network, decoding) | {med * 1e3:.0f} | 100 % |")
                parts_tables += ["", f"{script}: where a frame's time goes (median ms of each part alone; share of the "
                                     f"tracker step)", "", "| part | ms | share |", "|---|---:|---:|", *rows]
    lines += parts_tables
    text = "\n".join(lines)
    print(text)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
