"""The threshold rule and the four schedules, driven through update() on a fake env."""

import logging
import math

import gymnasium
import numpy as np
import pytest

import curricula


def test_exports():
    for name in ("Curriculum", "SingleHead", "MultiHead", "Sliding", "Fixed"):
        assert hasattr(curricula, name)
    for cls in (curricula.SingleHead, curricula.MultiHead, curricula.Sliding, curricula.Fixed):
        assert issubclass(cls, curricula.Curriculum) and issubclass(cls, gymnasium.Wrapper)


@pytest.mark.parametrize(
    "make, start, after",
    [
        (lambda env: curricula.SingleHead(env), (2,), [(3,), (4,), (5,)]),
        (lambda env: curricula.MultiHead(env), (2,), [(2, 3), (2, 3, 4), (2, 3, 4, 5)]),
        (lambda env: curricula.MultiHead(env, grow=3), (2,), [(2, 3, 4, 5), (2, 3, 4, 5, 6, 7, 8)]),
        (lambda env: curricula.Sliding(env), (2, 3, 4), [(3, 4, 5), (4, 5, 6)]),
        (lambda env: curricula.Sliding(env, forget=2), (2, 3, 4), [(4, 5, 6), (6, 7, 8)]),
        (lambda env: curricula.Fixed(env), (10,), [(10,), (10,)]),
    ],
)
def test_schedules_advance_when_solved(fake_env, make, start, after):
    env = make(fake_env(list(start)))
    assert env.heads == start
    for expected in after:
        before = env.heads
        changed = env.update({n: 0.99 for n in before})
        assert changed is (expected != before)
        assert env.unwrapped.heads == expected == env.heads


@pytest.mark.parametrize(
    "accuracy, advances",
    [
        ({2: 1.0, 3: 0.99}, True),
        ({2: 1.0, 3: 0.98}, False),  # the largest N must exceed the threshold strictly
        ({2: 0.97, 3: 0.99}, False),  # mean 0.98: not above
        ({2: 0.975, 3: 0.99}, True),  # mean 0.9825
        ({2: 0.5, 3: 1.0}, False),
        ({2: 0.0, 3: 0.0}, False),
    ],
)
def test_rule_mean_and_largest_N(fake_env, accuracy, advances):
    env = curricula.MultiHead(fake_env([2, 3]))
    assert env.update(accuracy) is advances
    assert env.heads == ((2, 3, 4) if advances else (2, 3))


def test_threshold_argument(fake_env):
    env = curricula.SingleHead(fake_env(2), threshold=0.6)
    assert env.update({2: 0.6}) is False
    assert env.update({2: 0.61}) is True
    assert env.heads == (3,)


def test_start_sets_env_heads(fake_env):
    env = curricula.MultiHead(fake_env(7), start=2)
    assert env.unwrapped.heads == (2,)
    env = curricula.Sliding(fake_env(7), start=[2, 3, 4])
    assert env.unwrapped.heads == (2, 3, 4)
    assert env.unwrapped.action_space.shape == (3,)


def test_record_of_changes_and_stages(fake_env):
    env = curricula.MultiHead(fake_env(2))
    assert env.stage_reached == {2: 0} and env.changes == [] and env.epoch == 0
    env.update({2: 0.5})
    env.update({2: 0.99})
    env.update({2: 0.99, 3: 0.2})
    env.update({2: 0.99, 3: 0.995})
    assert env.epoch == 4
    assert env.changes == [
        curricula.Change(epoch=2, episode=0, before=(2,), heads=(2, 3)),
        curricula.Change(epoch=4, episode=0, before=(2, 3), heads=(2, 3, 4)),
    ]
    assert env.stage_reached == {2: 0, 3: 2, 4: 4}


def test_sliding_records_first_arrival_only(fake_env):
    env = curricula.Sliding(fake_env([2, 3]), forget=2)
    env.update({2: 1.0, 3: 1.0})
    env.update({4: 1.0, 5: 1.0})
    assert env.heads == (6, 7)
    assert env.stage_reached == {2: 0, 3: 0, 4: 1, 5: 1, 6: 2, 7: 2}


@pytest.mark.parametrize(
    "make, path",
    [
        (lambda env: curricula.SingleHead(env, max_N=4), [(3,), (4,), (4,)]),
        (lambda env: curricula.MultiHead(env, grow=3, max_N=6), [(2, 3, 4, 5), (2, 3, 4, 5, 6), (2, 3, 4, 5, 6)]),
        (lambda env: curricula.Sliding(env, start=[2, 3, 4], forget=2, max_N=7), [(4, 5, 6), (5, 6, 7), (5, 6, 7)]),
    ],
)
def test_max_N_caps_and_finishes(fake_env, make, path):
    env = make(fake_env(2))
    for i, expected in enumerate(path):
        assert not env.finished
        env.update({n: 1.0 for n in env.heads})
        assert env.heads == expected
    assert env.finished
    assert env.update({n: 1.0 for n in env.heads}) is False and env.finished


