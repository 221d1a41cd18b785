"""See the whole framework work end to end on CPU, with no dataset and no weights on the machine.

    python tracking/quickstart.py                 # about 7 minutes on 2 CPU cores
    python tracking/quickstart.py --quick         # about 2 minutes (what the tests run)
    python tracking/quickstart.py --workdir /tmp/qs --seed 1 --device cuda

Generates a small synthetic RGB-T dataset in the LasHeR layout, trains stage 1 then stage 2 through
``lib/train/run_training.py``, tracks the test split with ``RGBT_workspace/test_rgbt_mgpus.py``,
scores it next to a static-box baseline with ``lib.test.analysis`` and writes plots, an annotated
WebM video and an HTML report; the summary at the end says where every file is and prints a demo
command that runs as shown. Run it again to resume: finished steps are reused (``--fresh`` starts over).
"""
import argparse
import logging
import sys

import _init_paths  # noqa: F401  (repository root on sys.path)

from lib.quickstart.pipeline import Quickstart, QuickstartError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[1:]))
    parser.add_argument("--workdir", default="output/quickstart", help="where everything is written "
                        "(default: output/quickstart)")
    parser.add_argument("--device", choices=("cpu", "cuda", "auto"), default="cpu",
                        help="device for training and tracking (default: cpu)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic data and of training (default 0)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch threads for training and tracking (default 1: the toy model gains little from "
                             "more, several threads slow down badly on a busy machine, and the second core loads data)")
    parser.add_argument("--quick", action="store_true", help="CI-sized run: smaller dataset, shorter training")
    parser.add_argument("--fresh", action="store_true",
                        help="delete the outputs of an earlier quickstart run in --workdir and start over")
    parser.add_argument("--verbose", action="store_true", help="show every log line of training and tracking")
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    run = Quickstart(args.workdir, profile="quick" if args.quick else "default", seed=args.seed,
                     device=args.device, threads=args.threads, verbose=args.verbose)
    try:
        run.run(fresh=args.fresh)
    except QuickstartError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted: run the same command again to resume from the last finished step", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
