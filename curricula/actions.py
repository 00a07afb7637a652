"""`PadActions`: a fixed action space over a task whose head set grows, for learners that cannot grow theirs."""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces
from gymnasium.envs.registration import EnvSpec

from curricula.headset import check_head_set, get_heads
from memtasks.checks import check_int, reject


class PadActions(gymnasium.ActionWrapper, gymnasium.utils.RecordConstructorArgs):
    """Expose ``MultiDiscrete([2] * size)`` whatever the env's current heads: the first ``len(heads)``
    predictions go to the env, in head order, and the rest are ignored.

    RL libraries (Stable-Baselines3) build their policy for the action space they see at the start,
    so a curriculum that adds heads would otherwise break them. Wrap it outside the curriculum:
    ``PadActions(curricula.MultiHead(env, max_N=4), size=3)``; slot k then always predicts the k-th
    head. Rewards and infos (``"labels"``, ``"correct"``: one entry per current head) pass unchanged.

    Args:
        env: an env offering ``env.unwrapped.heads``.
        size: the number of predictions per step, at least the most heads the env will have.
    """

    def __init__(self, env: gymnasium.Env, size: int) -> None:
        gymnasium.utils.RecordConstructorArgs.__init__(self, size=size)
        gymnasium.ActionWrapper.__init__(self, env)
        check_head_set(env)
        self.size = check_int(size, "size", len(get_heads(env)))
        self.action_space = spaces.MultiDiscrete([2] * self.size)

    @property
    def spec(self) -> EnvSpec | None:  # type: ignore[override]  # as gymnasium.Wrapper's own spec property
        """The spec of the env as it is now, never cached: a curriculum below may have changed the heads."""
        self._cached_spec = None
        return super().spec

    def action(self, action: Any) -> np.ndarray:
        """The env's action: the first ``len(heads)`` predictions of `action`."""
        heads = get_heads(self.env)
        if len(heads) > self.size:
            raise ValueError(f"the env now has {len(heads)} heads {heads}, more than size={self.size}; "
                             "make size at least the most heads the curriculum reaches (see max_N)")
        action = np.asarray(action)
        if not self.action_space.contains(action):
            raise reject("action", action, f"an int array of shape ({self.size},) with values 0 or 1")
        return action[:len(heads)]
