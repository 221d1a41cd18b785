"""Name -> object registries, so that every ``--script`` / dataset / benchmark choice is a lookup.

A family name such as ``cstrack_s1`` is the key in MODELS, TRACKERS and ACTORS alike; dataset names
from the yaml (``LasHeR_train``) are keys in TRAIN_DATASETS; benchmark names in BENCHMARKS.
"""
from __future__ import annotations

import difflib
from typing import Any, Callable, Dict, Iterator


class Registry:
    """A dictionary of named builders with a decorator to fill it and helpful lookup errors."""

    def __init__(self, kind: str):
        self.kind = kind
        self._items: Dict[str, Any] = {}

    def register(self, name: str | None = None) -> Callable[[Any], Any]:
        def decorator(obj: Any) -> Any:
            key = name or obj.__name__
            if key in self._items and self._items[key] is not obj:
                raise KeyError(f"{self.kind} '{key}' is registered twice")
            self._items[key] = obj
            return obj

        return decorator

    def get(self, name: str) -> Any:
        if name not in self._items:
            close = difflib.get_close_matches(name, list(self._items), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            raise KeyError(f"unknown {self.kind} '{name}'{hint}; known: {sorted(self._items)}")
        return self._items[name]

    def __contains__(self, name: str) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._items))

    def names(self) -> list:
        return sorted(self._items)


MODELS = Registry("model")
TRACKERS = Registry("tracker")
ACTORS = Registry("actor")
TRAIN_DATASETS = Registry("training dataset")
BENCHMARKS = Registry("benchmark")
