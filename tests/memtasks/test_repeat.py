"""Continuous time (`repeat=k`): each bit shown k times, labels per original bit at its last copy."""

import dataclasses

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import memtasks
from memtasks.batch import episode_labels, sample_batch
from memtasks.tasks import TaskConfig

IDS = {"parity": "memtasks/Parity-v0", "dms": "memtasks/DMS-v0"}


def test_known_answers():
    # bits 1 0 1 1 shown twice each: 1 1 0 0 1 1 1 1; labels at steps 1, 3, 5, 7 only
    stream = np.array([[1, 1, 0, 0, 1, 1, 1, 1]], dtype=np.uint8).T
    every = TaskConfig("parity", (2, 3), labels="every_step", repeat=2)
    np.testing.assert_array_equal(episode_labels(every, stream, np.array([8]))[:, 0].T,
                                  [[-1, -1, -1, 1, -1, 1, -1, 0],
                                   [-1, -1, -1, -1, -1, 0, -1, 0]])
    dms = TaskConfig("dms", (2, 4), labels="final", repeat=2)
    np.testing.assert_array_equal(episode_labels(dms, stream, np.array([8]))[:, 0].T,
                                  [[-1] * 7 + [1], [-1] * 7 + [1]])
    ones = sample_batch(TaskConfig("parity", (2, 3), seq_len=4, p=1.0, repeat=3), 2,
                        np.random.default_rng(0))
    assert ones.inputs.shape == (12, 2, 1) and (ones.inputs == 1).all() and ones.repeat == 3
    np.testing.assert_array_equal(ones.steps, [11])
    np.testing.assert_array_equal(ones.targets, [[[0, 1], [0, 1]]])


@pytest.mark.parametrize("task", memtasks.TASKS)
@pytest.mark.parametrize("labels", ["final", "every_step"])
@pytest.mark.parametrize("k", [1, 2, 5])
def test_batches_match_the_slow_definition(task, labels, k, slow):
    """Per sample and step, an obvious loop over the stream gives the batch's labelled steps and labels."""
    config = TaskConfig(task, (4, 2, 7), None, None, labels, repeat=k)
    batch = sample_batch(config, 6, np.random.default_rng(k))
    T, B = batch.inputs.shape[:2]
    assert T % k == 0 and 9 <= T // k < 30 and batch.repeat == k
    bits = batch.inputs[:, :, 0]
    scored = [t for t in range(T) if (t + 1) % k == 0 and (labels == "every_step" or t == T - 1)
              and any(slow(task, bits[:, 0], t, n, k) >= 0 for n in batch.heads)]
    np.testing.assert_array_equal(batch.steps, scored)
    expected = [[[slow(task, bits[:, b], t, n, k) for n in batch.heads] for b in range(B)]
                for t in batch.steps]
    np.testing.assert_array_equal(batch.targets, expected)


@pytest.mark.parametrize("task", memtasks.TASKS)
def test_a_repeated_batch_is_the_plain_batch_stretched(task):
    """The same draws with k = 3: inputs repeated, the same targets, steps (j + 1) k - 1."""
    env = gym.make(IDS[task], N=[2, 5], labels="every_step")
    plain = env.unwrapped.sample_batch(4, rng=9)
    stretched = env.unwrapped.sample_batch(4, rng=9, repeat=3)
    np.testing.assert_array_equal(stretched.inputs, np.repeat(plain.inputs, 3, axis=0))
    np.testing.assert_array_equal(stretched.targets, plain.targets)
    np.testing.assert_array_equal(stretched.steps, (plain.steps + 1) * 3 - 1)
    assert plain.repeat == 1 and env.unwrapped.repeat == 1   # the keyword does not change the env


@pytest.mark.parametrize("task", memtasks.TASKS)
def test_check_env_and_spec_round_trip(task):
    env = gym.make(IDS[task], N=[2, 3], repeat=4)
    check_env(env.unwrapped)
    assert env.unwrapped.spec.kwargs["repeat"] == 4
    env.unwrapped.set_heads([3, 4])
    clone = gym.make(env.unwrapped.spec)
    assert clone.unwrapped.repeat == 4 and clone.unwrapped.heads == (3, 4)
    assert clone.unwrapped.sample_batch(2).inputs.shape[0] % 4 == 0
    envs = gym.make_vec(IDS[task], num_envs=3, vectorization_mode="vector_entry_point", repeat=4)
    assert envs.unwrapped.repeat == 4 and gym.make_vec(envs.unwrapped.spec).unwrapped.repeat == 4


def test_set_heads_relabels_a_repeated_episode(slow):
    env = gym.make("memtasks/Parity-v0", N=2, labels="every_step", seq_len=6, repeat=2)
    obs, _ = env.reset(seed=0)
    bits = [int(obs[0])]
    for _ in range(3):
        obs, *_ = env.step(np.array([0]))
        bits.append(int(obs[0]))
    env.unwrapped.set_heads([3, 2])
    for t in range(3, 12):
        obs, _, terminated, _, info = env.step(np.array([0, 0]))
        np.testing.assert_array_equal(info["labels"], [slow("parity", bits, t, n, 2) for n in (3, 2)])
        bits.append(int(obs[0]))
    assert terminated


@pytest.mark.parametrize("repeat, error", [(0, ValueError), (-2, ValueError), (2.0, TypeError),
                                           (True, TypeError), ("3", TypeError)])
def test_bad_repeat_names_the_argument(repeat, error):
    expected = f"repeat={repeat!r} is not accepted: expected an int >= 1"
    with pytest.raises(error, match="^" + expected.replace("(", r"\(").replace(")", r"\)")):
        gym.make("memtasks/Parity-v0", repeat=repeat)
    with pytest.raises(error, match="repeat="):
        gym.make_vec("memtasks/DMS-v0", num_envs=2, vectorization_mode="vector_entry_point",
                     repeat=repeat)
    env = gym.make("memtasks/Parity-v0")
    with pytest.raises(error, match="repeat="):
        env.unwrapped.sample_batch(2, repeat=repeat)
    with pytest.raises(error, match="repeat="):
        dataclasses.replace(env.unwrapped.config, repeat=repeat)
