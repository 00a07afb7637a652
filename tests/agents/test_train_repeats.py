"""Continuous time in training: ``train(repeats=(1, 2, 4))`` against an obvious hand-written loop."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import torch
from torch import nn

from agents import LeakyRNN
from agents.training import runstate
from agents.training.loop import paper_optimizer, train
from agents.training.steps import sequence_loss

RUN = dict(steps_per_epoch=3, eval_steps=2, batch_size=8, seed=5, progress=False)


@pytest.fixture
def scaled_gru(user_model_class):
    """A user's model whose forward takes ``repeat`` (its states shrink by 1/k) and logs each call."""

    class ScaledGRU(user_model_class):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.calls: list[tuple[int, int]] = []   # (steps, repeat) per forward

        def forward(self, inputs: torch.Tensor, *, repeat: int = 1) -> torch.Tensor:
            self.calls.append((inputs.shape[0], repeat))
            return self.rnn(inputs)[0] / repeat

    torch.manual_seed(0)
    return ScaledGRU()


def slow_epoch(model, env, repeats, steps_per_epoch, eval_steps, batch_size, seed, lr=0.05):
    """One epoch by hand: per step and k a fresh batch and one clipped SGD step; then accuracy per
    head as labels right over labels scored, summed over every evaluation batch of every k."""
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    model.set_heads(env.unwrapped.heads)
    optimizer = paper_optimizer(list(model.parameters()), lr)
    losses = []
    for _ in range(steps_per_epoch):
        for k in repeats:
            batch = env.unwrapped.sample_batch(batch_size, rng, repeat=k)
            states = model(torch.from_numpy(batch.inputs), repeat=k)
            loss = sequence_loss(model.readout(states[torch.from_numpy(batch.steps)]), torch.from_numpy(batch.targets))
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(list(model.parameters()), 2.0)
            optimizer.step()
            losses.append(loss.item())
    heads = env.unwrapped.heads
    right, total = {n: 0 for n in heads}, {n: 0 for n in heads}
    with torch.no_grad():
        for _ in range(eval_steps):
            for k in repeats:
                batch = env.unwrapped.sample_batch(batch_size, rng, repeat=k)
                states = model(torch.from_numpy(batch.inputs), repeat=k)
                predicted = model.readout(states[torch.from_numpy(batch.steps)]).argmax(-1).numpy()
                for h, n in enumerate(heads):
                    for step in range(batch.targets.shape[0]):
                        for b in range(batch_size):
                            if batch.targets[step, b, h] >= 0:
                                total[n] += 1
                                right[n] += int(predicted[step, b, h] == batch.targets[step, b, h])
    return float(np.mean(losses)), {n: right[n] / total[n] for n in heads}


@pytest.mark.parametrize("labels", ["final", "every_step"])
def test_one_epoch_equals_the_hand_written_loop(scaled_gru, make_env, labels):
    twin = copy.deepcopy(scaled_gru)
    history = train(scaled_gru, make_env([2, 3], labels), epochs=1, repeats=(1, 2, 4), **RUN)
    loss, accuracy = slow_epoch(twin, make_env([2, 3], labels), (1, 2, 4), 3, 2, 8, RUN["seed"])
    assert history.loss[0] == pytest.approx(loss, rel=1e-6)
    assert history.accuracy[0] == pytest.approx(accuracy, abs=1e-12)
    for a, b in zip(scaled_gru.parameters(), twin.parameters()):
        torch.testing.assert_close(a, b)


def test_the_model_gets_each_k_in_order(scaled_gru, make_env):
    train(scaled_gru, make_env(2), epochs=1, repeats=(3, 1, 2), **RUN)
    trained = scaled_gru.calls[1:]   # the first call is the protocol check's tiny batch
    assert [k for _, k in trained] == [3, 1, 2] * (RUN["steps_per_epoch"] + RUN["eval_steps"])
    assert all(steps % k == 0 for steps, k in trained)


def test_the_env_s_own_repeat_reaches_the_model(scaled_gru):
    import gymnasium as gym

    train(scaled_gru, gym.make("memtasks/DMS-v0", N=2, repeat=3), epochs=1, **RUN)
    assert {k for _, k in scaled_gru.calls[1:]} == {3}


