"""The native vector env against the task's definition, single envs and Gymnasium's sync mode."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

import memtasks  # noqa: F401  (registers the envs)
from memtasks.vector import MemoryTaskVectorEnv


def rollout(envs, config, steps, seed, slow, new_heads=None):
    """Step `envs` with random actions, rebuilding each copy's stream from its observations and
    checking every step's labels, correctness and reward; return the finished episodes' streams.

    With `new_heads`, the native env switches to them after 5 steps (episodes in progress too).
    """
    task, heads, mode, k = config.task, config.heads, config.labels, config.repeat
    obs, _ = envs.reset(seed=seed)
    rng = np.random.default_rng(seed)
    streams = [[int(o)] for o in obs[:, 0]]
    restarting = np.zeros(envs.num_envs, dtype=bool)
    finished = []
    for step in range(steps):
        if new_heads is not None and step == 5:
            envs.unwrapped.set_heads(new_heads)
            heads = envs.unwrapped.heads
        actions = rng.integers(0, 2, size=(envs.num_envs, len(heads)))
        obs, reward, terminated, truncated, info = envs.step(actions)
        assert obs.shape == (envs.num_envs, 1) and envs.observation_space.contains(obs)
        assert not truncated.any()
        for i in range(envs.num_envs):
            labels = info["labels"][i]
            if restarting[i]:                       # next-step autoreset: a fresh x_0, nothing scored
                assert reward[i] == 0 and not terminated[i] and (labels == -1).all()
                streams[i] = [int(obs[i, 0])]
                continue
            t = len(streams[i]) - 1
            scored = mode == "every_step" or terminated[i]
            expected = [slow(task, streams[i], t, n, k) if scored else -1 for n in heads]
            np.testing.assert_array_equal(labels, expected)
            has = labels >= 0
            np.testing.assert_array_equal(info["correct"][i], has & (actions[i] == labels))
            assert reward[i] == (info["correct"][i].sum() / has.sum() if has.any() else 0.0)
            if terminated[i]:
                assert obs[i, 0] == 0
                finished.append(streams[i])
            else:
                streams[i].append(int(obs[i, 0]))
        restarting = terminated
    return finished


@pytest.mark.parametrize("task, kwargs", [
    ("Parity", dict(N=[2, 3])),
    ("DMS", dict(N=[4, 2], labels="every_step", p=0.8)),
    ("Parity", dict(N=3, seq_len=(3, 7), labels="every_step")),
    ("DMS", dict(N=[2, 3], seq_len=(3, 6), labels="every_step", repeat=3)),
    ("Parity", dict(N=2, seq_len=(2, 5), repeat=2)),
])
def test_native_steps_follow_the_definition(task, kwargs, slow):
    envs = gym.make_vec(f"memtasks/{task}-v0", num_envs=16, vectorization_mode="vector_entry_point", **kwargs)
    assert isinstance(envs, MemoryTaskVectorEnv)
    assert envs.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    config = gym.make(f"memtasks/{task}-v0", **kwargs).unwrapped.config
    lengths = {len(stream) for stream in rollout(envs, config, 60, 0, slow)}
    low, high = config.length_range()
    assert lengths == {m * config.repeat for m in range(low, high)}   # per-copy lengths cover the range


def test_native_and_sync_modes_agree(slow):
    """Both modes pass the same rollout checks, offer the same spaces and info keys."""
    kwargs = dict(N=[2, 3], labels="every_step")
    native = gym.make_vec("memtasks/Parity-v0", num_envs=4, vectorization_mode="vector_entry_point", **kwargs)
    sync = gym.make_vec("memtasks/Parity-v0", num_envs=4, vectorization_mode="sync", **kwargs)
    assert native.single_observation_space == sync.single_observation_space
    assert native.single_action_space == sync.single_action_space
    assert native.action_space == sync.action_space and native.observation_space == sync.observation_space
    assert native.metadata["autoreset_mode"] == sync.metadata["autoreset_mode"]
    for envs in (native, sync):
        assert rollout(envs, native.config, 40, 1, slow)


def test_fixed_length_copies_end_together():
    """With a fixed length every copy ends together after seq_len steps, with the bit rate p."""
    envs = MemoryTaskVectorEnv(num_envs=64, task="dms", N=2, seq_len=20, p=0.3)
    obs, _ = envs.reset(seed=0)
    bits = []
    for _ in range(20):
        bits.append(obs[:, 0])
        obs, _, terminated, _, _ = envs.step(np.zeros((64, 1), dtype=np.int64))
    assert terminated.all() and (obs == 0).all()
    assert abs(np.mean(bits) - 0.3) < 0.03


def test_seeding_repeats_streams():
    def streams(seed):
        envs = gym.make_vec("memtasks/DMS-v0", num_envs=8, N=[2, 3])
        obs = [envs.reset(seed=seed)[0]]
        obs += [envs.step(np.ones((8, 2), dtype=np.int64))[0] for _ in range(30)]
        return np.array(obs)

    np.testing.assert_array_equal(streams(5), streams(5))
    assert not np.array_equal(streams(5), streams(6))


def test_set_heads_and_batches(slow):
    envs = gym.make_vec("memtasks/Parity-v0", num_envs=8, N=[2, 3], labels="every_step")
    rollout(envs, envs.unwrapped.config, 30, 2, slow, new_heads=[2, 3, 4])
    assert envs.unwrapped.heads == (2, 3, 4) and envs.unwrapped.spec.kwargs["N"] == (2, 3, 4)
    assert envs.single_action_space == gym.spaces.MultiDiscrete([2, 2, 2])
    assert envs.action_space.shape == (8, 3)
    batch = envs.unwrapped.sample_batch(5, rng=0)
    assert batch.heads == (2, 3, 4) and batch.targets.shape[1:] == (5, 3)
    assert gym.make_vec(envs.unwrapped.spec).unwrapped.heads == (2, 3, 4)
