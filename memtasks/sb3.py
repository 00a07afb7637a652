"""`SB3VecEnv`: a Gymnasium vector env — the native one, or "sync"/"async" — as a Stable-Baselines3 `VecEnv`.

Needs the ``rl`` extra (stable-baselines3); ``import memtasks`` never imports this module.

    envs = gym.make_vec("memtasks/DMS-v0", num_envs=64, N=2, autoreset_mode="SameStep")
    model = PPO("MlpPolicy", SB3VecEnv(envs)).learn(10_000)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium import Wrapper
from gymnasium.vector import AutoresetMode, VectorEnv
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices, VecEnvObs, VecEnvStepReturn

from memtasks.checks import reject
from memtasks.vector import COPIES

FINAL_KEYS = ("final_obs", "_final_obs", "final_info", "_final_info")


def split_info(info: dict[str, Any], num_envs: int) -> list[dict[str, Any]]:
    """Gymnasium's batched info (arrays over copies, each with a ``_key`` mask) as one dict per copy."""
    infos: list[dict[str, Any]] = [{} for _ in range(num_envs)]
    for key, value in info.items():
        if key.startswith("_") and key[1:] in info:
            continue
        values = split_info(value, num_envs) if isinstance(value, dict) else value
        for i in np.flatnonzero(info.get(f"_{key}", np.ones(num_envs, dtype=bool))):
            infos[i][key] = values[i]
    return infos


class SB3VecEnv(VecEnv):
    """Stable-Baselines3's `VecEnv` API over a `gymnasium.vector.VectorEnv` in same-step autoreset mode.

    SB3 starts a copy's next episode in the step that ends the last one, so `envs` must use
    ``AutoresetMode.SAME_STEP``: ``gym.make_vec(id, num_envs, autoreset_mode="SameStep")`` for the native
    vector env, ``vector_kwargs={"autoreset_mode": AutoresetMode.SAME_STEP}`` for "sync" and "async".

    Per step and copy, ``infos[i]`` is the step's info ("labels", "correct"); for a copy whose episode
    ended it is that last step's info plus ``"terminal_observation"``, and the new episode's reset info
    is in ``reset_infos[i]`` — as in SB3's `DummyVecEnv`. ``seed(s)`` then ``reset()`` calls
    ``envs.reset(seed=s)``: copy i is seeded s + i in "sync", "async" and the native env's "per_copy"
    seeding, exactly as `DummyVecEnv` seeds its envs.

    Spaces are the copies' own and stay fixed (SB3 policies cannot grow): use a fixed head set.
    `get_attr` reads each copy of a sync/async env, or the vector env's own attribute (the native env:
    one value for all copies); `set_attr` and `env_method` act on every copy at once. The copies are
    not SB3-wrapped envs (`env_is_wrapped` is False): wrap this adapter in SB3's `VecMonitor`.

    Args:
        envs: the Gymnasium vector env, in same-step autoreset mode.
    """

    def __init__(self, envs: VectorEnv) -> None:
        if not isinstance(envs, VectorEnv):
            raise reject("envs", envs, 'a gymnasium.vector.VectorEnv, e.g. gym.make_vec('
                         '"memtasks/Parity-v0", num_envs=8, autoreset_mode="SameStep")', TypeError)
        mode = envs.metadata.get("autoreset_mode")
        if mode != AutoresetMode.SAME_STEP:
            raise ValueError(
                f"envs={envs!r} with autoreset_mode={getattr(mode, 'value', mode)!r} is not accepted: expected "
                "AutoresetMode.SAME_STEP, as SB3 starts the next episode in the step that ends one: "
                'gym.make_vec(id, num_envs, autoreset_mode="SameStep") (native) or '
                'vector_kwargs={"autoreset_mode": AutoresetMode.SAME_STEP} ("sync", "async")')
        self.envs = envs
        self._actions: np.ndarray | None = None
        super().__init__(envs.num_envs, envs.single_observation_space, envs.single_action_space)

    def reset(self) -> VecEnvObs:
        """Reset every copy, with the seed and options set by `seed` / `set_options` if any."""
        obs, info = self.envs.reset(seed=self._seeds[0], options=self._options[0] or None)
        self.reset_infos = split_info(info, self.num_envs)
        self._reset_seeds()
        self._reset_options()
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions)

    def step_wait(self) -> VecEnvStepReturn:
        """Step every copy: observations (a new episode's first one where one ended), rewards, dones, infos."""
        if self._actions is None:
            raise RuntimeError("step_wait() called before step_async(actions)")
        obs, rewards, terminated, truncated, info = self.envs.step(self._actions)
        self._actions = None
        dones = np.logical_or(terminated, truncated)
        infos = split_info({k: v for k, v in info.items() if k not in FINAL_KEYS}, self.num_envs)
        if dones.any():
            final_infos = split_info(info["final_info"], self.num_envs)
            for i in np.flatnonzero(dones):
                self.reset_infos[i] = infos[i]
                infos[i] = final_infos[i] | {"terminal_observation": info["final_obs"][i]}
        for copy_info, cut, ended in zip(infos, truncated, terminated):
            copy_info["TimeLimit.truncated"] = bool(cut and not ended)
        return obs, np.asarray(rewards, dtype=np.float32), dones, infos

    def close(self) -> None:
        self.envs.close()

    def get_images(self) -> Sequence[np.ndarray | None]:
        frames = self.envs.render()
        return [None] * self.num_envs if frames is None else [np.asarray(frame) for frame in frames]

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        """The attribute of each copy of a sync/async env, or the vector env's own, the same for every copy."""
        base = self.envs.unwrapped
        values = base.get_attr(attr_name) if isinstance(base, COPIES) else [getattr(self.envs, attr_name)] * self.num_envs
        return [values[i] for i in self._get_indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        """Set the attribute on every copy (`indices` must name all copies)."""
        self._check_all(indices, "set_attr")
        base = self.envs.unwrapped
        if isinstance(base, COPIES):
            base.set_attr(attr_name, value)
        else:
            setattr(self.envs, attr_name, value)

    def env_method(self, method_name: str, *method_args: Any, indices: VecEnvIndices = None,
                   **method_kwargs: Any) -> list[Any]:
        """Call the method of every copy of a sync/async env, or once on the vector env (`indices`: all copies)."""
        self._check_all(indices, "env_method")
        base = self.envs.unwrapped
        if isinstance(base, COPIES):
            return list(base.call(method_name, *method_args, **method_kwargs))
        return [getattr(self.envs, method_name)(*method_args, **method_kwargs)] * self.num_envs

    def env_is_wrapped(self, wrapper_class: type[Wrapper], indices: VecEnvIndices = None) -> list[bool]:
        """False for every copy: the copies inside a Gymnasium vector env are not SB3-wrapped envs."""
        return [False for _ in self._get_indices(indices)]

    def _check_all(self, indices: VecEnvIndices, method: str) -> None:
        """Raise unless `indices` names every copy: a Gymnasium vector env sets and calls all copies at once."""
        if sorted(self._get_indices(indices)) != list(range(self.num_envs)):
            raise reject("indices", indices, f"None (all {self.num_envs} copies), as {method} acts "
                         f"on every copy of a Gymnasium vector env at once")
