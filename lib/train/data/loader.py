"""Training datasets and DataLoader from the config (reference ``build_dataloaders``, docs/training.md).

Batches are frame-major: every per-frame tensor is stacked on a new dim 1, so a batch holds
``template_images`` (Nt, B, 6, St, St), ``search_images`` (Ns, B, 6, Ss, Ss), ``template_anno`` /
``search_anno`` (N, B, 4) normalised xywh, ``template_masks`` / ``search_masks`` (N, B, S, S),
``template_soft_mask`` (Nt, B, (St/stride)^2, 1), ``task_class`` (B,) int64 (0 RGB, 1 RGB-T, 2 RGB-E,
3 RGB-D), ``valid`` (B,) int64, and the lists ``dataset`` (B names) and ``test_class``.

Fixed (T9, T10 in docs/parity.md): collation is a plain ``torch.stack(dim=1)`` (the reference's
shared-memory collate crashed with ``num_workers=0`` and used APIs removed from torch / Python).
"""
from __future__ import annotations

import logging
import random
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
import torch
from torch.utils.data import DataLoader, DistributedSampler, RandomSampler

import lib.train.dataset  # noqa: F401  (registers the dataset builders)
from lib.config import ConfigError
from lib.registry import TRAIN_DATASETS
from lib.train.data.processing import TrackingProcessing
from lib.train.data.sampler import TrackingSampler
from lib.utils.rgbx import imread_rgb

logger = logging.getLogger(__name__)


def collate_frames(samples: List[Dict[str, Any]]) -> Dict[str, Any]:
    """Collate processed samples: tensors stacked on a new dim 1, ints/bools -> int64 tensor, others -> list."""
    batch: Dict[str, Any] = {}
    for key in samples[0]:
        values = [s[key] for s in samples]
        first = values[0]
        if isinstance(first, torch.Tensor):
            batch[key] = torch.stack(values, dim=1)
        elif isinstance(first, (bool, int, np.integer)):
            batch[key] = torch.tensor([int(v) for v in values], dtype=torch.int64)
        else:
            batch[key] = values
    return batch


def seed_worker(worker_id: int) -> None:
    """``worker_init_fn``: reseed the worker's copy of the sampler (and the global RNGs) from the worker seed.

    The worker seed is ``base_seed + worker_id``, with ``base_seed`` drawn from the loader's generator,
    so runs are reproducible and workers (and epochs, since workers are re-created) never repeat a stream.
    """
    info = torch.utils.data.get_worker_info()
    seed = info.seed % (2 ** 32)
    random.seed(seed)
    np.random.seed(seed)
    if hasattr(info.dataset, "reseed"):
        info.dataset.reseed(seed)


class TrainLoader(DataLoader):
    """A DataLoader with the reference ``LTRLoader`` attributes the trainer reads."""

    def __init__(self, name: str, dataset, training: bool = True, epoch_interval: int = 1, stack_dim: int = 1,
                 **kwargs):
        super().__init__(dataset, **kwargs)
        self.name = name
        self.training = training
        self.epoch_interval = epoch_interval
        self.stack_dim = stack_dim


def check_dataset_names(cfg) -> None:
    """Every name of ``DATA.TRAIN/VAL.DATASETS_NAME`` and ``DATA.ALL_SEQUENCES`` is usable, else ConfigError.

    ``DATA.ALL_SEQUENCES`` may only name datasets of ``DATASETS_NAME`` that read an official split list.
    """
    supported = [n for n in TRAIN_DATASETS.names() if not n.endswith("_lmdb")]
    used = []
    for part in ("TRAIN", "VAL"):
        for name in cfg.DATA[part].DATASETS_NAME:
            if name not in TRAIN_DATASETS:
                raise ConfigError(f"DATA.{part}.DATASETS_NAME: unsupported dataset '{name}'; supported: {supported}")
            used.append(name)
    for name in cfg.DATA.ALL_SEQUENCES:
        if name not in used:
            raise ConfigError(f"DATA.ALL_SEQUENCES: '{name}' is not in DATA.TRAIN/VAL.DATASETS_NAME {used}")
        if not getattr(TRAIN_DATASETS.get(name), "split_list", None):
            raise ConfigError(f"DATA.ALL_SEQUENCES: '{name}' has no split list (it always uses every sequence)")


