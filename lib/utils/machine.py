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


def write_markdown_section(path, name: str, body: str) -> None:
    """Put ``body`` between ``<!-- name:start -->`` and ``<!-- name:end -->`` in the Markdown file ``path``.

    An existing section is replaced in place; otherwise it is appended. Benchmark scripts keep their
    measured tables in BENCHMARKS.md this way, each in its own section.
    """
    from pathlib import Path

    from lib.utils.files import atomic_write_text

    path = Path(path)
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    section = f"{start}\n{body.strip()}\n{end}"
    if start in text and end in text:
        text = text[:text.index(start)] + section + text[text.index(end) + len(end):]
    else:
        text = text.rstrip() + ("\n\n" if text.strip() else "") + section + "\n"
    atomic_write_text(path, text)
