"""Run CSTrack on LasHeR or RGBT234 and write the reference result files (``docs/evaluation.md``).

    python RGBT_workspace/test_rgbt_mgpus.py --script_name cstrack_s2 --yaml_name cstrack_s2 \
        --dataset_name LasHeR --checkpoint /path/CSTRACK_S2_ep0050.pth.tar --threads 2 --num_gpus 1

Results: ``<save_dir>/output/test/tracking_results/<yaml>/<Dataset>_<epoch>/<seq>.txt`` (space separated
``%.18e`` x y w h, row 0 = ground truth), one ``<seq>_time.txt`` each. Sequences finished by the same
weights, config and code are skipped, so an interrupted run is resumed by running the same command
again. Options and messages: ``lib/test/evaluation/cli.py``.
"""
import os
import sys

# Run by path: make the repository importable without an install (lib/ itself never edits sys.path).
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from lib.test.evaluation.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["LasHeR", "RGBT234"], description=__doc__.splitlines()[0]))
