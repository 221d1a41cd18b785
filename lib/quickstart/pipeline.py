"""The quickstart: synthetic RGB-T data -> stage-1 and stage-2 training -> tracking -> evaluation -> video.

Every step calls the framework's real entry points, the commands a user would type:

1. ``data``: :func:`lib.quickstart.synthetic_rgbt.generate_dataset` writes a LasHeR-layout dataset;
2. ``stage1`` / ``stage2``: ``lib/train/run_training.py`` with ``experiments/cstrack_s{1,2}/
   cstrack_s{1,2}_quickstart.yaml`` (``CSTRACK_LASHER_DIR`` points at the synthetic training split);
3. ``track``: ``RGBT_workspace/test_rgbt_mgpus.py`` on the synthetic test split with the stage-2 checkpoint;
4. ``evaluate``: :mod:`lib.test.analysis` scores it next to a static-box baseline (the first box
   repeated), writes the table, per-sequence CSV and success / precision plots;
5. ``video``: an annotated side-by-side RGB | X video of one test sequence (:mod:`lib.quickstart.visualize`).

The run is resumable: each finished step is recorded in ``<workdir>/quickstart_state.json`` with its
outputs and skipped on the next run while those outputs exist; an interrupted training resumes from
its last checkpoint (the trainer's own ``--resume auto``), an interrupted tracking run from its last
finished sequence (the runner skips complete result files). Child processes' full output goes to
``<workdir>/logs/<step>.log``; their progress lines are echoed.
"""
from __future__ import annotations

import datetime
import json
import logging
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections import deque
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import cv2
import numpy as np

from lib.utils.files import atomic_write_text
from lib.utils.machine import cpu_name
from lib.utils.timefmt import format_duration
from lib.quickstart.synthetic_rgbt import SyntheticRGBTConfig, generate_dataset
from lib.quickstart.visualize import GT_COLOR, PRED_COLOR, annotate_pair, check_video, write_video

logger = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
RUN_TRAINING = REPO_ROOT / "lib" / "train" / "run_training.py"
RGBT_RUNNER = REPO_ROOT / "RGBT_workspace" / "test_rgbt_mgpus.py"
STATE_FILE = "quickstart_state.json"
SUMMARY_FILE = "summary.json"
# Sub-folders of the work directory this module creates (and the only ones --fresh removes).
OWNED = ("data", "train", "results", "report", "logs", STATE_FILE)

STAGE1 = ("cstrack_s1", "cstrack_s1_quickstart")
STAGE2 = ("cstrack_s2", "cstrack_s2_quickstart")
TRACKER_NAME = "CSTrack (quickstart)"
STATIC_NAME = "Static box (first frame)"
BENCHMARK = "LasHeR"


class QuickstartError(RuntimeError):
    """A step that failed or a work directory that cannot be used; the message says what to do."""


@dataclass(frozen=True)
class Profile:
    """Sizes of one quickstart flavour: the dataset and the training schedule overrides of both stages."""

    name: str
    data: SyntheticRGBTConfig
    stage1_options: Tuple[str, ...] = ()
    stage2_options: Tuple[str, ...] = ()
    fps: float = 15.0


PROFILES: Dict[str, Profile] = {
    # about 7 minutes on a 2-core CPU (BENCHMARKS.md): the yamls' own schedules.
    "default": Profile("default", SyntheticRGBTConfig(num_train=24, num_test=6, train_frames=80, test_frames=120)),
    # about 1 minute (CI, tests): fewer, shorter sequences and a short schedule.
    "quick": Profile("quick", SyntheticRGBTConfig(num_train=12, num_test=3, train_frames=60, test_frames=90),
                     stage1_options=("TRAIN.EPOCH=3", "TRAIN.LR_DROP_EPOCH=3", "DATA.TRAIN.SAMPLE_PER_EPOCH=768"),
                     stage2_options=("TRAIN.EPOCH=1", "TRAIN.LR_DROP_EPOCH=1", "DATA.TRAIN.SAMPLE_PER_EPOCH=96")),
}


@dataclass(frozen=True)
class Step:
    """One resumable step: its key in the state file, the title shown in the progress lines, and the
    step whose re-execution makes its recorded outputs stale (the data is deterministic, so
    regenerating it invalidates nothing)."""

    key: str
    title: str
    depends_on: Optional[str] = None


