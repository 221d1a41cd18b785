"""Human-readable durations for progress lines, summaries and reports."""
from __future__ import annotations

import math


def format_duration(seconds: float) -> str:
    """``H:MM:SS`` (``?`` for an unknown, infinite or NaN duration)."""
    if seconds is None or not math.isfinite(seconds):
        return "?"
    total = int(round(max(0.0, seconds)))
    return f"{total // 3600}:{total % 3600 // 60:02d}:{total % 60:02d}"


__all__ = ["format_duration"]
