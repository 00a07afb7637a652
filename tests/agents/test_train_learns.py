"""End to end: a small LeakyRNN under the multi-head curriculum really learns N-parity."""

from __future__ import annotations

import gymnasium as gym
import torch

import curricula
import memtasks  # noqa: F401  (registers the envs)
from agents.models.leaky_rnn import LeakyRNN
from agents.training.loop import train


def test_multi_head_parity_reaches_N_4(tmp_path):
    torch.manual_seed(0)
    env = curricula.MultiHead(gym.make("memtasks/Parity-v0", N=2))
    model = LeakyRNN(hidden_size=32, heads=(2,))
    history = train(model, env, epochs=60, steps_per_epoch=50, eval_steps=4, batch_size=64,
                    target_N=4, progress=False, checkpoint_dir=tmp_path)
    assert history.stop_reason == "target_N" and max(history.solved_N) >= 4
    assert history.accuracy[-1][4] > 0.98 and set(history.heads[-1]) == {2, 3, 4}
    assert model.heads == env.unwrapped.heads == (2, 3, 4, 5)  # the curriculum moved on
    assert env.stage_reached[4] < env.stage_reached[5] <= len(history)
