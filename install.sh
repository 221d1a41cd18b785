#!/usr/bin/env bash
# One-command set-up: PyTorch, the framework (editable, so `lib` imports from any folder, also from
# the VOT toolkit's temp dirs), the VOT toolkit for the RGB-D benchmarks and the test runner.
# Safe to run again: pip skips what is already installed at the pinned versions.
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}

"$PY" -m pip install --upgrade-strategy only-if-needed "torch==2.14.1" "torchvision==0.29.1"
"$PY" -m pip install --upgrade-strategy only-if-needed -e .
# VOT toolkit for DepthTrack / VOT-RGBD22 (versions that run both analyses on Python 3.11; see README).
"$PY" -m pip install --upgrade-strategy only-if-needed "vot-toolkit==0.7.4" "vot-trax==4.0.2" "attributee==0.1.9"
"$PY" -m pip install --upgrade-strategy only-if-needed "pytest>=7"
"$PY" - <<'PYCHECK'
import torch, torchvision, timm, cv2, yaml, easydict, lmdb  # noqa: F401
import lib.config
print(f"install ok: torch {torch.__version__}, timm {timm.__version__}, opencv {cv2.__version__}, "
      f"cuda available: {torch.cuda.is_available()}")
PYCHECK
