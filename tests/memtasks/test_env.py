"""MemoryTaskEnv: Gymnasium conformance, episode semantics, seeding, heads, and agreement with batches."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import memtasks  # noqa: F401  (registers the envs)

IDS = {"parity": "memtasks/Parity-v0", "dms": "memtasks/DMS-v0"}
GRID = [
    dict(N=2),
    dict(N=[3, 4], labels="every_step"),
    dict(N=[5, 2, 3], seq_len=9, p=0.3),
    dict(N=2, seq_len=(2, 6), p=1.0, labels="every_step"),
    dict(N=[2, 6], seq_len=(8, 12), labels="final"),
    dict(N=[3, 2], repeat=3, labels="every_step"),
    dict(N=2, seq_len=(2, 5), repeat=2),
]


def run_episode(env, seed, policy=lambda obs: None):
    """Step one episode with random actions; return the bits seen, the step infos and the rewards."""
    obs, _ = env.reset(seed=seed)
    bits, infos, rewards, terminated = [int(obs[0])], [], [], False
    while not terminated:
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        assert not truncated
        infos.append(info)
        rewards.append(reward)
        if not terminated:
            bits.append(int(obs[0]))
    assert np.all(obs == 0)
    return bits, infos, rewards


@pytest.mark.parametrize("task", IDS)
@pytest.mark.parametrize("kwargs", GRID)
def test_check_env(task, kwargs):
    env = gym.make(IDS[task], **kwargs)
    check_env(env.unwrapped, skip_render_check=False)
    assert env.observation_space == gym.spaces.Box(0, 1, (1,), np.float32)
    assert env.action_space == gym.spaces.MultiDiscrete([2] * len(env.unwrapped.heads))


@pytest.mark.parametrize("task", IDS)
@pytest.mark.parametrize("kwargs", GRID)
def test_episode_labels_rewards_and_length(task, kwargs, slow):
    env = gym.make(IDS[task], **kwargs)
    heads, mode, k = env.unwrapped.heads, env.unwrapped.labels, env.unwrapped.repeat
    low, high = env.unwrapped.config.length_range()
    for seed in range(5):
        bits, infos, rewards = run_episode(env, seed)
        assert len(bits) % k == 0 and low <= len(bits) // k < high and len(infos) == len(bits)
        for t, (info, reward) in enumerate(zip(infos, rewards)):
            scored = mode == "every_step" or t == len(bits) - 1
            expected = [slow(task, bits, t, n, k) if scored else -1 for n in heads]
            np.testing.assert_array_equal(info["labels"], expected)
            assert info["labels"].dtype == np.int64 and info["correct"].dtype == bool
            has = info["labels"] >= 0
            assert not info["correct"][~has].any()
            assert reward == (info["correct"].sum() / has.sum() if has.any() else 0.0)


def test_perfect_agent_gets_full_reward(slow):
    env = gym.make("memtasks/Parity-v0", N=[2, 3], labels="every_step", seq_len=12)
    obs, _ = env.reset(seed=0)
    bits, total = [int(obs[0])], 0.0
    for t in range(12):
        action = np.array([max(slow("parity", bits, t, n), 0) for n in (2, 3)])
        obs, reward, terminated, _, info = env.step(action)
        assert reward == (1.0 if t >= 1 else 0.0) and info["correct"].sum() == (info["labels"] >= 0).sum()
        bits.append(int(obs[0]))
    assert terminated


def test_reachable_without_import_and_defaults():
    env = gym.make("memtasks:memtasks/DMS-v0")
    assert env.unwrapped.task == "dms" and env.unwrapped.heads == (2,)
    assert env.unwrapped.labels == "final" and env.unwrapped.seq_len is None and env.unwrapped.p is None


@pytest.mark.parametrize("task", IDS)
def test_seeding_repeats_episodes_and_batches(task):
    env = gym.make(IDS[task], N=[2, 5])
    first, second = run_episode(env, 7), run_episode(env, 7)
    assert first[0] == second[0]
    assert [i["labels"].tolist() for i in first[1]] == [i["labels"].tolist() for i in second[1]]
    assert {len(run_episode(env, s)[0]) for s in range(20)} != {len(first[0])}   # seeds matter
    a, b = env.unwrapped.sample_batch(8, rng=3), env.unwrapped.sample_batch(8, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(a.inputs, b.inputs)
    np.testing.assert_array_equal(a.targets, b.targets)
    other = gym.make(IDS[task], N=[2, 5])
    env.reset(seed=11), other.reset(seed=11)
    np.testing.assert_array_equal(env.unwrapped.sample_batch(8).inputs, other.unwrapped.sample_batch(8).inputs)


@pytest.mark.parametrize("task, p, var_p, mean_pq", [("parity", None, 1 / 12, 1 / 6), ("dms", None, 0, 1 / 4),
                                                     ("parity", 0.2, 0, 0.16)])
def test_stepped_streams_and_batches_agree_in_distribution(task, p, var_p, mean_pq):
    """Same length range (both ends reached), bit rate and spread of per-sequence rates.

    A sequence of length L with p drawn per sequence has rate variance Var(p) + E[p(1 - p)] / L.
    """
    env = gym.make(IDS[task], N=3, p=p)
    run_episode(env, 0)
    episodes = [run_episode(env, None)[0] for _ in range(600)]
    batches = [env.unwrapped.sample_batch(4) for _ in range(150)]
    assert {len(bits) for bits in episodes} == {b.inputs.shape[0] for b in batches} == set(range(5, 14))
    rate = 0.5 if p is None else p
    for rates, lengths in [
        (np.array([np.mean(bits) for bits in episodes]), np.array([len(bits) for bits in episodes])),
        (np.concatenate([b.inputs[:, :, 0].mean(0) for b in batches]),
         np.concatenate([np.full(4, b.inputs.shape[0]) for b in batches])),
    ]:
        assert abs(rates.mean() - rate) < 0.04
        assert abs(rates.std() - np.sqrt(var_p + mean_pq * np.mean(1 / lengths))) < 0.03


def test_set_heads_updates_spaces_spec_and_current_episode(slow):
    env = gym.make("memtasks/Parity-v0", N=2, labels="every_step", seq_len=10)
    obs, _ = env.reset(seed=0)
    bits = [int(obs[0])]
    obs, *_ = env.step(np.array([0]))
    bits.append(int(obs[0]))
    env.unwrapped.set_heads([3, 2, 4])
    assert env.unwrapped.heads == (3, 2, 4)
    assert env.unwrapped.action_space == gym.spaces.MultiDiscrete([2, 2, 2])
    assert env.unwrapped.spec.kwargs["N"] == (3, 2, 4)
    assert gym.spec("memtasks/Parity-v0").kwargs == {"task": "parity"}
    obs, _, _, _, info = env.step(np.array([0, 0, 0]))
    np.testing.assert_array_equal(info["labels"], [slow("parity", bits, 1, n) for n in (3, 2, 4)])
    clone = gym.make(env.unwrapped.spec)
    assert clone.unwrapped.heads == (3, 2, 4) and clone.unwrapped.seq_len == 10
    assert env.unwrapped.sample_batch(2).targets.shape[2] == 3


def test_render_ansi():
    env = gym.make("memtasks/DMS-v0", N=2, seq_len=4, render_mode="ansi")
    env.reset(seed=0)
    assert env.render().startswith("dms N=[2] t=0 bits=")


def test_render_rgb_array_draws_the_bits_shown():
    env = gym.make("memtasks/Parity-v0", N=2, seq_len=5, render_mode="rgb_array")
    check_env(env.unwrapped, skip_render_check=False)
    obs, _ = env.reset(seed=3)
    shown = [int(obs[0])]
    for _ in range(2):
        obs, *_ = env.step(np.zeros(1, dtype=np.int64))
        shown.append(int(obs[0]))
    image = env.render()
    cell = memtasks.env.CELL
    assert image.dtype == np.uint8 and image.shape == (cell, 5 * cell, 3)
    centres = image[cell // 2, cell // 2::cell, 0]
    np.testing.assert_array_equal(centres, [255 * b for b in shown] + [128, 128])
    assert (image == image[:, :, :1]).all()  # grey levels
