"""Run a command-line entry point of the framework inside this process, as the user would from a shell.

The quickstart trains with ``lib/train/run_training.py`` and tracks with
``RGBT_workspace/test_rgbt_mgpus.py``: :func:`run_entry_point` executes such a script with
:mod:`runpy` (``__name__ == "__main__"``, ``sys.argv`` set, environment variables applied for the
duration), so the code that runs is exactly the command it prints, without a new interpreter and
torch import per step.

What the script prints (its console log handlers, warnings, prints) goes to the step's log file.
Which of its log records are echoed on the terminal is decided by logger name and level, never by
the text of a line: INFO records of the loggers a step names (the trainer's progress, the runner's
per-sequence lines), and every WARNING or worse from ``lib``.
"""
from __future__ import annotations

import contextlib
import logging
import os
import runpy
import shlex
import sys
import traceback
from collections import deque
from pathlib import Path
from typing import Callable, Iterator, Mapping, Optional, Sequence

from lib.quickstart.errors import QuickstartError

REPO_ROOT = Path(__file__).resolve().parents[2]
LIB_LOGGER = "lib"


class EchoHandler(logging.Handler):
    """Hands selected records of the ``lib`` loggers to ``echo`` as plain message lines.

    Selected: INFO and above from loggers under one of ``show`` (name prefixes), WARNING and above from
    every logger, everything when ``verbose``; never a record its emitter marked for its log file only
    (``extra={"destination": "file"}``, e.g. the trainer's config dump). Warnings and errors are
    prefixed with their level.
    """

    def __init__(self, echo: Callable[[str], None], show: Sequence[str], verbose: bool = False):
        super().__init__(logging.INFO)
        self.echo, self.show, self.verbose = echo, tuple(show), verbose

    def _selected(self, record: logging.LogRecord) -> bool:
        if getattr(record, "destination", None) == "file":
            return False
        if record.levelno >= logging.WARNING or self.verbose:
            return True
        return any(record.name == p or record.name.startswith(p + ".") for p in self.show)

    def emit(self, record: logging.LogRecord) -> None:
        if not self._selected(record):
            return
        prefix = f"{record.levelname}: " if record.levelno >= logging.WARNING else ""
        for line in record.getMessage().splitlines() or [""]:
            self.echo(f"      {prefix}{line}")


@contextlib.contextmanager
def _environment(overrides: Mapping[str, str]) -> Iterator[None]:
    saved = {key: os.environ.get(key) for key in overrides}
    os.environ.update(overrides)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextlib.contextmanager
def _captured(log_file, echo_handler: EchoHandler) -> Iterator[None]:
    """Route the script's output to ``log_file`` and selected ``lib`` records to ``echo_handler``.

    The root logger is emptied for the duration, so that the script installs its own console handler
    (it then writes to the redirected ``sys.stderr``, i.e. the log file) exactly as on a terminal.
    """
    root, lib_logger = logging.getLogger(), logging.getLogger(LIB_LOGGER)
    saved_handlers, saved_level, saved_lib_level = root.handlers[:], root.level, lib_logger.level
    for handler in saved_handlers:
        root.removeHandler(handler)
    lib_logger.setLevel(logging.INFO)
    lib_logger.addHandler(echo_handler)
    try:
        with contextlib.redirect_stdout(log_file), contextlib.redirect_stderr(log_file):
            yield
    finally:
        lib_logger.removeHandler(echo_handler)
        lib_logger.setLevel(saved_lib_level)
        for handler in root.handlers[:]:  # what the script installed
            root.removeHandler(handler)
        for handler in saved_handlers:
            root.addHandler(handler)
        root.setLevel(saved_level)


def _exit_status(code: object) -> int:
    """``sys.exit`` argument -> exit status, as the interpreter maps it."""
    if code is None:
        return 0
    return code if isinstance(code, int) else 1


def shown_path(path: str) -> str:
    """A path as a user types it here: relative to the current directory when below it, else absolute."""
    try:
        resolved, cwd = Path(path).resolve(), Path.cwd().resolve()
        return os.path.relpath(resolved, cwd) if resolved.is_relative_to(cwd) else str(path)
    except (OSError, ValueError):
        return str(path)


def display_command(script: Path, argv: Sequence[str], env: Optional[Mapping[str, str]] = None) -> str:
    """The shell command equivalent to a run: ``VAR=value python <script> args`` with paths as
    :func:`shown_path` writes them."""
    shown = [shown_path(a) if os.path.isabs(a) else a for a in argv]
    prefix = "".join(f"{key}={shlex.quote(shown_path(value))} " for key, value in (env or {}).items())
    return f"{prefix}python {shown_path(str(script))} {shlex.join(shown)}"


def terminal_echo() -> Callable[[str], None]:
    """Print to the standard output of now, also while an entry point's output is redirected to its log."""
    stream = sys.stdout
    return lambda line: print(line, file=stream, flush=True)


def run_entry_point(script: Path, argv: Sequence[str], log_path: Path, echo: Callable[[str], None],
                    show: Sequence[str], env: Optional[Mapping[str, str]] = None, verbose: bool = False) -> None:
    """Run ``script`` (a path under the repository) with ``argv`` in this process; see the module docstring.

    ``echo`` must not write to ``sys.stdout`` as it is during the run (the log file): see :func:`terminal_echo`.

    Raises :class:`QuickstartError` with the end of the step's log when the script exits with a non-zero
    status or raises; the full output stays in ``log_path``.
    """
    echo("      $ " + display_command(script, argv, env))
    log_path.parent.mkdir(parents=True, exist_ok=True)
    status, failure = 0, None
    saved_argv = sys.argv
    with open(log_path, "a", encoding="utf-8") as log, _environment(env or {}), \
            _captured(log, EchoHandler(echo, show, verbose)):
        sys.argv = [str(script), *argv]
        try:
            runpy.run_path(str(script), run_name="__main__")
        except SystemExit as e:
            status = _exit_status(e.code)
        except Exception as e:  # an entry point that raises instead of exiting: report it like a failed command
            status, failure = 1, e
            traceback.print_exc(file=log)
        finally:
            sys.argv = saved_argv
    if status != 0:
        with open(log_path, "r", encoding="utf-8", errors="replace") as log:
            tail = deque((line.rstrip() for line in log), maxlen=15)
        what = f"raised {type(failure).__name__}: {failure}" if failure else f"exited with status {status}"
        raise QuickstartError(f"{display_command(script, argv, env)} {what}.\nLast lines of {log_path}:\n"
                              + "\n".join(tail) + "\nRun the quickstart again to resume after fixing the cause.")


__all__ = ["EchoHandler", "display_command", "run_entry_point", "shown_path", "terminal_echo"]
