"""Every bad argument gives a ValueError/TypeError naming the argument, the bad value and what is accepted."""

import gymnasium as gym
import numpy as np
import pytest

import memtasks  # noqa: F401  (registers the envs)
from memtasks.checks import check_bool, first_line
from memtasks.env import MemoryTaskEnv

BAD_MAKE = [
    ("parity", dict(N=0), ValueError, "N", "0"),
    ("parity", dict(N=-3), ValueError, "N", "-3"),
    ("parity", dict(N=[]), ValueError, "N", "[]"),
    ("parity", dict(N=[2, 3, 2]), ValueError, "N", "[2, 3, 2]"),
    ("parity", dict(N=2.0), TypeError, "N", "2.0"),
    ("parity", dict(N=True), TypeError, "N", "True"),
    ("parity", dict(N=[2, 3.5]), TypeError, "N", "3.5"),
    ("parity", dict(N=[2, False]), TypeError, "N", "False"),
    ("parity", dict(N="3"), TypeError, "N", "'3'"),
    ("parity", dict(N=[[2, 3]]), TypeError, "N", "[[2, 3]]"),
    ("dms", dict(N=1), ValueError, "N", "1"),
    ("dms", dict(N=[1, 2]), ValueError, "N", "[1, 2]"),
    ("parity", dict(N=5, seq_len=4), ValueError, "seq_len", "4"),
    ("parity", dict(N=5, seq_len=(4, 9)), ValueError, "seq_len", "(4, 9)"),
    ("parity", dict(N=2, seq_len=(6, 6)), ValueError, "seq_len", "(6, 6)"),
    ("parity", dict(N=2, seq_len=(6,)), TypeError, "seq_len", "(6,)"),
    ("parity", dict(N=2, seq_len=7.5), TypeError, "seq_len", "7.5"),
    ("parity", dict(N=2, seq_len=(3, 8.0)), TypeError, "seq_len", "(3, 8.0)"),
    ("parity", dict(p=-0.1), ValueError, "p", "-0.1"),
    ("parity", dict(p=1.5), ValueError, "p", "1.5"),
    ("dms", dict(p=float("nan")), ValueError, "p", "nan"),
    ("dms", dict(p="0.5"), TypeError, "p", "'0.5'"),
    ("dms", dict(p=True), TypeError, "p", "True"),
    ("parity", dict(labels="all"), ValueError, "labels", "'all'"),
    ("parity", dict(labels=None), ValueError, "labels", "None"),
    ("parity", dict(render_mode="sound"), ValueError, "render_mode", "'sound'"),
]


def assert_clear(excinfo, argname, value):
    message = str(excinfo.value)
    assert message.startswith(f"{argname}=") and "is not accepted: expected" in message, message
    assert value in message, message


@pytest.mark.filterwarnings("ignore:.*render_mode")
@pytest.mark.parametrize("task, kwargs, error, argname, value", BAD_MAKE)
def test_bad_make_arguments(task, kwargs, error, argname, value):
    env_id = {"parity": "memtasks/Parity-v0", "dms": "memtasks/DMS-v0"}[task]
    with pytest.raises(error) as excinfo:
        gym.make(env_id, **kwargs)
    assert_clear(excinfo, argname, value)
    if argname != "render_mode":
        with pytest.raises(error) as excinfo:
            gym.make_vec(env_id, num_envs=2, vectorization_mode="vector_entry_point", **kwargs)
        assert_clear(excinfo, argname, value)


@pytest.mark.parametrize("Ns, error, value", [
    (0, ValueError, "0"), ([], ValueError, "[]"), ([4, 4], ValueError, "[4, 4]"),
    (3.0, TypeError, "3.0"), ([2, None], TypeError, "None"), ([2, 20], ValueError, "seq_len"),
])
@pytest.mark.parametrize("vector", [False, True])
def test_bad_set_heads(Ns, error, value, vector):
    kwargs = dict(N=[2, 3], seq_len=(10, 12))
    env = (gym.make_vec("memtasks/Parity-v0", num_envs=2, **kwargs) if vector
           else gym.make("memtasks/Parity-v0", **kwargs))
    with pytest.raises(error) as excinfo:
        env.unwrapped.set_heads(Ns)
    assert value in str(excinfo.value) and "is not accepted: expected" in str(excinfo.value)
    assert env.unwrapped.heads == (2, 3) and env.unwrapped.spec.kwargs["N"] == [2, 3]


