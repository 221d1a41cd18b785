"""Write ``lib/train/admin/local.py`` and ``lib/test/evaluation/local.py`` with default roots.

    python tracking/create_default_local_file.py --workspace_dir . --data_dir ./data --save_dir .

Dataset roots follow ``<data_dir>/<DEFAULT_DATA_LAYOUT>`` (``lasot``, ``got10k/train``, ...); the
reference's ``vasttrack_dir = <data>/trackingnet`` bug is fixed (TRAINING.md §9 item 6). An existing
file is never overwritten unless ``--force`` is given.
"""
import argparse
import logging
import sys

import _init_paths  # noqa: F401  (repository root on sys.path)

from lib.config.environment import write_local_files


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Create the default local.py settings files.")
    parser.add_argument("--workspace_dir", default=".", help="workspace (tensorboard, pretrained networks)")
    parser.add_argument("--data_dir", default="./data", help="folder holding the datasets")
    parser.add_argument("--save_dir", default=".", help="root for checkpoints and test results")
    parser.add_argument("--force", action="store_true", help="replace existing local.py files")
    parser.add_argument("--train_file", default=None, help="training settings file (default lib/train/admin/local.py)")
    parser.add_argument("--test_file", default=None, help="test settings file (default lib/test/evaluation/local.py)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        written = write_local_files(args.workspace_dir, args.data_dir, args.save_dir, force=args.force,
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
