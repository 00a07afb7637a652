"""Argument validation for the curricula: clear errors that name the argument, its value and what is accepted."""

from __future__ import annotations

import numbers
from collections.abc import Mapping


def check_int(name: str, value: object, minimum: int = 1) -> int:
    """Return `value` as an int, or raise if it is not an integer >= `minimum`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer >= {minimum}, got {value!r} ({type(value).__name__})")
    if value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_threshold(threshold: object) -> float:
    """Return the accuracy threshold as a float in (0, 1]."""
    if isinstance(threshold, bool) or not isinstance(threshold, numbers.Real):
        raise TypeError(f"threshold must be a number in (0, 1], got {threshold!r} ({type(threshold).__name__})")
    if not 0.0 < float(threshold) <= 1.0:
        raise ValueError(f"threshold must be a number in (0, 1], got {threshold!r}")
    return float(threshold)


def check_heads(name: str, value: object) -> tuple[int, ...]:
    """Return a head set (an int N, or a non-empty sequence of distinct ints >= 1) as a tuple of int."""
    values = [value] if isinstance(value, numbers.Integral) else value
    if isinstance(values, (str, bytes, Mapping)) or not hasattr(values, "__iter__"):
        raise TypeError(f"{name} must be an int >= 1 or a sequence of distinct ints >= 1, got {value!r}")
    heads = tuple(check_int(f"{name} (element {n!r})", n) for n in values)
    if not heads:
        raise ValueError(f"{name} must name at least one N, got {value!r}")
    if len(set(heads)) != len(heads):
        raise ValueError(f"{name} must not repeat an N, got {value!r}")
    return heads


def check_accuracy(accuracy_by_N: object, heads: tuple[int, ...]) -> dict[int, float]:
    """Return {N: accuracy} for exactly the current `heads`, every accuracy a number in [0, 1]."""
    if not isinstance(accuracy_by_N, Mapping):
        raise TypeError(
            f"accuracy_by_N must be a mapping {{N: accuracy}}, got {type(accuracy_by_N).__name__}"
        )
    accuracy = {}
    for key, value in accuracy_by_N.items():
        n = check_int("accuracy_by_N key", key)
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0.0 <= float(value) <= 1.0:
            raise ValueError(f"accuracy_by_N[{n}] must be a number in [0, 1], got {value!r}")
        accuracy[n] = float(value)
    missing = sorted(set(heads) - set(accuracy))
    extra = sorted(set(accuracy) - set(heads))
    if missing or extra:
        raise ValueError(
            f"accuracy_by_N must have exactly the current heads {heads} as keys; "
            f"missing N: {missing}, extra N: {extra}"
        )
    return accuracy


def check_max_N(max_N: object, heads: tuple[int, ...]) -> int | None:
    """Return the cap on N (None: no cap); it may not lie below the starting heads."""
    if max_N is None:
        return None
    cap = check_int("max_N", max_N)
    if cap < max(heads):
        raise ValueError(f"max_N must be >= the largest starting N ({max(heads)}), got {max_N!r}")
    return cap

