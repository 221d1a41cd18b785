"""LMDB copies of LaSOT, GOT-10k, TrackingNet and COCO (docs/training.md, ``--use_lmdb 1``).

Each class is its file-based sibling with file access swapped for LMDB reads (``cv2.imdecode`` then
BGR->RGB); frame and annotation semantics are unchanged. Key layouts (relative paths, ``/``):

* LaSOT: one env, ``<class>/<class>-<idx>/img/%08d.jpg``, ``.../groundtruth.txt`` ...
* GOT-10k: one env, ``train/list.txt``, ``train/<seq>/%08d.jpg`` ...
* TrackingNet: ``<root>/seq_list.json`` ([[set_id, video], ...]) and one env per chunk
  ``<root>/TRAIN_<s>_lmdb`` with ``anno/<video>.txt``, ``frames/<video>/<k>.jpg``
* COCO: one env, ``annotations/instances_train2017.json``, ``images/train2017/<file_name>``

Names are ``lasot_lmdb``, ``got10k_lmdb``, ``trackingnet_lmdb``, ``coco_lmdb``; the task class comes
from :attr:`modality`, so they no longer break the classification loss (T16 in docs/parity.md).

``--use_lmdb 1`` replaces a yaml name by its ``<name>_lmdb`` variant; ``DATA.ALL_SEQUENCES`` entries
use the yaml name and apply to the variant too.
"""
from __future__ import annotations

import json
import logging
import os
from typing import List, Optional, Sequence, Tuple

import numpy as np

from lib.registry import TRAIN_DATASETS
from lib.train.dataset.base_video_dataset import DatasetError, SampleError, uses_split_list
from lib.train.dataset.coco_seq import MSCOCOSeq
from lib.train.dataset.got10k import Got10k
from lib.train.dataset.lasot import Lasot
from lib.train.dataset.trackingnet import TrackingNet
from lib.utils import lmdb_utils
from lib.utils.rgbx import FrameReadError

logger = logging.getLogger(__name__)


class _LmdbIO:
    """Mixin: ``_read_text`` / ``_read_image`` from the LMDB env at ``self.root``."""

    root: str

    def _read_text(self, rel_path: str) -> str:
        try:
            return lmdb_utils.decode_str(self.root, rel_path)
        except FrameReadError as e:
            raise SampleError(str(e)) from e

    def _read_image(self, rel_path: str) -> np.ndarray:
        return lmdb_utils.decode_img(self.root, rel_path)

    def _check_root(self) -> None:
        if not os.path.isfile(os.path.join(self.root, "data.mdb")):
            raise DatasetError(f"{self.name}: {self.root} is not an LMDB environment (no data.mdb). "
                               f"Expected layout: {self.LAYOUT}")


class Lasot_lmdb(_LmdbIO, Lasot):  # noqa: N801  (reference class name)
    """LaSOT from LMDB; every sequence (``split=None``) = every ``groundtruth.txt`` key."""

    ENV_FIELD = "lasot_lmdb_dir"
    LAYOUT = "<lasot_lmdb_dir>/data.mdb with keys <class>/<class>-<idx>/{img/%08d.jpg, groundtruth.txt, ...}"

    def __init__(self, root: str, split: Optional[str] = "train", multi_modal_vision: bool = True,
                 multi_modal_language: bool = True, name: str = "lasot_lmdb"):
        super().__init__(root, split=split, multi_modal_vision=multi_modal_vision,
                         multi_modal_language=multi_modal_language, name=name)

    def _all_sequences(self) -> List[str]:
        keys = lmdb_utils.list_keys(self.root, suffix="/groundtruth.txt")
        return sorted(k[: -len("/groundtruth.txt")] for k in keys if k.count("/") == 2)

    def _sequence_exists(self, rel_path: str) -> bool:
        if getattr(self, "_stored", None) is None:
            self._stored = set(self._all_sequences())
        return rel_path in self._stored


class Got10k_lmdb(_LmdbIO, Got10k):  # noqa: N801
    """GOT-10k from LMDB (keys under ``train/``)."""

    ENV_FIELD = "got10k_lmdb_dir"
    LAYOUT = "<got10k_lmdb_dir>/data.mdb with keys train/list.txt, train/<seq>/{%08d.jpg, groundtruth.txt, ...}"

    def __init__(self, root: str, split: Optional[str] = None, multi_modal_vision: bool = True,
                 name: str = "got10k_lmdb"):
        super().__init__(root, split=split, multi_modal_vision=multi_modal_vision, name=name)

    def _init_sequences(self, split: Optional[str]) -> None:
        self._key_prefix = "train/"
        super()._init_sequences(split)

    def _list_file_sequences(self) -> List[str]:
        try:
            text = lmdb_utils.decode_str(self.root, "train/list.txt")
        except FrameReadError as e:
            raise DatasetError(f"{self.name}: {e}. Expected layout: {self.LAYOUT}") from e
        return [line.strip() for line in text.splitlines() if line.strip()]


