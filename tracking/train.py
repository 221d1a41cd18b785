"""Convenience launcher of ``lib/train/run_training.py``: one process, one machine, or several machines.

    python tracking/train.py --script cstrack_s1 --config cstrack_s1 --save_dir ./output --mode multiple \
        --nproc_per_node 4
    python tracking/train.py --script cstrack_s2 --config cstrack_s2 --save_dir ./output --mode single \
        --pretrained ./output/checkpoints/train/cstrack_s1/cstrack_s1/CSTRACK_S1_ep0150.pth.tar
    # two machines with 4 GPUs each; run on both, --rank 0 on the machine whose address is --ip:
    python tracking/train.py --script cstrack_s1 --config cstrack_s1 --save_dir ./output --mode multi_node \
        --nnodes 2 --rank 0 --ip 10.0.0.1 --port 20000 --nproc_per_node 4

``--mode single`` runs the training script in one process; ``--mode multiple`` runs it under
``python -m torch.distributed.run --standalone`` (a free rendezvous port is picked, so two jobs on one
host do not collide; ``--master_port`` fixes one). ``--mode multi_node`` takes the authors' arguments
``--nnodes`` (also ``--world-size``), ``--rank``, ``--ip`` and ``--port`` and passes them to torchrun's own
static rendezvous (``--nnodes --node_rank --master_addr --master_port``); each machine runs
``--nproc_per_node`` processes, and global rank 0 (on ``--rank 0``) writes the checkpoints and logs. Any
other argument (``--cfg-options ...``, ``--workers``, ``--cudnn_benchmark``) is passed on unchanged.
Fixes of the reference wrapper (T1 in docs/parity.md): no hard-coded ``CUDA_VISIBLE_DEVICES`` (select
GPUs with that variable yourself), no shell string through ``os.system``, no "None" strings forwarded,
no non-existent default script, and the training's exit status is returned.
"""
import argparse
import subprocess
import sys
from pathlib import Path
from typing import List, Optional

RUN_TRAINING = Path(__file__).resolve().parents[1] / "lib" / "train" / "run_training.py"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Launch CSTrack training (arguments not listed here are passed "
                                                 "on to lib/train/run_training.py).")
    parser.add_argument("--script", required=True, help="cstrack_s1 or cstrack_s2")
    parser.add_argument("--config", default=None, help="yaml name in experiments/<script>/ (default: the script name)")
    parser.add_argument("--save_dir", default="./output", help="root of logs/, checkpoints/ and tensorboard/")
    parser.add_argument("--mode", choices=("single", "multiple", "multi_node"), default="multiple",
                        help="single: one process; multiple: one process per GPU (or CPU worker) via torchrun; "
                             "multi_node: this machine's share of a job over --nnodes machines")
    parser.add_argument("--nproc_per_node", type=int, default=None,
                        help="processes on this machine (default: the number of visible GPUs, at least 1)")
    parser.add_argument("--master_port", type=int, default=None,
                        help="fixed rendezvous port for --mode multiple (default: a free one)")
    nodes = parser.add_argument_group("--mode multi_node (the authors' names)")
    nodes.add_argument("--nnodes", "--world-size", "--world_size", dest="nnodes", type=int, default=None,
                       help="number of machines")
    nodes.add_argument("--rank", type=int, default=None, help="this machine's rank, 0 .. nnodes-1")
    nodes.add_argument("--ip", default="127.0.0.1", help="address of the rank-0 machine (default 127.0.0.1)")
    nodes.add_argument("--port", type=int, default=20000, help="rendezvous port on the rank-0 machine (default 20000)")
    return parser


def default_nproc() -> int:
    """The number of visible GPUs (1 without CUDA)."""
    import torch  # only needed for this default

    return max(1, torch.cuda.device_count())


def build_command(args: argparse.Namespace, passthrough: List[str]) -> List[str]:
    """The command line that runs the training for ``args``; ``passthrough`` goes to run_training.py.

    Raises ValueError for an incomplete or inconsistent ``--mode multi_node`` request.
    """
    script_args = [str(RUN_TRAINING), "--script", args.script, "--config", args.config or args.script,
                   "--save_dir", args.save_dir] + list(passthrough)
    if args.mode == "single":
        return [sys.executable] + script_args
    nproc = args.nproc_per_node or default_nproc()
    launcher = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(nproc)]
    if args.mode == "multi_node":
        if args.nnodes is None or args.rank is None:
            raise ValueError("--mode multi_node needs --nnodes N and --rank R (0 on the machine at --ip)")
        if args.nnodes < 1 or not 0 <= args.rank < args.nnodes:
            raise ValueError(f"--rank {args.rank} is not in 0..{args.nnodes - 1} (--nnodes {args.nnodes})")
        launcher += ["--nnodes", str(args.nnodes), "--node_rank", str(args.rank), "--master_addr", args.ip,
                     "--master_port", str(args.port)]
    elif args.master_port is None:
        launcher.append("--standalone")
    else:
        launcher += ["--master_addr", "127.0.0.1", "--master_port", str(args.master_port)]
    return launcher + script_args


def main(argv: Optional[List[str]] = None) -> int:
    """Run the training command; return its exit status."""
    parser = build_parser()
    args, passthrough = parser.parse_known_args(argv)
    try:
        command = build_command(args, passthrough)
    except ValueError as e:
        parser.error(str(e))
    print("running:", " ".join(command), flush=True)
    try:
        subprocess.run(command, check=True)
    except subprocess.CalledProcessError as e:
        return e.returncode
    return 0


if __name__ == "__main__":
    sys.exit(main())
