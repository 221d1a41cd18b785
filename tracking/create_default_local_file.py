"""Write ``lib/train/admin/local.py`` and ``lib/test/evaluation/local.py`` with default roots.

    python tracking/create_default_local_file.py --data_dir ./data --save_dir .

Dataset roots follow ``<data_dir>/<layout>`` (``lasot``, ``got10k/train``, ...; VastTrack gets its own
folder, not the reference's ``<data>/trackingnet``: T6 in docs/parity.md), test outputs
``<save_dir>/...``; each line carries a comment saying what reads it. An existing file is never
overwritten unless ``--force`` is given. Check the result with ``python -m lib.config.environment``.
"""
import argparse
import logging
import sys

import _init_paths  # noqa: F401  (repository root on sys.path)

from lib.config.local_generator import write_local_files


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Create the default local.py settings files.")
    parser.add_argument("--data_dir", default="./data", help="folder holding the datasets (default ./data)")
    parser.add_argument("--save_dir", default=".", help="root of test results and checkpoints (default .)")
    parser.add_argument("--workspace_dir", default=None, help=argparse.SUPPRESS)  # reference habit, see below
    parser.add_argument("--force", action="store_true", help="replace existing local.py files")
    parser.add_argument("--train_file", default=None, help="training settings file (default lib/train/admin/local.py)")
    parser.add_argument("--test_file", default=None, help="test settings file (default lib/test/evaluation/local.py)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    if args.workspace_dir is not None:
        print("note: --workspace_dir is ignored: nothing reads a workspace folder (training writes under "
              "run_training.py --save_dir)")
    try:
        written = write_local_files(args.data_dir, args.save_dir, force=args.force,
                                    train_local=args.train_file, test_local=args.test_file)
    except FileExistsError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    for path in written:
        print(f"wrote {path}")
    print("Check the roots with: python -m lib.config.environment")
    return 0


if __name__ == "__main__":
    sys.exit(main())