def build_datasets(names: Sequence[str], env, cfg, use_lmdb: bool = False, image_loader=imread_rgb) -> List[Any]:
    """Instantiate datasets by yaml name through ``TRAIN_DATASETS``.

    With ``use_lmdb`` a registered ``<name>_lmdb`` variant replaces the file-based one (LaSOT, GOT-10k,
    TrackingNet, COCO). Names in ``DATA.ALL_SEQUENCES`` read every sequence instead of their split list.
    """
    check_dataset_names(cfg)
    datasets = []
    for name in names:
        key = f"{name}_lmdb" if use_lmdb and f"{name}_lmdb" in TRAIN_DATASETS else name
        options = {"all_sequences": True} if name in cfg.DATA.ALL_SEQUENCES else {}
        datasets.append(TRAIN_DATASETS.get(key)(env, cfg, image_loader=image_loader, **options))
        split = "every sequence on disk" if options else getattr(TRAIN_DATASETS.get(key), "split_list", "")
        logger.info("dataset %s: %s, %d sequences%s", key, datasets[-1].get_name(), datasets[-1].get_num_sequences(),
                    f" ({split})" if split else "")
    return datasets


def build_train_dataset(cfg, env, use_lmdb: bool = False, seed: Optional[int] = None,
                        processing: Optional[TrackingProcessing] = None, **sampler_kwargs) -> TrackingSampler:
    """The training :class:`TrackingSampler` of ``cfg.DATA.TRAIN`` (names, ratios, samples per epoch)."""
    data = cfg.DATA
    if len(data.TRAIN.DATASETS_NAME) != len(data.TRAIN.DATASETS_RATIO):
        raise ValueError(f"DATA.TRAIN.DATASETS_NAME ({len(data.TRAIN.DATASETS_NAME)} names) and DATASETS_RATIO "
                         f"({len(data.TRAIN.DATASETS_RATIO)} values) differ in length")
    datasets = build_datasets(data.TRAIN.DATASETS_NAME, env, cfg, use_lmdb=use_lmdb)
    return TrackingSampler(datasets, data.TRAIN.DATASETS_RATIO, samples_per_epoch=data.TRAIN.SAMPLE_PER_EPOCH,
                           max_gap=data.MAX_SAMPLE_INTERVAL, num_search_frames=data.SEARCH.NUMBER,
                           num_template_frames=data.TEMPLATE.NUMBER,
                           processing=processing or TrackingProcessing.from_cfg(cfg),
                           frame_sample_mode=data.SAMPLER_MODE, seed=seed, **sampler_kwargs)


def build_dataloaders(cfg, env, batch_size: Optional[int] = None, num_workers: Optional[int] = None,
                      seed: Optional[int] = None, rank: int = 0, world_size: int = 1, use_lmdb: bool = False,
                      **sampler_kwargs) -> TrainLoader:
    """The training loader (the reference has no validation loader).

    Args:
        cfg: experiment config (``load_config``).
        env: :class:`~lib.config.environment.EnvSettings` with the dataset roots.
        batch_size, num_workers: default ``TRAIN.BATCH_SIZE`` / ``TRAIN.NUM_WORKER`` (per process).
        seed: base seed; None = ``torch.initial_seed()`` (set by the trainer's seeding). The sampler
            and the loader's generator use ``seed + rank``.
        rank, world_size: with ``world_size > 1`` a ``DistributedSampler`` (shuffle, seed 0) splits the
            epoch; call ``loader.sampler.set_epoch(epoch)`` every epoch.
        use_lmdb: read LaSOT / GOT-10k / TrackingNet / COCO from their LMDB copies.
    Returns:
        :class:`TrainLoader` (drop_last, frame-major batches, see the module docstring).
    """
    base_seed = (torch.initial_seed() if seed is None else int(seed)) + int(rank)
    dataset = build_train_dataset(cfg, env, use_lmdb=use_lmdb, seed=base_seed, **sampler_kwargs)
    generator = torch.Generator()
    generator.manual_seed(base_seed % (2 ** 63))
    if world_size > 1:
        sampler = DistributedSampler(dataset, num_replicas=world_size, rank=rank, shuffle=True, seed=0)
    else:
        sampler = RandomSampler(dataset, generator=generator)
    workers = cfg.TRAIN.NUM_WORKER if num_workers is None else num_workers
    return TrainLoader("train", dataset, training=True, epoch_interval=1, stack_dim=1,
                       batch_size=cfg.TRAIN.BATCH_SIZE if batch_size is None else batch_size, sampler=sampler,
                       num_workers=workers, collate_fn=collate_frames, drop_last=True, pin_memory=False,
                       worker_init_fn=seed_worker, generator=generator, persistent_workers=False)
