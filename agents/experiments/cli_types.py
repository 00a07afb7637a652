"""argparse value types shared by the ``memtasks`` commands (no command imports, so any may use them)."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def int_at_least(minimum: int) -> Callable[[str], int]:
    """An argparse type: an int >= ``minimum``, else argparse's one-line error."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an int >= {minimum}, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"expected an int >= {minimum}, got {text!r}")
        return value
    return parse


def float_above(minimum: float, inclusive: bool = False) -> Callable[[str], float]:
    """An argparse type: a finite number above (or, ``inclusive``, at least) ``minimum``."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not (value >= minimum if inclusive else value > minimum) or value == float("inf"):
            raise argparse.ArgumentTypeError(
                f"expected a number {'>=' if inclusive else '>'} {minimum}, got {text!r}")
        return value
    return parse
