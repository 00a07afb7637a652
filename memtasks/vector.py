"""`MemoryTaskVectorEnv`: many copies of a memory task stepped together in one numpy call."""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from memtasks.batch import draw_episodes, episode_labels
from memtasks.checks import check_int, reject
from memtasks.env import TaskHeads, observation_space, score, unscored_info
from memtasks.tasks import TaskConfig


class MemoryTaskVectorEnv(TaskHeads, VectorEnv):
    """`num_envs` independent copies of `MemoryTaskEnv`, each with its own stream and length.

    Same arguments, spaces, rewards and step infos as `MemoryTaskEnv`, batched over copies:
    observations (num_envs, 1), actions (num_envs, H), info "labels" int64 (num_envs, H) and
    "correct" bool (num_envs, H). Autoreset is next-step (Gymnasium's default, as in "sync"
    mode): the step after a copy terminates ignores its action and returns its new x_0 with
    reward 0 and no labels.
    """

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": []}

    def __init__(self, num_envs: int = 1, task: str = "parity", N: Any = 2, seq_len: Any = None,
                 p: float | None = None, labels: str = "final", *, repeat: int = 1):
        self.num_envs = check_int(num_envs, "num_envs")
        self.config = TaskConfig(task, N, seq_len, p, labels, repeat)
        self.single_observation_space = observation_space()
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self._set_action_spaces()
        self._bits = np.zeros((0, self.num_envs), dtype=np.uint8)  # (capacity, num_envs)
        self._labels: np.ndarray | None = None                     # (capacity, num_envs, H) int8
        self._lengths = np.zeros(self.num_envs, dtype=np.int64)
        self._t = np.zeros(self.num_envs, dtype=np.int64)
        self._needs_reset = np.zeros(self.num_envs, dtype=bool)

    def set_heads(self, Ns: Any) -> None:
        """Switch every copy to the heads `Ns`; episodes in progress are relabelled, new ones use them."""
        self._switch_heads(Ns)
        self._set_action_spaces()
        if self._labels is not None:
            self._labels = episode_labels(self.config, self._bits, self._lengths)

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self._labels = None
        self._start(np.arange(self.num_envs))
        self._needs_reset[:] = False
        return self._observations(), unscored_info((self.num_envs, len(self.heads)))

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict]:
        if self._labels is None:
            raise RuntimeError("step() called before reset(); call envs.reset() first")
        actions = np.asarray(actions)
        if not self.action_space.contains(actions):
            raise reject("actions", actions, f"an int array of shape {self.action_space.shape} with "
                         f"values 0 or 1, one prediction per copy and head {self.heads}")
        copies = np.arange(self.num_envs)
        resetting = self._needs_reset
        labels = self._labels[np.minimum(self._t, len(self._bits) - 1), copies].astype(np.int64)
        labels[resetting] = -1
        correct, reward = score(actions, labels)
        self._t += ~resetting
        terminated = ~resetting & (self._t == self._lengths)
        if resetting.any():
            self._start(np.flatnonzero(resetting))
        self._needs_reset = terminated
        observations = self._observations()
        observations[terminated] = 0.0
        truncated = np.zeros(self.num_envs, dtype=bool)
        return observations, reward, terminated, truncated, {"labels": labels, "correct": correct}

    def _set_action_spaces(self) -> None:
        self.single_action_space = spaces.MultiDiscrete([2] * len(self.heads))
        self.action_space = batch_space(self.single_action_space, self.num_envs)

    def _start(self, copies: np.ndarray) -> None:
        """Draw new episodes for `copies`, growing the buffers when a new episode is longer."""
        bits, lengths = draw_episodes(self.config, self.np_random, len(copies))
        if len(bits) > len(self._bits):
            grow = len(bits) - len(self._bits)
            self._bits = np.pad(self._bits, ((0, grow), (0, 0)))
            if self._labels is not None:
                self._labels = np.pad(self._labels, ((0, grow), (0, 0), (0, 0)), constant_values=-1)
        if self._labels is None:
            self._labels = np.full((len(self._bits), self.num_envs, len(self.heads)), -1, dtype=np.int8)
        self._bits[:len(bits), copies] = bits
        self._labels[:len(bits), copies] = episode_labels(self.config, bits, lengths)
        self._lengths[copies] = lengths
        self._t[copies] = 0

    def _observations(self) -> np.ndarray:
        t = np.minimum(self._t, len(self._bits) - 1)
        return self._bits[t, np.arange(self.num_envs)].astype(np.float32)[:, None]
