"""Output directories, made on demand or refused with one line naming the argument, path and cause;
and the argparse value types the ``memtasks`` commands share (paths, bounded numbers)."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path

from memtasks.checks import check_int

PROBE = ".memtasks-write-test"


def check_dir(path: object, name: str) -> Path:
    """``path`` as a directory path, before anything is made: TypeError/ValueError naming ``name``
    for another type, an empty path, a file in the way or a name the file system refuses."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{name}={path!r} is not accepted: expected None or a directory path")
    if not os.fspath(path).strip():
        raise ValueError(f"{name}={os.fspath(path)!r} is not accepted: expected a directory path "
                         f"(use '.' for the current directory)")
    path = Path(path)
    try:
        if path.exists() and not path.is_dir():
            raise ValueError(f"{name}={str(path)!r} is not accepted: it exists and is not a "
                             f"directory")
    except OSError as error:  # e.g. a name longer than the file system allows
        raise ValueError(f"{name}={str(path)!r} is not accepted: {error.strerror}") from None
    return path


def make_out_dir(path: str | os.PathLike, name: str) -> Path:
    """Create directory ``path`` (and its parents) and check it is writable; ValueError naming
    ``name``, the path and the cause (a file in the way, no permission, a name too long…)."""
    path = check_dir(path, name)
    try:
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


def int_at_least(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    """An argparse type: an int >= ``minimum`` (and <= ``maximum``), else argparse's one-line error."""
    expected = f"an int >= {minimum}" if maximum is None else f"an int in [{minimum}, {maximum}]"

    def parse(text: str) -> int:
        try:
            return check_int(int(text), "value", minimum, maximum)
        except ValueError:  # not an int, or out of range
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
    return parse


def float_above(minimum: float) -> Callable[[str], float]:
    """An argparse type: a finite number above ``minimum``."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not minimum < value < float("inf"):
            raise argparse.ArgumentTypeError(f"expected a number > {minimum}, got {text!r}")
        return value
    return parse
