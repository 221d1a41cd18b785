"""The end of a quickstart run: ``report/summary.json`` and the closing lines on the terminal.

The summary holds the scores of the trained tracker and the static-box baseline, the time of every
step, the path of every file written, and the next commands to try. Each command names files this
run wrote (the stage-2 checkpoint, a test sequence's frames and its first box), so it runs as printed.
"""
from __future__ import annotations

import json
import platform
import shlex
from pathlib import Path
from typing import Any, Callable, Dict, Mapping

from lib.quickstart.entry_points import REPO_ROOT, shown_path
from lib.utils.files import atomic_write_text
from lib.utils.machine import cpu_name
from lib.utils.timefmt import format_duration

SUMMARY_FILE = "summary.json"


def demo_command(rgb_dir: str, x_dir: str, init: str, checkpoint: str, out: str) -> str:
    """The ``tracking/video_demo.py`` command for one sequence, with paths as the user types them here."""
    args = ["--rgb", shown_path(rgb_dir), "--x", shown_path(x_dir), "--init", init,
            "--checkpoint", shown_path(checkpoint), "--out", shown_path(out)]
    return f"python {shown_path(str(REPO_ROOT / 'tracking' / 'video_demo.py'))} " + shlex.join(args)


def write_summary(report_dir: Path, content: Dict[str, Any]) -> Dict[str, Any]:
    """Add the machine description, write ``summary.json`` atomically; returns the summary with its path."""
    summary = dict(content, cpu=cpu_name(), python=platform.python_version())
    path = Path(report_dir) / SUMMARY_FILE
    atomic_write_text(path, json.dumps(summary, indent=2) + "\n")
    summary["files"] = dict(summary["files"], summary=str(path))
    return summary


def print_summary(summary: Mapping[str, Any], echo: Callable[[str], None]) -> None:
    """The closing block: scores, verdict, step times, every file, the next commands."""
    tracker, baseline = summary["tracker"], summary["baseline"]
    ours, static = summary["scores"][tracker], summary["scores"][baseline]
    echo("")
    echo("=" * 78)
    echo(f"Quickstart finished ({summary['profile']} profile) in {format_duration(summary['total_seconds_this_run'])}"
         f" (all steps: {format_duration(summary['total_seconds_all_steps'])}; CPU time of this run "
         f"{format_duration(summary['cpu_seconds_this_run'])})")
    echo(f"  {tracker}: SR {ours['SR']:.3f}  PR {ours['PR']:.3f}  NPR {ours['NPR']:.3f}")
    echo(f"  {baseline}: SR {static['SR']:.3f}  PR {static['PR']:.3f}  NPR {static['NPR']:.3f}")
    verdict = "beats" if ours["SR"] > static["SR"] else "does NOT beat"
    echo(f"  the trained tracker {verdict} the static box on success rate (SR, area under the success curve)")
    times = [f"{k} {format_duration(v['seconds'])}{' (reused)' if v['reused'] else ''}"
             for k, v in summary["steps"].items()]
    echo("  step times: " + ", ".join(times))
    echo("Files:")
    width = max(len(k) for k in summary["files"])
    for name, path in summary["files"].items():
        echo(f"  {name:<{width}}  {shown_path(path)}")
    if "html report" in summary["files"]:
        echo(f"Open the report in a browser: {Path(summary['files']['html report']).resolve().as_uri()}")
    echo("Next: the demo on a test sequence with the trained model (for your own frames, change --rgb, --x, --init):")
    echo(f"  {summary['demo_command']}")
    echo("=" * 78)


__all__ = ["SUMMARY_FILE", "demo_command", "print_summary", "write_summary"]