def test_repeats_one_is_the_plain_run(user_model_class, make_env):
    """(1,) draws exactly the batches of the default, so the run is the same to the last bit."""
    runs = []
    for repeats in (None, (1,)):
        torch.manual_seed(0)
        history = train(user_model_class(), make_env([2, 3]), epochs=2, repeats=repeats, **RUN)
        runs.append([(r.loss, r.accuracy) for r in history.records])
    assert runs[0] == runs[1]


def test_a_model_without_repeat_sees_the_longer_streams(user_gru, make_env):
    history = train(user_gru, make_env(2), epochs=1, repeats=(1, 5), **RUN)
    assert len(history) == 1 and np.isfinite(history.loss[0])


def test_resume_continues_as_if_never_interrupted(user_model_class, make_env, tmp_path):
    def run(epochs, directory, resume=False, init=0):
        torch.manual_seed(init)
        return train(user_model_class(), make_env([2, 3], curriculum=True), epochs=epochs,
                     checkpoint_dir=directory, resume=resume, repeats=(1, 3), **RUN)

    full = run(4, tmp_path / "a")
    run(2, tmp_path / "b")
    resumed = run(4, tmp_path / "b", resume=True, init=99)
    assert [(r.loss, r.accuracy, r.heads) for r in resumed.records] == \
        [(r.loss, r.accuracy, r.heads) for r in full.records]
    assert runstate.load_state(tmp_path / "b" / runstate.CHECKPOINT)["config"]["repeats"] == [1, 3]
    assert len(json.loads((tmp_path / "b" / runstate.HISTORY).read_text())["records"]) == 4


@pytest.mark.parametrize("repeats, error", [
    ((), ValueError), ([0, 1], ValueError), ((2, 2), ValueError), ("12", TypeError),
    ((1, 1.5), TypeError), ((True,), TypeError), (2.0, TypeError),
])
def test_bad_repeats_are_named(user_gru, make_env, repeats, error, tmp_path):
    with pytest.raises(error, match=f"repeats={repeats!r} is not accepted".replace("(", r"\(")
                       .replace(")", r"\)").replace("[", r"\[")):
        train(user_gru, make_env(2), checkpoint_dir=tmp_path / "run", repeats=repeats, **RUN)
    assert not list(tmp_path.iterdir())


def test_an_env_without_repeat_is_refused(user_gru, make_env):
    class PlainBatches:
        def __init__(self, env):
            self.unwrapped = self
            self.env = env

        heads = property(lambda self: self.env.unwrapped.heads)

        def set_heads(self, heads):
            self.env.unwrapped.set_heads(heads)

        def sample_batch(self, batch_size, rng=None):
            return self.env.unwrapped.sample_batch(batch_size, rng)

    with pytest.raises(TypeError, match="repeats=.*takes no repeat keyword"):
        train(user_gru, PlainBatches(make_env(2)), repeats=(1, 2), **RUN)


def test_leaky_rnn_trains_over_several_k(make_env):
    torch.manual_seed(0)
    model = LeakyRNN(16, (2,))
    twin = copy.deepcopy(model)
    history = train(model, make_env(2), epochs=1, repeats=(1, 2), **RUN)
    loss, accuracy = slow_epoch(twin, make_env(2), (1, 2), 3, 2, 8, RUN["seed"])
    assert history.loss[0] == pytest.approx(loss, rel=1e-6)
    assert history.accuracy[0] == pytest.approx(accuracy, abs=1e-12)


def test_a_compiled_model_gets_repeat_too(scaled_gru, make_env):
    """train(torch.compile(model)) trains as the module itself, repeat=k included."""
    twin = copy.deepcopy(scaled_gru)
    plain = train(twin, make_env(2), epochs=1, repeats=(1, 3), **RUN)
    compiled = train(torch.compile(scaled_gru, backend="eager"), make_env(2), epochs=1,
                     repeats=(1, 3), **RUN)
    assert compiled.loss == pytest.approx(plain.loss, rel=1e-6)
    assert compiled.accuracy == plain.accuracy
