"""The quickstart: synthetic RGB-T data -> stage-1 and stage-2 training -> tracking -> evaluation -> video -> report.

Every step uses the framework's real entry points, the commands a user would type (they run in this
process, :mod:`lib.quickstart.entry_points`, and are printed as shell commands):

1. ``data``: :func:`lib.quickstart.synthetic_rgbt.generate_dataset` writes a LasHeR-layout dataset;
2. ``stage1`` / ``stage2``: ``lib/train/run_training.py`` with ``experiments/cstrack_s{1,2}/
   cstrack_s{1,2}_quickstart.yaml`` (``CSTRACK_LASHER_DIR`` points at the synthetic training split);
3. ``track``: ``RGBT_workspace/test_rgbt_mgpus.py`` on the synthetic test split with the stage-2 checkpoint;
4. ``evaluate``: :mod:`lib.test.analysis` scores it next to a static-box baseline (the first box
   repeated), writes the table, per-sequence CSV and success / precision plots;
5. ``video``: an annotated side-by-side RGB | X video of one test sequence (:mod:`lib.quickstart.visualize`);
6. ``report``: the self-contained HTML report (:mod:`lib.test.analysis.html_report`) with that video.

The run is resumable (:mod:`lib.quickstart.state`): finished steps are reused, an interrupted training
resumes from its last checkpoint (the trainer's own ``--resume auto``), an interrupted tracking run
from its last finished sequence. Each step's full output goes to ``<workdir>/logs/<step>.log``.
"""
from __future__ import annotations

import json
import logging
import os
import resource
import shutil
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Sequence, Tuple

import cv2
import numpy as np
import torch

from lib.quickstart.entry_points import REPO_ROOT, run_entry_point, terminal_echo
from lib.quickstart.errors import QuickstartError
from lib.quickstart.profiles import PROFILES
from lib.quickstart.state import STATE_FILE, Step, StepRunner
from lib.quickstart.summary import demo_command, print_summary, write_summary
from lib.quickstart.synthetic_rgbt import generate_dataset
from lib.quickstart.visualize import GT_COLOR, PRED_COLOR, annotate_pair, check_video, write_video
from lib.utils.files import atomic_write_text

logger = logging.getLogger(__name__)

RUN_TRAINING = REPO_ROOT / "lib" / "train" / "run_training.py"
RGBT_RUNNER = REPO_ROOT / "RGBT_workspace" / "test_rgbt_mgpus.py"
# What this module creates in the work directory (and the only things --fresh removes).
OWNED = ("data", "train", "results", "report", "logs", "demo", STATE_FILE)
STAGE1 = ("cstrack_s1", "cstrack_s1_quickstart")
STAGE2 = ("cstrack_s2", "cstrack_s2_quickstart")
TRACKER_NAME = "CSTrack (quickstart)"
STATIC_NAME = "Static box (first frame)"
BENCHMARK = "LasHeR"
# Loggers whose INFO lines are shown while a step runs (warnings of every lib logger are shown anyway).
TRAINING_LOGGERS = ("lib.train.trainers", "lib.train.train_script", "lib.train.data.loader")
RUNNER_LOGGERS = ("lib.test.evaluation",)

STEPS = (Step("data", "generate the synthetic RGB-T dataset (LasHeR layout)"),
         Step("stage1", "train stage 1 (lib/train/run_training.py, cstrack_s1_quickstart)"),
         Step("stage2", "train stage 2 (lib/train/run_training.py, cstrack_s2_quickstart)", "stage1"),
         Step("track", "track the test split (RGBT_workspace/test_rgbt_mgpus.py)", "stage2"),
         Step("evaluate", "evaluate against the static-box baseline (lib.test.analysis)", "track"),
         Step("video", "write the annotated RGB | X video", "track"),
         Step("report", "write the HTML report (lib.test.analysis.html_report)", "video"))


