"""Which failures of a benchmark run are the user's to fix, and the one line that says so.

The runners and the VOT entry point print a user error as one ``error: ...`` line naming the file and
the fix and exit with code 2; the traceback is printed only with ``--verbose``. Anything else is a bug
and keeps its traceback.
"""
from __future__ import annotations

import errno
import sys
import traceback
from typing import Callable, Dict, Optional, Tuple

from lib.config import ConfigError
from lib.config.environment import SettingsError
from lib.test.evaluation.data import DatasetError
from lib.test.evaluation.results import ResultsConflictError, ResultsLockedError
from lib.utils.checkpoint import CheckpointError
from lib.utils.frame_lists import FramePairingError
from lib.utils.rgbx import FrameReadError

USER_EXIT_CODE = 2

#: Errors caused by files, folders or settings the user gives (their messages name them).
USER_ERRORS: Tuple[type, ...] = (CheckpointError, ConfigError, DatasetError, FramePairingError, FrameReadError,
                                 ResultsConflictError, ResultsLockedError, SettingsError, OSError)

_OS_FIXES = {
    errno.EACCES: "permission denied; change the permissions or choose another path",
    errno.EPERM: "operation not permitted; change the permissions or choose another path",
    errno.EROFS: "the file system is read-only; choose another path",
    errno.ENOSPC: "the disk is full; free space or choose another path",
    errno.ENOTDIR: "a part of the path is a file, not a folder; choose another path",
    errno.EISDIR: "this is a folder, a file was expected",
}


class BenchmarkFailed(RuntimeError):
    """Some sequences failed; the others are finished and kept. ``failures``: sequence -> one-line reason."""

    def __init__(self, failures: Dict[str, str], user_errors_only: bool):
        self.failures = failures
        self.user_errors_only = user_errors_only
        lines = "\n".join(f"  {name}: {reason}" for name, reason in sorted(failures.items()))
        super().__init__(f"{len(failures)} sequence(s) failed; the finished ones are kept. Fix the cause and run the "
                         f"same command again to track the rest:\n{lines}")


class WorkerStartError(RuntimeError):
    """A worker process could not build its tracker; ``user_error`` says whether the cause is the user's input."""

    def __init__(self, message: str, user_error: bool):
        super().__init__(message)
        self.user_error = user_error


def is_user_error(error: BaseException) -> bool:
    if isinstance(error, (WorkerStartError, BenchmarkFailed)):
        return error.user_error if isinstance(error, WorkerStartError) else error.user_errors_only
    return isinstance(error, USER_ERRORS)


def describe(error: BaseException) -> str:
    """One line for ``error``: its own message (which names the file), or the file and fix of an OSError."""
    if isinstance(error, OSError) and error.filename is not None and not isinstance(error, SettingsError):
        fix = _OS_FIXES.get(error.errno or 0, error.strerror or type(error).__name__)
        if isinstance(error, FileNotFoundError) and error.errno == errno.ENOENT:
            fix = "no such file or folder"
        return f"{error.filename}: {fix}"
    if isinstance(error, BenchmarkFailed):
        return str(error)
    return " ".join(str(error).split()) or type(error).__name__


def run_reporting_user_errors(action: Callable[[], Optional[int]], verbose: bool = False, prefix: str = "error",
                              user_errors: Tuple[type, ...] = ()) -> int:
    """``action()``'s exit code (0 for None); a user error (:data:`USER_ERRORS`, ``user_errors``) instead prints
    one ``<prefix>: ...`` line on stderr and gives :data:`USER_EXIT_CODE` (the traceback too with ``verbose``).

    Anything else is a bug and propagates with its traceback.
    """
    try:
        return action() or 0
    except Exception as e:  # user errors: one line; anything else is a bug and keeps its traceback
        if not (is_user_error(e) or isinstance(e, user_errors)):
            raise
        if verbose:
            traceback.print_exc()
        print(f"{prefix}: {describe(e)}", file=sys.stderr)
        return USER_EXIT_CODE


__all__ = ["BenchmarkFailed", "USER_ERRORS", "USER_EXIT_CODE", "WorkerStartError", "describe", "is_user_error",
           "run_reporting_user_errors"]
