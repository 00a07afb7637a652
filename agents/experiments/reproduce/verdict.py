"""The verdict rule: an effect counts only when it exceeds the spread over seeds.

Each claim is split into checks; each check compares per-seed values of two arms (or of one arm
against a level). The *spread* is the largest range (max − min over seeds) of the arms compared
that have at least two values; the *effect* is the difference of the arms' means. A check says
``yes`` when the effect points the claimed way and exceeds the spread, ``no`` when it points the
other way and exceeds it, ``within spread`` otherwise, ``one value`` when no arm has two values
(no spread to judge by) and ``n/a`` when an arm has no value at all.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from statistics import fmean

YES, NO, WITHIN, ONE, NA = "yes", "no", "within spread", "one value", "n/a"
DECIDED = (YES, NO, WITHIN)
REPRODUCED, PARTLY, NOT, INCONCLUSIVE, UNTESTED, UNDECIDED = (
    "reproduced", "partly", "not reproduced", "inconclusive", "not tested at this scale",
    "undecided (one value per arm, no spread)")
VERDICTS = (REPRODUCED, PARTLY, NOT, INCONCLUSIVE, UNTESTED, UNDECIDED)


def finite(values: Iterable[float | None]) -> list[float]:
    """The finite numbers among ``values`` (None, NaN and inf dropped)."""
    return [float(v) for v in values if v is not None and math.isfinite(v)]


def spread(*arms: Sequence[float]) -> float | None:
    """The largest range over seeds among the arms with two values or more (None: no such arm)."""
    ranges = [max(a) - min(a) for a in arms if len(a) > 1]
    return max(ranges) if ranges else None


def compare(larger: Iterable[float | None], smaller: Iterable[float | None]) -> str:
    """Whether the arm ``larger`` exceeds ``smaller`` by more than the spread over seeds."""
    a, b = finite(larger), finite(smaller)
    if not a or not b:
        return NA
    width = spread(a, b)
    if width is None:
        return ONE
    effect = fmean(a) - fmean(b)
    return YES if effect > width else NO if -effect > width else WITHIN


def above(values: Iterable[float | None], level: float) -> str:
    """Whether every seed's value exceeds ``level`` (yes), none does (no), or some (within)."""
    a = finite(values)
    if not a:
        return NA
    return YES if min(a) > level else NO if max(a) <= level else WITHIN


def negate(outcome: str) -> str:
    """The outcome of "no effect" from that of "an effect": an effect beyond the spread → no;
    none beyond it (within spread, or the other way) → yes."""
    return {YES: NO, NO: YES, WITHIN: YES}.get(outcome, outcome)


def verdict(checks: Mapping[str, str]) -> str:
    """All decided checks yes → reproduced; some → partly; a no and no yes → not reproduced;
    all within spread → inconclusive; none decided → undecided (one value) or not tested."""
    decided = [v for v in checks.values() if v in DECIDED]
    if not decided:
        return UNDECIDED if ONE in checks.values() else UNTESTED
    if all(v == YES for v in decided):
        return REPRODUCED
    if YES in decided:
        return PARTLY
    return NOT if NO in decided else INCONCLUSIVE
