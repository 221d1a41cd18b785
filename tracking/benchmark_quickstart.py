"""Run the quickstart from scratch and print its BENCHMARKS.md section: scores vs the static box, times.

    python tracking/benchmark_quickstart.py                        # default run, in a fresh temporary folder
    python tracking/benchmark_quickstart.py --quick                # the CI-sized run
    python tracking/benchmark_quickstart.py --update BENCHMARKS.md --docs_images docs/images

``tracking/quickstart.py --fresh`` runs as a child process, exactly as a user would start it; the wall
time includes the interpreter start-up, the CPU time is that of the child and its data-loader workers
(user + system). Other jobs on the machine stretch the wall time, hardly the CPU time: the section
states the load average before and after. The section (Markdown) is printed; ``--update FILE`` also
writes it into FILE between ``<!-- quickstart:start -->`` and ``<!-- quickstart:end -->`` (``--quick``:
``quickstart-quick``), appended when the markers are not there yet. ``--docs_images DIR`` copies the
run's video frame and success plot to ``DIR/quickstart_frame.png`` and ``DIR/quickstart_success.png``
(shrunk below 200 KB), the pictures the README shows.
"""
import argparse
import datetime
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import _init_paths  # noqa: F401  (repository root on sys.path)

import cv2
import torch

from lib.utils.machine import write_markdown_section
from lib.utils.timefmt import format_duration
from lib.quickstart.pipeline import PROFILES, STATIC_NAME, STEPS, TRACKER_NAME

REPO_ROOT = Path(__file__).resolve().parents[1]
QUICKSTART = REPO_ROOT / "tracking" / "quickstart.py"
MAX_PNG_BYTES = 200_000


def load_average() -> str:
    """The 1-minute load average (other jobs on the machine slow every timing down), or '?'."""
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:
        return "?"


def section_name(profile: str) -> str:
    """The name of a profile's section in BENCHMARKS.md."""
    return "quickstart" if profile == "default" else f"quickstart-{profile}"


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_quickstart(workdir: Path, quick: bool, seed: int, device: str) -> tuple:
    """Run the quickstart from scratch in ``workdir``; returns its (wall, CPU) time in seconds."""
    command = [sys.executable, str(QUICKSTART), "--workdir", str(workdir), "--seed", str(seed), "--device", device,
               "--fresh"] + (["--quick"] if quick else [])
    start, cpu_start = time.perf_counter(), children_cpu_seconds()
    subprocess.run(command, check=True, cwd=str(REPO_ROOT))
    return time.perf_counter() - start, children_cpu_seconds() - cpu_start


def section(summary: dict, wall: float, cpu: float, load_before: str, load_after: str) -> str:
    """The BENCHMARKS.md section for one run (Markdown)."""
    profile = PROFILES[summary["profile"]]
    data = profile.data
    command = "python tracking/quickstart.py" + (" --quick" if summary["profile"] == "quick" else "")
    lines = [
        f"## Quickstart: `{command}`",
        "",
        f"Measured with `python tracking/benchmark_quickstart.py{' --quick' if summary['profile'] == 'quick' else ''}` "
        f"on {datetime.date.today().isoformat()}: {summary['cpu']}, {os.cpu_count()} cores, device "
        f"{summary['device']}, {summary['threads']} torch thread(s), torch {torch.__version__}, "
        f"Python {platform.python_version()}, seed {summary['seed']}. "
        f"1-minute load average {load_before} before and {load_after} after the run (other jobs on the machine "
        f"stretch every time below).",
        "",
        f"Synthetic RGB-T data in the LasHeR layout: {data.num_train} training sequences of {data.train_frames} "
        f"frames, {data.num_test} test sequences of {data.test_frames} frames, {data.width}x{data.height}. Both "
        f"stages trained from scratch (`cstrack_s1_quickstart` then `cstrack_s2_quickstart`"
        f"{', with the --quick schedule' if summary['profile'] == 'quick' else ''}); scores by `lib.test.analysis` "
        f"with the LasHeR toolkit rules on the synthetic test split.",
        "",
        "| Tracker | SR | PR | NPR |",
        "|---|---:|---:|---:|",
    ]
    for name in (TRACKER_NAME, STATIC_NAME):
        s = summary["scores"][name]
        lines.append(f"| {name} | {s['SR']:.3f} | {s['PR']:.3f} | {s['NPR']:.3f} |")
    lines += ["", "| Step | Time |", "|---|---:|"]
    for step in STEPS:
        title = step.title.replace("|", "\\|")  # a literal | inside a Markdown table cell
        lines.append(f"| {title} | {format_duration(summary['steps'][step.key]['seconds'])} |")
    lines += [f"| **total, wall clock (including Python start-up)** | **{format_duration(wall)}** |",
              f"| total CPU time (user + system, all processes) | {format_duration(cpu)} |"]
    return "\n".join(lines)


def save_small_png(source: str, target: Path) -> int:
    """Copy a PNG, shrinking it until the file is below 200 KB; returns the size in bytes."""
    image = cv2.imread(source, cv2.IMREAD_COLOR)
    if image is None:
        raise OSError(f"cannot read {source}")
    target.parent.mkdir(parents=True, exist_ok=True)
    while True:
        if not cv2.imwrite(str(target), image, [cv2.IMWRITE_PNG_COMPRESSION, 9]):
            raise OSError(f"cannot write {target}")
        size = target.stat().st_size
        if size < MAX_PNG_BYTES:
            return size
        image = cv2.resize(image, None, fx=0.85, fy=0.85, interpolation=cv2.INTER_AREA)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=None, help="where to run (default: a new temporary folder)")
    parser.add_argument("--quick", action="store_true", help="benchmark the --quick run instead of the default one")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda", "auto"))
    parser.add_argument("--update", type=Path, default=None, metavar="FILE",
                        help="write the section into FILE (e.g. BENCHMARKS.md)")
    parser.add_argument("--docs_images", type=Path, default=None, metavar="DIR",
                        help="copy the video frame and the success plot to DIR (e.g. docs/images)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="cstrack_quickstart_") as tmp:
        workdir = args.workdir or Path(tmp) / "quickstart"
        load_before = load_average()
        wall, cpu = run_quickstart(workdir, args.quick, args.seed, args.device)
        load_after = load_average()
        with open(workdir / "report" / "summary.json", "r", encoding="utf-8") as f:
            summary = json.load(f)
        text = section(summary, wall, cpu, load_before, load_after)
        if args.docs_images:
            for name, key in (("quickstart_frame.png", "video frame"), ("quickstart_success.png", "success plot")):
                size = save_small_png(summary["files"][key], args.docs_images / name)
                print(f"wrote {args.docs_images / name} ({size // 1024} KB)")
    print()
    print(text)
    if args.update:
        write_markdown_section(args.update, section_name(summary["profile"]), text)
        print(f"\nupdated {args.update}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
