"""The four schedules: which heads come after the current ones are solved.

Each wraps a `gymnasium.Env` (or, through the same constructor, a native `gymnasium.vector.VectorEnv`)
and takes the arguments of `CurriculumMixin`: ``threshold=0.98``, ``start=None``, ``max_N=None``,
``window=100``.
"""

from __future__ import annotations

from typing import Any

from curricula.base import CurriculumMixin, curriculum
from memtasks.checks import check_int, reject


@curriculum
class SingleHead(CurriculumMixin):
    """Single-head curriculum: one head, N → N + 1 each time it is solved."""

    def next_heads(self, heads: tuple[int, ...], room: float) -> tuple[int, ...]:
        return (max(heads) + 1,) if room >= 1 else heads


@curriculum
class MultiHead(CurriculumMixin):
    """Multi-head curriculum: keep every head and add N_max + 1 … N_max + `grow` each time all are solved."""

    def __init__(self, env: Any, grow: int = 1, **kwargs: Any) -> None:
        self.grow = check_int(grow, "grow")
        super().__init__(env, **kwargs)

    def next_heads(self, heads: tuple[int, ...], room: float) -> tuple[int, ...]:
        top = max(heads)
        return heads + tuple(range(top + 1, top + 1 + int(min(self.grow, room))))


@curriculum
class Sliding(CurriculumMixin):
    """Sliding window of heads: drop the `forget` smallest N and add as many above N_max."""

    def __init__(self, env: Any, forget: int = 1, **kwargs: Any) -> None:
        self.forget = check_int(forget, "forget")
        super().__init__(env, **kwargs)
        if self.forget > len(self.heads):
            raise reject("forget", forget, f"an int from 1 to the number of heads {self.heads}")

    def next_heads(self, heads: tuple[int, ...], room: float) -> tuple[int, ...]:
        shift = int(min(self.forget, room))
        if shift < 1:
            return heads
        top = max(heads)
        return tuple(sorted(heads)[shift:]) + tuple(range(top + 1, top + 1 + shift))


@curriculum
class Fixed(CurriculumMixin):
    """No curriculum: the heads never change; `finished` turns True once they are solved."""

    def next_heads(self, heads: tuple[int, ...], room: float) -> tuple[int, ...]:
        return heads

