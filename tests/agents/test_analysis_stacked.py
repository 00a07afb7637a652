"""The analysis on a stacked LeakyRNN: every layer is recorded, fitted, ablated and perturbed,
its neurons numbered across layers as in the states and ``taus``."""

import math

import numpy as np
import pytest
import torch

import agents
from agents import LeakyRNN, analysis


def linear_pair(leak):
    """Layer 1: two AR(1) neurons, h_t = 0.8 h_{t-1} + (x_t + 1) / 5 (τ = 5, no recurrence, every
    pre-activation positive so relu is the identity); layer 2 (τ = 1) copies layer 1 at the same
    step through F = I."""
    model = LeakyRNN([2, 2], (2,), activation="relu", h0="zeros", leak=leak)
    with torch.no_grad():
        for tensor in model.parameters():
            tensor.zero_()
        model.tau.copy_(torch.tensor([5.0, 5.0, 1.0, 1.0]))
        model.input.weight.fill_(1.0), model.input.bias.fill_(1.0)
        model.stack[0].feedforward.weight.copy_(torch.eye(2))
    return model


@pytest.mark.parametrize("leak", ["inside", "outside"])
def test_record_and_timescales_per_layer_have_the_known_answer(leak):
    model = linear_pair(leak)
    act = analysis.record(model, steps=20_000, trials=4, burn_in=100, seed=0, p=0.5, chunk=3000)
    assert act.shape == (4, 20_000, 4)
    np.testing.assert_allclose(act[..., 2:], act[..., :2], rtol=1e-6)  # the copy, at the same step
    ac = analysis.autocorrelation(act, max_lag=60)
    np.testing.assert_allclose(ac[:20], np.repeat(0.8 ** np.arange(20)[:, None], 4, 1), atol=0.02)
    fit = analysis.fit_timescales(ac, fit_lag=30)
    first, second = (fit.single[part, 1] for part in model.layer_slices)  # τ of exp(-k/τ)
    np.testing.assert_allclose(first, -1 / math.log(0.8), rtol=0.05)  # AR(1): ρ(k) = 0.8^k
    np.testing.assert_allclose(second, first, rtol=1e-4)
    np.testing.assert_allclose(fit.tau[model.layer_slices[1]], fit.tau[model.layer_slices[0]],
                               rtol=1e-4)
    np.testing.assert_array_equal(analysis.trained_timescales(model), [5.0, 5.0, 1.0, 1.0])


@pytest.mark.parametrize("hidden, leak", [([4, 3], "inside"), ([3, 4], "outside"), ([2, 3, 2], "inside")])
def test_silenced_neurons_of_any_layer_reach_neither_other_neurons_nor_the_readout(hidden, leak):
    torch.manual_seed(1)
    model = LeakyRNN(hidden, (2, 3), leak=leak)
    silenced = analysis.ablate(model, neurons=[1, 4])
    inputs = torch.randint(0, 2, (25, 3, 1)).float()
    h0 = torch.rand(3, 7)
    other = h0.clone()
    other[:, [1, 4]] += 5.0
    with torch.no_grad():
        states = [silenced(inputs, h0=h) for h in (h0, other)]
        unsilenced = [model(inputs, h0=h) for h in (h0, other)]
    keep = [0, 2, 3, 5, 6]
    torch.testing.assert_close(states[0][..., keep], states[1][..., keep])
    torch.testing.assert_close(silenced.readout(states[0]), silenced.readout(states[1]))
    assert not torch.allclose(unsilenced[0][..., keep], unsilenced[1][..., keep])  # they did before
    decay = torch.cumprod((1 - 1 / silenced.taus[[1, 4]]).expand(25, 2), dim=0)
    torch.testing.assert_close(states[0][:, :, [1, 4]], h0[:, [1, 4]] * decay[:, None, :])


def test_weight_perturbation_spans_every_layers_recurrent_weights():
    torch.manual_seed(0)
    model = LeakyRNN([5, 4, 3], (2,))
    before = [w.detach().clone() for w, _ in model.recurrent_weights()]
    changed = analysis.perturb(model, "weights", epsilon=0.2, seed=3)
    after = [w.detach() for w, _ in changed.recurrent_weights()]
    deltas = [a - b for a, b in zip(after, before)]
    assert all(d.abs().max() > 0 for d in deltas)
    assert all(torch.count_nonzero(torch.diagonal(a)) == 0 for a in after)
    total = lambda ts: math.sqrt(sum(float(t.norm()) ** 2 for t in ts))  # noqa: E731
    assert total(deltas) == pytest.approx(0.2 * total(before), rel=1e-5)
    for name, value in model.state_dict().items():  # feed-forward and input weights untouched
        if "recurrent" not in name:
            assert torch.equal(changed.state_dict()[name], value), name
    taus = analysis.perturb(model, "tau", epsilon=0.5, seed=1).taus.detach() - model.taus.detach()
    assert taus.shape == (12,) and (taus[model.layer_slices[2]] > 0).all()


def test_analyze_reports_the_timescales_of_each_layer(tmp_path):
    torch.manual_seed(0)
    model = LeakyRNN([6, 4], (2,))
    with torch.no_grad():
        model.tau.copy_(torch.linspace(1.0, 9.0, 10))
    agents.save(model, tmp_path / "stacked.pt")
    results = analysis.analyze_run(tmp_path / "stacked.pt", tmp_path / "out", steps=1500, trials=2,
                                   burn_in=100, max_lag=60, epsilons=(0.0,), draws=1,
                                   accuracy_steps=200, warmup=50, repeats=1, progress=False)
    layers = results["final"]["layers"]
    taus = model.taus.detach().numpy()
    assert len(layers) == 2
    for layer, part in zip(layers, model.layer_slices):
        assert layer["tau_mean"] == pytest.approx(taus[part].mean())
        assert layer["tau_std"] == pytest.approx(taus[part].std())
    assert layers[0]["tau_mean"] < layers[1]["tau_mean"]
