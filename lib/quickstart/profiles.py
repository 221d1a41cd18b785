"""The two quickstart flavours: how much synthetic data and how long each training stage runs.

Both train the ``cstrack_s{1,2}_quickstart`` recipes (the real CSTrack model and losses at toy size);
a profile only overrides data size and schedule. The stage-2 epoch count is the same in both, so the
stage-2 checkpoint has the same name (``CSTRACK_S2_ep0006.pth.tar``) whichever profile wrote it and
the README's commands fit both.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Tuple

from lib.quickstart.synthetic_rgbt import SyntheticRGBTConfig


@dataclass(frozen=True)
class Profile:
    """Sizes of one quickstart flavour.

    Attributes:
        name: ``default`` or ``quick``.
        description: the expected time, for the start line.
        data: the synthetic dataset.
        stage1_options, stage2_options: ``--cfg-options`` of the two trainings.
        video_scale: size of the annotated video's panels relative to the frames.
        fps: frame rate of the video.
    """

    name: str
    description: str
    data: SyntheticRGBTConfig
    stage1_options: Tuple[str, ...] = ()
    stage2_options: Tuple[str, ...] = ()
    video_scale: float = 2.0
    fps: float = 15.0


PROFILES: Dict[str, Profile] = {
    # The yamls' own schedules: 16 x 1024 stage-1 samples, 6 x 512 stage-2 samples.
    "default": Profile(
        "default", "about 10 minutes on 2 idle CPU cores",
        SyntheticRGBTConfig(num_train=24, num_test=6, train_frames=80, test_frames=120)),
    # 2304 stage-1 samples in batches of 8 at twice the learning rate (more updates per sample: the
    # tracker's success rate on a 12-sequence check set went from 0.30 to 0.61 after stage 1), then 288
    # stage-2 samples; one test sequence of each object kind; a smaller video.
    "quick": Profile(
        "quick", "about 2 minutes on 2 idle CPU cores",
        SyntheticRGBTConfig(num_train=12, num_test=4, train_frames=60, test_frames=90),
        stage1_options=("TRAIN.EPOCH=3", "TRAIN.LR_DROP_EPOCH=3", "DATA.TRAIN.SAMPLE_PER_EPOCH=768",
                        "TRAIN.BATCH_SIZE=8", "TRAIN.LR=0.002"),
        stage2_options=("DATA.TRAIN.SAMPLE_PER_EPOCH=48", "TRAIN.LR_DROP_EPOCH=6"),
        video_scale=1.0),
}


__all__ = ["PROFILES", "Profile"]
