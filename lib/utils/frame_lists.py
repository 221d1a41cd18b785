"""Listing the frames of a sequence and pairing RGB frame k with X frame k by their frame numbers.

Benchmark readers, training datasets and the demo list frame folders here. Frames are ordered by the
number in their file name (``v1.jpg`` before ``v10.jpg``, which plain sorting gets wrong for the
re-padded LasHeR copies). RGB and X frames are paired by that number when both sides carry numbers,
so one missing X frame cannot shift every later pair; a frame without its partner, a duplicated
number or a gap in the numbering stops with :class:`FramePairingError` naming the file.
"""
from __future__ import annotations

import os
import re
from typing import List, Optional, Sequence, Tuple

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp")
_NUMBER = re.compile(r"\d+")


class FramePairingError(ValueError):
    """RGB and X frame lists that do not correspond one to one (the message names the frame)."""


def frame_number(name: str) -> Optional[int]:
    """The last number in a file name's stem (``v0012.jpg`` -> 12, ``00000001i.jpg`` -> 1), or None."""
    numbers = _NUMBER.findall(os.path.splitext(os.path.basename(name))[0])
    return int(numbers[-1]) if numbers else None


def frame_sort_key(name: str) -> Tuple[int, int, str]:
    number = frame_number(name)
    return (0, number, name) if number is not None else (1, 0, name)


def list_frames(folder: str, extensions: Sequence[str] = IMAGE_EXTENSIONS) -> List[str]:
    """Image file names (not paths) in ``folder``, ordered by frame number; FileNotFoundError if missing."""
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"frame folder {folder} does not exist")
    with os.scandir(folder) as entries:
        names = [e.name for e in entries if os.path.splitext(e.name)[1].lower() in extensions]
    return sorted(names, key=frame_sort_key)


def _numbers(folder: str, names: Sequence[str]) -> Optional[List[int]]:
    numbers = [frame_number(n) for n in names]
    if any(n is None for n in numbers):
        return None
    seen = {}
    for name, number in zip(names, numbers):
        if number in seen:
            raise FramePairingError(f"{folder}: {seen[number]} and {name} carry the same frame number {number}")
        seen[number] = name
    return numbers


def pair_frames(rgb_folder: str, rgb_names: Sequence[str], x_folder: str,
                x_names: Sequence[str]) -> Tuple[List[str], List[str]]:
    """RGB and X file names in frame order, RGB frame k beside X frame k (see the module docstring).

    With numbered names on both sides the two lists must hold the same frame numbers without gaps;
    otherwise they are paired by position and must be equally long.
    """
    rgb_numbers, x_numbers = _numbers(rgb_folder, rgb_names), _numbers(x_folder, x_names)
    if rgb_numbers is None or x_numbers is None:
        if len(rgb_names) != len(x_names):
            raise FramePairingError(f"{rgb_folder} has {len(rgb_names)} frames but {x_folder} has {len(x_names)}")
        return list(rgb_names), list(x_names)
    rgb_by_number = dict(zip(rgb_numbers, rgb_names))
    x_by_number = dict(zip(x_numbers, x_names))
    for number in sorted(set(rgb_by_number) | set(x_by_number)):
        if number not in x_by_number:
            raise FramePairingError(f"{os.path.join(rgb_folder, rgb_by_number[number])} has no X frame with number "
                                    f"{number} in {x_folder}")
        if number not in rgb_by_number:
            raise FramePairingError(f"{os.path.join(x_folder, x_by_number[number])} has no RGB frame with number "
                                    f"{number} in {rgb_folder}")
    numbers = sorted(rgb_by_number)
    for previous, current in zip(numbers, numbers[1:]):
        if current != previous + 1:
            raise FramePairingError(f"{rgb_folder}: frame numbers jump from {previous} "
                                    f"({rgb_by_number[previous]}) to {current} ({rgb_by_number[current]}); "
                                    f"frames {previous + 1}..{current - 1} are missing in both RGB and X")
    return [rgb_by_number[n] for n in numbers], [x_by_number[n] for n in numbers]


__all__ = ["FramePairingError", "IMAGE_EXTENSIONS", "frame_number", "frame_sort_key", "list_frames", "pair_frames"]
