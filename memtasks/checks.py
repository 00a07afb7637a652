"""The argument checks of every package: each message names the argument, its value and what is accepted.

One vocabulary for memtasks, curricula and agents: ``X=… is not accepted: expected …``, raised as
TypeError for a value of the wrong kind and ValueError for one out of range.
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Iterable, Sequence
from typing import Any, SupportsInt, cast

import numpy as np


SEED_MAX = 2**64 - 1  # the largest seed torch, numpy and Python's random all accept
FLOAT32_MAX = float(np.finfo(np.float32).max)  # the largest number a float32 parameter holds


def reject(name: str, value: object, expected: str, error: type[Exception] = ValueError) -> Exception:
    """The exception for ``name=value``, which is not what is ``expected``."""
    return error(f"{name}={value!r} is not accepted: expected {expected}")


def check_bool(value: object, name: str, optional: bool = False) -> bool | None:
    """``value`` if it is True or False (or None where ``optional``), else a TypeError."""
    if isinstance(value, bool) or (optional and value is None):
        return value
    raise reject(name, value, "None, True or False" if optional else "True or False", TypeError)


def first_line(error: BaseException) -> str:
    """The first line of ``error``'s message, else its type's name: for one-line reports."""
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def is_int(value: object) -> bool:
    """True for Python and numpy integers, False for bools."""
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def is_real(value: object) -> bool:
    """True for Python and numpy real numbers, False for bools."""
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def check_int(value: object, name: str, minimum: int = 1, maximum: int | None = None) -> int:
    """``value`` as an int ≥ ``minimum`` (and ≤ ``maximum``)."""
    expected = f"an int >= {minimum}" if maximum is None else f"an int in [{minimum}, {maximum}]"
    if not is_int(value):
        raise reject(name, value, expected, TypeError)
    number = int(cast(SupportsInt, value))
    if number < minimum or (maximum is not None and number > maximum):
        raise reject(name, value, expected)
    return number


def check_seed(value: object, name: str = "seed") -> int:
    """``value`` as a seed every generator of the project accepts: an int in [0, 2**64 - 1]."""
    return check_int(value, name, 0, SEED_MAX)


def check_probability(value: object, name: str, allow_none: bool = False) -> float | None:
    """``value`` as a float in [0, 1] (or None where allowed)."""
    accepted = "None or a float in [0, 1]" if allow_none else "a float in [0, 1]"
    if value is None and allow_none:
        return None
    if not is_real(value):
        raise reject(name, value, accepted, TypeError)
    if not 0.0 <= value <= 1.0:  # type: ignore[operator]  # False for NaN too
        raise reject(name, value, accepted)
    return float(value)  # type: ignore[arg-type]


def check_positive(value: Any, name: str, optional: bool = False,
                   maximum: float = math.inf) -> float | None:
    """``value`` as a finite float > 0 and ≤ ``maximum`` (or None where ``optional``)."""
    expected = f"{'None or ' if optional else ''}a finite number > 0"
    if maximum < math.inf:
        expected += f" and <= {maximum:.3g}"
    if value is None and optional:
        return None
    if not is_real(value):
        raise reject(name, value, expected, TypeError)
    if not (math.isfinite(value) and 0 < value <= maximum):
        raise reject(name, value, expected)
    return float(value)


def check_threshold(value: object, name: str = "threshold") -> float:
    """An accuracy above which a stage counts as solved: a float in (0, 1]."""
    if not is_real(value):
        raise reject(name, value, "a float in (0, 1]", TypeError)
    if not 0.0 < value <= 1.0:  # type: ignore[operator]
        raise reject(name, value, "a float in (0, 1]")
    return float(value)  # type: ignore[arg-type]


def check_choice(value: object, name: str, choices: Sequence[Any]) -> Any:
    """``value`` if it is one of ``choices``."""
    if isinstance(value, (list, dict, set)) or value not in choices:
        raise reject(name, value, f"one of {tuple(choices)}")
    return value


def check_heads(value: object, name: str = "N", minimum: int = 1) -> tuple[int, ...]:
    """A head set: an int N ≥ ``minimum`` or a non-empty sequence of distinct ones, as a tuple."""
    accepted = f"an int >= {minimum} or a non-empty sequence of distinct ints >= {minimum}"
    if is_int(value):
        values: list[Any] = [value]
    elif isinstance(value, np.ndarray) or (isinstance(value, Iterable)
                                           and not isinstance(value, (str, bytes, dict))):
        values = list(value.tolist() if isinstance(value, np.ndarray) else value)
    else:
        raise reject(name, value, accepted, TypeError)
    if not all(map(is_int, values)):
        raise reject(name, value, accepted, TypeError)
    if not values or min(values) < minimum or len(set(values)) != len(values):
        raise reject(name, value, accepted)
    return tuple(int(n) for n in values)


def physical_memory() -> int:
    """Bytes of RAM in this machine (the ceiling any one computation here can use)."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def format_bytes(count: float) -> str:
    """``count`` bytes in binary units, e.g. ``"1.5 GiB"``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if count < 1024:
            return f"{count:.3g} {unit}"
        count /= 1024
    return f"{count:.3g} PiB"


def check_memory(needed: float, what: str, available: float | None = None,
                 where: str = "this machine's memory") -> None:
    """Refuse up front (ValueError naming ``what``) work whose memory estimate exceeds ``available``.

    ``available`` defaults to the machine's RAM: the check catches absurd sizes before an
    allocator fails deep inside numpy or torch, not tight fits.
    """
    available = physical_memory() if available is None else available
    if needed > available:
        raise ValueError(f"{what} is not accepted: it needs about {format_bytes(needed)} of "
                         f"memory, more than the {format_bytes(available)} of {where}")
