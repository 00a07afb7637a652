"""The curricula's own argument checks (accuracy maps, caps on N), in the vocabulary of
:mod:`memtasks.checks`; the head-set interface is checked in :mod:`curricula.headset`."""

from __future__ import annotations

from collections.abc import Mapping

from memtasks.checks import check_int, check_probability, reject


def check_accuracy(accuracy_by_N: object, heads: tuple[int, ...]) -> dict[int, float]:
    """{N: accuracy} for exactly the current ``heads``, every accuracy a number in [0, 1]."""
    if not isinstance(accuracy_by_N, Mapping):
        raise reject("accuracy_by_N", accuracy_by_N, "a mapping {N: accuracy}", TypeError)
    accuracy = {check_int(key, "accuracy_by_N key"): check_probability(value, f"accuracy_by_N[{key!r}]")
                for key, value in accuracy_by_N.items()}
    if set(accuracy) != set(heads):
        raise reject("accuracy_by_N", accuracy_by_N,
                     f"exactly the current heads {heads} as keys; missing N: "
                     f"{sorted(set(heads) - set(accuracy))}, extra N: {sorted(set(accuracy) - set(heads))}")
    return accuracy  # type: ignore[return-value]


def check_max_N(max_N: object, heads: tuple[int, ...]) -> int | None:
    """The cap on N (None: no cap); it may not lie below the starting heads."""
    if max_N is None:
        return None
    return check_int(max_N, "max_N", max(heads))

