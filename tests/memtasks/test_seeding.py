"""Seeds across vectorization modes: what `reset(seed=s)` means for single envs, "sync", "async" and the
native vector env ("shared" and "per_copy" seeding), and the native env's same-step autoreset against
Gymnasium's sync mode."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

import memtasks  # noqa: F401  (registers the envs)
from memtasks.vector import MemoryTaskVectorEnv

ENV_ID = "memtasks/Parity-v0"
KWARGS = dict(N=[2, 3], labels="every_step")   # parity: p drawn per episode, lengths 5..13
STEPS = 60


def single_env_run(seed, actions):
    """One env seeded `seed`, reset without a seed at each episode end, Gymnasium's next-step autoreset
    written out by hand: observations (steps + 1,), rewards, terminations and labels per step."""
    env = gym.make(ENV_ID, **KWARGS)
    obs, info = env.reset(seed=seed)
    observations, rewards, ends, labels = [obs[0]], [], [], []
    done = False
    for action in actions:
        if done:
            (obs, info), reward, done = env.reset(), 0.0, False
        else:
            obs, reward, done, _, info = env.step(action)
        observations.append(obs[0])
        rewards.append(reward)
        ends.append(done)
        labels.append(info["labels"])
    return np.array(observations), np.array(rewards), np.array(ends), np.array(labels)


def vector_run(envs, seed, actions):
    """The same record for every copy of a vector env: arrays with a copy axis last (labels: (steps, H, copies))."""
    obs, _ = envs.reset(seed=seed)
    observations, rewards, ends, labels = [obs[:, 0]], [], [], []
    for action in actions:
        obs, reward, terminated, _, info = envs.step(action)
        observations.append(obs[:, 0])
        rewards.append(reward)
        ends.append(terminated)
        labels.append(info["labels"].T)
    return np.array(observations), np.array(rewards), np.array(ends), np.array(labels)


def random_actions(num_envs, seed=7):
    return np.random.default_rng(seed).integers(0, 2, size=(STEPS, num_envs, 2))


@pytest.mark.parametrize("make", [
    lambda n: gym.make_vec(ENV_ID, num_envs=n, vectorization_mode="sync", **KWARGS),
    lambda n: gym.make_vec(ENV_ID, num_envs=n, vectorization_mode="async", **KWARGS),
    lambda n: gym.make_vec(ENV_ID, num_envs=n, vectorization_mode="vector_entry_point", seeding="per_copy", **KWARGS),
], ids=["sync", "async", "native per_copy"])
def test_copy_i_is_the_single_env_seeded_seed_plus_i(make):
    """The rule shared by "sync", "async" and the native env with seeding="per_copy": copy i of
    `reset(seed=s)` plays exactly the episodes of one env reset with seed s + i, then without a seed."""
    envs = make(3)
    actions = random_actions(3)
    vector = vector_run(envs, 10, actions)
    envs.close()
    assert vector[2].any()                                   # episodes ended and restarted
    for i in range(3):
        single = single_env_run(10 + i, actions[:, i])
        for got, expected in zip(vector, single):
            np.testing.assert_array_equal(got[..., i], expected)


def test_per_copy_seeds_from_a_list_and_reset_without_seed_continues():
    """A list seeds copy i with seed[i] (None: keeps its generator), as in Gymnasium's sync mode."""
    kwargs = dict(num_envs=2, **KWARGS)
    native = gym.make_vec(ENV_ID, vectorization_mode="vector_entry_point", seeding="per_copy", **kwargs)
    sync = gym.make_vec(ENV_ID, vectorization_mode="sync", **kwargs)
    for seed in (3, [5, 9], None, [None, 4]):
        np.testing.assert_array_equal(native.reset(seed=seed)[0], sync.reset(seed=seed)[0])
        for action in random_actions(2)[:20]:
            np.testing.assert_array_equal(native.step(action)[0], sync.step(action)[0])


def test_shared_seeding_rule():
    """seeding="shared": one generator, default_rng(seed), draws the copies' first episodes together; the
    streams repeat for the same (seed, num_envs) and are not those of the per-copy modes."""
    envs = MemoryTaskVectorEnv(num_envs=4, **KWARGS)
    obs, _ = envs.reset(seed=3)
    rng = np.random.default_rng(3)
    low, high = envs.config.length_range()
    lengths = rng.integers(low, high, size=4)
    p = rng.random(4, dtype=np.float32)
    bits = (rng.random((lengths.max(), 4), dtype=np.float32) < p).astype(np.float32)
    seen = [obs[:, 0]] + [envs.step(np.zeros((4, 2), np.int64))[0][:, 0] for _ in range(lengths.min() - 1)]
    np.testing.assert_array_equal(np.array(seen), bits[:lengths.min()])

    actions = random_actions(4)
    first = vector_run(MemoryTaskVectorEnv(num_envs=4, **KWARGS), 3, actions)
    again = vector_run(MemoryTaskVectorEnv(num_envs=4, **KWARGS), 3, actions)
    per_copy = vector_run(MemoryTaskVectorEnv(num_envs=4, seeding="per_copy", **KWARGS), 3, actions)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], per_copy[0])


