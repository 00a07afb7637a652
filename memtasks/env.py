"""`MemoryTaskEnv`: N-parity and N-DMS over one bit stream, with the Gymnasium API."""

from __future__ import annotations

import dataclasses
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from gymnasium.envs.registration import EnvSpec

from memtasks.batch import Batch, as_generator, draw_episodes, episode_labels, sample_batch
from memtasks.checks import check_choice, reject
from memtasks.tasks import TaskConfig, validate_heads


CELL = 8  # pixels per bit in "rgb_array" renders


def observation_space() -> spaces.Box:
    """The current bit, as float32 in [0, 1]."""
    return spaces.Box(0.0, 1.0, shape=(1,), dtype=np.float32)


def score(actions: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-head correctness (bool, False where no label) and reward, the fraction of labelled heads right."""
    has = labels >= 0
    correct = has & (actions == labels)
    reward = correct.sum(-1) / np.maximum(has.sum(-1), 1)
    return correct, reward


def unscored_info(shape: tuple[int, ...]) -> dict[str, np.ndarray]:
    """The info of a step that scores nothing (a reset): no labels, nothing correct."""
    return {"labels": np.full(shape, -1, dtype=np.int64), "correct": np.zeros(shape, dtype=bool)}


class TaskHeads:
    """The task's settings and head set, shared by the single and the vector env (needs `config`)."""

    config: TaskConfig
    np_random: np.random.Generator   # given by gymnasium's Env / VectorEnv
    spec: EnvSpec | None

    task = property(lambda self: self.config.task, doc="The task's name.")
    heads = property(lambda self: self.config.heads, doc="The N of each head, in action order.")
    labels = property(lambda self: self.config.labels, doc='"final" or "every_step".')
    seq_len = property(lambda self: self.config.seq_len, doc="The sequence length setting.")
    p = property(lambda self: self.config.p, doc="The probability of a 1 bit (None: the task's default).")

    repeat = property(lambda self: self.config.repeat, doc="k: each bit is shown k steps in a row.")

    def sample_batch(self, batch_size: int, rng: Any = None, *, repeat: int | None = None) -> Batch:
        """A supervised batch (numpy); `rng`: a Generator, an int seed, or None for the env's np_random;
        `repeat`: k steps per bit for this batch (None: the env's own `repeat`)."""
        config = self.config if repeat is None else dataclasses.replace(self.config, repeat=repeat)
        return sample_batch(config, batch_size, as_generator(rng, self.np_random))

    def _switch_heads(self, Ns: Any) -> None:
        """Validate Ns, make it the head set and record it in the spec (so `gym.make(spec)` recreates it)."""
        self.config = dataclasses.replace(self.config, heads=validate_heads(Ns, self.task, "Ns"))
        if self.spec is not None:
            self.spec.kwargs["N"] = self.heads


class MemoryTaskEnv(TaskHeads, gym.Env):
    """A memory task over a stream of random bits: report, per head N, a function of the last N bits.

    ## Tasks
    - "parity": y_t = (x_{t-N+1} + ... + x_t) mod 2
    - "dms" (delayed match to sample): y_t = 1 if x_{t-N+1} == x_t else 0

    ## Observation
    Box(0, 1, (1,), float32): the current bit x_t (zeros after the episode's last step).

    ## Action
    MultiDiscrete([2] * H): a prediction of y_t for each head, in the order of `heads`.

    ## Reward
    The fraction of heads that have a label at this step and were predicted correctly (0.0 if none has).

    ## Episode
    `reset` draws the whole stream and returns x_0 (its info: no labels). Each `step(a_t)` scores
    a_t and shows x_{t+1}; the step that scores the last bit terminates. Step info: "labels" int64 (H,), y_t per head
    or -1 where the head has no label at this step; "correct" bool (H,).

    ## Arguments
    task: "parity" or "dms". N: an int or a sequence of distinct ints (one head per N; DMS: N >= 2).
    seq_len: None (uniform in [max N + 2, 4 max N + 2)), an int, or a (low, high) pair, high exclusive.
    p: None (parity: U(0, 1) per sequence; DMS: 0.5) or the probability of a 1 bit.
    labels: "final" (a label at the last step only) or "every_step" (wherever a window is complete).
    repeat: k >= 1, continuous time: each bit is shown k steps in a row (an episode of M bits has
    M k steps); seq_len counts bits, and bit j's label is scored at its last copy, step (j + 1) k - 1
    (all other steps have no label).
    """

    metadata = {"render_modes": ["ansi", "rgb_array"], "render_fps": 4}

    def __init__(self, task: str, N: Any = 2, seq_len: Any = None, p: float | None = None,
                 labels: str = "final", render_mode: str | None = None, *, repeat: int = 1):
        check_choice(render_mode, "render_mode", (None, *self.metadata["render_modes"]))
        self.config = TaskConfig(task, N, seq_len, p, labels, repeat)
        self.render_mode = render_mode
        self.observation_space = observation_space()
        self.action_space = spaces.MultiDiscrete([2] * len(self.heads))
        self._bits: np.ndarray | None = None   # (T,) uint8, the episode's stream
        self._labels: np.ndarray | None = None  # (T, H) int8, -1 where nothing is scored
        self._t = 0

    def __repr__(self) -> str:
        render = "" if self.render_mode is None else f", render_mode={self.render_mode!r}"
        return f"{type(self).__name__}({self.config.describe()}{render})"

    def set_heads(self, Ns: Any) -> None:
        """Switch to the heads `Ns`; the action space changes now and the current episode is relabelled."""
        self._switch_heads(Ns)
        self.action_space = spaces.MultiDiscrete([2] * len(self.heads))
        if self._bits is not None:
            self._labels = episode_labels(self.config, self._bits[:, None], np.array([len(self._bits)]))[:, 0]

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        bits, lengths = draw_episodes(self.config, self.np_random, 1)
        self._bits = bits[:, 0]
        self._labels = episode_labels(self.config, bits, lengths)[:, 0]
        self._t = 0
        return self._observation(), unscored_info((len(self.heads),))

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        if self._bits is None or self._labels is None:
            raise RuntimeError("step() called before reset(); call env.reset() first")
        if self._t >= len(self._bits):
            raise RuntimeError("step() called after the episode terminated; call env.reset() first")
        if not self.action_space.contains(action):
            raise reject("action", action, f"an int array of shape ({len(self.heads)},) with values "
                         f"0 or 1, one prediction per head {self.heads}")
        labels = self._labels[self._t].astype(np.int64)
        correct, reward = score(np.asarray(action), labels)
        self._t += 1
        terminated = self._t == len(self._bits)
        return self._observation(), float(reward), terminated, False, {"labels": labels, "correct": correct}

    def render(self) -> str | np.ndarray | None:
        """"ansi": a line with the bits shown so far; "rgb_array": the episode's bits as a row of
        `CELL`-pixel squares, white 1, black 0, grey where not shown yet (uint8, (CELL, CELL * T, 3))."""
        bits = self._bits if self._bits is not None else np.zeros(0, dtype=np.uint8)
        shown = bits[:self._t + 1]
        if self.render_mode == "ansi":
            return f"{self.task} N={list(self.heads)} t={self._t} bits={''.join(map(str, shown))}"
        if self.render_mode == "rgb_array":
            cells = np.full(len(bits), 128, dtype=np.uint8)
            cells[:len(shown)] = shown * 255
            image = np.repeat(np.repeat(cells[None, :], CELL, axis=0), CELL, axis=1)
            return np.repeat(image[:, :, None], 3, axis=2)
        return None

    def _observation(self) -> np.ndarray:
        if self._bits is None or self._t >= len(self._bits):
            return np.zeros(1, dtype=np.float32)
        return self._bits[self._t:self._t + 1].astype(np.float32)
