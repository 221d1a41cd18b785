"""Track a user's own pair of RGB and X sequences and write the box file and an annotated video.

The engine of ``tracking/video_demo.py``::

    from lib.quickstart.demo import run_demo
    result = run_demo("rgb_frames/", "thermal.mp4", "CSTRACK_S2_ep0050.pth.tar", init=(120, 80, 40, 60),
                      out="demo.mp4")

* Sources are folders of frames (ordered by the number in the file name) or video files; both must
  have the same number of frames. Two folders are paired by frame number (``lib.utils.frame_lists``).
* X is converted as the benchmarks feed it (:mod:`lib.utils.rgbx`): thermal and event images as
  3-channel RGB (``rgbrgb``), 16-bit depth PNGs clipped at ``min(3 x median, 10 m)``, min-max
  normalised and JET-coloured (``rgbcolormap``, VOT-RGBD / DepthTrack). ``x_type="auto"`` picks depth
  for 16-bit images, thermal otherwise.
* The tracker comes from the checkpoint: the config stored in checkpoints written by this framework's
  trainer is used unless ``config`` names a yaml; released checkpoints (weights only) need the yaml
  they were trained with (default ``experiments/<script>/<script>.yaml``).
* Without ``init`` the first box is drawn with ``cv2.selectROI``; without a GUI (headless OpenCV, no
  display, or a display that does not answer: :mod:`lib.quickstart.display`) that is a
  :class:`DemoError` asking for ``init``. The first box must lie in the first frame: finite, at
  least 2 pixels wide and high, its centre inside the frame and not larger than the frame.
* The annotated video is VP8 WebM by default (browsers play it; :mod:`lib.quickstart.visualize`).

Every user mistake (missing or unreadable file, differing frame counts, a checkpoint that does not
fit) raises :class:`DemoError` with a message that names the file and what to do.
"""
from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

import cv2
import numpy as np

from lib.quickstart.display import gui_unavailable_reason
from lib.quickstart.visualize import PRED_COLOR, VideoWriteError, annotate_pair, check_video, to_bgr, write_video
from lib.utils.files import atomic_write_text
from lib.utils.frame_lists import FramePairingError, list_frames, pair_frames
from lib.utils.rgbx import FrameReadError, depth_to_colormap, merge_rgbx, x_to_3ch_rgb

logger = logging.getLogger(__name__)

PathLike = Union[str, Path]
X_TYPES = ("auto", "thermal", "event", "depth")
# Dataset name given to the tracker per X type: it selects the template-update threshold the
# benchmarks of that modality use (LasHeR 0.45, VisEvent / DepthTrack 0.7; quirk Q13 in docs/parity.md).
TRACKER_DATASET = {"thermal": "lasher", "event": "visevent", "depth": "depthtrack"}
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff")


class DemoError(ValueError):
    """A problem with the user's inputs; the message says which file and what to do."""


# ------------------------------------------------------------------------------------------ sources
class FrameSource:
    """Frames of a folder (sorted by the last number in the name) or of a video file, read lazily.

    ``role`` ("RGB" or "X") names the source in error messages; X images of a folder are read as
    stored (16-bit depth stays 16-bit), RGB images as 8-bit BGR.
    """

    def __init__(self, path: PathLike, role: str):
        self.path = Path(path)
        self.role = role
        self.files: List[Path] = []
        self.fps: Optional[float] = None
        if self.path.is_dir():
            self.files = [self.path / name for name in list_frames(str(self.path), IMAGE_EXTENSIONS)]
            if not self.files:
                raise DemoError(f"--{role.lower()} {self.path}: the folder holds no image files "
                                f"({', '.join(IMAGE_EXTENSIONS)})")
            self.count = len(self.files)
        elif self.path.is_file():
            self.count, self.fps = self._probe_video()
        else:
            raise DemoError(f"--{role.lower()} {self.path}: no such file or folder")

    def _probe_video(self) -> Tuple[int, Optional[float]]:
        """Frame count (by grabbing every frame: container counts can be wrong) and frame rate."""
        cap = cv2.VideoCapture(str(self.path))
        try:
            if not cap.isOpened():
                raise DemoError(f"--{self.role.lower()} {self.path}: OpenCV cannot open this file as a video "
                                f"(for single images, pass the folder that holds them)")
            count = 0
            while cap.grab():
                count += 1
            fps = cap.get(cv2.CAP_PROP_FPS)
        finally:
            cap.release()
        if count == 0:
            raise DemoError(f"--{self.role.lower()} {self.path}: OpenCV decodes no frame from this file")
        return count, (float(fps) if fps and np.isfinite(fps) and fps > 0 else None)

    @property
    def is_video(self) -> bool:
        return not self.files

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[np.ndarray]:
        if not self.is_video:
            flag = cv2.IMREAD_COLOR if self.role == "RGB" else cv2.IMREAD_UNCHANGED
            for path in self.files:
                image = cv2.imread(str(path), flag)
                if image is None:
                    raise DemoError(f"--{self.role.lower()}: cannot read image {path} (missing, empty or not an "
                                    f"image OpenCV can decode)")
                yield image
            return
        cap = cv2.VideoCapture(str(self.path))
        try:
            for index in range(self.count):
                ok, frame = cap.read()
                if not ok:
                    raise DemoError(f"--{self.role.lower()} {self.path}: frame {index} cannot be decoded")
                yield frame
        finally:
            cap.release()