def test_fixed_finishes_when_solved(fake_env):
    env = curricula.Fixed(fake_env(10))
    assert env.update({10: 0.9}) is False and not env.finished
    assert env.update({10: 0.99}) is False and env.finished
    assert env.changes == [] and env.epoch == 2


def test_changes_are_logged(fake_env, caplog):
    env = curricula.SingleHead(fake_env(2))
    with caplog.at_level(logging.INFO, logger="curricula"):
        env.update({2: 1.0})
    (record,) = caplog.records
    assert record.name == "curricula"
    assert "(2,) -> (3,)" in record.getMessage() and "epoch 1" in record.getMessage()


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        ({"threshold": 0}, ValueError, "threshold"),
        ({"threshold": 1.5}, ValueError, "threshold"),
        ({"threshold": "high"}, TypeError, "threshold"),
        ({"threshold": math.nan}, ValueError, "threshold"),
        ({"window": 0}, ValueError, "window"),
        ({"window": 2.5}, TypeError, "window"),
        ({"start": 0}, ValueError, "start"),
        ({"start": []}, ValueError, "start"),
        ({"start": [2, 2]}, ValueError, "start"),
        ({"start": "2"}, TypeError, "start"),
        ({"start": [2, 1.5]}, TypeError, "start"),
        ({"max_N": 1}, ValueError, "max_N"),
        ({"start": 5, "max_N": 4}, ValueError, "max_N"),
        ({"max_N": "10"}, TypeError, "max_N"),
        ({"grow": 0}, ValueError, "grow"),
        ({"grow": True}, TypeError, "grow"),
    ],
)
def test_bad_arguments(fake_env, kwargs, error, words):
    with pytest.raises(error, match=words):
        curricula.MultiHead(fake_env(2), **kwargs)


def test_bad_forget(fake_env):
    with pytest.raises(ValueError, match="forget"):
        curricula.Sliding(fake_env([2, 3]), forget=0)
    with pytest.raises(ValueError, match=r"forget=3 is not accepted: expected an int from 1 to the number of heads"):
        curricula.Sliding(fake_env([2, 3]), forget=3)


@pytest.mark.parametrize(
    "accuracy, error, words",
    [
        ({2: 0.9}, ValueError, r"missing N: \[3\], extra N: \[\]"),
        ({2: 0.9, 3: 0.9, 4: 0.9}, ValueError, r"missing N: \[\], extra N: \[4\]"),
        ({2: 0.9, 3: 1.5}, ValueError, r"accuracy_by_N\[3\]=1.5 is not accepted: expected a float in \[0, 1\]"),
        ({2: 0.9, 3: math.nan}, ValueError, r"accuracy_by_N\[3\]"),
        ({2: 0.9, 3: "high"}, TypeError, r"accuracy_by_N\[3\]"),
        ({2: 0.9, "3": 0.9}, TypeError, "accuracy_by_N key"),
        ([0.9, 0.9], TypeError, "accuracy_by_N=.* is not accepted: expected a mapping"),
    ],
)
def test_bad_accuracy(fake_env, accuracy, error, words):
    env = curricula.MultiHead(fake_env([2, 3]))
    with pytest.raises(error, match=words):
        env.update(accuracy)
    assert env.epoch == 0 and env.heads == (2, 3)


def test_accepts_numpy_numbers(fake_env):
    env = curricula.MultiHead(fake_env([2, 3]))
    assert env.update({np.int64(2): np.float32(0.99), 3: np.float64(0.995)}) is True


def test_env_without_head_set(fake_env):
    with pytest.raises(TypeError, match="env=.* is not accepted: expected an env whose env.unwrapped offers heads"):
        curricula.SingleHead(gymnasium.make("CartPole-v1"))
    sync = gymnasium.vector.SyncVectorEnv([lambda: gymnasium.make("CartPole-v1")])
    with pytest.raises(TypeError, match="env=SyncVectorEnv.* or a sync/async vector env of such envs"):
        curricula.SingleHead(sync)


def test_bad_max_N_leaves_env_alone(fake_env):
    env = fake_env(7)
    with pytest.raises(ValueError, match="max_N"):
        curricula.MultiHead(env, start=[2, 3], max_N=2)
    assert env.heads == (7,)
