"""Run the fault cases of issue 11 through the real entry points and print the "faults and what happens" table.

    python -m tests.tools.fault_report              # run every case, print the Markdown table
    python -m tests.tools.fault_report --write      # ... and put it into BENCHMARKS.md (faults section)
    python -m tests.tools.fault_report --keep DIR   # keep the data and outputs of the run in DIR

Each case runs what a user would run (``lib/train/run_training.py``, ``RGBT_workspace/test_rgbt_mgpus.py``,
``tracking/video_demo.py``, ``python -m lib.test.vot.evaluate``, ``python -m lib.config.environment``) as a
subprocess under umask 022, on tiny synthetic data in a temporary folder: the tiny experiments, benchmark
sequences of 3 to 400 frames from ``tests/test_evaluation/benchmark_data.py``, training data from
``tests/synthetic_data.py``, epochs of a few samples. A row gives the exit code(s), the line the user sees
(the last non-empty line of the output; for a run that carries on, the line saying what happened) with
the work folder's path left out, and what is left on disk. The expected behaviour of every case is
checked on what actually happened: a row that does not hold is marked FAILED and the script exits 1.

The cases run in two lanes side by side (training, tracking); ``--jobs 1`` runs them one after the other.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

REPO_ROOT = Path(__file__).resolve().parents[2]
BENCHMARKS = REPO_ROOT / "BENCHMARKS.md"
RUN_TRAINING = REPO_ROOT / "lib" / "train" / "run_training.py"
RGBT_RUNNER = REPO_ROOT / "RGBT_workspace" / "test_rgbt_mgpus.py"
VIDEO_DEMO = REPO_ROOT / "tracking" / "video_demo.py"
TRAINING_DATASETS = ("GOT10K_vottrain", "LasHeR_train", "DepthTrack_train", "VisEvent")  # cstrack_s1_tiny's
TIMEOUT = 300  # seconds per command; a hang is a failed row, not a hung report
MAX_MESSAGE = 200  # characters of the shown line in the table
DIGEST = re.compile(r"\b([0-9a-f]{8})[0-9a-f]{56}\b")  # SHA-256 digests are shortened in the table
LOG_PREFIX = re.compile(r"^\d{4}-\d\d-\d\d [\d:,.]+ [A-Z]+ (\[rank \d+\] )?[\w.]+: ")


@dataclass
class Row:
    """One line of the table; ``problems`` lists the expectations that did not hold (empty: the row holds)."""

    case: str
    exit_code: str
    message: str
    kept: str
    problems: List[str] = field(default_factory=list)


@dataclass
class Outcome:
    """A finished command: exit code and output."""

    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


class Case:
    """Collects the checks of one case; :meth:`row` turns them into a table row."""

    def __init__(self, title: str, work: Path):
        self.title, self.work, self.problems = title, work, []

    def check(self, condition: object, expectation: str) -> bool:
        if not condition:
            self.problems.append(expectation)
        return bool(condition)

    def shown(self, outcome: Outcome, containing: Optional[str] = None) -> str:
        """The line the user sees: the first line with ``containing``, else the last non-empty line (stderr
        first), without the log prefix and with paths relative to the work folder."""
        lines = [line for line in (outcome.stderr + "\n" + outcome.stdout).splitlines() if line.strip()]
        if containing is not None:
            lines = [line for line in lines if containing in line][:1]
        elif outcome.stderr.strip():
            lines = outcome.stderr.strip().splitlines()[-1:]
        if not self.check(lines, f"a line{f' with {containing!r}' if containing else ''} in the output"):
            return "(no output)"
        return LOG_PREFIX.sub("", lines[-1].strip()).replace(f"{self.work}/", "").replace(str(self.work), ".")

    def row(self, exit_code: str, message: str, kept: str) -> Row:
        return Row(self.title, exit_code, message, kept, list(self.problems))


def run(command: Sequence[str], env: Dict[str, str], cwd: Path = REPO_ROOT, timeout: float = TIMEOUT) -> Outcome:
    """``python <command>`` in ``cwd`` under umask 022."""
    proc = subprocess.run([sys.executable, *map(str, command)], env=env, cwd=str(cwd), capture_output=True,
                          text=True, timeout=timeout, umask=0o022, check=False)
    return Outcome(proc.returncode, proc.stdout, proc.stderr)


def file_mode(path: Path) -> str:
    return oct(stat.S_IMODE(path.stat().st_mode))[2:].rjust(4, "0")


def truncate(path: Path, keep: int) -> None:
    """Cut a file to its first ``keep`` bytes (negative: drop the last ``-keep``), as an interrupted copy does."""
    data = path.read_bytes()
    path.write_bytes(data[:keep])


class Workspace:
    """The temporary folder of one report run: tiny checkpoints, synthetic training data, environments."""

    def __init__(self, root: Path):
        self.root = root
        self.base_env = {k: v for k, v in os.environ.items() if not k.startswith("CSTRACK_") and k != "PYTHONPATH"}
        self.base_env["OMP_NUM_THREADS"] = "1"
        self.train_env: Dict[str, str] = {}
        self.weights: Dict[str, bytes] = {}
        self.weights_digest: Dict[str, str] = {}  # the run identity's weights_sha256 of A and B
        self.modes: Dict[str, str] = {}  # file kind -> mode, filled by the cases that write them
        self.modes_lock = threading.Lock()

    def prepare(self) -> None:
        """Write the two tiny stage-1 checkpoints (same size, other weights) and the training data."""
        import torch

        from lib.config import load_config
        from lib.models import build_model
        from lib.test.tracker import checkpoint_identity
        from tests import synthetic_data

        for name, seed in (("A", 0), ("B", 1)):
            torch.manual_seed(seed)
            net = build_model(load_config("cstrack_s1_tiny", script="cstrack_s1"), arch="cstrack_s1")
            path = self.root / "weights" / name / "CSTRACK_S1_ep0002.pth.tar"
            path.parent.mkdir(parents=True)
            torch.save({"net": net.state_dict()}, path)
            self.weights[name] = path.read_bytes()
            identity = checkpoint_identity("cstrack_s1", path, "lasher", "cstrack_s1_tiny")
            self.weights_digest[name] = identity.fields["weights_sha256"]
        overrides = synthetic_data.write_all_training_datasets(self.root / "data", lmdb=False, names=TRAINING_DATASETS)
        self.train_env = {**self.base_env, **overrides}

    def checkpoint(self, folder: str, weights: str = "A") -> Path:
        """A tiny stage-1 checkpoint ``<folder>/CSTRACK_S1_ep0002.pth.tar`` holding weights ``A`` or ``B``."""
        path = self.root / folder / "CSTRACK_S1_ep0002.pth.tar"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.weights[weights])
        return path

    def benchmark(self, folder: str, frames: Dict[str, int]) -> Path:
        """A LasHeR-layout benchmark ``<folder>`` with ``frames[seq]`` frames per sequence."""
        from tests.test_evaluation import benchmark_data

        return benchmark_data.make_rgbt(self.root / folder, frames)

    def record_modes(self, **modes: str) -> None:
        with self.modes_lock:
            self.modes.update(modes)


def runner_args(data: Path, checkpoint: Path, results: Path, *extra: str) -> List[str]:
    return [RGBT_RUNNER, "--script_name", "cstrack_s1", "--yaml_name", "cstrack_s1_tiny", "--dataset_name", "LasHeR",
            "--checkpoint", checkpoint, "--device", "cpu", "--dataset_dir", data, "--results_dir", results, *extra]


def training_args(save_dir: Path, *extra: str, script: str = "cstrack_s1", config: str = "cstrack_s1_tiny") -> list:
    return [RUN_TRAINING, "--script", script, "--config", config, "--save_dir", save_dir, "--device", "cpu", *extra]


def checkpoint_folder(save_dir: Path, script: str = "cstrack_s1") -> Path:
    """Where run_training.py puts the checkpoints of ``script`` with its tiny config under ``save_dir``."""
    return save_dir / "checkpoints" / "train" / script / f"{script}_tiny"


def result_rows(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.is_file() else 0


# ------------------------------------------------------------------------------------- tracking lane
def retrained_checkpoint(ws: Workspace) -> Row:
    case = Case("Checkpoint retrained to the same path (same size), rerun into the same results folder", ws.root)
    data = ws.benchmark("retrain/lasher", {"a": 3, "b": 3})
    checkpoint, results = ws.checkpoint("retrain"), ws.root / "retrain" / "results"
    first = run(runner_args(data, checkpoint, results), ws.base_env)
    case.check(first.code == 0, "the first run succeeds")
    old = (results / "a.txt").read_bytes()
    ws.record_modes(**{"result file": file_mode(results / "a.txt"), "timing file": file_mode(results / "a_time.txt"),
                       "run_manifest.json": file_mode(results / "run_manifest.json")})
    case.check(len(ws.weights["A"]) == len(ws.weights["B"]), "the retrained file has the same size")
    checkpoint.write_bytes(ws.weights["B"])
    rerun = run(runner_args(data, checkpoint, results), ws.base_env)
    line = case.shown(rerun)
    case.check(rerun.code == 2 and "weights_sha256" in line and "--overwrite" in line,
               "the rerun stops (exit 2) naming the weights digest and --overwrite")
    case.check((results / "a.txt").read_bytes() == old, "the old results are untouched")
    overwrite = run(runner_args(data, checkpoint, results, "--overwrite"), ws.base_env)
    case.check(overwrite.code == 0 and (results / "a.txt").read_bytes() != old,
               "--overwrite tracks again with the new weights")
    return case.row(f"{first.code} → {rerun.code}; --overwrite: {overwrite.code}", line,
                    "the old weights' results untouched; `--overwrite` redoes them with the new weights")


def two_runners(ws: Workspace) -> Row:
    case = Case("Two runners on one results folder (other checkpoints), the second started while the first tracks",
                ws.root)
    data = ws.benchmark("two/lasher", {"long_a": 400, "long_b": 400})
    first_ckpt, second_ckpt = ws.checkpoint("two/first"), ws.checkpoint("two/second", "B")
    results = ws.root / "two" / "results"
    first = subprocess.Popen([sys.executable, *map(str, runner_args(data, first_ckpt, results))], env=ws.base_env,
                             cwd=str(REPO_ROOT), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, umask=0o022)
    try:
        deadline = time.time() + TIMEOUT
        while not (results / "run_manifest.json").exists():  # the first runner has built its tracker
            if first.poll() is not None or time.time() > deadline:
                case.check(False, "the first runner starts tracking")
                return case.row(str(first.poll()), "(the first runner did not start)", "")
            time.sleep(0.05)
        second = run(runner_args(data, second_ckpt, results), ws.base_env)
        case.check(first.poll() is None, "the first runner is still tracking when the second stops (use longer "
                   "sequences)")
        first.wait(timeout=TIMEOUT)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait(timeout=60)
    line = case.shown(second)
    case.check(second.code == 2 and f"in use by another runner (pid {first.pid} on " in line,
               "the second runner stops (exit 2) naming the first one's pid")
    case.check("long_a:" not in second.output and "long_b:" not in second.output, "the second runner tracks nothing")
    case.check(first.returncode == 0, "the first runner finishes")
    case.check(_manifest_matches(results, ws.weights_digest["A"]), "the manifest names the first runner's weights and the "
               "SHA-256 of every result file")
    return case.row(f"first: {first.returncode}, second: {second.code}", line,
                    "the first run's results; its manifest names its weights and each file's SHA-256")


def _manifest_matches(results: Path, weights_digest: str) -> bool:
    """True when ``run_manifest.json`` names the weights digest and the SHA-256 of every result file it lists."""
    import hashlib

    manifest = json.loads((results / "run_manifest.json").read_text())
    if manifest["identity"]["fields"]["weights_sha256"] != weights_digest:
        return False
    recorded = manifest["sequences"]
    return bool(recorded) and all(
        entry["result_sha256"] == hashlib.sha256((results / f"{name}.txt").read_bytes()).hexdigest()
        for name, entry in recorded.items())


def unreadable_checkpoint(ws: Workspace) -> Row:
    case = Case("Runner with a checkpoint that cannot be read (truncated copy), then the corrected rerun", ws.root)
    data = ws.benchmark("badckpt/lasher", {"a": 3, "b": 3})
    good = ws.checkpoint("badckpt/good")
    broken = ws.checkpoint("badckpt/broken")
    truncate(broken, 5000)
    results = ws.root / "badckpt" / "results"
    failed = run(runner_args(data, broken, results), ws.base_env)
    line = case.shown(failed)
    case.check(failed.code == 2 and line.startswith("error: ") and "broken/CSTRACK_S1_ep0002.pth.tar" in line,
               "one error line naming the file, exit 2")
    case.check("Traceback" not in failed.output, "no traceback without --verbose")
    case.check(not (results / "run_manifest.json").exists(), "no manifest from the run that did not start")
    corrected = run(runner_args(data, good, results), ws.base_env)
    case.check(corrected.code == 0 and result_rows(results / "a.txt") == 3 and result_rows(results / "b.txt") == 3,
               "the corrected rerun into the same folder finishes without --overwrite")
    return case.row(f"{failed.code} → {corrected.code}", line,
                    "nothing written, no manifest: the corrected rerun needs no `--overwrite`")


def truncated_frame(ws: Workspace) -> Row:
    case = Case("Truncated JPEG frame (last 150 bytes missing) in a benchmark sequence", ws.root)
    data = ws.benchmark("truncated/lasher", {"a": 3, "b": 4})
    frame = data / "b" / "visible" / "v002.jpg"
    truncate(frame, -150)
    results = ws.root / "truncated" / "results"
    outcome = run(runner_args(data, ws.checkpoint("truncated"), results), ws.base_env)
    line = case.shown(outcome)
    case.check(outcome.code == 2 and "error: 1 sequence(s) failed; the finished ones are kept" in outcome.stderr,
               "exit 2 and a final error saying the finished sequences are kept")
    case.check(line.startswith("b: cannot read image truncated/lasher/b/visible/v002.jpg: the file is truncated"),
               "the last line names the sequence and the truncated frame")
    case.check("Traceback" not in outcome.output, "no traceback")
    case.check(result_rows(results / "a.txt") == 3 and not (results / "b.txt").exists(),
               "the other sequence finished, the damaged one not written")
    return case.row(str(outcome.code), line,
                    "the intact sequence's results; none for the damaged one (rerun completes it once fixed)")


def shifted_x_frames(ws: Workspace) -> Row:
    case = Case("X frame 1 removed and one added at the end (same count, pairs would shift)", ws.root)
    data = ws.benchmark("shifted/lasher", {"a": 4, "b": 3})
    infrared = data / "a" / "infrared"
    (infrared / "i001.jpg").unlink()
    shutil.copy(infrared / "i003.jpg", infrared / "i004.jpg")
    results = ws.root / "shifted" / "results"
    outcome = run(runner_args(data, ws.checkpoint("shifted"), results), ws.base_env)
    line = case.shown(outcome)
    case.check(outcome.code == 2 and "v001.jpg has no X frame with number 1" in line,
               "exit 2 naming the RGB frame without its X partner")
    case.check(not (results / "a.txt").exists(), "no results for the misaligned sequence")
    return case.row(str(outcome.code), line, _kept_results(results, "a"))


def missing_rgb_frame(ws: Workspace) -> Row:
    case = Case("RGB frame missing in the middle of a sequence", ws.root)
    data = ws.benchmark("missing/lasher", {"a": 3, "b": 4})
    (data / "b" / "visible" / "v002.jpg").unlink()
    results = ws.root / "missing" / "results"
    outcome = run(runner_args(data, ws.checkpoint("missing"), results), ws.base_env)
    line = case.shown(outcome)
    case.check(outcome.code == 2 and line.startswith("error: ") and "i002.jpg" in line,
               "exit 2, one error line naming the unpaired frame")
    case.check("Traceback" not in outcome.output, "no traceback")
    case.check(not (results / "b.txt").exists(), "no results for the sequence with the gap")
    return case.row(str(outcome.code), line, _kept_results(results, "b"))


def _kept_results(results: Path, damaged: str) -> str:
    """'what is kept' for a run stopped by one damaged sequence, from the folder's content."""
    finished = sorted(p.stem for p in results.glob("*.txt") if not p.stem.endswith("_time")) if results.is_dir() else []
    if finished:
        return f"results of {', '.join(finished)} kept; none for {damaged}"
    return "nothing written: the frame lists are checked before tracking starts"