@pytest.mark.parametrize("args, error, argname, value", [
    ((0,), ValueError, "batch_size", "0"), ((-2,), ValueError, "batch_size", "-2"),
    ((2.0,), TypeError, "batch_size", "2.0"), ((True,), TypeError, "batch_size", "True"),
    (("8",), TypeError, "batch_size", "'8'"),
    ((4, "seed"), TypeError, "rng", "'seed'"), ((4, -1), ValueError, "rng", "-1"),
    ((4, 1.5), TypeError, "rng", "1.5"),
])
@pytest.mark.parametrize("vector", [False, True])
def test_bad_sample_batch(args, error, argname, value, vector):
    env = gym.make_vec("memtasks/DMS-v0", num_envs=2) if vector else gym.make("memtasks/DMS-v0")
    with pytest.raises(error) as excinfo:
        env.unwrapped.sample_batch(*args)
    assert_clear(excinfo, argname, value)


@pytest.mark.parametrize("action", [[2, 0], [0, -1], [0], [0, 1, 1], [0.0, 1.0], "01", 1])
def test_bad_action(action):
    env = gym.make("memtasks/Parity-v0", N=[2, 3])
    env.reset(seed=0)
    with pytest.raises(ValueError) as excinfo:
        env.step(action)
    assert_clear(excinfo, "action", repr(action))
    assert "(2,)" in str(excinfo.value) and "0 or 1" in str(excinfo.value)


@pytest.mark.parametrize("actions", [np.zeros((3, 2), int), np.full((2, 2), 2), np.zeros((2, 2)), [[0, 1]]])
def test_bad_vector_actions(actions):
    envs = gym.make_vec("memtasks/Parity-v0", num_envs=2, N=[2, 3])
    envs.reset(seed=0)
    with pytest.raises(ValueError) as excinfo:
        envs.step(actions)
    assert str(excinfo.value).startswith("actions=") and "(2, 2)" in str(excinfo.value)


def test_step_before_reset_and_after_termination():
    env = MemoryTaskEnv("parity", N=2, seq_len=2)
    with pytest.raises(RuntimeError, match="before reset"):
        env.step(np.array([0]))
    env.reset(seed=0)
    env.step(np.array([0]))
    assert env.step(np.array([0]))[2]
    with pytest.raises(RuntimeError, match="after the episode terminated"):
        env.step(np.array([0]))
    envs = gym.make_vec("memtasks/Parity-v0", num_envs=2)
    with pytest.raises(RuntimeError, match="before reset"):
        envs.step(np.zeros((2, 1), int))


@pytest.mark.parametrize("num_envs, error", [(0, ValueError), (2.0, TypeError)])
def test_bad_num_envs(num_envs, error):
    with pytest.raises(error, match="num_envs=.* is not accepted: expected an int >= 1"):
        gym.make_vec("memtasks/Parity-v0", num_envs=num_envs, vectorization_mode="vector_entry_point")


def test_unknown_task():
    with pytest.raises(ValueError, match=r"task='xor' is not accepted: expected one of \('parity', 'dms'\)"):
        MemoryTaskEnv("xor")


def test_first_line_of_an_error_for_one_line_reports():
    assert first_line(ValueError("bad value\nmore detail")) == "bad value"
    assert first_line(RuntimeError("\n  shape mismatch\nnext")) == "shape mismatch"
    assert first_line(KeyboardInterrupt()) == "KeyboardInterrupt"  # no message: its type


def test_check_bool_takes_only_true_or_false_and_none_where_optional():
    assert check_bool(True, "flag") is True and check_bool(None, "flag", optional=True) is None
    with pytest.raises(TypeError, match=r"flag=1 is not accepted: expected True or False"):
        check_bool(1, "flag")
    with pytest.raises(TypeError, match=r"flag='yes' is not accepted: expected None, True or False"):
        check_bool("yes", "flag", optional=True)
