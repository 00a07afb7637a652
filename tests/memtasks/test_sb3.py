"""`memtasks.sb3.SB3VecEnv` with the real clients: SB3's own DummyVecEnv as the reference, VecMonitor and
VecCheckNan, PPO and sb3-contrib's RecurrentPPO training on the native vector env (the `rl` extra)."""

from __future__ import annotations

import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

pytest.importorskip("stable_baselines3")
pytest.importorskip("sb3_contrib")

from sb3_contrib import RecurrentPPO  # noqa: E402
from stable_baselines3 import PPO  # noqa: E402
from stable_baselines3.common.vec_env import DummyVecEnv, VecCheckNan, VecMonitor  # noqa: E402

import memtasks  # noqa: E402, F401  (registers the envs)
from memtasks.sb3 import SB3VecEnv  # noqa: E402

KWARGS = dict(N=[2, 3], labels="every_step")


def native(num_envs=4, **kwargs):
    return gym.make_vec("memtasks/DMS-v0", num_envs=num_envs, vectorization_mode="vector_entry_point",
                        autoreset_mode="SameStep", **(KWARGS | kwargs))


@pytest.mark.parametrize("make", [
    lambda: native(seeding="per_copy"),
    lambda: gym.make_vec("memtasks/DMS-v0", num_envs=4, vectorization_mode="sync",
                         vector_kwargs={"autoreset_mode": AutoresetMode.SAME_STEP}, **KWARGS),
], ids=["native per_copy", "sync"])
def test_adapter_steps_as_sb3_dummy_vec_env(make):
    """Against SB3's own DummyVecEnv over single envs: the same observations, rewards, dones, infos
    (terminal observations included) and reset infos, step for step, for the same seed."""
    adapter = SB3VecEnv(make())
    reference = DummyVecEnv([lambda: gym.make("memtasks/DMS-v0", **KWARGS) for _ in range(4)])
    assert adapter.observation_space == reference.observation_space
    assert adapter.action_space == reference.action_space
    adapter.seed(21), reference.seed(21)
    np.testing.assert_array_equal(adapter.reset(), reference.reset())
    rng = np.random.default_rng(0)
    ends = 0
    for _ in range(40):
        actions = rng.integers(0, 2, size=(4, 2))
        got, expected = adapter.step(actions), reference.step(actions)
        for a, b in zip(got[:3], expected[:3]):
            np.testing.assert_array_equal(a, b)
        assert got[1].dtype == expected[1].dtype and got[2].dtype == expected[2].dtype
        for info, ref, reset_info, ref_reset in zip(got[3], expected[3], adapter.reset_infos, reference.reset_infos):
            assert info.keys() == ref.keys()
            for key in info:
                np.testing.assert_array_equal(info[key], ref[key])
            assert reset_info.keys() == ref_reset.keys()
        ends += got[2].sum()
    assert ends >= 8


def test_vec_monitor_counts_whole_episodes():
    """SB3's VecMonitor, reading the adapter's dones, sees episodes of exactly seq_len steps."""
    envs = VecMonitor(SB3VecEnv(native(seq_len=5)))
    envs.seed(0)
    envs.reset()
    lengths = []
    for _ in range(12):
        _, _, dones, infos = envs.step(np.ones((4, 2), dtype=np.int64))
        lengths += [info["episode"]["l"] for info, done in zip(infos, dones) if done]
    assert lengths == [5] * 8


def test_ppo_trains_on_the_native_vector_env():
    envs = VecCheckNan(VecMonitor(SB3VecEnv(native(num_envs=8, seq_len=6))), raise_exception=True)
    model = PPO("MlpPolicy", envs, n_steps=12, batch_size=48, n_epochs=1, seed=0, device="cpu",
                policy_kwargs=dict(net_arch=[8]))
    model.learn(total_timesteps=192)
    assert model.num_timesteps == 192
    assert [info["l"] for info in model.ep_info_buffer] == [6] * 32  # 8 copies x 24 steps / 6 steps


def test_recurrent_ppo_trains_on_the_native_vector_env():
    """RecurrentPPO's LSTM states restart where the adapter says an episode started."""
    envs = VecMonitor(SB3VecEnv(native(num_envs=8, seq_len=6)))
    model = RecurrentPPO("MlpLstmPolicy", envs, n_steps=12, batch_size=48, n_epochs=1, seed=0, device="cpu",
                         policy_kwargs=dict(lstm_hidden_size=8, net_arch=[8]))
    model.learn(total_timesteps=192)
    assert model.num_timesteps == 192 and len(model.ep_info_buffer) == 32
    starts = model.rollout_buffer.episode_starts.reshape(8, 12)   # flattened copy by copy after training
    np.testing.assert_array_equal(starts, np.tile(np.arange(12) % 6 == 0, (8, 1)))   # every 6 steps


def test_attributes_and_methods_reach_the_copies():
    sync = SB3VecEnv(gym.make_vec("memtasks/Parity-v0", num_envs=3, vectorization_mode="sync",
                                  vector_kwargs={"autoreset_mode": AutoresetMode.SAME_STEP}, N=2))
    assert sync.get_attr("heads") == [(2,)] * 3 and sync.get_attr("heads", indices=[1]) == [(2,)]
    sync.env_method("set_heads", (2, 3))
    assert sync.get_attr("heads") == [(2, 3)] * 3
    assert sync.has_attr("heads") and not sync.has_attr("no_such_attribute")
    own = SB3VecEnv(native(num_envs=3))
    assert own.get_attr("heads") == [(2, 3)] * 3 and own.env_is_wrapped(gym.Wrapper) == [False] * 3
    with pytest.raises(ValueError, match=r"indices=\[0\] is not accepted: expected None \(all 3 copies\)"):
        own.env_method("set_heads", (2,), indices=[0])


@pytest.mark.parametrize("envs, error, words", [
    (lambda: gym.make("memtasks/Parity-v0"), TypeError, "is not accepted: expected a gymnasium.vector.VectorEnv"),
    (lambda: gym.make_vec("memtasks/Parity-v0", num_envs=2), ValueError,
     "autoreset_mode='NextStep' is not accepted: expected AutoresetMode.SAME_STEP"),
])
def test_bad_envs_are_refused(envs, error, words):
    with pytest.raises(error, match=words):
        SB3VecEnv(envs())


def test_import_memtasks_does_not_import_sb3():
    code = "import sys, memtasks; print('stable_baselines3' in sys.modules, 'torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