def pair_by_number(rgb: FrameSource, x: FrameSource) -> None:
    """Two frame folders: put RGB frame k beside the X frame of the same number (a missing frame is a
    DemoError naming it, not a silent shift of every later pair); videos pair by position."""
    if rgb.is_video or x.is_video:
        return
    try:
        rgb_names, x_names = pair_frames(str(rgb.path), [f.name for f in rgb.files], str(x.path),
                                         [f.name for f in x.files])
    except FramePairingError as e:
        raise DemoError(f"the RGB and X frames do not pair up: {e}") from e
    rgb.files = [rgb.path / name for name in rgb_names]
    x.files = [x.path / name for name in x_names]


def resolve_x_type(x_type: str, first_x: np.ndarray) -> str:
    """``auto`` -> ``depth`` for 16-bit (or wider) X images, ``thermal`` otherwise."""
    if x_type not in X_TYPES:
        raise DemoError(f"unknown X type '{x_type}'; choose one of {X_TYPES}")
    if x_type != "auto":
        return x_type
    return "depth" if first_x.dtype != np.uint8 else "thermal"


def prepare_pair(rgb_bgr: np.ndarray, x_raw: np.ndarray, x_type: str,
                 where: str = "") -> Tuple[np.ndarray, np.ndarray]:
    """(the H x W x 6 tracker frame, the X image to show) for one RGB / X pair, as the benchmarks read them.

    ``where`` ("in frame 12") completes error messages.
    """
    rgb = cv2.cvtColor(to_bgr(rgb_bgr), cv2.COLOR_BGR2RGB)
    try:
        if x_type == "depth":
            depth = x_raw[..., 0] if x_raw.ndim == 3 else x_raw
            x = depth_to_colormap(depth, clip=True)  # JET in OpenCV's BGR order, as the RGB-D benchmarks feed it
            shown = x
        else:
            if x_raw.dtype != np.uint8:
                raise DemoError(f"X image {where} is {x_raw.dtype}: {x_type} images must be 8-bit "
                                f"(16-bit depth maps need --x_type depth or auto)")
            x = x_to_3ch_rgb(x_raw, where)
            shown = to_bgr(x_raw)
        return merge_rgbx(rgb, x, where), shown
    except FrameReadError as e:
        raise DemoError(str(e)) from e


# ------------------------------------------------------------------------------------------ first box
def parse_box(text: str) -> Tuple[float, float, float, float]:
    """``"x,y,w,h"`` (pixels, commas or spaces) -> floats; DemoError for anything else."""
    parts = [p for p in text.replace(",", " ").split() if p]
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        values = ()
    if len(values) != 4 or not all(np.isfinite(values)) or values[2] <= 0 or values[3] <= 0:
        raise DemoError(f"--init '{text}': expected x,y,w,h in pixels with w, h > 0 (e.g. --init 120,80,40,60)")
    return values


MIN_BOX_SIDE = 2.0


