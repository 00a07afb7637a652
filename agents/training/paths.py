"""Output directories: made on demand, or refused with one line naming the argument, path and cause."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

PROBE = ".memtasks-write-test"


def make_out_dir(path: str | os.PathLike, name: str) -> Path:
    """Create directory ``path`` (and its parents) and check it is writable; ValueError naming
    ``name``, the path and the cause (a file in the way, no permission, a name too long…)."""
    path = Path(path)
    if not os.fspath(path).strip():
        raise ValueError(f"{name}='' is not accepted: expected a directory path")
    try:
        if path.exists() and not path.is_dir():
            raise ValueError(f"{name}={str(path)!r} is not accepted: it exists and is not a "
                             f"directory")
        path.mkdir(parents=True, exist_ok=True)
        (path / PROBE).touch()
        (path / PROBE).unlink()
    except OSError as error:
        raise ValueError(f"{name}={str(path)!r} is not writable: "
                         f"{error.strerror or error}") from None
    return path


def path_argument(text: str) -> Path:
    """An argparse type: a non-empty path (an empty one would silently mean the current directory)."""
    if not text.strip():
        raise argparse.ArgumentTypeError(f"expected a path, got {text!r} (use '.' for the current "
                                         f"directory)")
    return Path(text)
