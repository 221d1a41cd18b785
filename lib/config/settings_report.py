"""``python -m lib.config.environment``: every setting, its value, where it came from, whether it exists.

Before any ``local.py`` exists the listing starts with the command that creates both files. Settings
of older files that nothing reads are listed apart with what is used instead; ``--explain`` adds what
each setting is for. A settings file that cannot be read is one ``error:`` line (exit status 2).
"""
from __future__ import annotations

import argparse
from typing import Callable, List, Optional

from lib.config import environment
from lib.config.environment import (ENV_PREFIX, GENERATE_COMMAND, RETIRED_SETTINGS, TEST_FIELDS, TRAIN_FIELDS,
                                    EnvSettings, SettingsError, display_path, env_settings)


def report_lines(settings: EnvSettings, explain: bool = False) -> List[str]:
    """The listing, one string per line (see the module docstring)."""
    lines: List[str] = []
    files = (environment.TRAIN_LOCAL_FILE, environment.TEST_LOCAL_FILE)
    missing = [p for p in files if not p.is_file()]
    if len(missing) == 2:
        lines += ["No settings file yet. Create lib/train/admin/local.py and lib/test/evaluation/local.py with:",
                  f"    {GENERATE_COMMAND}",
                  f"then edit the paths, or set any one with an environment variable {ENV_PREFIX}<NAME>.", ""]
    elif missing:
        lines += [f"{display_path(missing[0])} is missing: `{GENERATE_COMMAND} --force` writes both files again "
                  f"(keep a copy of the other one), or set its paths with {ENV_PREFIX}<NAME> variables.", ""]
    width = max(len(n) for n in settings.path_fields())
    rows = {name: (value, exists, source) for name, value, exists, source in settings.report()}
    for title, local, names in (("Training", files[0], TRAIN_FIELDS), ("Testing", files[1], TEST_FIELDS)):
        state = "" if local.is_file() else " (missing)"
        lines.append(f"{title} settings: {display_path(local)}{state}")
        for name in names:
            value, exists, source = rows[name]
            status = "ok     " if exists else ("MISSING" if value else "unset  ")
            lines.append(f"  {name:<{width}}  {status}  {value or '-'}  [{source}]")
            if explain:
                lines.append(f"  {'':<{width}}  {EnvSettings.describe(name)['purpose']}")
    if settings.retired:
        lines += ["", "Ignored (set in a settings file, but nothing reads them any more):"]
        for name, (value, source) in settings.retired.items():
            lines.append(f"  {name} = {value!r} [{source}]: {RETIRED_SETTINGS[name]}")
    return lines


def main(argv: Optional[List[str]] = None, echo: Callable[[str], None] = print) -> int:
    """Print the listing; 2 with one ``error:`` line when a settings file cannot be read."""
    parser = argparse.ArgumentParser(prog="python -m lib.config.environment",
                                     description="List every path setting of lib/train/admin/local.py and "
                                                 "lib/test/evaluation/local.py, its source and whether it exists.")
    parser.add_argument("--explain", action="store_true", help="also say what each setting is used for")
    args = parser.parse_args(argv)
    try:
        settings = env_settings()
    except SettingsError as e:
        parser.exit(2, f"error: {e}\n")
    for line in report_lines(settings, explain=args.explain):
        echo(line)
    return 0


__all__ = ["main", "report_lines"]
