"""Sampling, processing and loading of training data (docs/training.md)."""
from lib.train.data.loader import TrainLoader, build_dataloaders, build_datasets, build_train_dataset, collate_frames
from lib.train.data.processing import TrackingProcessing
from lib.train.data.processing_utils import soft_template_mask
from lib.train.data.sampler import TrackingSampler
from lib.train.data.transforms import RandomSource

__all__ = ["RandomSource", "TrackingProcessing", "TrackingSampler", "TrainLoader", "build_dataloaders",
           "build_datasets", "build_train_dataset", "collate_frames", "soft_template_mask"]
