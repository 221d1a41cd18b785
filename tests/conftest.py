"""Shared pytest fixtures: locations of the reference fixtures and the evaluation goldens.

Both folders live beside the repository (``../shared``) and are never copied into it. Outside CI a
missing folder skips the tests that need it, with the reason; with ``CI`` set it is a failure.
"""
import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def _shared_dir(env_name: str, default: Path) -> Path:
    path = Path(os.environ.get(env_name, default))
    if not path.is_dir():
        msg = f"{path} not found (set {env_name} to the folder)"
        if os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)
    return path


@pytest.fixture(scope="session")
def parity_dir() -> Path:
    """``../shared/parity``: numbers produced by the reference CSTrack implementation."""
    return _shared_dir("CSTRACK_PARITY_DIR", REPO_ROOT.parent / "shared" / "parity")


@pytest.fixture(scope="session")
def golden_dir() -> Path:
    """``../shared/eval_golden``: real benchmark ground truth with published raw results."""
    return _shared_dir("CSTRACK_GOLDEN_DIR", REPO_ROOT.parent / "shared" / "eval_golden")


@pytest.fixture
def one_torch_thread():
    """One intra-op thread for tests of tiny models: two threads on a shared 2-core machine crawl."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
