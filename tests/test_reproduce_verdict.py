"""The verdict rule on known inputs: an effect counts only when it exceeds the spread over seeds."""

import math

import pytest

from agents.experiments.reproduce import verdict as V


@pytest.mark.parametrize("larger, smaller, expected", [
    ([10, 12], [5, 6], V.YES),            # effect 5.5 > spread 2
    ([5, 6], [10, 12], V.NO),             # the other way, beyond the spread
    ([10, 14], [9, 11], V.WITHIN),        # right sign, effect 2 < spread 4: the sign is not enough
    ([10, 12], [10, 12], V.WITHIN),       # no effect
    ([3, 3], [3, 3], V.WITHIN),           # no effect, no spread
    ([11], [10, 10.5], V.YES),            # one seed against two: spread 0.5 < effect 0.75
    ([11], [10, 12], V.WITHIN),           # the two-seed arm's range 2 > effect 0
    ([11], [10], V.ONE),                  # no arm with two values: no spread to judge by
    ([], [1, 2], V.NA), ([1, 2], [], V.NA),
    ([None, 10, float("nan"), 12], [5, None, 6], V.YES),  # None/NaN are dropped
    ([None], [1, 2], V.NA),
])
def test_compare(larger, smaller, expected):
    assert V.compare(larger, smaller) == expected


def test_compare_is_antisymmetric():
    for a, b in ([[10, 12], [5, 6]], [[10, 14], [9, 11]], [[1, 2], [1.5, 9]]):
        flipped = {V.YES: V.NO, V.NO: V.YES, V.WITHIN: V.WITHIN}
        assert V.compare(b, a) == flipped[V.compare(a, b)]


def test_spread_is_the_largest_range_of_arms_with_two_values():
    assert V.spread([1, 4], [2, 2.5], [7]) == 3
    assert V.spread([7], [8]) is None
    assert V.finite([1, None, math.inf, float("nan"), 2]) == [1.0, 2.0]


@pytest.mark.parametrize("values, level, expected", [
    ([5, 6], 4, V.YES), ([3, 6], 4, V.WITHIN), ([3, 4], 4, V.NO), ([], 4, V.NA)])
def test_above_asks_every_seed(values, level, expected):
    assert V.above(values, level) == expected


def test_negate_turns_no_effect_into_yes():
    assert [V.negate(o) for o in (V.YES, V.NO, V.WITHIN, V.ONE, V.NA)] == \
        [V.NO, V.YES, V.YES, V.ONE, V.NA]


@pytest.mark.parametrize("checks, expected", [
    ({"a": V.YES, "b": V.YES}, V.REPRODUCED),
    ({"a": V.YES, "b": V.NA}, V.REPRODUCED),
    ({"a": V.YES, "b": V.WITHIN}, V.PARTLY),
    ({"a": V.YES, "b": V.NO}, V.PARTLY),
    ({"a": V.NO, "b": V.WITHIN}, V.NOT),
    ({"a": V.WITHIN, "b": V.WITHIN}, V.INCONCLUSIVE),
    ({"a": V.ONE, "b": V.NA}, V.UNDECIDED),
    ({"a": V.NA}, V.UNTESTED), ({}, V.UNTESTED)])
def test_verdict(checks, expected):
    assert V.verdict(checks) == expected