STEPS = (Step("data", "generate the synthetic RGB-T dataset (LasHeR layout)"),
         Step("stage1", "train stage 1 (lib/train/run_training.py, cstrack_s1_quickstart)"),
         Step("stage2", "train stage 2 (lib/train/run_training.py, cstrack_s2_quickstart)", "stage1"),
         Step("track", "track the test split (RGBT_workspace/test_rgbt_mgpus.py)", "stage2"),
         Step("evaluate", "evaluate against the static-box baseline (lib.test.analysis)", "track"),
         Step("video", "write the annotated RGB | X video", "track"))

# Child-process lines worth echoing: training progress, checkpoints, the runner's per-sequence lines.
_ECHO = re.compile(r"\[train: |epoch \d+ done|saved checkpoint|resumed from|warm start|^\[\d+/\d+\] |"
                   r"sequences already finished|tracked, .* failed of|Error|error:|Traceback")
_LOG_PREFIX = re.compile(r"^\d{4}-\d\d-\d\d [\d:,]+ (INFO|WARNING|ERROR|CRITICAL) \[rank \d+\] [\w.]+: ")
# Expected warnings: the synthetic data has no official split list; a stage-2 warm start misses the
# stage-2-only modules (the next line, "stage-2 warm start ...", says so without alarm).
_QUIET_WARNINGS = ("split file", "missing keys ['dy_template_pos_embed")



