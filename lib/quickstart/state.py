"""Resumable steps: which steps of a quickstart run finished, with their outputs and times.

The record lives in ``<workdir>/quickstart_state.json``. A finished step whose output files all still
exist is reused on the next run; a step whose upstream step ran again in this invocation is stale
and runs again (after its ``reset`` removed what it would otherwise resume from). A work directory
written with another profile or seed is refused, so that results of two settings never mix.
"""
from __future__ import annotations

import datetime
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Mapping, Optional, Sequence, Tuple

from lib.quickstart.errors import QuickstartError
from lib.utils.files import atomic_write_text
from lib.utils.timefmt import format_duration

STATE_FILE = "quickstart_state.json"


@dataclass(frozen=True)
class Step:
    """One resumable step: its key in the state file, the title shown in the progress lines, and the
    step whose re-execution makes its recorded outputs stale (the data is deterministic, so
    regenerating it invalidates nothing)."""

    key: str
    title: str
    depends_on: Optional[str] = None


class StepRunner:
    """Runs the steps of one work directory, skipping the ones an earlier run finished.

    Args:
        workdir: the run's folder (holds the state file).
        steps: every step, in order (for the ``[i/N]`` prefix).
        identity: what must match for a work directory to be reused (profile, seed).
        echo: where progress lines go.
    """

    def __init__(self, workdir: Path, steps: Sequence[Step], identity: Mapping[str, Any],
                 echo: Callable[[str], None]):
        self.path = Path(workdir) / STATE_FILE
        self.steps = list(steps)
        self.identity = dict(identity)
        self.echo = echo
        self.state: Dict[str, Any] = {}
        self.times: Dict[str, Tuple[float, bool]] = {}  # key -> (seconds in this invocation, reused)

    def load(self) -> None:
        """Read the state file, or start a new one; refuse a work directory of another profile / seed."""
        if self.path.is_file():
            with open(self.path, "r", encoding="utf-8") as f:
                self.state = json.load(f)
            if self.state.get("identity") != self.identity:
                raise QuickstartError(
                    f"{self.path.parent} holds a quickstart run with {self.state.get('identity')}, this run asks for "
                    f"{self.identity}. Use another --workdir, or pass --fresh to delete that run and start over.")
        else:
            self.state = {"identity": self.identity, "steps": {}}

    def _save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.path, json.dumps(self.state, indent=2) + "\n")

    def record(self, key: str) -> Dict[str, Any]:
        """The stored record of a finished step."""
        return self.state["steps"][key]

    def _finished(self, key: str) -> Optional[Dict[str, Any]]:
        """The recorded outputs of a finished step whose files all still exist, else None."""
        record = self.state.get("steps", {}).get(key)
        if not record or not record.get("done"):
            return None
        missing = [p for p in record.get("files", {}).values() if not Path(p).exists()]
        if missing:
            self.echo(f"      (outputs of an earlier run are gone: {missing[0]}; running the step again)")
            return None
        return record

    def run(self, key: str, fn: Callable[[], Dict[str, Any]], reset: Optional[Callable[[], None]] = None
            ) -> Dict[str, Any]:
        """Run step ``key`` with ``fn`` (returns ``{"files": {...}, ...}``) unless an earlier run finished it."""
        index = next(i for i, s in enumerate(self.steps) if s.key == key)
        step = self.steps[index]
        prefix = f"[{index + 1}/{len(self.steps)}]"
        stale = step.depends_on is not None and not self.times.get(step.depends_on, (0.0, True))[1]
        record = None if stale else self._finished(step.key)
        if record is not None:
            self.echo(f"{prefix} {step.title}: reused (finished in an earlier run in "
                      f"{format_duration(record['seconds'])})")
            self.times[step.key] = (0.0, True)
            return record
        if stale and reset is not None:
            reset()
        self.echo(f"{prefix} {step.title} ...")
        start = time.perf_counter()
        record = fn()
        seconds = time.perf_counter() - start
        record.update(done=True, seconds=round(seconds, 2),
                      finished_at=datetime.datetime.now().isoformat(timespec="seconds"))
        self.state.setdefault("steps", {})[step.key] = record
        self._save()
        self.times[step.key] = (seconds, False)
        self.echo(f"{prefix} done in {format_duration(seconds)}")
        return record


__all__ = ["STATE_FILE", "Step", "StepRunner"]
