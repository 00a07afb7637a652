"""Checks of what a sweep reads from files (``sweep.json``, grid files) and of where its runs go.

A run's label and path come from files a user may edit or receive: each must name a place
inside the sweep directory (no absolute path, no ``..``), so a sweep never writes outside it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path, PurePath
from typing import Any

from memtasks.checks import SEED_MAX

GRID_AXES = {"task": str, "curriculum": str, "model": str}


def check_label(label: Any, name: str = "label") -> str:
    """``label`` as one directory name: a non-empty string without a path separator, '.' or '..'."""
    if not isinstance(label, str):
        raise TypeError(f"{name}={label!r} is not accepted: expected a string")
    if (not label.strip() or label in (".", "..") or "\0" in label
            or any(sep in label for sep in (os.sep, "/", os.altsep or "/"))):
        raise ValueError(f"{name}={label!r} is not accepted: expected one directory name "
                         f"(no '/', not '.' or '..')")
    return label


def check_subpath(path: Any, name: str = "path") -> str:
    """``path`` as a relative path that stays inside the directory it is joined to."""
    if not isinstance(path, str):
        raise TypeError(f"{name}={path!r} is not accepted: expected a string")
    parts = PurePath(path).parts
    if not path.strip() or PurePath(path).is_absolute() or ".." in parts or "\0" in path \
            or not [p for p in parts if p != "."]:
        raise ValueError(f"{name}={path!r} is not accepted: expected a relative path inside "
                         f"the sweep directory (not absolute, no '..')")
    return path


def read_runs(path: Path) -> list[dict[str, Any]]:
    """The run entries of a ``sweep.json``; ValueError naming the file if it is not one."""
    try:
        data = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path} is not a sweep file: not valid JSON "
                         f"({getattr(error, 'msg', error)})") from None
    runs = data.get("runs") if isinstance(data, dict) else None
    if not isinstance(runs, list) or not all(isinstance(run, dict) for run in runs):
        raise ValueError(f"{path} is not a sweep file: expected a list 'runs' of run entries")
    for i, run in enumerate(runs):
        if not isinstance(run.get("options", {}), dict):
            raise ValueError(f"{path}: runs[{i}]['options'] must be a mapping of train flags, "
                             f"got {run['options']!r}")
    return runs


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