class Quickstart:
    """One quickstart run in ``workdir`` (see the module docstring).

    Args:
        workdir: where everything is written (made absolute).
        profile: ``"default"`` or ``"quick"`` (:data:`PROFILES`).
        seed: seed of the dataset and both trainings.
        device: ``cpu``, ``cuda`` or ``auto`` (training and tracking).
        threads: intra-op threads of the training and tracking processes (``OMP_NUM_THREADS``). The toy
            model gains little from a second thread on an idle machine, while two threads on a busy
            2-core machine ran a training step 30x slower than one (OpenMP threads waiting on each other).
        verbose: echo every line of the child processes, not only progress lines.
        echo: where progress lines go (default: ``print`` with flush).
    """

    def __init__(self, workdir: os.PathLike, profile: str = "default", seed: int = 0, device: str = "cpu",
                 threads: int = 1, verbose: bool = False, echo: Optional[Callable[[str], None]] = None):
        if profile not in PROFILES:
            raise QuickstartError(f"unknown profile '{profile}'; known: {sorted(PROFILES)}")
        self.workdir = Path(os.path.abspath(workdir))
        self.profile = PROFILES[profile]
        self.seed = int(seed)
        self.device = device
        if threads < 1:
            raise QuickstartError(f"threads must be at least 1, got {threads}")
        self.threads = int(threads)
        self.verbose = verbose
        self.echo = echo or (lambda line: print(line, flush=True))
        self.data_config = replace(self.profile.data, seed=self.seed)
        self.state_path = self.workdir / STATE_FILE
        self.state: Dict[str, Any] = {}
        self.times: Dict[str, Tuple[float, bool]] = {}

    # ------------------------------------------------------------------ paths
    @property
    def data_root(self) -> Path:
        return self.workdir / "data" / "lasher"

    @property
    def train_dir(self) -> Path:
        return self.workdir / "train"

    @property
    def report_dir(self) -> Path:
        return self.workdir / "report"

    @property
    def results_dirs(self) -> Dict[str, Path]:
        return {TRACKER_NAME: self.workdir / "results" / "cstrack_quickstart",
                STATIC_NAME: self.workdir / "results" / "static_box"}

    def log_path(self, step: str) -> Path:
        return self.workdir / "logs" / f"{step}.log"

    def checkpoint_path(self, stage: Tuple[str, str], options: Sequence[str]) -> Path:
        """The last checkpoint the trainer writes for ``stage`` with these overrides (its own naming)."""
        from lib.config import load_config
        from lib.utils.checkpoint_layout import checkpoint_name, net_type_of, run_checkpoint_dir

        script, config = stage
        cfg = load_config(config, script=script, overrides=list(options))
        folder = run_checkpoint_dir(str(self.train_dir / "checkpoints"), script, config)
        return Path(folder) / checkpoint_name(net_type_of(script), cfg.TRAIN.EPOCH)

    # ------------------------------------------------------------------ state
    def _identity(self) -> Dict[str, Any]:
        return {"profile": self.profile.name, "seed": self.seed}

    def _load_state(self) -> None:
        """Read the state file, or start a new one; refuse a work directory of another profile / seed."""
        if self.state_path.is_file():
            with open(self.state_path, "r", encoding="utf-8") as f:
                self.state = json.load(f)
            if self.state.get("identity") != self._identity():
                raise QuickstartError(
                    f"{self.workdir} holds a quickstart run with {self.state.get('identity')}, this run asks for "
                    f"{self._identity()}. Use another --workdir, or pass --fresh to delete that run and start over.")
        else:
            self.state = {"identity": self._identity(), "steps": {}}

    def _save_state(self) -> None:
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.state_path, json.dumps(self.state, indent=2) + "\n")

    def clear(self) -> None:
        """Delete the outputs of an earlier run in the work directory (only what this module creates)."""
        for name in OWNED:
            path = self.workdir / name
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()

    def _finished(self, key: str) -> Optional[Dict[str, Any]]:
        """The recorded outputs of a finished step whose files all still exist, else None."""
        record = self.state.get("steps", {}).get(key)
        if not record or not record.get("done"):
            return None
        missing = [p for p in record.get("files", {}).values() if not Path(p).exists()]
        if missing:
            self.echo(f"      (outputs of an earlier run are gone: {missing[0]}; running the step again)")
            return None
        return record

    def _run_step(self, index: int, step: Step, fn: Callable[[], Dict[str, Any]],
                  reset: Optional[Callable[[], None]] = None) -> Dict[str, Any]:
        """Run ``fn`` unless the step finished in an earlier run; record its outputs and time.

        When the step it depends on ran again in this invocation, its old outputs are stale: ``reset``
        removes what would otherwise be resumed from (old checkpoints, old result files) and it runs again.
        """
        prefix = f"[{index}/{len(STEPS)}]"
        stale = step.depends_on is not None and not self.times.get(step.depends_on, (0.0, True))[1]
        record = None if stale else self._finished(step.key)
        if record is not None:
            self.echo(f"{prefix} {step.title}: reused (finished in an earlier run in "
                      f"{format_duration(record['seconds'])})")
            self.times[step.key] = (0.0, True)
            return record
        if stale and reset is not None:
            reset()
        self.echo(f"{prefix} {step.title} ...")
        start = time.perf_counter()
        record = fn()
        seconds = time.perf_counter() - start
        record.update(done=True, seconds=round(seconds, 2),
                      finished_at=datetime.datetime.now().isoformat(timespec="seconds"))
        self.state.setdefault("steps", {})[step.key] = record
        self._save_state()
        self.times[step.key] = (seconds, False)
        self.echo(f"{prefix} done in {format_duration(seconds)}")
        return record

    # ------------------------------------------------------------------ child processes
    def _run_child(self, step: str, command: List[str], env: Optional[Mapping[str, str]] = None) -> None:
        """Run a real entry point; echo its progress lines, keep its full output in ``logs/<step>.log``."""
        shown = [Path(c).relative_to(REPO_ROOT).as_posix() if c.startswith(str(REPO_ROOT) + os.sep) else c
                 for c in command[1:]]
        self.echo("      $ python " + shlex.join(shown))
        log_path = self.log_path(step)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        threads = str(self.threads)
        child_env = dict(os.environ, PYTHONUNBUFFERED="1", OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads,
                         **(env or {}))
        tail: deque = deque(maxlen=25)
        with open(log_path, "a", encoding="utf-8") as log, subprocess.Popen(
                command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=child_env,
                cwd=str(REPO_ROOT), bufsize=1) as proc:
            for line in proc.stdout:
                log.write(line)
                tail.append(line.rstrip())
                message = _LOG_PREFIX.sub("", line.rstrip())
                level = _LOG_PREFIX.match(line)
                is_warning = level is not None and level.group(1) != "INFO"
                if is_warning and any(q in message for q in _QUIET_WARNINGS):
                    continue
                if self.verbose or is_warning or _ECHO.search(message):
                    self.echo(f"      {level.group(1) + ': ' if is_warning else ''}{message}")
            code = proc.wait()
        if code != 0:
            raise QuickstartError(f"step '{step}' failed: {shlex.join(command)} exited with status {code}.\n"
                                  f"Last lines:\n" + "\n".join(tail) + f"\nFull output: {log_path}. "
                                  f"Run the quickstart again to resume after fixing the cause.")

    # ------------------------------------------------------------------ steps
    def step_data(self) -> Dict[str, Any]:
        manifest = generate_dataset(self.data_root, self.data_config, progress=lambda m: self.echo(f"      {m}"))
        return {"files": {"train_dir": manifest["train_dir"], "test_dir": manifest["test_dir"]},
                "train_sequences": len(manifest["train_sequences"]),
                "test_sequences": len(manifest["test_sequences"])}

    def _train(self, key: str, stage: Tuple[str, str], options: Sequence[str], train_dir: str,
               pretrained: Optional[str] = None) -> Dict[str, Any]:
        self._check_split_files()
        script, config = stage
        command = [sys.executable, str(RUN_TRAINING), "--script", script, "--config", config,
                   "--save_dir", str(self.train_dir), "--device", self.device, "--seed", str(self.seed)]
        if pretrained:
            command += ["--pretrained", pretrained]
        if options:
            command += ["--cfg-options", *options]
        self._run_child(key, command, env={"CSTRACK_LASHER_DIR": train_dir})
        checkpoint = self.checkpoint_path(stage, options)
        if not checkpoint.is_file():
            raise QuickstartError(f"training finished but {checkpoint} is missing; see {self.log_path(key)}")
        return {"files": {"checkpoint": str(checkpoint),
                          "log": str(self.train_dir / "logs" / f"{script}-{config}.log")}}

    def step_track(self, checkpoint: str, test_dir: str) -> Dict[str, Any]:
        results = self.results_dirs[TRACKER_NAME]
        command = [sys.executable, str(RGBT_RUNNER), "--script_name", STAGE2[0], "--yaml_name", STAGE2[1],
                   "--dataset_name", BENCHMARK, "--dataset_dir", test_dir, "--checkpoint", checkpoint,
                   "--results_dir", str(results), "--threads", "1", "--mode", "sequential"]
        if self.device != "auto":
            command += ["--device", self.device]
        self._run_child("track", command)
        return {"files": {"results": str(results)}}

    def step_evaluate(self, test_dir: str) -> Dict[str, Any]:
        from lib.test.analysis import compare_trackers
        from lib.test.analysis.report import format_table, plot_curves, write_sequence_scores
        from lib.test.evaluation.datasets import RGBT_FORMAT, load_benchmark
        from lib.test.evaluation.running import format_rows

        static_dir = self.results_dirs[STATIC_NAME]
        for seq in load_benchmark(BENCHMARK, test_dir).sequences:
            boxes = np.repeat(seq.ground_truth[:1], len(seq), axis=0)
            atomic_write_text(str(static_dir / f"{seq.name}.txt"), format_rows(boxes, RGBT_FORMAT))
        results = compare_trackers(BENCHMARK, {k: str(v) for k, v in self.results_dirs.items()}, test_dir)
        report = self.report_dir
        report.mkdir(parents=True, exist_ok=True)
        table = format_table(results)
        (report / "scores.txt").write_text(table + "\n", encoding="utf-8")
        (report / "scores.md").write_text(format_table(results, markdown=True) + "\n", encoding="utf-8")
        scores = {name: result.scores() for name, result in results.items()}
        (report / "scores.json").write_text(json.dumps(scores, indent=2) + "\n", encoding="utf-8")
        csv_path = write_sequence_scores(results, report / "per_sequence.csv")
        plots = plot_curves(results, report / "plots")
        for line in table.splitlines():
            self.echo(f"      {line}")
        files = {"scores_txt": str(report / "scores.txt"), "scores_md": str(report / "scores.md"),
                 "scores_json": str(report / "scores.json"), "per_sequence_csv": str(csv_path),
                 "static_results": str(static_dir)}
        files.update({f"plot_{Path(p).stem.split('_', 1)[1]}": str(p) for p in plots})
        per_seq = {name: {s: v["SR"] for s, v in r.sequence_scores().items()} for name, r in results.items()}
        return {"files": files, "scores": scores, "sequence_sr": per_seq}

    def step_video(self, test_dir: str, results_dir: str) -> Dict[str, Any]:
        from lib.test.analysis.readers import read_boxes
        from lib.test.evaluation.datasets import load_benchmark
        from lib.test.analysis.metrics import rect_iou

        seq = load_benchmark(BENCHMARK, test_dir).sequences[0]
        pred = read_boxes(Path(results_dir) / f"{seq.name}.txt")
        gt = seq.ground_truth
        iou = rect_iou(pred, gt)
        preview_index = int(0.6 * (len(seq) - 1))
        preview: Dict[str, np.ndarray] = {}

        def frames():
            for i in range(len(seq)):
                rgb = cv2.imread(seq.rgb_frames[i], cv2.IMREAD_COLOR)
                x = cv2.imread(seq.x_frames[i], cv2.IMREAD_COLOR)
                header = f"{seq.name}  frame {i + 1}/{len(seq)}  IoU {iou[i]:.2f}"
                frame = annotate_pair(rgb, x, [(gt[i], GT_COLOR, "ground truth"), (pred[i], PRED_COLOR, TRACKER_NAME)],
                                      header=header, labels=("RGB", "X (thermal)"), scale=2.0)
                if i == preview_index:
                    preview["frame"] = frame
                yield frame

        written = write_video(self.report_dir / f"{seq.name}.webm", frames(), fps=self.profile.fps)
        video, count = written.path, written.frames
        info = check_video(video, count)
        still = self.report_dir / f"{seq.name}_frame{preview_index + 1:04d}.png"
        if not cv2.imwrite(str(still), preview["frame"], [cv2.IMWRITE_PNG_COMPRESSION, 9]):
            raise QuickstartError(f"cannot write {still}")
        self.echo(f"      {video.name}: {count} frames {info['width']}x{info['height']}, {written.codec.name} "
                  f"({'plays in browsers' if written.codec.browser_playable else 'not playable in browsers'}), "
                  f"read back by OpenCV")
        return {"files": {"video": str(video), "frame_png": str(still)}, "sequence": seq.name, "frames": count}

    # ------------------------------------------------------------------ the whole run
    def run(self, fresh: bool = False) -> Dict[str, Any]:
        """Run (or resume) every step, print and write the summary; returns the summary dict."""
        start = time.perf_counter()
        if fresh:
            self.clear()
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._load_state()
        self.echo(f"CSTrack quickstart ({self.profile.name} profile, seed {self.seed}, device {self.device}, "
                  f"{self.threads} thread(s) per process) in {self.workdir}")
        data = self._run_step(1, STEPS[0], self.step_data)
        train_dir, test_dir = data["files"]["train_dir"], data["files"]["test_dir"]
        s1 = self._run_step(2, STEPS[1], lambda: self._train("stage1", STAGE1, self.profile.stage1_options, train_dir))
        s2 = self._run_step(3, STEPS[2], lambda: self._train("stage2", STAGE2, self.profile.stage2_options, train_dir,
                                                             pretrained=s1["files"]["checkpoint"]),
                            reset=lambda: _remove(self.checkpoint_path(STAGE2, self.profile.stage2_options).parent))
        track = self._run_step(4, STEPS[3], lambda: self.step_track(s2["files"]["checkpoint"], test_dir),
                               reset=lambda: _remove(self.results_dirs[TRACKER_NAME]))
        evaluation = self._run_step(5, STEPS[4], lambda: self.step_evaluate(test_dir))
        video = self._run_step(6, STEPS[5], lambda: self.step_video(test_dir, track["files"]["results"]))
        summary = self._summary(time.perf_counter() - start, data, s1, s2, track, evaluation, video)
        self._print_summary(summary)
        return summary

    def _check_split_files(self) -> None:
        """An official LasHeR split list would restrict training to sequences the synthetic data lacks."""
        from lib.train.dataset.base_video_dataset import DATA_SPECS_DIR
        from lib.train.dataset.lasher import LasHeR

        split = DATA_SPECS_DIR / LasHeR.SPLIT_FILES["train"]
        if split.is_file():
            raise QuickstartError(
                f"{split} exists: LasHeR_train would train on the official sequence list, which the synthetic "
                f"quickstart data does not have. Move the file aside while running the quickstart.")

    def _summary(self, total: float, data, s1, s2, track, evaluation, video) -> Dict[str, Any]:
        files = {"train split": data["files"]["train_dir"], "test split": data["files"]["test_dir"],
                 "stage-1 checkpoint": s1["files"]["checkpoint"], "stage-2 checkpoint": s2["files"]["checkpoint"],
                 "training logs": str(self.train_dir / "logs"), "tensorboard": str(self.train_dir / "tensorboard"),
                 "tracker results": track["files"]["results"],
                 "static-box results": evaluation["files"]["static_results"],
                 "score table": evaluation["files"]["scores_txt"], "scores (json)": evaluation["files"]["scores_json"],
                 "per-sequence scores": evaluation["files"]["per_sequence_csv"]}
        files.update({k.replace("plot_", "").replace("_", " ") + " plot": v
                      for k, v in evaluation["files"].items() if k.startswith("plot_")})
        files.update({"video": video["files"]["video"], "video frame": video["files"]["frame_png"],
                      "step logs": str(self.workdir / "logs")})
        steps = {}
        for step in STEPS:
            record = self.state["steps"][step.key]
            seconds, reused = self.times.get(step.key, (record["seconds"], True))
            steps[step.key] = {"seconds": record["seconds"], "reused": reused, "this_run_seconds": round(seconds, 2)}
        summary = {"profile": self.profile.name, "seed": self.seed, "device": self.device, "threads": self.threads,
                   "workdir": str(self.workdir),
                   "scores": evaluation["scores"], "tracker": TRACKER_NAME, "baseline": STATIC_NAME,
                   "steps": steps, "total_seconds_this_run": round(total, 2),
                   "total_seconds_all_steps": round(sum(s["seconds"] for s in steps.values()), 2),
                   "video_sequence": video["sequence"], "video_frames": video["frames"], "files": files,
                   "cpu": cpu_name(), "python": platform.python_version()}
        atomic_write_text(self.report_dir / SUMMARY_FILE, json.dumps(summary, indent=2) + "\n")
        summary["files"]["summary"] = str(self.report_dir / SUMMARY_FILE)
        return summary

    def _print_summary(self, summary: Mapping[str, Any]) -> None:
        ours, static = summary["scores"][TRACKER_NAME], summary["scores"][STATIC_NAME]
        echo = self.echo
        echo("")
        echo("=" * 78)
        echo(f"Quickstart finished ({summary['profile']} profile) in {format_duration(summary['total_seconds_this_run'])}"
             f" (all steps: {format_duration(summary['total_seconds_all_steps'])})")
        echo(f"  {TRACKER_NAME}: SR {ours['SR']:.3f}  PR {ours['PR']:.3f}  NPR {ours['NPR']:.3f}")
        echo(f"  {STATIC_NAME}: SR {static['SR']:.3f}  PR {static['PR']:.3f}  NPR {static['NPR']:.3f}")
        verdict = "beats" if ours["SR"] > static["SR"] else "does NOT beat"
        echo(f"  the trained tracker {verdict} the static box on success rate (SR, area under the success curve)")
        echo("  step times: " + ", ".join(
            f"{k} {format_duration(v['seconds'])}{' (reused)' if v['reused'] else ''}" for k, v in summary["steps"].items()))
        echo("Files:")
        width = max(len(k) for k in summary["files"])
        for name, path in summary["files"].items():
            echo(f"  {name:<{width}}  {_display(path)}")
        echo("Next: track your own RGB + X frames with the trained model:")
        echo(f"  python tracking/video_demo.py --rgb RGB_DIR_OR_VIDEO --x X_DIR_OR_VIDEO "
             f"--checkpoint {_display(summary['files']['stage-2 checkpoint'])} --init x,y,w,h")
        echo("=" * 78)


def _remove(path: Path) -> None:
    """Delete a stale output folder of this module (checkpoints or results of an outdated step)."""
    if path.is_dir():
        logger.info("removing stale outputs %s", path)
        shutil.rmtree(path)


def _display(path: str) -> str:
    """A path relative to the current directory when below it (shorter lines)."""
    try:
        return os.path.relpath(path) if Path(path).resolve().is_relative_to(Path.cwd().resolve()) else path
    except ValueError:
        return path


__all__ = ["PROFILES", "Profile", "Quickstart", "QuickstartError", "STATIC_NAME", "STEPS", "TRACKER_NAME"]
