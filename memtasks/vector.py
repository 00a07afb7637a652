"""`MemoryTaskVectorEnv`: many copies of a memory task stepped together in one numpy call."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from gymnasium.vector import AsyncVectorEnv, AutoresetMode, SyncVectorEnv, VectorEnv
from gymnasium.vector.utils import batch_space

from memtasks.batch import draw_episodes, episode_labels
from memtasks.checks import check_choice, check_int, reject
from memtasks.env import TaskHeads, observation_space, score, unscored_info
from memtasks.tasks import TaskConfig

COPIES = (SyncVectorEnv, AsyncVectorEnv)  # Gymnasium's vector envs of separate env copies

AUTORESET_MODES = (AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP)
SEEDINGS = ("shared", "per_copy")


class MemoryTaskVectorEnv(TaskHeads, VectorEnv):
    """`num_envs` independent copies of `MemoryTaskEnv`, each with its own stream and length.

    Same arguments, spaces, rewards and step infos as `MemoryTaskEnv`, batched over copies:
    observations (num_envs, 1), actions (num_envs, H), info "labels" int64 (num_envs, H) and
    "correct" bool (num_envs, H).

    ## Autoreset (`autoreset_mode`, as Gymnasium's sync mode)
    - `AutoresetMode.NEXT_STEP` ("NextStep", the default): the step after a copy terminates ignores
      its action and returns its new x_0 with reward 0 and no labels.
    - `AutoresetMode.SAME_STEP` ("SameStep"): the step that terminates a copy returns its new x_0; its
      zero final observation and the step's "labels"/"correct" go to info "final_obs" and
      "final_info" (masks "_final_obs", "_final_info"), while info "labels"/"correct" of that copy
      are the new episode's (none). Stable-Baselines3's VecEnv semantics (`memtasks.sb3`).

    ## Seeding (`seeding`)
    - "shared" (the default, fastest): `reset(seed=s)` seeds one generator, `np.random.default_rng(s)`,
      that draws every copy's episodes: all copies' first episodes together, then at each step the
      episodes of the copies that restart, together, in copy order. Streams depend on `num_envs`.
    - "per_copy": copy i has its own generator seeded s + i (or `seed[i]` from a list) and draws
      one episode at a time, exactly as a single `MemoryTaskEnv` reset with seed s + i and then
      reset without a seed at each episode end — so exactly the streams of Gymnasium's
      "sync"/"async" modes and of Stable-Baselines3's `DummyVecEnv` for the same seed.
      Restarts then cost a Python call per copy.
    `reset(seed=None)` keeps the generators (new ones from fresh entropy on the first reset).
    """

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": []}

    def __init__(self, num_envs: int = 1, task: str = "parity", N: Any = 2, seq_len: Any = None,
                 p: float | None = None, labels: str = "final", *, repeat: int = 1,
                 autoreset_mode: str | AutoresetMode = AutoresetMode.NEXT_STEP, seeding: str = "shared"):
        self.num_envs = check_int(num_envs, "num_envs")
        self.config = TaskConfig(task, N, seq_len, p, labels, repeat)
        mode = autoreset_mode.value if isinstance(autoreset_mode, AutoresetMode) else autoreset_mode
        self.autoreset_mode = AutoresetMode(check_choice(mode, "autoreset_mode", [m.value for m in AUTORESET_MODES]))
        self.metadata = {**self.metadata, "autoreset_mode": self.autoreset_mode}
        self.seeding = check_choice(seeding, "seeding", SEEDINGS)
        self.single_observation_space = observation_space()
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self._set_action_spaces()
        self._copy_rngs: list[np.random.Generator] = []            # "per_copy": one generator per copy
        self._bits = np.zeros((0, self.num_envs), dtype=np.uint8)  # (capacity, num_envs)
        self._labels: np.ndarray | None = None                     # (capacity, num_envs, H) int8
        self._lengths = np.zeros(self.num_envs, dtype=np.int64)
        self._t = np.zeros(self.num_envs, dtype=np.int64)
        self._needs_reset = np.zeros(self.num_envs, dtype=bool)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(num_envs={self.num_envs}, {self.config.describe()}, "
                f"autoreset_mode={self.autoreset_mode.value!r}, seeding={self.seeding!r})")

    def set_heads(self, Ns: Any) -> None:
        """Switch every copy to the heads `Ns`; episodes in progress are relabelled, new ones use them."""
        self._switch_heads(Ns)
        self._set_action_spaces()
        if self._labels is not None:
            self._labels = episode_labels(self.config, self._bits, self._lengths)

    def reset(self, *, seed: int | Sequence[int | None] | None = None,
              options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        """Start a new episode in every copy; `seed`: an int, None, or ("per_copy") one seed per copy."""
        if self.seeding == "per_copy":
            self._seed_copies(seed)
            super().reset(seed=None if seed is None or isinstance(seed, Sequence) else seed)
        elif seed is not None and not isinstance(seed, int):
            raise reject("seed", seed, 'an int or None (one seed per copy needs seeding="per_copy")', TypeError)
        else:
            super().reset(seed=seed)
        self._labels = None
        self._start(np.arange(self.num_envs))
        self._needs_reset[:] = False
        return self._observations(), unscored_info((self.num_envs, len(self.heads)))

    def step(self, actions: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
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
        truncated = np.zeros(self.num_envs, dtype=bool)
        info: dict[str, Any] = {}
        if self.autoreset_mode == AutoresetMode.SAME_STEP and terminated.any():
            info = self._final_info(terminated, labels, correct)
            labels[terminated], correct[terminated] = -1, False   # the new episode's (reset) info
            resetting = terminated
        if resetting.any():
            self._start(np.flatnonzero(resetting))
        self._needs_reset = terminated if self.autoreset_mode == AutoresetMode.NEXT_STEP else truncated
        observations = self._observations()
        if self.autoreset_mode == AutoresetMode.NEXT_STEP:
            observations[terminated] = 0.0
        return observations, reward, terminated, truncated, info | {"labels": labels, "correct": correct}

    def _final_info(self, done: np.ndarray, labels: np.ndarray, correct: np.ndarray) -> dict[str, Any]:
        """Same-step autoreset: the final observations and step infos of the `done` copies, laid out as
        Gymnasium's sync mode does (object array of observations; arrays zero where not done; masks)."""
        zeros = np.empty(int(done.sum()), dtype=object)
        zeros[:] = list(np.zeros((len(zeros), 1), dtype=np.float32))   # one (1,) array per done copy
        final_obs = np.full(self.num_envs, None, dtype=object)
        final_obs[done] = zeros
        final = {"labels": np.where(done[:, None], labels, 0), "_labels": done.copy(),
                 "correct": correct & done[:, None], "_correct": done.copy()}
        return {"final_obs": final_obs, "_final_obs": done.copy(), "final_info": final, "_final_info": done.copy()}

    def _seed_copies(self, seed: int | Sequence[int | None] | None) -> None:
        """"per_copy" seeding: copy i's generator from seed + i, seed[i], or (None) kept / fresh entropy."""
        if seed is None or isinstance(seed, int):
            seeds: list[int | None] = [None if seed is None else seed + i for i in range(self.num_envs)]
        elif isinstance(seed, Sequence) and len(seed) == self.num_envs:
            seeds = list(seed)
        else:
            raise reject("seed", seed, f"an int, None or a sequence of {self.num_envs} ints or None, one per copy",
                         TypeError)
        if not self._copy_rngs:
            self._copy_rngs = [seeding.np_random(s)[0] for s in seeds]
        else:
            self._copy_rngs = [rng if s is None else seeding.np_random(s)[0] for rng, s in zip(self._copy_rngs, seeds)]

    def _set_action_spaces(self) -> None:
        self.single_action_space = spaces.MultiDiscrete([2] * len(self.heads))
        self.action_space = batch_space(self.single_action_space, self.num_envs)

    def _draw(self, count: int, copies: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """New episodes for `copies`: bits uint8 (max length, count) and lengths, by the seeding rule."""
        if self.seeding == "shared":
            return draw_episodes(self.config, self.np_random, count)
        episodes = [draw_episodes(self.config, self._copy_rngs[i], 1) for i in copies]
        bits = np.zeros((max(len(b) for b, _ in episodes), count), dtype=np.uint8)
        for column, (b, _) in enumerate(episodes):
            bits[:len(b), column] = b[:, 0]
        return bits, np.concatenate([lengths for _, lengths in episodes])

    def _start(self, copies: np.ndarray) -> None:
        """Draw new episodes for `copies`, growing the buffers when a new episode is longer."""
        bits, lengths = self._draw(len(copies), copies)
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