def check_init_box(box: Sequence[float], width: int, height: int) -> None:
    """The first box must describe a target in the first frame; DemoError (one line) otherwise.

    Finite values, at least ``MIN_BOX_SIDE`` pixels wide and high, its centre inside the frame (a target
    may be cut by the border) and no larger than the frame: the tracker's crop grows with the box, so
    a huge box would make OpenCV allocate a crop of that size.
    """
    text = ",".join(f"{v:g}" for v in box)
    where = f"the first frame ({width}x{height})"
    x, y, w, h = (float(v) for v in box)
    if not all(np.isfinite((x, y, w, h))):
        raise DemoError(f"--init {text}: the values must be finite numbers (x,y,w,h in pixels)")
    if w < MIN_BOX_SIDE or h < MIN_BOX_SIDE:
        raise DemoError(f"--init {text}: the box must be at least {MIN_BOX_SIDE:g} pixels wide and high")
    if w > width or h > height:
        raise DemoError(f"--init {text}: the box is larger than {where}; give the target's box in pixels "
                        f"of the first frame")
    if not (0 <= x + w / 2 < width and 0 <= y + h / 2 < height):
        raise DemoError(f"--init {text} lies outside {where}: the box's centre must be inside the frame")


def select_box(first_bgr: np.ndarray) -> Tuple[float, float, float, float]:
    """Let the user draw the target's box on the first frame (cv2.selectROI)."""
    reason = gui_unavailable_reason()
    if reason is not None:
        raise DemoError(f"cannot ask for the first box: {reason}. Pass the target's box in the first frame "
                        f"with --init x,y,w,h (pixels).")
    title = "CSTrack demo: drag a box around the target, then press ENTER (c cancels)"
    try:
        x, y, w, h = cv2.selectROI(title, first_bgr, showCrosshair=True, fromCenter=False)
    finally:
        cv2.destroyAllWindows()
    if w <= 0 or h <= 0:
        raise DemoError("no box was drawn; draw one or pass --init x,y,w,h")
    return float(x), float(y), float(w), float(h)


# ------------------------------------------------------------------------------------------ tracker
def load_tracker(checkpoint: PathLike, script: Optional[str], config: Optional[str], dataset_name: str,
                 device: str, precision: str = "fp32") -> Tuple[Any, str]:
    """The tracker for ``checkpoint`` and a one-line description; DemoError when they do not fit.

    Config: ``config`` if given, else the one stored in the checkpoint (framework-trained files),
    else ``experiments/<script>/<script>.yaml`` (released weights).
    """
    from lib.config import ConfigError, config_from_dict
    from lib.registry import TRACKERS
    from lib.test.tracker import build_tracker
    from lib.utils.device import resolve_device
    from lib.models import build_model
    from lib.utils.checkpoint import CheckpointError, load_network_weights, read_checkpoint

    path = str(checkpoint)
    if not os.path.isfile(path):
        raise DemoError(f"--checkpoint {path}: no such file")
    hint = ("Pass the --script (cstrack_s1 / cstrack_s2) and --config (yaml name or path) the checkpoint was "
            "trained with.")
    try:
        ckpt = None if config else read_checkpoint(path)
        stored = ckpt.get("config") if isinstance(ckpt, Mapping) else None
        if stored:
            cfg = config_from_dict(stored, source=f"{path} (stored config)")
            script = script or cfg.MODEL.ARCH
            net = build_model(cfg, arch=script)
            load_network_weights(net, path, strict=True)
            tracker = TRACKERS.get(script)(net, cfg, dataset_name=dataset_name, device=resolve_device(device),
                                           precision=precision)
            return tracker, f"{script} with the config stored in the checkpoint"
        script = script or "cstrack_s2"
        tracker = build_tracker(script, checkpoint=path, dataset_name=dataset_name, device=device,
                                config=config or script, precision=precision)
        return tracker, f"{script} with config {config or script}"
    except (CheckpointError, ConfigError, FileNotFoundError, KeyError) as e:
        raise DemoError(f"--checkpoint {path} cannot be used: {e}. {hint}") from e


# ------------------------------------------------------------------------------------------ the demo
def default_output(rgb: PathLike) -> Path:
    """``output/demo/<rgb name>_cstrack.webm``."""
    return Path("output") / "demo" / f"{Path(rgb).stem or 'sequence'}_cstrack.webm"