def cpu_seconds() -> float:
    """User + system CPU time of this process and its finished children (data-loader workers)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class Quickstart:
    """One quickstart run in ``workdir`` (see the module docstring).

    Args:
        workdir: where everything is written (made absolute).
        profile: ``"default"`` or ``"quick"`` (:data:`lib.quickstart.profiles.PROFILES`).
        seed: seed of the dataset and both trainings.
        device: ``cpu``, ``cuda`` or ``auto`` (training and tracking).
        threads: torch intra-op threads. The toy model gains little from a second thread on an idle
            machine, while two threads on a busy 2-core machine ran a training step 30x slower than
            one (OpenMP threads waiting on each other); the second core loads the training data.
        verbose: echo every log line of the entry points, not only progress lines and warnings.
        echo: where progress lines go (default: the standard output).
    """

    def __init__(self, workdir: os.PathLike, profile: str = "default", seed: int = 0, device: str = "cpu",
                 threads: int = 1, verbose: bool = False, echo: Optional[Callable[[str], None]] = None):
        if profile not in PROFILES:
            raise QuickstartError(f"unknown profile '{profile}'; known: {sorted(PROFILES)}")
        if threads < 1:
            raise QuickstartError(f"threads must be at least 1, got {threads}")
        self.workdir = Path(os.path.abspath(workdir))
        self.profile = PROFILES[profile]
        self.seed = int(seed)
        self.device = device
        self.threads = int(threads)
        self.verbose = verbose
        self.echo = echo or terminal_echo()
        self.data_config = replace(self.profile.data, seed=self.seed)
        self.steps = StepRunner(self.workdir, STEPS, {"profile": self.profile.name, "seed": self.seed}, self.echo)

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

    def clear(self) -> None:
        """Delete the outputs of an earlier run in the work directory (only what this module creates)."""
        for name in OWNED:
            path = self.workdir / name
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()

    # ------------------------------------------------------------------ steps
    def step_data(self) -> Dict[str, Any]:
        manifest = generate_dataset(self.data_root, self.data_config, progress=lambda m: self.echo(f"      {m}"))
        return {"files": {"train_dir": manifest["train_dir"], "test_dir": manifest["test_dir"]},
                "train_sequences": len(manifest["train_sequences"]),
                "test_sequences": len(manifest["test_sequences"])}

    def _train(self, key: str, stage: Tuple[str, str], options: Sequence[str], train_dir: str,
               pretrained: Optional[str] = None) -> Dict[str, Any]:
        script, config = stage
        argv = ["--script", script, "--config", config, "--save_dir", str(self.train_dir), "--device", self.device,
                "--seed", str(self.seed)]
        if pretrained:
            argv += ["--pretrained", pretrained]
        if options:
            argv += ["--cfg-options", *options]
        run_entry_point(RUN_TRAINING, argv, self.log_path(key), self.echo, TRAINING_LOGGERS,
                        env={"CSTRACK_LASHER_DIR": train_dir}, verbose=self.verbose)
        checkpoint = self.checkpoint_path(stage, options)
        if not checkpoint.is_file():
            raise QuickstartError(f"training finished but {checkpoint} is missing; see {self.log_path(key)}")
        return {"files": {"checkpoint": str(checkpoint),
                          "log": str(self.train_dir / "logs" / f"{script}-{config}.log")}}

    def step_track(self, checkpoint: str, test_dir: str) -> Dict[str, Any]:
        results = self.results_dirs[TRACKER_NAME]
        argv = ["--script_name", STAGE2[0], "--yaml_name", STAGE2[1], "--dataset_name", BENCHMARK,
                "--dataset_dir", test_dir, "--checkpoint", checkpoint, "--results_dir", str(results),
                "--threads", "1", "--mode", "sequential"]
        if self.device != "auto":
            argv += ["--device", self.device]
        run_entry_point(RGBT_RUNNER, argv, self.log_path("track"), self.echo, RUNNER_LOGGERS, verbose=self.verbose)
        return {"files": {"results": str(results)}}

    def step_evaluate(self, test_dir: str) -> Dict[str, Any]:
        from lib.test.analysis import compare_trackers
        from lib.test.analysis.report import format_table, plot_curves, write_sequence_scores
        from lib.test.evaluation.datasets import RGBT_FORMAT, load_benchmark
        from lib.test.evaluation.results import format_rows

        static_dir = self.results_dirs[STATIC_NAME]
        for seq in load_benchmark(BENCHMARK, test_dir).sequences:
            boxes = np.repeat(seq.ground_truth[:1], len(seq), axis=0)
            atomic_write_text(static_dir / f"{seq.name}.txt", format_rows(boxes, RGBT_FORMAT))
        results = compare_trackers(BENCHMARK, {k: str(v) for k, v in self.results_dirs.items()}, test_dir)
        report = self.report_dir
        table = format_table(results)
        scores = {name: result.scores() for name, result in results.items()}
        files = {"scores_txt": report / "scores.txt", "scores_md": report / "scores.md",
                 "scores_json": report / "scores.json"}
        atomic_write_text(files["scores_txt"], table + "\n")
        atomic_write_text(files["scores_md"], format_table(results, markdown=True) + "\n")
        atomic_write_text(files["scores_json"], json.dumps(scores, indent=2) + "\n")
        files["per_sequence_csv"] = write_sequence_scores(results, report / "per_sequence.csv")
        files.update({f"plot_{Path(p).stem.split('_', 1)[1]}": p for p in plot_curves(results, report / "plots")})
        files["static_results"] = static_dir
        for line in table.splitlines():
            self.echo(f"      {line}")
        return {"files": {k: str(v) for k, v in files.items()}, "scores": scores}

    def step_video(self, test_dir: str, results_dir: str) -> Dict[str, Any]:
        from lib.test.analysis.metrics import rect_iou
        from lib.test.analysis.readers import read_boxes
        from lib.test.evaluation.datasets import load_benchmark

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
                                      header=header, labels=("RGB", "X (thermal)"), scale=self.profile.video_scale)
                if i == preview_index:
                    preview["frame"] = frame
                yield frame

        video = write_video(self.report_dir / f"{seq.name}.webm", frames(), fps=self.profile.fps)
        info = check_video(video.path, video.frames)
        still = self.report_dir / f"{seq.name}_frame{preview_index + 1:04d}.png"
        if not cv2.imwrite(str(still), preview["frame"], [cv2.IMWRITE_PNG_COMPRESSION, 9]):
            raise QuickstartError(f"cannot write {still}")
        playable = "plays in browsers" if video.codec.browser_playable else "not playable in browsers"
        self.echo(f"      {video.path.name}: {video.frames} frames {info['width']}x{info['height']}, "
                  f"{video.codec.name} ({playable})")
        return {"files": {"video": str(video.path), "frame_png": str(still)}, "sequence": seq.name,
                "frames": video.frames}

    def step_report(self, test_dir: str, video: str) -> Dict[str, Any]:
        from lib.test.analysis.html_report import write_html_report

        path = write_html_report(self.report_dir / "report.html", BENCHMARK, test_dir,
                                 {k: str(v) for k, v in self.results_dirs.items()}, video=video,
                                 title="CSTrack quickstart: synthetic RGB-T test split")
        self.echo(f"      {path.name}: {path.stat().st_size / 1e6:.1f} MB, opens offline in any browser")
        return {"files": {"html": str(path)}}

    # ------------------------------------------------------------------ the whole run
    def run(self, fresh: bool = False) -> Dict[str, Any]:
        """Run (or resume) every step, print and write the summary; returns the summary dict."""
        start, cpu_start = time.perf_counter(), cpu_seconds()
        if fresh:
            self.clear()
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.steps.load()
        torch.set_num_threads(self.threads)
        self.echo(f"CSTrack quickstart ({self.profile.name} profile: {self.profile.description}; seed {self.seed}, "
                  f"device {self.device}, {self.threads} torch thread(s)) in {self.workdir}")
        profile, run = self.profile, self.steps.run
        data = run("data", self.step_data)
        train_dir, test_dir = data["files"]["train_dir"], data["files"]["test_dir"]
        s1 = run("stage1", lambda: self._train("stage1", STAGE1, profile.stage1_options, train_dir))
        s2 = run("stage2", lambda: self._train("stage2", STAGE2, profile.stage2_options, train_dir,
                                               pretrained=s1["files"]["checkpoint"]),
                 reset=lambda: _remove(self.checkpoint_path(STAGE2, profile.stage2_options).parent))
        track = run("track", lambda: self.step_track(s2["files"]["checkpoint"], test_dir),
                    reset=lambda: _remove(self.results_dirs[TRACKER_NAME]))
        evaluation = run("evaluate", lambda: self.step_evaluate(test_dir))
        video = run("video", lambda: self.step_video(test_dir, track["files"]["results"]))
        html = run("report", lambda: self.step_report(test_dir, video["files"]["video"]))
        summary = self._summary(time.perf_counter() - start, cpu_seconds() - cpu_start,
                                data, s1, s2, track, evaluation, video, html)
        print_summary(summary, self.echo)
        return summary

    def _summary(self, total: float, cpu: float, data, s1, s2, track, evaluation, video, html) -> Dict[str, Any]:
        from lib.test.evaluation.datasets import load_benchmark

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
                      "html report": html["files"]["html"], "step logs": str(self.workdir / "logs")})
        steps = {}
        for step in STEPS:
            record = self.steps.record(step.key)
            seconds, reused = self.steps.times.get(step.key, (record["seconds"], True))
            steps[step.key] = {"seconds": record["seconds"], "reused": reused, "this_run_seconds": round(seconds, 2)}
        seq = load_benchmark(BENCHMARK, data["files"]["test_dir"])[video["sequence"]]
        command = demo_command(os.path.dirname(seq.rgb_frames[0]), os.path.dirname(seq.x_frames[0]),
                               ",".join(f"{v:g}" for v in seq.ground_truth[0]), s2["files"]["checkpoint"],
                               str(self.workdir / "demo" / f"{seq.name}.webm"))
        return write_summary(self.report_dir, {
            "profile": self.profile.name, "seed": self.seed, "device": self.device, "threads": self.threads,
            "workdir": str(self.workdir), "scores": evaluation["scores"], "tracker": TRACKER_NAME,
            "baseline": STATIC_NAME, "steps": steps, "total_seconds_this_run": round(total, 2),
            "cpu_seconds_this_run": round(cpu, 2),
            "total_seconds_all_steps": round(sum(s["seconds"] for s in steps.values()), 2),
            "video_sequence": video["sequence"], "video_frames": video["frames"], "files": files,
            "demo_command": command})


def _remove(path: Path) -> None:
    """Delete a stale output folder of this module (checkpoints or results of an outdated step)."""
    if path.is_dir():
        logger.info("removing stale outputs %s", path)
        shutil.rmtree(path)


__all__ = ["BENCHMARK", "PROFILES", "Quickstart", "QuickstartError", "STATIC_NAME", "STEPS", "TRACKER_NAME"]
