"""Helpers for the VOT toolkit tests: a temporary workspace built from a repository workspace.

Not a test module; loaded by path (``--import-mode=importlib``). The temporary ``config.yaml`` is the
repository's with its relative entries (registry, local stack file) made absolute, so the repository's
``trackers.ini`` (relative ``paths``) and stack are what the toolkit runs, on a synthetic dataset.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
TOOLKIT = "0.7."  # install.sh pins vot-toolkit 0.7.4 (0.9.0 cannot run multistart, docs/evaluation.md)


def require_toolkit() -> None:
    """Skip (fail when ``CI`` is set) unless vot-toolkit 0.7.x and vot-trax are installed."""
    try:
        import trax  # noqa: F401
        import vot
    except ImportError as e:
        reason = f"VOT toolkit not installed ({e}); run install.sh"
    else:
        if vot.__version__.startswith(TOOLKIT):
            return
        reason = f"vot-toolkit {vot.__version__} installed; these tests need {TOOLKIT}x (install.sh pins 0.7.4)"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason, allow_module_level=True)


def make_workspace(tmp: Path, repo_workspace: str, sequences: Path, registry: Optional[List[Path]] = None) -> Path:
    """Create ``tmp`` as a toolkit workspace from ``REPO_ROOT/repo_workspace`` using ``sequences``."""
    source = REPO_ROOT / repo_workspace
    config = yaml.safe_load((source / "config.yaml").read_text())
    config["registry"] = [str(p) for p in registry] if registry else \
        [str((source / r).resolve()) for r in config["registry"]]
    if (source / config["stack"]).is_file():
        config["stack"] = str((source / config["stack"]).resolve())
    config["sequences"] = str(sequences)
    tmp.mkdir(parents=True, exist_ok=True)
    (tmp / "config.yaml").write_text(yaml.safe_dump(config))
    return tmp


def run_vot(workspace: Path, *args: str, env: Optional[Dict[str, str]] = None, timeout: int = 300) -> str:
    """Run ``python -m vot <args> --workspace <workspace>``; return its output, fail loudly on errors.

    ``vot evaluate`` exits 0 even when the tracker fails, so the output is checked as well.
    """
    full_env = dict(os.environ)
    full_env.update(env or {})
    full_env.setdefault("VOT_PERSISTENT_CACHE", "0")  # 0.7.x replacement for `analysis --nocache`
    proc = subprocess.run([sys.executable, "-m", "vot", *args, "--workspace", str(workspace)], env=full_env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout)
    output = proc.stdout
    bad = ("interrupted", "Error", "Traceback", "Unable")
    if proc.returncode != 0 or any(b in output for b in bad):
        raise AssertionError(f"vot {' '.join(args)} failed (exit {proc.returncode}):\n{output[-6000:]}")
    return output


def analysis_scores(workspace: Path, name: str, experiment: str) -> Dict[str, List[float]]:
    """Per-analysis results of ``analysis/<name>.json`` keyed by the analysis class name."""
    data = json.loads((workspace / "analysis" / f"{name}.json").read_text())
    block = data["results"][experiment]
    names = [a["type"].rsplit(".", 1)[-1] for a in block["parameters"]["analyses"]]
    return dict(zip(names, block["results"]))
