"""Measure this implementation's distance to the reference CSTrack fixtures and print a Markdown table.

    python -m tests.tools.parity_report [--parity_dir ../shared/parity] [--skip_tracker] [--output FILE]

For each fixture (see ``<parity_dir>/README.md``): the largest absolute difference over all stored
model outputs and intermediates, the largest relative difference of the losses, and for the 60-frame
tracking runs the largest box-coordinate (px) and score difference. CPU, fp32.
"""
import argparse
import os
import sys
import tempfile
import time

import numpy as np
import torch

from lib.config import load_config
from lib.models import build_model
from lib.test.tracker import build_tracker
from lib.train.actors import build_actor
from tests.parity_fixtures import fixture_batch, fixture_sequence, fixture_state_dict, load_recipe

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _model(parity_dir, stage):
    net = build_model(load_config(f"cstrack_{stage}")).eval()
    net.load_state_dict(fixture_state_dict(parity_dir, stage))
    return net


def forward_errors(parity_dir, recipe):
    rows = []
    net = _model(parity_dir, "s1")
    z, x, m = recipe.model_inputs(100)
    mids = {}
    out = net(z, x[0], m, training=False, intermediates=mids)
    ref = np.load(os.path.join(parity_dir, "forward_s1.npz"))
    err = max(float(np.abs((out if k.startswith("out.") else mids)[k.split(".", 1)[1]].numpy() - ref[k]).max())
              for k in ref.files)
    rows.append(("forward_s1.npz (outputs + intermediates)", f"{err:.1e} max abs", "1e-4"))
    net = _model(parity_dir, "s2")
    z, _, m = recipe.model_inputs(200)
    ref = np.load(os.path.join(parity_dir, "forward_s2.npz"))
    memory, err = [], 0.0
    for step in range(3):
        mids = {}
        out = net(z, recipe.fixture_input(210 + step, (1, 6, 256, 256)), m, temporal_infor=memory,
                  first_frame_flag=step == 0, training=False, intermediates=mids)
        memory = out["temporal_infor"]
        for k in (k for k in ref.files if k.startswith(f"step{step}.")):
            _, kind, name = k.split(".", 2)
            got = (out["temporal_infor"][int(name.split(".")[1])] if name.startswith("temporal_infor.")
                   else (out if kind == "out" else mids)[name])
            err = max(err, float(np.abs(got.numpy() - ref[k]).max()))
    rows.append(("forward_s2.npz (3 steps, memory included)", f"{err:.1e} max abs", "1e-4"))
    return rows


def training_errors(parity_dir):
    rows = []
    for stage in ("s1", "s2"):
        ref = np.load(os.path.join(parity_dir, f"train_{stage}.npz"))
        cfg = load_config(f"cstrack_{stage}")
        actor = build_actor(f"cstrack_{stage}", _model(parity_dir, stage), cfg)
        batch = fixture_batch(ref)
        out = actor.forward_pass(batch)
        loss, stats = actor.compute_losses(out, batch)
        out_err = max(float(np.abs(out[k[4:]].numpy() - ref[k]).max()) for k in ref.files if k.startswith("out."))
        rel = [abs(loss.item() - float(ref["loss.total"])) / abs(float(ref["loss.total"]))]
        for key, value in stats.items():
            expected = float(ref["status." + key.replace("/", "_")])
            rel.append(abs(value - expected) / max(abs(expected), 1e-12) if expected else abs(value))
        rows.append((f"train_{stage}.npz outputs", f"{out_err:.1e} max abs", "1e-4"))
        rows.append((f"train_{stage}.npz loss and stats", f"{max(rel):.1e} max rel", "1e-5"))
    return rows


def tracker_errors(parity_dir):
    rows = []
    frames, gt = fixture_sequence(parity_dir)
    with tempfile.TemporaryDirectory() as tmp:
        for stage in ("s1", "s2"):
            ckpt = os.path.join(tmp, f"{stage}.pth.tar")
            torch.save({"net": fixture_state_dict(parity_dir, stage)}, ckpt)
            for dataset in ("lasher", "depthtrack"):
                ref = np.load(os.path.join(parity_dir, f"tracker_{stage}_{dataset}.npz"))
                tracker = build_tracker(f"cstrack_{stage}", ckpt, dataset, "cpu")
                tracker.initialize(frames[0], {"init_bbox": gt[0].tolist()})
                boxes, scores = [gt[0].tolist()], [1.0]
                start = time.perf_counter()
                for frame in frames[1:]:
                    out = tracker.track(frame)
                    boxes.append(out["target_bbox"])
                    scores.append(out["best_score"])
                per_frame = (time.perf_counter() - start) / (len(frames) - 1)
                box_err = float(np.abs(np.array(boxes) - ref["boxes"]).max())
                score_err = float(np.abs(np.array(scores) - ref["scores"]).max())
                rows.append((f"tracker_{stage}_{dataset}.npz (60 frames)",
                             f"boxes {box_err:.1e} px, scores {score_err:.1e} ({per_frame:.2f} s/frame)",
                             "1e-3 px, 1e-5"))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parity_dir", default=os.environ.get("CSTRACK_PARITY_DIR",
                                                               os.path.join(REPO_ROOT, "..", "shared", "parity")))
    parser.add_argument("--skip_tracker", action="store_true", help="skip the four 60-frame tracking runs")
    parser.add_argument("--output", default=None, help="also write the table to this file")
    args = parser.parse_args()
    if not os.path.isfile(os.path.join(args.parity_dir, "recipe.py")):
        print(f"no parity fixtures in {args.parity_dir} (use --parity_dir)", file=sys.stderr)
        return 2
    recipe = load_recipe(args.parity_dir)
    torch.set_grad_enabled(False)
    rows = forward_errors(args.parity_dir, recipe) + training_errors(args.parity_dir)
    if not args.skip_tracker:
        rows += tracker_errors(args.parity_dir)
    lines = ["| fixture | difference to the reference | tolerance |", "|---|---|---|"]
    lines += [f"| {name} | {value} | {tol} |" for name, value, tol in rows]
    text = "\n".join(lines)
    print(text)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
