"""Describe the machine a measurement ran on (benchmarks and summaries name it with their figures)."""
import functools
import logging
import platform
from typing import FrozenSet

logger = logging.getLogger(__name__)


def cpu_name() -> str:
    """The CPU model from ``/proc/cpuinfo`` (Linux), else what the platform module reports."""
    try:
        with open("/proc/cpuinfo", "r", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        logger.debug("no /proc/cpuinfo; using the platform module")
    return platform.processor() or platform.machine() or "unknown CPU"


@functools.lru_cache(maxsize=1)
def cpu_flags() -> FrozenSet[str]:
    """The CPU feature flags from ``/proc/cpuinfo`` (``avx2``, ``avx512_bf16``, ``amx_bf16``, ...); empty elsewhere."""
    try:
        with open("/proc/cpuinfo", "r", encoding="utf-8") as f:
            for line in f:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        logger.debug("no /proc/cpuinfo: CPU flags unknown")
    return frozenset()
