"""Reading (and building) the LMDB copies of LaSOT, GOT-10k, TrackingNet and COCO (docs/training.md).

An LMDB "root" is an environment folder (``data.mdb``); keys are the files' relative paths with
forward slashes (``airplane/airplane-1/img/00000001.jpg``), values the raw file bytes. Handles are
opened read-only without locking, lazily and once per process (an LMDB handle must not cross a
``fork``, so DataLoader workers open their own).
"""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Tuple, Union

import cv2
import lmdb
import numpy as np

from lib.utils.rgbx import FrameReadError

logger = logging.getLogger(__name__)

_HANDLES: Dict[Tuple[int, str], lmdb.Environment] = {}


def get_lmdb_handle(root: Union[str, Path]) -> lmdb.Environment:
    """The read-only environment at ``root``, opened once per process."""
    key = (os.getpid(), os.fspath(root))
    env = _HANDLES.get(key)
    if env is None:
        if not os.path.isdir(root):
            raise FrameReadError(f"LMDB environment {root} does not exist")
        try:
            env = lmdb.open(os.fspath(root), readonly=True, lock=False, readahead=False, meminit=False)
        except lmdb.Error as e:
            raise FrameReadError(f"cannot open LMDB environment {root}: {e}") from e
        _HANDLES[key] = env
    return env


def read_bytes(root: Union[str, Path], key: str) -> bytes:
    """The value stored under ``key``; :class:`FrameReadError` naming root and key if absent."""
    with get_lmdb_handle(root).begin(write=False) as txn:
        value = txn.get(key.encode("utf-8"))
    if value is None:
        raise FrameReadError(f"key '{key}' not found in LMDB {root}")
    return bytes(value)


def decode_img(root: Union[str, Path], key: str) -> np.ndarray:
    """An image stored under ``key``, decoded with ``cv2.imdecode`` and converted to RGB (H x W x 3 uint8)."""
    img = cv2.imdecode(np.frombuffer(read_bytes(root, key), np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        raise FrameReadError(f"cannot decode image '{key}' in LMDB {root}")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def decode_str(root: Union[str, Path], key: str) -> str:
    """A text file stored under ``key``."""
    return read_bytes(root, key).decode("utf-8")


def list_keys(root: Union[str, Path], prefix: str = "", suffix: str = "") -> List[str]:
    """All keys starting with ``prefix`` and ending with ``suffix`` (a key-only cursor scan)."""
    out = []
    with get_lmdb_handle(root).begin(write=False) as txn:
        cursor = txn.cursor()
        if prefix and not cursor.set_range(prefix.encode("utf-8")):
            return out
        for key in cursor.iternext(keys=True, values=False):
            text = bytes(key).decode("utf-8")
            if prefix and not text.startswith(prefix):
                break
            if text.endswith(suffix):
                out.append(text)
    return out


def write_lmdb(path: Union[str, Path], items: Iterable[Tuple[str, bytes]], map_size: Optional[int] = None) -> int:
    """Write ``(key, bytes)`` pairs into a new LMDB environment at ``path``; returns the number of keys.

    Without ``map_size`` the items are collected first to size the map; pass it to stream large sets.
    Transactions are committed every 1000 keys.
    """
    if map_size is None:
        items = list(items)
        map_size = 2 * sum(len(v) for _, v in items) + 1024 * len(items) + (1 << 20)
    os.makedirs(path, exist_ok=True)
    env = lmdb.open(os.fspath(path), map_size=map_size)
    count = 0
    try:
        txn = env.begin(write=True)
        for key, value in items:
            txn.put(key.encode("utf-8"), value)
            count += 1
            if count % 1000 == 0:
                txn.commit()
                txn = env.begin(write=True)
        txn.commit()
    finally:
        env.close()
    return count


def build_lmdb_from_folder(folder: Union[str, Path], path: Union[str, Path], key_prefix: str = "") -> int:
    """Store every file under ``folder`` in a new LMDB at ``path``, keyed ``key_prefix + relative/posix/path``.

    E.g. LaSOT: ``build_lmdb_from_folder(lasot_dir, lasot_lmdb_dir)``; GOT-10k keeps its ``train/`` prefix:
    ``build_lmdb_from_folder(got10k_dir, got10k_lmdb_dir, key_prefix="train/")``.
    """
    folder = Path(folder)
    files = sorted(p for p in folder.rglob("*") if p.is_file())

    def items():
        for file in files:
            yield key_prefix + file.relative_to(folder).as_posix(), file.read_bytes()

    map_size = 2 * sum(p.stat().st_size for p in files) + 1024 * len(files) + (1 << 20)
    count = write_lmdb(path, items(), map_size=map_size)
    logger.info("wrote %d keys from %s to %s", count, folder, path)
    return count


def build_trackingnet_lmdb(trackingnet_dir: Union[str, Path], out_dir: Union[str, Path]) -> int:
    """Convert a TrackingNet folder into ``out_dir/{seq_list.json, TRAIN_<s>_lmdb}``; returns the video count."""
    trackingnet_dir, out_dir = Path(trackingnet_dir), Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    entries = []
    for chunk in sorted(trackingnet_dir.glob("TRAIN_*"), key=lambda p: int(p.name.split("_")[1])):
        set_id = int(chunk.name.split("_")[1])
        entries += [[set_id, anno.stem] for anno in sorted((chunk / "anno").glob("*.txt"))]
        build_lmdb_from_folder(chunk, out_dir / f"{chunk.name}_lmdb")
    (out_dir / "seq_list.json").write_text(json.dumps(entries), encoding="utf-8")
    return len(entries)
