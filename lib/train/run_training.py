"""Command-line entry point of training, at the reference's path (docs/training.md).

Single process::

    python lib/train/run_training.py --script cstrack_s1 --config cstrack_s1 --save_dir ./output

Several processes (one per GPU, or gloo processes on CPU)::

    torchrun --standalone --nproc_per_node 4 lib/train/run_training.py --script cstrack_s1 --config cstrack_s1 --save_dir .
    python -m torch.distributed.launch --nproc_per_node 4 lib/train/run_training.py --script cstrack_s1 ...

Ranks come from the launcher's environment (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``); the old
launcher's ``--local_rank=i`` / ``--local-rank=i`` is accepted. Fixes of the reference (T1-T3 in
docs/parity.md): no GPU is required, ``--cudnn_benchmark`` parses booleans properly (the reference's
``type=bool`` read "False" as True, and its seeding then forced benchmarking off anyway, which stays
the default here), and the reference's unused arguments are accepted with a warning.

Exit status: 0 when training finished, 2 for a problem with the configuration, the data or the files
(one line says which), 1 for a failure of the training itself (non-finite values, a bug).
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import List, Optional

if __name__ == "__main__":
    # Run by path, Python puts this file's folder (lib/train/) first on sys.path. Replace that entry with
    # the repository root that holds this file, so that `import lib` loads this checkout's code even when
    # another checkout is installed (editable installs resolve after sys.path), and so that the modules in
    # lib/train/ (data, dataset, admin, ...) cannot shadow top-level packages of the same names.
    _HERE = os.path.dirname(os.path.abspath(__file__))
    if sys.path and os.path.abspath(sys.path[0] or os.curdir) == _HERE:
        sys.path[0] = os.path.dirname(os.path.dirname(_HERE))

from lib.train.admin.distributed import placement_from_env  # noqa: E402 (after the bootstrap above)
from lib.train.admin.settings import RunSettings  # noqa: E402

# Arguments of the reference that do nothing (wandb was never used; the distillation script does not exist).
LEGACY_ARGS = ("script_prv", "config_prv", "use_wandb", "distill", "script_teacher", "config_teacher")


def str2bool(value: str) -> bool:
    """``1/0``, ``true/false``, ``yes/no`` (any case) -> bool; anything else is an argparse error."""
    lowered = str(value).strip().lower()
    if lowered in ("1", "true", "yes", "y", "on"):
        return True
    if lowered in ("0", "false", "no", "n", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected a boolean (true/false, 1/0), got '{value}'")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Train CSTrack (stage 1 or 2) on one or several processes.")
    parser.add_argument("--script", required=True, help="model family: cstrack_s1 or cstrack_s2")
    parser.add_argument("--config", required=True,
                        help="yaml name in experiments/<script>/ (e.g. cstrack_s1) or a path to a yaml file")
    parser.add_argument("--save_dir", default="./output", help="root of logs/, checkpoints/ and tensorboard/")
    parser.add_argument("--seed", type=int, default=0, help="base seed (per process and epoch: derived from it)")
    parser.add_argument("--use_lmdb", type=int, choices=(0, 1), default=0, help="use the LMDB dataset variants")
    parser.add_argument("--cudnn_benchmark", type=str2bool, default=False,
                        help="cuDNN autotuning (default false: deterministic cuDNN, the reference's effective setting)")
    parser.add_argument("--local_rank", "--local-rank", dest="local_rank", type=int, default=None,
                        help="set by torch.distributed.launch; LOCAL_RANK from the environment is used otherwise")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                        help="auto = CUDA when available, else CPU")
    parser.add_argument("--resume", default="auto",
                        help="auto (latest checkpoint of this run, if any), none, or a checkpoint path")
    parser.add_argument("--pretrained", default=None,
                        help="stage-1 checkpoint for stage 2 (overrides MODEL.PRETRAINED_PATH)")
    parser.add_argument("--cfg-options", "--cfg_options", dest="cfg_options", nargs="+", default=[],
                        metavar="KEY=VALUE", help="config overrides, e.g. TRAIN.EPOCH=2 TRAIN.BATCH_SIZE=4")
    parser.add_argument("--workers", type=int, default=None, help="data-loader workers (overrides TRAIN.NUM_WORKER)")
    legacy = parser.add_argument_group("ignored reference arguments")
    for name in LEGACY_ARGS:
        legacy.add_argument(f"--{name}", default=None, help=argparse.SUPPRESS)
    return parser


def settings_from_args(args: argparse.Namespace) -> RunSettings:
    """Command-line arguments and the launcher's environment -> :class:`RunSettings`."""
    rank, local_rank, world_size = placement_from_env(args.local_rank)
    ignored = [f"--{name}={getattr(args, name)}" for name in LEGACY_ARGS if getattr(args, name) is not None]
    return RunSettings(script=args.script, config=args.config, save_dir=args.save_dir, seed=args.seed,
                       device=args.device, resume=args.resume, pretrained=args.pretrained,
                       cfg_options=list(args.cfg_options), workers=args.workers, use_lmdb=bool(args.use_lmdb),
                       cudnn_benchmark=args.cudnn_benchmark, rank=rank, local_rank=local_rank,
                       world_size=world_size, ignored_args=ignored)


def main(argv: Optional[List[str]] = None) -> int:
    """Parse, train, return the exit status (see the module docstring); run() has logged any failure."""
    settings = settings_from_args(build_parser().parse_args(argv))
    from lib.train.train_script import USER_ERRORS, SaveDirError, run  # after parsing: --help stays fast

    try:
        run(settings)
    except SaveDirError as e:  # raised before a log exists
        print(f"training failed: {e}", file=sys.stderr)
        return 2
    except USER_ERRORS:
        return 2
    except Exception:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
