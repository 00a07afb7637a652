"""The tasks' definitions: argument validation and one vectorized label function per task.

For a bit stream x_0, x_1, ... and a head N, the label at step t >= N - 1 is
- parity: y_t = (x_{t-N+1} + ... + x_t) mod 2
- DMS:    y_t = 1 if x_{t-N+1} == x_t else 0
and there is no label (-1) at t < N - 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from memtasks.checks import (check_choice, check_heads, check_int, check_memory, check_probability,
                             is_int, reject)

TASKS = ("parity", "dms")
LABEL_MODES = ("final", "every_step")
MIN_N = {"parity": 1, "dms": 2}


def validate_task(task: Any) -> str:
    """Return ``task`` if it names a known task."""
    return check_choice(task, "task", TASKS)


def validate_heads(N: Any, task: str, argname: str = "N") -> tuple[int, ...]:
    """N (an int or a sequence of distinct ints >= the task's minimum) as a tuple of heads."""
    return check_heads(N, argname, MIN_N[validate_task(task)])


def validate_seq_len(seq_len: Any, heads: tuple[int, ...]) -> None | int | tuple[int, int]:
    """seq_len: None, an int >= max(N), or a (low, high) pair, high exclusive, low >= max(N)."""
    n_max = max(heads)
    accepted = (f"None, an int >= max(N) = {n_max}, or a (low, high) pair of ints "
                f"with {n_max} <= low < high (high exclusive)")
    if seq_len is None:
        return None
    if is_int(seq_len):
        if seq_len < n_max:
            raise reject("seq_len", seq_len, accepted)
        return int(seq_len)
    if isinstance(seq_len, (tuple, list)) and len(seq_len) == 2 and all(map(is_int, seq_len)):
        low, high = seq_len
        if not n_max <= low < high:
            raise reject("seq_len", seq_len, accepted)
        return int(low), int(high)
    raise reject("seq_len", seq_len, accepted, TypeError)


@dataclass
class TaskConfig:
    """A validated task description shared by the envs and the batch sampler.

    Fields are normalised on construction, so `dataclasses.replace(config, heads=...)`
    re-validates everything (e.g. a fixed seq_len against a larger N). `repeat` = k shows each
    bit k times (continuous time); `seq_len` and the labels still count the original bits.
    """

    task: str
    heads: tuple[int, ...] = (2,)
    seq_len: None | int | tuple[int, int] = None
    p: float | None = None
    labels: str = "final"
    repeat: int = 1

    def __post_init__(self) -> None:
        self.task = validate_task(self.task)
        self.heads = validate_heads(self.heads, self.task)
        self.seq_len = validate_seq_len(self.seq_len, self.heads)
        self.p = check_probability(self.p, "p", allow_none=True)
        self.labels = check_choice(self.labels, "labels", LABEL_MODES)
        self.repeat = check_int(self.repeat, "repeat", 1)
        self._check_memory()

    def _check_memory(self) -> None:
        """Refuse a task whose single longest episode (bits, random draws, int64 labels per head)
        would not fit in this machine's memory."""
        longest = (self.length_range()[1] - 1) * self.repeat
        what = f"N={list(self.heads)}" if self.seq_len is None else f"seq_len={self.seq_len!r}"
        check_memory(longest * (5 + 8 * len(self.heads)), f"{what} (episodes up to {longest} steps)")

    def describe(self) -> str:
        """The settings as keyword arguments of the envs, e.g. "task='parity', N=(3, 4), …", for reprs."""
        return (f"task={self.task!r}, N={self.heads!r}, seq_len={self.seq_len!r}, p={self.p!r}, "
                f"labels={self.labels!r}, repeat={self.repeat!r}")

    def length_range(self) -> tuple[int, int]:
        """The (low, high) range of sequence lengths in original bits, high exclusive."""
        if self.seq_len is None:
            n_max = max(self.heads)
            return n_max + 2, 4 * n_max + 2
        if isinstance(self.seq_len, int):
            return self.seq_len, self.seq_len + 1
        return self.seq_len


def label_stream(task: str, bits: np.ndarray, heads: Sequence[int],
                 steps: np.ndarray | None = None) -> np.ndarray:
    """Labels of bit streams `bits` (T, B) of 0/1 for each head: int64 (T, B, H), -1 where t < N - 1.

    With `steps` (L,), only the labels at those time steps are computed: (L, B, H).
    Parity uses prefix parities (a window's parity is the XOR of two prefixes);
    DMS compares the stream with itself shifted by N - 1.
    """
    validate_task(task)
    bits = np.asarray(bits)
    if bits.ndim != 2:
        raise ValueError(f"bits must be a (T, B) array of 0/1; got shape {bits.shape}")
    T = bits.shape[0]
    t = np.arange(T) if steps is None else np.asarray(steps, dtype=np.int64)
    start = t[:, None] - np.asarray(heads, dtype=np.int64)[None, :] + 1   # (L, H) window start
    first = np.maximum(start, 0)
    if task == "parity":
        B = bits.shape[1]
        lo = int(first.min()) if first.size else 0                          # only the rows some window
        hi = int(t.max()) + 1 if t.size else lo                             # covers: x_lo..x_{hi-1}
        prefix = np.zeros((hi - lo + 1, -(-B // 8) * 8), dtype=np.uint8)   # prefix[k] = parity of x_lo..x_{lo+k-1}
        prefix[1:, :B] = bits[lo:hi]
        words = prefix[1:].view(np.uint64)                                  # 8 streams per word: XOR never
        np.bitwise_xor.accumulate(words, axis=0, out=words)                 # carries from byte to byte
        same = prefix[t + 1 - lo, None, :B] ^ prefix[first - lo, :B]        # (L, H, B)
    else:
        same = bits[t][:, None, :] == bits[first]
    return np.where((start >= 0)[:, None, :], same.transpose(0, 2, 1), np.int64(-1))
