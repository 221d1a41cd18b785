"""Test-only TraX tracker: replays a perturbed ground truth of the sequence it is shown, with a confidence.

Exercises the VOT toolkit workspaces and analyses without a network. It finds ``groundtruth.txt`` from
the colour frame path (``<seq>/color/%08d.jpg``) and reports, per frame: the ground-truth box shifted
and resized by a frame-dependent amount (sometimes partly outside the image, sometimes a miss far
away), a small box in the corner where the target is absent, and a confidence that varies from frame
to frame (many distinct values, so the long-term analysis subsamples its thresholds).
"""
import os
import re

import numpy as np
import trax
from trax.image import Image
from trax.region import Rectangle, Region


def _frame_info(color_path):
    seq_dir = os.path.dirname(os.path.dirname(color_path))
    index = int(re.findall(r"\d+", os.path.basename(color_path))[-1]) - 1
    gt = np.genfromtxt(os.path.join(seq_dir, "groundtruth.txt"), delimiter=",").reshape(-1, 4)
    return gt, index, len(os.path.basename(seq_dir))


def _reply(gt, index, salt):
    box = gt[index]
    confidence = ((index * 37 + salt * 101) % 997) / 996.0
    if np.isnan(box).any():
        return Rectangle.create(1.0, 1.0, 8.0, 8.0), 0.3 * confidence
    if index % 11 == 5:  # a confident miss
        return Rectangle.create(box[0] + 30.0, box[1] + 20.0, box[2], box[3]), 0.5 + 0.5 * confidence
    dx = float(index % 7) - 3.0
    if index % 13 == 4:  # partly outside the image
        dx = -box[0] - 6.0
    return Rectangle.create(box[0] + dx, box[1] + 0.5 * (index % 3), box[2] + (index % 5), box[3]), confidence


def main():
    with trax.Server([Region.RECTANGLE], [Image.PATH], ["color", "depth"]) as server:
        while True:
            request = server.wait()
            if request.type == trax.TraxStatus.QUIT:
                break
            gt, index, salt = _frame_info(request.image["color"].path())
            if request.type == trax.TraxStatus.INITIALIZE:
                server.status([(request.objects[0][0], {})])
                continue
            region, confidence = _reply(gt, index, salt)
            server.status([(region, {"confidence": confidence})])


if __name__ == "__main__":
    main()
