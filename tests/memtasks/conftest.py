"""Shared test helpers: a slow, obvious definition of each task's label."""

import pytest


def slow_label(task: str, bits, t: int, n: int) -> int:
    """y_t for head n over the stream `bits`, straight from the definition; -1 before the window fills."""
    if t < n - 1:
        return -1
    window = [int(b) for b in bits[t - n + 1:t + 1]]
    if task == "parity":
        return sum(window) % 2
    return int(window[0] == window[-1])


@pytest.fixture
def slow():
    return slow_label
