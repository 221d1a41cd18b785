#!/usr/bin/env bash
# One-command set-up: PyTorch, the framework (editable, so `lib` imports from any folder, also from
# the VOT toolkit's temp dirs), the VOT toolkit for the RGB-D benchmarks, the test runner, and
# Chromium (the HTML report is tested in a real headless browser).
# Safe to run again: pip skips what is already installed at the pinned versions.
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
PIP=("$PY" -m pip install --upgrade-strategy only-if-needed)

"${PIP[@]}" "torch==2.14.1" "torchvision==0.29.1"
"${PIP[@]}" -e .
# VOT toolkit for DepthTrack / VOT-RGBD22 (versions that run both analyses on Python 3.11; see README).
"${PIP[@]}" "vot-toolkit==0.7.4" "vot-trax==4.0.2" "attributee==0.1.9"
"${PIP[@]}" "pytest>=7"

# One OpenCV: opencv-python (with the GUI functions the demo's box selection needs; the VOT toolkit
# asks for it too). opencv-python-headless installs into the same cv2/ folder, so when both are
# present the last one installed wins file by file; remove it and restore opencv-python's files.
if "$PY" -m pip show opencv-python-headless >/dev/null 2>&1; then
    cv_version=$("$PY" -c "import importlib.metadata as m; print(m.version('opencv-python'))")
    "$PY" -m pip uninstall -y opencv-python-headless
    "$PY" -m pip install --force-reinstall --no-deps "opencv-python==${cv_version}"
fi

# Headless Chromium for the HTML-report test (Debian package; skipped with a notice when apt is unusable).
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        echo "notice: Chromium is not installed and apt-get cannot run here (not root?); the HTML report test needs it:" \
             "install the 'chromium' package" >&2
    fi
fi

"$PY" - <<'PYCHECK'
import torch, torchvision, timm, cv2, yaml, easydict, lmdb  # noqa: F401
import lib.config
assert hasattr(cv2, "selectROI"), "OpenCV without GUI functions: run `pip uninstall opencv-python-headless` and reinstall opencv-python"
print(f"install ok: torch {torch.__version__}, timm {timm.__version__}, opencv {cv2.__version__}, "
      f"cuda available: {torch.cuda.is_available()}")
PYCHECK
