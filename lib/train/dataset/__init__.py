"""Training datasets; importing this package registers every yaml dataset name in ``TRAIN_DATASETS``.

Registered builders have the signature ``build(env: EnvSettings, cfg, image_loader=imread_rgb)`` and
return a dataset object (:class:`~lib.train.dataset.base_video_dataset.BaseVideoDataset`).

The builders read RGB-only datasets as 3-channel frames; the processing duplicates each crop to
RGB ‖ RGB. In the reference, ``DATA.MULTI_MODAL_VISION`` made those datasets concatenate full frames
and the sampler duplicated any remaining 3-channel frames (docs/training.md), so X = RGB either way:
the flag cannot change the training data, and duplicating after the crop is bit-identical and cheaper.
The classes keep a ``multi_modal_vision`` argument for direct use.
"""
from lib.train.dataset.base_video_dataset import (MODALITY_TASK_CLASS, BaseImageDataset, BaseVideoDataset,
                                                  DatasetError, SampleError)
from lib.train.dataset.coco_seq import MSCOCOSeq
from lib.train.dataset.depthtrack import DepthTrack
from lib.train.dataset.got10k import Got10k
from lib.train.dataset.lasher import LasHeR
from lib.train.dataset.lasot import Lasot
from lib.train.dataset.lmdb_datasets import Got10k_lmdb, Lasot_lmdb, MSCOCOSeq_lmdb, TrackingNet_lmdb
from lib.train.dataset.tnl2k import Tnl2k
from lib.train.dataset.trackingnet import TrackingNet
from lib.train.dataset.vasttrack import VastTrack
from lib.train.dataset.visevent import VisEvent

__all__ = ["BaseImageDataset", "BaseVideoDataset", "DatasetError", "DepthTrack", "Got10k", "Got10k_lmdb", "LasHeR",
           "Lasot", "Lasot_lmdb", "MODALITY_TASK_CLASS", "MSCOCOSeq", "MSCOCOSeq_lmdb", "SampleError", "Tnl2k",
           "TrackingNet", "TrackingNet_lmdb", "VastTrack", "VisEvent"]