def test_same_step_autoreset_matches_sync_mode():
    """With per-copy seeding the native env's same-step autoreset returns what Gymnasium's sync mode
    returns in that mode: observations, rewards, ends, infos, final observations and final infos."""
    native = MemoryTaskVectorEnv(num_envs=3, task="parity", autoreset_mode="SameStep", seeding="per_copy", **KWARGS)
    sync = gym.make_vec(ENV_ID, num_envs=3, vectorization_mode="sync",
                        vector_kwargs={"autoreset_mode": AutoresetMode.SAME_STEP}, **KWARGS)
    assert native.metadata["autoreset_mode"] == sync.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
    np.testing.assert_array_equal(native.reset(seed=1)[0], sync.reset(seed=1)[0])
    ended = 0
    for action in random_actions(3):
        got, expected = native.step(action), sync.step(action)
        for a, b in zip(got[:4], expected[:4]):
            np.testing.assert_array_equal(a, b)
        info, reference = got[4], expected[4]
        for key in ("labels", "correct"):
            np.testing.assert_array_equal(info[key], reference[key])
        assert ("final_info" in info) == ("final_info" in reference)
        if "final_info" in info:
            ended += info["_final_info"].sum()
            np.testing.assert_array_equal(info["_final_info"], reference["_final_info"])
            np.testing.assert_array_equal(info["_final_obs"], reference["_final_obs"])
            for key in ("labels", "correct", "_labels", "_correct"):
                np.testing.assert_array_equal(info["final_info"][key], reference["final_info"][key])
            for a, b in zip(info["final_obs"], reference["final_obs"]):
                assert (a is None and b is None) or np.array_equal(a, b)
            assert (info["labels"][info["_final_info"]] == -1).all()   # the new episodes' (reset) info
    assert ended >= 3


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(autoreset_mode="Disabled"), ValueError, "autoreset_mode='Disabled' is not accepted: expected one of"),
    (dict(autoreset_mode=AutoresetMode.DISABLED), ValueError, "autoreset_mode='Disabled'"),
    (dict(seeding="global"), ValueError, r"seeding='global' is not accepted: expected one of \('shared', 'per_copy'\)"),
    (dict(seeding=None), ValueError, "seeding=None"),
])
def test_bad_vector_arguments(kwargs, error, words):
    with pytest.raises(error, match=words):
        MemoryTaskVectorEnv(num_envs=2, **kwargs)


@pytest.mark.parametrize("seeding, seed, words", [
    ("shared", [1, 2], r"seed=\[1, 2\] is not accepted: expected an int or None \(one seed per copy needs"),
    ("per_copy", [1, 2, 3], r"seed=\[1, 2, 3\] is not accepted: expected an int, None or a sequence of 2"),
    ("per_copy", 2.5, r"seed=2.5 is not accepted"),
])
def test_bad_seeds(seeding, seed, words):
    with pytest.raises(TypeError, match=words):
        MemoryTaskVectorEnv(num_envs=2, seeding=seeding).reset(seed=seed)


def test_repr_names_the_settings():
    assert repr(gym.make(ENV_ID, N=[3, 4]).unwrapped) == (
        "MemoryTaskEnv(task='parity', N=(3, 4), seq_len=None, p=None, labels='final', repeat=1)")
    assert repr(gym.make("memtasks/DMS-v0", seq_len=(4, 8), p=0.3, repeat=2, render_mode="ansi").unwrapped) == (
        "MemoryTaskEnv(task='dms', N=(2,), seq_len=(4, 8), p=0.3, labels='final', repeat=2, render_mode='ansi')")
    assert repr(MemoryTaskVectorEnv(num_envs=8, N=5, labels="every_step", seeding="per_copy")) == (
        "MemoryTaskVectorEnv(num_envs=8, task='parity', N=(5,), seq_len=None, p=None, labels='every_step', "
        "repeat=1, autoreset_mode='NextStep', seeding='per_copy')")
