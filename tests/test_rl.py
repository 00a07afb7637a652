"""RL interoperability: the envs pass Stable-Baselines3's checker, and RecurrentPPO learns them (the `rl` extra)."""

from __future__ import annotations

import re
import runpy
import sys
import warnings
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

pytest.importorskip("stable_baselines3")
pytest.importorskip("sb3_contrib")

from stable_baselines3.common.env_checker import check_env  # noqa: E402
from stable_baselines3.common.env_util import make_vec_env  # noqa: E402

import curricula  # noqa: E402
import memtasks  # noqa: E402, F401  (registers the envs)

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "rl_recurrent_ppo.py"
AFTER = re.compile(r"After training \((\(.*?\))\): .*; mean accuracy ([0-9.]+)")
BEFORE = re.compile(r"Before training \(\(2,\)\): N=2: ([0-9.]+); mean accuracy")

ENVS = [
    ("memtasks/Parity-v0", {}),
    ("memtasks/Parity-v0", dict(N=[3, 1], seq_len=(5, 9), p=0.3, labels="every_step")),
    ("memtasks/DMS-v0", dict(N=2, labels="every_step")),
    ("memtasks/DMS-v0", dict(N=[2, 5], seq_len=7, p=0.8)),
]


def sb3_check(env: gym.Env) -> list[str]:
    """Run SB3's env checker with its warnings on; the warnings it gave."""
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        check_env(env, warn=True, skip_render_check=False)
    return [str(w.message) for w in record]


@pytest.mark.parametrize("env_id, kwargs", ENVS)
def test_envs_pass_sb3_check_env(env_id, kwargs):
    assert sb3_check(gym.make(env_id, **kwargs)) == []
    assert sb3_check(gym.make(env_id, render_mode="rgb_array", **kwargs).unwrapped) == []


@pytest.mark.parametrize("schedule", [curricula.MultiHead, curricula.SingleHead, curricula.Fixed])
def test_curriculum_wrapped_envs_pass_sb3_check_env(schedule):
    env = schedule(gym.make("memtasks/DMS-v0", N=2, labels="every_step"), window=2, max_N=4)
    assert sb3_check(env) == []
    assert sb3_check(curricula.PadActions(env, size=3)) == []


def test_sb3_make_vec_env_builds_from_the_id():
    envs = make_vec_env("memtasks/Parity-v0", n_envs=2, seed=0, env_kwargs=dict(N=[2, 3], seq_len=4))
    assert envs.reset().shape == (2, 1) and envs.action_space == gym.spaces.MultiDiscrete([2, 2])
    for _ in range(4):
        obs, rewards, dones, infos = envs.step(np.ones((2, 2), dtype=np.int64))
    assert dones.all() and infos[0]["correct"].shape == (2,) and "terminal_observation" in infos[0]


def test_pad_actions_forwards_one_prediction_per_current_head():
    env = curricula.PadActions(curricula.MultiHead(gym.make("memtasks/DMS-v0", N=2, labels="every_step",
                                                            seq_len=6), max_N=4), size=3)
    assert env.action_space == gym.spaces.MultiDiscrete([2, 2, 2])
    env.reset(seed=1)
    env.env.update({2: 1.0})  # solved: the curriculum adds N=3
    assert env.unwrapped.heads == (2, 3)
    clone = gym.make(env.spec)  # the spec names the current heads
    assert clone.unwrapped.heads == (2, 3) and clone.action_space == env.action_space
    for _ in range(6):
        action = env.np_random.integers(0, 2, size=3)
        _, reward, _, _, info = env.step(action)
        has = info["labels"] >= 0
        np.testing.assert_array_equal(info["correct"], has & (action[:2] == info["labels"]))
        assert reward == (info["correct"].sum() / has.sum() if has.any() else 0.0)


def test_pad_actions_errors_name_the_problem():
    env = gym.make("memtasks/Parity-v0", N=[2, 3])
    with pytest.raises(ValueError, match=r"size=1 is not accepted: expected an int >= 2"):
        curricula.PadActions(env, size=1)
    with pytest.raises(TypeError, match="size=2.0 is not accepted"):
        curricula.PadActions(env, size=2.0)
    padded = curricula.PadActions(env, size=2)
    padded.reset(seed=0)
    with pytest.raises(ValueError, match=r"action=array\(\[0, 2\]\) is not accepted: expected an int array of shape \(2,\)"):
        padded.step(np.array([0, 2]))
    env.unwrapped.set_heads([2, 3, 4])
    with pytest.raises(ValueError, match="now has 3 heads .* more than size=2"):
        padded.step(np.array([0, 1]))


def run_example(*args: str, monkeypatch, capsys) -> str:
    """Run ``python examples/rl_recurrent_ppo.py args`` in this process; its stdout."""
    monkeypatch.setattr(sys, "argv", [EXAMPLE.name, *args])
    try:
        runpy.run_path(str(EXAMPLE), run_name="__main__")
    except SystemExit as exc:
        assert exc.code == 0
    return capsys.readouterr().out


def test_example_help(monkeypatch, capsys):
    assert "--timesteps" in run_example("--help", monkeypatch=monkeypatch, capsys=capsys)


def test_example_runs_and_reports_accuracy(monkeypatch, capsys):
    out = run_example("--timesteps", "128", "--envs", "2", "--n-steps", "32", "--batch-size", "32",
                      "--n-epochs", "1", "--eval-episodes", "3", "--window", "2", "--lstm", "8",
                      monkeypatch=monkeypatch, capsys=capsys)
    assert 0.0 <= float(BEFORE.search(out).group(1)) <= 1.0
    assert "heads reached by the copies: " in out
    assert 0.0 <= float(AFTER.search(out).group(2)) <= 1.0


@pytest.mark.slow
def test_recurrent_ppo_learns_dms_and_climbs_the_curriculum(monkeypatch, capsys):
    out = run_example("--task", "dms", "--N", "2", "--max-N", "3", "--curriculum", "multi", "--timesteps", "30000",
                      monkeypatch=monkeypatch, capsys=capsys)
    assert float(BEFORE.search(out).group(1)) < 0.65
    assert "heads reached by the copies: (2, 3) x8" in out  # every copy's curriculum advanced by itself
    heads, mean = AFTER.search(out).groups()
    n2 = float(re.search(r"After training \(\(2, 3\)\): N=2: ([0-9.]+)", out).group(1))
    assert heads == "(2, 3)" and n2 >= 0.9 and float(mean) >= 0.7
