"""Put the repository root on ``sys.path`` so ``tracking/*.py`` scripts run without installing.

Only scripts in ``tracking/`` import this module; nothing inside ``lib/`` edits ``sys.path``. With the
editable install (``install.sh``) the insertion is harmless.
"""
import sys
from pathlib import Path

REPO_ROOT = str(Path(__file__).resolve().parents[1])
if REPO_ROOT not in sys.path:
    sys.path.insert(0, REPO_ROOT)
