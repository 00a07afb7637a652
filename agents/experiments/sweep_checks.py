"""Checks of a sweep's grid file (TOML or JSON): each key's value must have the type it needs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from memtasks.checks import SEED_MAX

GRID_AXES = {"task": str, "curriculum": str, "model": str}


def check_grid_file(data: dict[str, Any], path: Path) -> None:
    """Raise ValueError naming the file and key where a grid file's value has the wrong type."""
    def refuse(key: str, expected: str) -> None:
        raise ValueError(f"--config {path}: {key} = {data[key]!r} is not accepted: expected "
                         f"{expected}")

    for key in GRID_AXES:
        if key in data and not all(isinstance(v, str) for v in _listed(data[key])):
            refuse(key, "a string or a list of strings")
    if "tau" in data and not all(isinstance(v, (str, int, float)) and not isinstance(v, bool)
                                 for v in _listed(data["tau"])):
        refuse("tau", "'trained', a number >= 1, or a list of them")
    if "seeds" in data and not all(isinstance(v, int) and not isinstance(v, bool)
                                   and 0 <= v <= SEED_MAX for v in _listed(data["seeds"])):
        refuse("seeds", f"an int in [0, {SEED_MAX}] or a list of them")
    if "set" in data and not isinstance(data["set"], dict):
        refuse("set", "a table of train flags, e.g. [set] hidden = 64")


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
