"""The argument checks of every package: each message names the argument, its value and what is accepted.

One vocabulary for memtasks, curricula and agents: ``X=… is not accepted: expected …``.
"""

from __future__ import annotations

import math
import numbers
import os
from typing import Any

import numpy as np


SEED_MAX = 2**64 - 1  # the largest seed torch, numpy and Python's random all accept
FLOAT32_MAX = float(np.finfo(np.float32).max)  # the largest number a float32 parameter holds


def check_int(value: object, name: str, minimum: int = 1, maximum: int | None = None) -> int:
    """``value`` as an int in [``minimum``, ``maximum``], else TypeError/ValueError naming ``name``."""
    expected = (f"an int >= {minimum}" if maximum is None
                else f"an int in [{minimum}, {maximum}]")
    if not isinstance(value, numbers.Integral) or isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}={value!r} is not accepted: expected {expected}")
    if value < minimum or (maximum is not None and value > maximum):
        raise ValueError(f"{name}={value!r} is not accepted: expected {expected}")
    return int(value)


def check_seed(value: object, name: str = "seed") -> int:
    """``value`` as a seed every generator of the project accepts: an int in [0, 2**64 - 1]."""
    return check_int(value, name, 0, SEED_MAX)


def check_probability(value: object, name: str, allow_none: bool = False) -> float | None:
    """``value`` as a float in [0, 1] (or None where allowed), else an error naming ``name``."""
    accepted = "None or a float in [0, 1]" if allow_none else "a float in [0, 1]"
    if value is None and allow_none:
        return None
    if not isinstance(value, numbers.Real) or isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}={value!r} is not accepted: expected {accepted}")
    if not 0.0 <= value <= 1.0:  # False for NaN too
        raise ValueError(f"{name}={value!r} is not accepted: expected {accepted}")
    return float(value)


def check_positive(value: Any, name: str, optional: bool = False,
                   maximum: float = math.inf) -> float | None:
    """``value`` as a float > 0, finite and at most ``maximum`` (or None where ``optional``),
    else an error naming ``name``."""
    expected = f"{'None or ' if optional else ''}a finite number > 0"
    if maximum < math.inf:
        expected += f" and <= {maximum:.3g}"
    if value is None and optional:
        return None
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{name}={value!r} is not accepted: expected {expected}")
    if not (math.isfinite(value) and 0 < value <= maximum):
        raise ValueError(f"{name}={value!r} is not accepted: expected {expected}")
    return float(value)


def physical_memory() -> int:
    """Bytes of RAM in this machine (the ceiling any one computation here can use)."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def format_bytes(count: float) -> str:
    """``count`` bytes in binary units, e.g. ``"1.5 GiB"``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if count < 1024 or unit == "PiB":
            return f"{count:.3g} {unit}"
        count /= 1024
    raise AssertionError("unreachable")


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
