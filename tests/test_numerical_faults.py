"""Numerical faults: a diverging run stops with epoch and step named and its last good checkpoint
kept (and resumable at a sane learning rate); gradients of τ stay finite at long timescales and
long sequences."""

from __future__ import annotations

import gymnasium as gym
import pytest
import torch

import memtasks  # noqa: F401  (registers the envs)
from agents import LeakyRNN, NonFiniteLossError
from agents.training import runstate
from agents.training.loop import train

RUN = dict(steps_per_epoch=3, eval_steps=1, batch_size=8, seed=2, progress=False)


def parity():
    return gym.make("memtasks/Parity-v0", N=2)


def test_a_huge_learning_rate_stops_naming_epoch_and_step_and_the_run_resumes(tmp_path):
    run = tmp_path / "run"
    torch.manual_seed(0)
    train(LeakyRNN(8, (2,)), parity(), epochs=1, checkpoint_dir=run, logdir=run, **RUN)
    good = (run / runstate.CHECKPOINT).read_bytes()

    with pytest.raises(NonFiniteLossError) as caught:
        train(LeakyRNN(8, (2,)), parity(), epochs=3, checkpoint_dir=run, logdir=run, resume=True,
              lr=1e30, grad_clip=None, **RUN)
    error = caught.value
    assert error.epoch == 2 and 1 <= error.step <= RUN["steps_per_epoch"]
    assert f"epoch 2, step {error.step}" in str(error) and str(run / runstate.CHECKPOINT) in str(error)
    assert (run / runstate.CHECKPOINT).read_bytes() == good
    assert not (run / runstate.MODELS / "epoch_0002.pt").exists()

    history = train(LeakyRNN(8, (2,)), parity(), epochs=3, checkpoint_dir=run, logdir=run,
                    resume=True, **RUN)
    assert [r.epoch for r in history.records] == [1, 2, 3]
    assert all(torch.isfinite(torch.tensor(r.loss)) for r in history.records)


@pytest.mark.parametrize("steps", [1, 1000])
@pytest.mark.parametrize("taus", ["1", "1000", "1..1000"])
def test_tau_gradients_stay_finite(taus, steps):
    torch.manual_seed(0)
    model = LeakyRNN(6, (2, 5))
    with torch.no_grad():
        model.tau.copy_({"1": torch.ones(6), "1000": torch.full((6,), 1000.0),
                         "1..1000": torch.logspace(0, 3, 6)}[taus])
    inputs = torch.randint(0, 2, (steps, 4, 1)).float()
    logits = model.readout(model(inputs))
    targets = torch.randint(0, 2, logits.shape[:-1])
    torch.nn.functional.cross_entropy(logits.reshape(-1, 2), targets.reshape(-1)).backward()
    assert torch.isfinite(model.tau.grad).all()
    assert model.tau.grad.abs().sum() > 0  # finite because it is computed, not because it is cut
    for name, p in model.named_parameters():
        assert torch.isfinite(p.grad).all(), name
