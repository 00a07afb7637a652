"""Argument checks shared by the analysis functions (messages name the argument and what is accepted)."""

from __future__ import annotations

import numbers

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
    if not 0.0 <= value <= 1.0:  # False for NaN too
        raise ValueError(f"{name}={value!r} is not accepted: expected {accepted}")
    return float(value)