class TrackingNet_lmdb(_LmdbIO, TrackingNet):  # noqa: N801
    """TrackingNet from one LMDB env per chunk (``TRAIN_<s>_lmdb``) plus ``seq_list.json``."""

    ENV_FIELD = "trackingnet_lmdb_dir"
    LAYOUT = ("<trackingnet_lmdb_dir>/{seq_list.json, TRAIN_<s>_lmdb/data.mdb with keys anno/<video>.txt, "
              "frames/<video>/<k>.jpg}")

    def __init__(self, root: str, set_ids: Optional[Sequence[int]] = None, multi_modal_vision: bool = True,
                 name: str = "trackingnet_lmdb"):
        super().__init__(root, set_ids=set_ids, multi_modal_vision=multi_modal_vision, name=name)

    def _check_root(self) -> None:
        if not os.path.isfile(os.path.join(self.root, "seq_list.json")):
            raise DatasetError(f"{self.name}: {self.root}/seq_list.json not found. Expected layout: {self.LAYOUT}")

    def _list_sequences(self) -> List[Tuple[int, str]]:
        with open(os.path.join(self.root, "seq_list.json"), "r", encoding="utf-8") as f:
            entries = json.load(f)
        return [(int(s), str(vid)) for s, vid in entries if int(s) in self.set_ids]

    @staticmethod
    def _split_key(rel_path: str) -> Tuple[str, str]:
        chunk, _, key = rel_path.partition("/")
        return chunk + "_lmdb", key

    def _read_text(self, rel_path: str) -> str:
        chunk, key = self._split_key(rel_path)
        try:
            return lmdb_utils.decode_str(os.path.join(self.root, chunk), key)
        except FrameReadError as e:
            raise SampleError(str(e)) from e

    def _read_image(self, rel_path: str) -> np.ndarray:
        chunk, key = self._split_key(rel_path)
        return lmdb_utils.decode_img(os.path.join(self.root, chunk), key)


class MSCOCOSeq_lmdb(_LmdbIO, MSCOCOSeq):  # noqa: N801
    """COCO from LMDB; the annotation JSON is stored inside the env."""

    ENV_FIELD = "coco_lmdb_dir"
    LAYOUT = "<coco_lmdb_dir>/data.mdb with keys annotations/instances_train2017.json, images/train2017/<file>"

    def __init__(self, root: str, split: str = "train", version: str = "2017", multi_modal_vision: bool = True,
                 name: str = "coco_lmdb"):
        super().__init__(root, split=split, version=version, multi_modal_vision=multi_modal_vision, name=name)


@TRAIN_DATASETS.register("LASOT_lmdb")
@uses_split_list(Lasot.SPLIT_FILES["train"])
def build_lasot_lmdb(env, cfg, image_loader=None, all_sequences: bool = False) -> Lasot_lmdb:
    return Lasot_lmdb(str(env.require_dir(Lasot_lmdb.ENV_FIELD, Lasot_lmdb.LAYOUT)),
                      split=None if all_sequences else "train", multi_modal_vision=False,
                      multi_modal_language=cfg.DATA.MULTI_MODAL_LANGUAGE)


def _build_got10k_lmdb(env, split: str, all_sequences: bool) -> Got10k_lmdb:
    return Got10k_lmdb(str(env.require_dir(Got10k_lmdb.ENV_FIELD, Got10k_lmdb.LAYOUT)),
                       split=None if all_sequences else split, multi_modal_vision=False)


@TRAIN_DATASETS.register("GOT10K_vottrain_lmdb")
@uses_split_list(Got10k.SPLIT_FILES["vottrain"])
def build_got10k_vottrain_lmdb(env, cfg, image_loader=None, all_sequences: bool = False) -> Got10k_lmdb:
    return _build_got10k_lmdb(env, "vottrain", all_sequences)


@TRAIN_DATASETS.register("GOT10K_votval_lmdb")
@uses_split_list(Got10k.SPLIT_FILES["votval"])
def build_got10k_votval_lmdb(env, cfg, image_loader=None, all_sequences: bool = False) -> Got10k_lmdb:
    return _build_got10k_lmdb(env, "votval", all_sequences)


@TRAIN_DATASETS.register("GOT10K_train_full_lmdb")
def build_got10k_train_full_lmdb(env, cfg, image_loader=None) -> Got10k_lmdb:
    return Got10k_lmdb(str(env.require_dir(Got10k_lmdb.ENV_FIELD, Got10k_lmdb.LAYOUT)), split="train_full",
                       multi_modal_vision=False)


@TRAIN_DATASETS.register("TRACKINGNET_lmdb")
def build_trackingnet_lmdb(env, cfg, image_loader=None) -> TrackingNet_lmdb:
    return TrackingNet_lmdb(str(env.require_dir(TrackingNet_lmdb.ENV_FIELD, TrackingNet_lmdb.LAYOUT)),
                            multi_modal_vision=False)


@TRAIN_DATASETS.register("COCO17_lmdb")
def build_coco17_lmdb(env, cfg, image_loader=None) -> MSCOCOSeq_lmdb:
    return MSCOCOSeq_lmdb(str(env.require_dir(MSCOCOSeq_lmdb.ENV_FIELD, MSCOCOSeq_lmdb.LAYOUT)), version="2017",
                          multi_modal_vision=False)


__all__ = ["Got10k_lmdb", "Lasot_lmdb", "MSCOCOSeq_lmdb", "TrackingNet_lmdb"]
