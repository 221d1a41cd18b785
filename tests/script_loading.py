"""Load a command-line script (``tracking/*.py``, ``lib/train/run_training.py``) as a module in tests.

Scripts are not importable package modules; their folder goes on ``sys.path`` while they load, so a
``tracking/`` script's ``import _init_paths`` works as it does when run by path.
"""
import importlib.util
import sys
from pathlib import Path


def load_script(name: str, path) -> object:
    folder = str(Path(path).parent)
    sys.path.insert(0, folder)
    try:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(folder)
    return module
