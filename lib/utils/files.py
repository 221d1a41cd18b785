"""Writing files so that a reader never sees half of one: temporary file, then ``os.replace``.

Every result file, manifest, checkpoint, config dump and video of the framework goes through
:func:`atomic_write`. The temporary file is created next to the target (same file system, so the
rename is atomic) and given the mode a plain ``open(path, "w")`` would have given it under the
user's umask (0644 under umask 022): ``mkstemp`` creates files 0600, and ``os.replace`` keeps that
mode, which would make results unreadable to the rest of a group.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable, Union

PathLike = Union[str, "os.PathLike[str]"]


def default_file_mode() -> int:
    """``0o666`` minus the process umask: the mode ``open(path, "w")`` creates files with."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write(path: PathLike, write: Callable[[str], None], suffix: str = "") -> Path:
    """Create ``path`` through ``write(tmp_path)`` on a temporary file, then rename it into place.

    On any failure (including KeyboardInterrupt) the temporary file is removed and ``path`` is left
    as it was. The parent folder is created. Returns ``path`` as a :class:`~pathlib.Path`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".tmp_{path.name}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, default_file_mode())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path


def atomic_write_text(path: PathLike, text: str, fsync: bool = False) -> Path:
    """Write ``text`` (UTF-8) atomically; ``fsync`` also flushes it to disk before the rename."""

    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write(text)
            if fsync:
                handle.flush()
                os.fsync(handle.fileno())

    return atomic_write(path, write)


__all__ = ["atomic_write", "atomic_write_text", "default_file_mode"]