def results_without_permission(ws: Workspace) -> Row:
    case = Case("Results folder the runner may not create (`--results_dir /sys/...`, refused even to root)", ws.root)
    data = ws.benchmark("perm/lasher", {"a": 3})
    outcome = run(runner_args(data, ws.checkpoint("perm"), Path("/sys/cstrack_faults/LasHeR")), ws.base_env)
    line = case.shown(outcome)
    case.check(outcome.code == 2 and line.startswith("error: /sys/cstrack_faults: ") and "choose another path" in line,
               "exit 2, one error line naming the folder and the fix")
    case.check("Traceback" not in outcome.output, "no traceback")
    return case.row(str(outcome.code), line, "nothing written")


def killed_parent(ws: Workspace) -> Row:
    case = Case("`kill -9` of a parallel runner's parent (`--threads 2`), then the same command again", ws.root)
    names = {f"s{i}": 80 for i in range(4)}
    data = ws.benchmark("kill/lasher", names)
    results = ws.root / "kill" / "results"
    command = runner_args(data, ws.checkpoint("kill"), results, "--threads", "2")
    parent = subprocess.Popen([sys.executable, *map(str, command)], env=ws.base_env, cwd=str(REPO_ROOT),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, umask=0o022)
    workers: List[int] = []
    try:
        deadline = time.time() + TIMEOUT
        while not list(results.glob("s?.txt")):  # the first sequence is finished, the workers track the others
            if parent.poll() is not None or time.time() > deadline:
                break
            time.sleep(0.02)
        workers = [pid for pid in _children(parent.pid) if b"spawn_main" in _cmdline(pid)]
        case.check(len(workers) == 2 and parent.poll() is None, "two workers tracking when the parent is killed")
        os.kill(parent.pid, signal.SIGKILL)
    finally:
        parent.wait(timeout=60)
    killed_at = time.time()
    while any(_alive(pid) for pid in workers) and time.time() < killed_at + 60:
        time.sleep(0.05)
    survivors = [pid for pid in workers if _alive(pid)]
    gone_after = time.time() - killed_at
    case.check(not survivors, f"the workers die with their parent (still running: {survivors})")
    before = sorted(p.stem for p in results.glob("s?.txt"))
    case.check(len(before) < len(names), "the run was killed part-way")
    rerun = run(command, ws.base_env)
    counts = re.search(r"(\d+) tracked, (\d+) already done", rerun.stderr)
    tracked, skipped = (int(counts.group(1)), int(counts.group(2))) if counts else (0, 0)
    complete = all(result_rows(results / f"{name}.txt") == n for name, n in names.items())
    case.check(rerun.code == 0 and complete and tracked + skipped == len(names), "the rerun finishes every sequence")
    case.check(_manifest_matches(results, ws.weights_digest["A"]), "the manifest lists every result file with its SHA-256")
    case.check(not list(results.glob(".tmp_*")), "no temporary files left")
    return case.row(f"{parent.returncode} → {rerun.code}", case.shown(rerun),
                    f"workers gone {gone_after:.1f} s after the parent; the rerun kept the {skipped} sequence(s) the "
                    f"manifest had recorded ({len(before)} result file(s) were on disk) and tracked {tracked}; "
                    "no temporary files")