def run_demo(rgb: PathLike, x: PathLike, checkpoint: PathLike, init: Optional[Sequence[float]] = None,
             out: Optional[PathLike] = None, boxes_out: Optional[PathLike] = None, x_type: str = "auto",
             script: Optional[str] = None, config: Optional[str] = None, device: str = "auto",
             fps: Optional[float] = None, progress: Callable[[str], None] = print,
             precision: str = "fp32") -> Dict[str, Any]:
    """Track the target through the RGB / X pair and write the box file and the annotated video.

    Returns ``{"video", "codec", "browser_playable", "boxes", "frames", "fps" (tracking speed), "x_type",
    "tracker", "precision"}`` (``precision``: the arithmetic the network ran in, fp32 where the asked one is not
    native here).
    The box file has one ``x,y,w,h`` line per frame (pixels, row 0 = the initial box).
    """
    rgb_source, x_source = FrameSource(rgb, "RGB"), FrameSource(x, "X")
    pair_by_number(rgb_source, x_source)
    if len(rgb_source) != len(x_source):
        raise DemoError(f"the RGB and X sequences differ in length: {rgb_source.path} has {len(rgb_source)} frames, "
                        f"{x_source.path} has {len(x_source)}. Pass two sequences of the same frames.")
    n = len(rgb_source)
    out = Path(out) if out else default_output(rgb)
    boxes_out = Path(boxes_out) if boxes_out else out.with_suffix(".txt")
    rgb_iter, x_iter = iter(rgb_source), iter(x_source)
    first_rgb, first_x = next(rgb_iter), next(x_iter)
    x_type = resolve_x_type(x_type, first_x)
    frame0, shown0 = prepare_pair(first_rgb, first_x, x_type, "in frame 1")
    height, width = frame0.shape[:2]
    box = tuple(float(v) for v in init) if init is not None else select_box(first_rgb)
    check_init_box(box, width, height)
    tracker, description = load_tracker(checkpoint, script, config, TRACKER_DATASET[x_type], device, precision)
    progress(f"tracking {n} frames ({width}x{height}, X = {x_type}) with {description}")

    boxes: List[List[float]] = [list(box)]
    scale = 2.0 if width < 400 else min(1.0, 960.0 / width)
    labels = ("RGB", f"X ({x_type})")
    timing = {"seconds": 0.0}

    def frames() -> Iterator[np.ndarray]:
        start = time.perf_counter()
        tracker.initialize(frame0, {"init_bbox": list(box)})
        timing["seconds"] += time.perf_counter() - start
        yield annotate_pair(first_rgb, shown0, [(box, PRED_COLOR, "initial box")], header=f"frame 1/{n}",
                            labels=labels, scale=scale)
        for index, (rgb_bgr, x_raw) in enumerate(zip(rgb_iter, x_iter), start=1):
            frame, shown = prepare_pair(rgb_bgr, x_raw, x_type, f"in frame {index + 1}")
            start = time.perf_counter()
            result = tracker.track(frame)
            timing["seconds"] += time.perf_counter() - start
            boxes.append([float(v) for v in result["target_bbox"]])
            yield annotate_pair(rgb_bgr, shown, [(boxes[-1], PRED_COLOR, "CSTrack")],
                                header=f"frame {index + 1}/{n}  score {result['best_score']:.2f}", labels=labels,
                                scale=scale)
            if (index + 1) % 50 == 0 or index + 1 == n:
                progress(f"  frame {index + 1}/{n}  {index / max(timing['seconds'], 1e-9):.1f} FPS")

    try:
        video = write_video(out, frames(), fps=fps or rgb_source.fps or x_source.fps or 15.0)
        check_video(video.path, video.frames)
    except VideoWriteError as e:
        raise DemoError(str(e)) from e
    atomic_write_text(boxes_out, "".join(",".join(f"{v:.2f}" for v in b) + "\n" for b in boxes))
    return {"video": str(video.path), "codec": video.codec.name, "browser_playable": video.codec.browser_playable,
            "boxes": str(boxes_out), "frames": video.frames, "x_type": x_type,
            "fps": (n - 1) / timing["seconds"] if timing["seconds"] > 0 else float("nan"), "tracker": description,
            "precision": tracker.precision.name}


__all__ = ["DemoError", "FrameSource", "MIN_BOX_SIDE", "TRACKER_DATASET", "X_TYPES", "check_init_box",
           "default_output", "load_tracker", "pair_by_number", "parse_box", "prepare_pair", "resolve_x_type", "run_demo",
           "select_box"]
