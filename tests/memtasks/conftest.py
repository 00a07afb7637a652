"""Shared test helpers: a slow, obvious definition of each task's label."""

import pytest


def slow_label(task: str, bits, t: int, n: int, repeat: int = 1) -> int:
    """y_t for head n over the stream `bits`, straight from the definition; -1 before the window fills.

    With `repeat` = k the stream shows each bit k times: only a bit's last copy (t + 1 a multiple
    of k) is labelled, over the original bits (every k-th step of the stream).
    """
    if (t + 1) % repeat:
        return -1
    original = [int(b) for b in bits[repeat - 1:t + 1:repeat]]
    assert all(int(b) == original[i // repeat] for i, b in enumerate(bits[:t + 1]))
    j = len(original) - 1
    if j < n - 1:
        return -1
    window = original[j - n + 1:j + 1]
    if task == "parity":
        return sum(window) % 2
    return int(window[0] == window[-1])


@pytest.fixture
def slow():
    return slow_label