def _children(pid: int) -> List[int]:
    children: List[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children += [int(c) for c in (task / "children").read_text().split()]
    return children


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie counts as gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


def demo_box(ws: Workspace, box: str, title: str, expected: str) -> Row:
    case = Case(title, ws.root)
    folder = f"demo_{box.replace(',', '_')}"
    data = ws.benchmark(f"{folder}/frames", {"clip": 4})
    out = ws.root / folder / "out" / "clip.webm"
    outcome = run([VIDEO_DEMO, "--rgb", data / "clip" / "visible", "--x", data / "clip" / "infrared",
                   "--checkpoint", ws.checkpoint("demo"), "--script", "cstrack_s1", "--config", "cstrack_s1_tiny",
                   "--device", "cpu", "--init", box, "--out", out], ws.base_env)
    line = case.shown(outcome)
    case.check(outcome.code == 2 and line.startswith("error: --init") and expected in line,
               f"exit 2, one error line about --init ({expected!r})")
    case.check("Traceback" not in outcome.output, "no traceback")
    case.check(not out.parent.exists() or not any(out.parent.iterdir()), "no video and no box file")
    return case.row(str(outcome.code), line, "nothing written")


def vot_retrained(ws: Workspace) -> Row:
    case = Case("VOT workspace: results of checkpoint A, then A retrained at the same path, "
                "`python -m lib.test.vot.evaluate` again", ws.root)
    from lib.test.vot.evaluate import IDENTITY_FILE, identity_for

    workspace = ws.root / "vot"
    workspace.mkdir()
    for name in ("config.yaml", "depthtrack.yaml", "trackers.ini"):
        shutil.copy(REPO_ROOT / "Depthtrack_workspace" / name, workspace / name)
    checkpoint = ws.checkpoint("vot/checkpoints")
    env = {**ws.base_env, "CSTRACK_S1_CHECKPOINT": str(checkpoint), "CSTRACK_CONFIG": "cstrack_s1_tiny",
           "CSTRACK_DEVICE": "cpu", "VOT_PERSISTENT_CACHE": "0"}
    folder = workspace / "results" / "cstrack_s1"
    trajectory = folder / "rgbd-unsupervised" / "seq" / "seq_001.txt"
    trajectory.parent.mkdir(parents=True)
    trajectory.write_text("1\n2,2,4,4\n")
    # what `python -m lib.test.vot.evaluate` records after a run with checkpoint A
    recorded = identity_for({**env, "CSTRACK_SCRIPT": "cstrack_s1", "CSTRACK_VOT_DATASET": "depthtrack"}).to_dict()
    (folder / IDENTITY_FILE).write_text(json.dumps(recorded, indent=2, sort_keys=True) + "\n")
    checkpoint.write_bytes(ws.weights["B"])
    outcome = run(["-m", "lib.test.vot.evaluate", "--workspace", workspace, "cstrack_s1"], env, timeout=120)
    line = case.shown(outcome)
    case.check(outcome.code == 2 and "another run" in line and "weights_sha256" in line and "--force" in line,
               "exit 2 naming the changed weights digest and --force")
    case.check(json.loads((folder / IDENTITY_FILE).read_text()) == recorded and trajectory.is_file(),
               "the recorded identity and the trajectories are untouched")
    return case.row(str(outcome.code), line, "the old trajectories and their `cstrack_run.json`; `--force` runs again")


def runner_unknown_script(ws: Workspace) -> Row:
    case = Case("Runner with an unknown `--script_name cstrack_s3`", ws.root)
    outcome = run([RGBT_RUNNER, "--script_name", "cstrack_s3"], ws.base_env)
    line = case.shown(outcome)
    case.check(outcome.code == 2 and "invalid choice: 'cstrack_s3'" in line and "cstrack_s1" in line,
               "exit 2 listing the known names")
    return case.row(str(outcome.code), line, "nothing written")


# ------------------------------------------------------------------------------------- training lane
# stage 1 draws only from LasHeR (one sequence intact, one damaged), 4 samples per epoch, 2 epochs
STAGE1_OPTIONS = ("--cfg-options", "DATA.TRAIN.SAMPLE_PER_EPOCH=4", "DATA.TRAIN.DATASETS_NAME=[LasHeR_train]",
                  "DATA.TRAIN.DATASETS_RATIO=[1]", "DATA.ALL_SEQUENCES=[LasHeR_train]")
STAGE2_OPTIONS = ("--cfg-options", "DATA.TRAIN.SAMPLE_PER_EPOCH=2", "TRAIN.EPOCH=1")


def stage1_training(ws: Workspace) -> Row:
    """Stage 1 on LasHeR-layout data whose first sequence has only truncated RGB frames; its checkpoints
    are reused by the resume and warm-start cases."""
    case = Case("Truncated JPEG frames in the training data (every RGB frame of one LasHeR sequence)", ws.root)
    lasher = Path(ws.train_env["CSTRACK_LASHER_DIR"])
    damaged_sequence = min(p for p in lasher.iterdir() if p.is_dir())
    for frame in (damaged_sequence / "visible").glob("*.jpg"):
        truncate(frame, frame.stat().st_size // 2)
    outcome = run(training_args(ws.root / "s1", *STAGE1_OPTIONS), ws.train_env)
    counted = case.shown(outcome, containing="bad-data draws per dataset")
    case.check(outcome.code == 0, "training finishes")
    case.check(any("bad data, drawing again: cannot read image" in line and f"{damaged_sequence.name}/visible" in line
                   and "truncated" in line for line in outcome.stderr.splitlines()),
               "the damaged frames are named in the log")
    checkpoints = checkpoint_folder(ws.root / "s1")
    case.check((checkpoints / "CSTRACK_S1_ep0002.pth.tar").is_file(), "both epochs trained")
    if (checkpoints / "CSTRACK_S1_ep0001.pth.tar").is_file():
        ws.record_modes(**{"checkpoint": file_mode(checkpoints / "CSTRACK_S1_ep0001.pth.tar"),
                           "config.yaml": file_mode(checkpoints / "config.yaml")})
    return case.row(str(outcome.code), counted,
                    "the damaged frames named in the log, their samples drawn again and counted; training goes on")


def truncated_resume(ws: Workspace) -> Row:
    case = Case("Newest checkpoint truncated, `--resume auto` (the same command again)", ws.root)
    from lib.utils.checkpoint import CheckpointError, read_checkpoint

    newest = checkpoint_folder(ws.root / "s1") / "CSTRACK_S1_ep0002.pth.tar"
    truncate(newest, newest.stat().st_size // 2)
    outcome = run(training_args(ws.root / "s1", *STAGE1_OPTIONS), ws.train_env)
    line = case.shown(outcome, containing="resuming from the previous checkpoint")
    case.check(outcome.code == 0, "training finishes")
    case.check("CSTRACK_S1_ep0002" in line and "truncated" in line,
               "a warning naming the unreadable checkpoint")
    case.check(any(l.find("resumed from") >= 0 and "CSTRACK_S1_ep0001" in l for l in outcome.stderr.splitlines()),
               "resumed from the previous checkpoint")
    try:
        epoch = read_checkpoint(str(newest))["epoch"]
    except CheckpointError as e:
        epoch = f"unreadable: {e}"
    case.check(epoch == 2, f"epoch 2 trained again and saved readable (got {epoch})")
    return case.row(str(outcome.code), line, "epoch 1 kept and resumed from; epoch 2 trained again and rewritten")


def warm_start_lines(ws: Workspace) -> List[Row]:
    """Two stage-2 runs; the tensor counts of each warm-start line are checked against the files."""
    from lib.utils.checkpoint import read_checkpoint

    rows = []
    s1_checkpoint = checkpoint_folder(ws.root / "s1") / "CSTRACK_S1_ep0002.pth.tar"
    s2_checkpoint = checkpoint_folder(ws.root / "s2a", "cstrack_s2") / "CSTRACK_S2_ep0001.pth.tar"
    for save_dir, source, title, expected, absent in (
            ("s2a", s1_checkpoint, "Stage 2 warm start from a stage-1 checkpoint: the log line",
             "not in the file, keeping their initialisation: dy_template_pos_embed, temporal_fusion",
             "loaded from the file as well"),
            ("s2b", s2_checkpoint, "Stage 2 warm start from a stage-2 file (new modules present): the log line",
             "new modules loaded from the file as well: dy_template_pos_embed, temporal_fusion",
             "keeping their initialisation")):
        case = Case(title, ws.root)
        outcome = run(training_args(ws.root / save_dir, "--pretrained", source, *STAGE2_OPTIONS,
                                    script="cstrack_s2", config="cstrack_s2_tiny"), ws.train_env)
        line = case.shown(outcome, containing="warm start of CSTRACK_S2")
        case.check(outcome.code == 0, "training finishes")
        case.check(expected in line and absent not in line, f"the line says {expected!r}")
        trained = checkpoint_folder(ws.root / save_dir, "cstrack_s2") / "CSTRACK_S2_ep0001.pth.tar"
        network, file = set(read_checkpoint(str(trained))["net"]), set(read_checkpoint(str(source))["net"])
        counts = f"{len(network & file)} of {len(network)} tensors loaded"
        case.check(counts in line, f"the line's counts match the files ({counts})")
        rows.append(case.row(str(outcome.code), line, f"{counts} (counted in the files): as the line says"))
    return rows


def unwritable_save_dir(ws: Workspace) -> Row:
    case = Case("Training with an unwritable `--save_dir` (below a file)", ws.root)
    blocker = ws.root / "a_file"
    blocker.write_text("not a folder\n")
    outcome = run(training_args(blocker / "out"), ws.train_env)
    line = case.shown(outcome)
    case.check(outcome.code == 2 and len(outcome.stderr.strip().splitlines()) == 1
               and line.startswith("training failed: cannot write to --save_dir"),
               "exit 2 and exactly one line naming --save_dir")
    return case.row(str(outcome.code), line, "nothing written")


def missing_training_data(ws: Workspace) -> Row:
    case = Case("Training data root missing (`CSTRACK_LASHER_DIR` points nowhere)", ws.root)
    env = {**ws.train_env, "CSTRACK_LASHER_DIR": str(ws.root / "no_lasher_here")}
    save_dir = ws.root / "nodata"
    outcome = run(training_args(save_dir), env)
    line = case.shown(outcome)
    lines = outcome.stderr.strip().splitlines()
    log = save_dir / "logs" / "cstrack_s1-cstrack_s1_tiny.log"
    case.check(outcome.code == 2 and "lasher_dir" in line and "no_lasher_here" in line, "exit 2 naming the setting")
    case.check(len(lines) < 10 and "Traceback" not in outcome.stderr and "DATASETS_RATIO" not in outcome.stderr,
               "short output: no config dump, no traceback")
    case.check(log.is_file() and "DATASETS_RATIO" in log.read_text(), "the config dump is in the log file")
    return case.row(str(outcome.code), line, f"the config dump and traceback in the log file only ({len(lines)} "
                    "console lines)")


# (case, yaml written to configs/<name> or None for cstrack_s1_tiny, its text (None: binary), --cfg-options,
#  the start of the expected line)
CONFIG_CASES = (
    ("Config `TRAIN.EPOCH: 2.5`", "epoch.yaml", "_base_: {tiny}\nTRAIN:\n  EPOCH: 2.5\n", (),
     "training failed: configs/epoch.yaml: TRAIN.EPOCH: expected an integer, got float"),
    ("`--cfg-options TRAIN.BATCH_SIZE=2.7`", None, None, ("--cfg-options", "TRAIN.BATCH_SIZE=2.7"),
     "training failed: override: TRAIN.BATCH_SIZE: expected an integer, got float"),
    ("Config `MODEL.BACKBONE.DEPTHS: [a, b, c]`", "depths.yaml",
     "_base_: {tiny}\nMODEL:\n  BACKBONE:\n    DEPTHS: [a, b, c]\n", (),
     "training failed: configs/depths.yaml: MODEL.BACKBONE.DEPTHS[0]: expected an integer, got str"),
    ("Config `_base_: 5`", "base.yaml", "_base_: 5\n", (),
     "training failed: configs/base.yaml: _base_ must be a yaml file name"),
    ("Config that is a binary file", "binary.yaml", None, (),
     "training failed: configs/binary.yaml: not a UTF-8 text yaml file"),
)


def config_errors(ws: Workspace) -> List[Row]:
    rows = []
    tiny = REPO_ROOT / "experiments" / "cstrack_s1" / "cstrack_s1_tiny.yaml"
    (ws.root / "configs").mkdir()
    for index, (title, name, text, options, expected) in enumerate(CONFIG_CASES):
        case = Case(title, ws.root)
        config = "cstrack_s1_tiny"
        if name is not None:
            path = ws.root / "configs" / name
            if text is None:
                path.write_bytes(b"PK\x03\x04\x00\xff\xfe\x80 binary")
            else:
                path.write_text(text.format(tiny=tiny))
            config = str(path)
        save_dir = ws.root / "configs" / f"run{index}"
        outcome = run(training_args(save_dir, *options, config=config), ws.train_env)
        line = case.shown(outcome)
        case.check(outcome.code == 2 and line.startswith(expected),
                   f"exit 2 naming the file and the key ({expected!r})")
        case.check("Traceback" not in outcome.stderr, "no traceback on the console")
        case.check(not list(save_dir.glob("checkpoints/**/*.pth.tar")), "no checkpoint")
        rows.append(case.row(str(outcome.code), line, "nothing trained; the traceback in the log file"))
    return rows


def unknown_script(ws: Workspace) -> List[Row]:
    rows = []
    for script, config, title in (
            ("cstrack_s3", "cstrack_s1_tiny", "Training with an unknown `--script cstrack_s3`"),
            ("cstrack_s1", "cstrack_s2_tiny", "Training `--script cstrack_s1` with the other script's config")):
        case = Case(title, ws.root)
        outcome = run(training_args(ws.root / "scripts" / script, script=script, config=config), ws.train_env)
        line = case.shown(outcome)
        suggested = re.findall(r"did you mean '?([\w.]+?)'?\?", line)
        case.check(outcome.code == 2 and line.startswith("training failed: "), "exit 2, one line")
        case.check(script not in suggested and config not in suggested,
                   f"no 'did you mean' suggesting the typed name (suggested: {suggested})")
        rows.append(case.row(str(outcome.code), line, "nothing written"))
    return rows


def other_checkout(ws: Workspace) -> List[Row]:
    """A copy of the entry points and ``lib`` whose ``lib`` says where it was imported from."""
    copy = ws.root / "other_checkout"
    ignore = shutil.ignore_patterns("__pycache__", "local.py")
    for folder in ("lib", "RGBT_workspace", "tracking"):
        shutil.copytree(REPO_ROOT / folder, copy / folder, symlinks=True, ignore=ignore)
    with open(copy / "lib" / "__init__.py", "a", encoding="utf-8") as f:
        f.write("\nimport sys as _sys\n_sys.stderr.write(f'lib imported from {__file__}\\n')\n")
    (copy / "lib" / "train" / "admin" / "local.py").write_text("lasot_dir = os.getcwd()\n")
    marker = f"lib imported from {copy / 'lib' / '__init__.py'}"
    rows = []
    for title, command, cwd in (
            ("`lib/train/run_training.py --help` run by path from another checkout",
             [copy / "lib" / "train" / "run_training.py", "--help"], ws.root),
            ("`RGBT_workspace/test_rgbt_mgpus.py --help` run by path from another checkout",
             [copy / "RGBT_workspace" / "test_rgbt_mgpus.py", "--help"], ws.root)):
        case = Case(title, ws.root)
        outcome = run(command, ws.base_env, cwd=cwd)
        case.check(outcome.code == 0 and marker in outcome.stderr, "that checkout's lib is imported")
        rows.append(case.row(str(outcome.code), case.shown(outcome, containing="lib imported from"),
                             "runs the code of the checkout it lives in (the editable install points elsewhere)"))
    case = Case("`python -m lib.config.environment` in that checkout, whose local.py has `lasot_dir = os.getcwd()`",
                ws.root)
    outcome = run(["-m", "lib.config.environment"], ws.base_env, cwd=copy)
    line = case.shown(outcome)
    case.check(marker in outcome.stderr, "that checkout's lib is imported")
    case.check(outcome.code == 2 and line.startswith("error: ") and "local.py:1" in line and "not understood" in line,
               "exit 2, one line naming the file, the line and the forms understood")
    case.check("Traceback" not in outcome.stderr, "no traceback")
    rows.append(case.row(str(outcome.code), line, "the file is read, never run or rewritten"))
    return rows


def file_modes(ws: Workspace) -> Row:
    case = Case("File modes under umask 022 (results, manifest, checkpoints)", ws.root)
    expected = ("result file", "timing file", "run_manifest.json", "checkpoint", "config.yaml")
    for kind in expected:
        case.check(ws.modes.get(kind) == "0644", f"{kind} written 0644 (got {ws.modes.get(kind)})")
    return case.row("0", "-", ", ".join(f"{kind} {ws.modes.get(kind, '?')}" for kind in expected))


# ------------------------------------------------------------------------------------- report
def huge_demo_box(ws: Workspace) -> Row:
    return demo_box(ws, "0,0,100000,100000", "Demo `--init 0,0,100000,100000` (huge box)",
                    "larger than the first frame")


def zero_width_demo_box(ws: Workspace) -> Row:
    return demo_box(ws, "10,10,0,5", "Demo `--init 10,10,0,5` (zero width)", "w, h > 0")


CaseFunction = Callable[[Workspace], object]
# Execution order per lane (the training lane reuses the stage-1 run's checkpoints).
LANES: Sequence[Sequence[CaseFunction]] = (
    (stage1_training, truncated_resume, warm_start_lines, unwritable_save_dir, missing_training_data, config_errors,
     unknown_script, other_checkout),
    (retrained_checkpoint, two_runners, unreadable_checkpoint, truncated_frame, shifted_x_frames, missing_rgb_frame,
     results_without_permission, killed_parent, huge_demo_box, zero_width_demo_box, vot_retrained,
     runner_unknown_script),
)
# Table order: the items of issue 11 (stale results, damaged input, silent faults, config types, processes and files).
TABLE_ORDER: Sequence[CaseFunction] = (
    retrained_checkpoint, two_runners, unreadable_checkpoint, vot_retrained,
    truncated_frame, shifted_x_frames, missing_rgb_frame, stage1_training,
    unwritable_save_dir, results_without_permission, huge_demo_box, zero_width_demo_box, missing_training_data,
    config_errors, unknown_script, runner_unknown_script,
    killed_parent, truncated_resume, other_checkout, warm_start_lines,
)


def run_lane(ws: Workspace, lane: Sequence[CaseFunction], rows: Dict[CaseFunction, List[Row]]) -> None:
    """Run ``lane``'s cases in order; a case that crashes becomes one FAILED row and the lane goes on."""
    for case in lane:
        started = time.perf_counter()
        try:
            result = case(ws)
            rows[case] = result if isinstance(result, list) else [result]
        except Exception as e:  # noqa: BLE001 (a crashed case is a FAILED row, the others still run)
            rows[case] = [Row(case.__name__, "?", "(the case crashed)", "", [f"{type(e).__name__}: {e}"])]
        verdict = "FAILED" if any(row.problems for row in rows[case]) else "ok"
        print(f"{case.__name__}: {verdict} ({time.perf_counter() - started:.0f} s)", file=sys.stderr, flush=True)


def run_all(root: Path, jobs: int) -> List[Row]:
    """Every case, in :data:`TABLE_ORDER`, then the file modes the cases saw."""
    ws = Workspace(root)
    ws.prepare()
    rows: Dict[CaseFunction, List[Row]] = {}
    if jobs > 1:
        threads = [threading.Thread(target=run_lane, args=(ws, lane, rows)) for lane in LANES]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    else:
        for lane in LANES:
            run_lane(ws, lane, rows)
    return [row for case in TABLE_ORDER for row in rows[case]] + [file_modes(ws)]


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def shortened(message: str) -> str:
    """``message`` for the table: digests cut to 8 hex digits, at most :data:`MAX_MESSAGE` characters."""
    message = DIGEST.sub(r"\1…", message)
    return message if len(message) <= MAX_MESSAGE else message[:MAX_MESSAGE - 2].rstrip() + " …"


def markdown_table(rows: List[Row]) -> str:
    lines = ["| Case | Exit | What the user sees | What is kept | Holds |", "|---|---|---|---|---|"]
    for row in rows:
        message = "`" + shortened(row.message).replace("`", "'") + "`" if row.message not in ("-", "") else "-"
        verdict = "yes" if not row.problems else "**FAILED**: " + "; ".join(row.problems)
        lines.append(f"| {cell(row.case)} | {cell(row.exit_code)} | {cell(message)} | {cell(row.kept)} | "
                     f"{cell(verdict)} |")
    return "\n".join(lines)


def section(table: str, seconds: float) -> str:
    import torch

    from lib.utils.machine import cpu_name

    intro = (f"`python -m tests.tools.fault_report --write` ran every case below on "
             f"{datetime.date.today().isoformat()} ({cpu_name()}, {os.cpu_count()} cores, 1-minute load average "
             f"{os.getloadavg()[0]:.1f} at the end, torch {torch.__version__}, Python {platform.python_version()}; "
             f"{seconds:.0f} s in all): the command a user would run, on tiny synthetic data, under umask 022. Exit 2 "
             "is a problem with the user's files or settings, 1 a failure of the run itself; paths are shown relative "
             "to the report's temporary folder, SHA-256 digests cut to 8 digits. The script checks every row and "
             "fails when one does not hold.")
    return "\n".join(["## Faults and what happens", "", intro, "", table])


def write_section(text: str, path: Path = BENCHMARKS) -> None:
    """Replace the faults section of ``path`` (append it at the end the first time); nothing else changes."""
    from lib.utils.machine import write_markdown_section

    write_markdown_section(path, "faults", text)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"put the table into {BENCHMARKS.name}")
    parser.add_argument("--keep", default=None, help="work in this (new or empty) folder and keep it")
    parser.add_argument("--jobs", type=int, choices=(1, 2), default=2, help="lanes run side by side")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    if args.keep:
        root = Path(args.keep).resolve()
        root.mkdir(parents=True, exist_ok=True)
        if any(root.iterdir()):
            parser.error(f"--keep {root}: the folder is not empty")
        rows = run_all(root, args.jobs)
    else:
        with tempfile.TemporaryDirectory(prefix="cstrack_faults_") as tmp:
            rows = run_all(Path(tmp), args.jobs)
    seconds = time.perf_counter() - started
    table = markdown_table(rows)
    print(table)
    failed = [row.case for row in rows if row.problems]
    print(f"\n{len(rows)} cases in {seconds:.0f} s; " + (f"FAILED: {len(failed)}" if failed else "every row holds"),
          file=sys.stderr)
    for name in failed:
        print(f"FAILED: {name}", file=sys.stderr)
    if args.write:
        write_section(section(table, seconds))
        print(f"wrote the table into {BENCHMARKS}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
