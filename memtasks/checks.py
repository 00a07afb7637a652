"""The argument checks of every package: each message names the argument, its value and what is accepted.

One vocabulary for memtasks, curricula and agents: ``X=… is not accepted: expected …``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np


def check_int(value: object, name: str, minimum: int = 1) -> int:
    """``value`` as an int ≥ ``minimum``, else TypeError/ValueError naming ``name``."""
    if not isinstance(value, numbers.Integral) or isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}={value!r} is not accepted: expected an int >= {minimum}")
    if value < minimum:
        raise ValueError(f"{name}={value!r} is not accepted: expected an int >= {minimum}")
    return int(value)


def check_probability(value: object, name: str, allow_none: bool = False) -> float | None:
    """``value`` as a float in [0, 1] (or None where allowed), else an error naming ``name``."""
    accepted = "None or a float in [0, 1]" if allow_none else "a float in [0, 1]"
    if value is None and allow_none:
        return None
    if not isinstance(value, numbers.Real) or isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}={value!r} is not accepted: expected {accepted}")
    if not 0.0 <= float(value) <= 1.0:  # False for NaN too
        raise ValueError(f"{name}={value!r} is not accepted: expected {accepted}")
    return float(value)


def check_positive(value: Any, name: str, optional: bool = False) -> float | None:
    """``value`` as a float > 0 and finite (or None where ``optional``), else an error naming ``name``."""
    expected = f"{'None or ' if optional else ''}a finite number > 0"
    if value is None and optional:
        return None
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{name}={value!r} is not accepted: expected {expected}")
    if not (math.isfinite(value) and float(value) > 0):
        raise ValueError(f"{name}={value!r} is not accepted: expected {expected}")
    return float(value)


def check_choice(value: object, name: str, choices: Sequence[Any]) -> Any:
    """``value`` if it is one of ``choices``, else ValueError naming ``name`` and the choices."""
    if isinstance(value, Hashable) and value in choices:
        return value
    raise ValueError(f"{name}={value!r} is not accepted: expected one of {', '.join(map(repr, choices))}")
