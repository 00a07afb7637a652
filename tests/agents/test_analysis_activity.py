import numpy as np
import pytest
import torch
from torch import nn

from agents import GRU, LSTM, LeakyRNN, analysis


def leaky_by_the_equation(model, bits):
    """h_t = LeakyReLU((1 - 1/τ) h + (W h + b_rec + W_in x + b_in) / τ) from h = 0, in numpy."""
    tau = model.taus.detach().numpy().astype(np.float64)
    w = model.recurrent.weight.detach().numpy().astype(np.float64)
    w_in = model.input.weight.detach().numpy()[:, 0].astype(np.float64)
    bias = (model.input.bias + model.recurrent.bias).detach().numpy().astype(np.float64)
    h = np.zeros((bits.shape[1], len(tau)))
    out = []
    for x in bits:
        pre = (1 - 1 / tau) * h + (h @ w.T + bias + x[:, None] * w_in) / tau
        h = np.where(pre > 0, pre, 0.01 * pre)
        out.append(h)
    return np.stack(out, axis=1)  # (trials, T, units)


class StatelessWrapper(nn.Module):
    """A user's model of the protocol whose forward takes inputs only."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner
        self.heads = inner.heads

    def forward(self, inputs):
        return self.inner(inputs)

    def readout(self, states):
        return self.inner.readout(states)

    def set_heads(self, heads):
        return self.inner.set_heads(heads)


@pytest.fixture
def leaky():
    torch.manual_seed(0)
    return LeakyRNN(12, (2, 3), h0="zeros")


def test_record_matches_the_equation_after_burn_in(leaky):
    act = analysis.record(leaky, steps=40, trials=3, burn_in=25, seed=5, chunk=16)
    bits = analysis.bernoulli_bits(np.random.default_rng(5), 65, 3, None)
    assert act.shape == (3, 40, 12) and act.dtype == np.float32
    np.testing.assert_allclose(act, leaky_by_the_equation(leaky, bits)[:, 25:], atol=1e-5)


def test_chunking_and_the_stateless_fallback_give_the_same_recording():
    torch.manual_seed(1)
    model = LeakyRNN(10, (2,))  # random h0: drawn from the seed, the same for every path
    whole = analysis.record(model, steps=90, trials=2, burn_in=13, chunk=10_000)
    for chunk in (1, 7, 13, 50):
        np.testing.assert_allclose(analysis.record(model, steps=90, trials=2, burn_in=13, chunk=chunk),
                                   whole, atol=1e-6)
    np.testing.assert_allclose(analysis.record(StatelessWrapper(model), steps=90, trials=2,
                                               burn_in=13, chunk=7), whole, atol=1e-6)


@pytest.mark.parametrize("make", [lambda: GRU(6, (2,)), lambda: LSTM(6, (2,))])
def test_gated_models_are_recorded_in_chunks_like_in_one_forward(make):
    torch.manual_seed(2)
    model = make()
    act = analysis.record(model, steps=30, trials=2, burn_in=5, seed=3, chunk=4)
    bits = analysis.bernoulli_bits(np.random.default_rng(3), 35, 2, None)
    with torch.no_grad():
        states = model(torch.as_tensor(bits, dtype=torch.float32)[..., None])
    np.testing.assert_allclose(act, states[5:].transpose(0, 1).numpy(), atol=1e-5)


def test_lstm_cell_states_are_recorded_on_request():
    torch.manual_seed(3)
    model = LSTM(5, (2,))
    cells = analysis.record(model, steps=20, trials=2, burn_in=4, seed=1, chunk=6, cells=True)
    bits = analysis.bernoulli_bits(np.random.default_rng(1), 24, 2, None)
    with torch.no_grad():
        _, expected, _ = model.forward_with_gates(torch.as_tensor(bits, dtype=torch.float32)[..., None])
    np.testing.assert_allclose(cells, expected[4:].transpose(0, 1).numpy(), atol=1e-5)
    with pytest.raises(TypeError, match="cells"):
        analysis.record(GRU(5, (2,)), steps=5, cells=True)


def test_record_is_seeded_and_leaves_the_global_generator_alone():
    model = LeakyRNN(8, (2,))
    state = torch.get_rng_state()
    first = analysis.record(model, steps=50, trials=2, seed=4)
    assert torch.equal(torch.get_rng_state(), state)
    np.testing.assert_array_equal(analysis.record(model, steps=50, trials=2, seed=4), first)
    assert not np.array_equal(analysis.record(model, steps=50, trials=2, seed=5), first)


def test_bits_follow_p():
    bits = analysis.bernoulli_bits(np.random.default_rng(0), 20_000, 3, 0.2)
    assert bits.dtype == np.uint8 and set(np.unique(bits)) <= {0, 1}
    np.testing.assert_allclose(bits.mean(axis=0), 0.2, atol=0.015)
    spread = analysis.bernoulli_bits(np.random.default_rng(0), 20_000, 40, None).mean(axis=0)
    assert spread.min() < 0.2 and spread.max() > 0.8  # p ~ U(0, 1) per stream


@pytest.mark.parametrize("kwargs, error, name", [
    ({"steps": 0}, ValueError, "steps"),
    ({"trials": 1.5}, TypeError, "trials"),
    ({"burn_in": -1}, ValueError, "burn_in"),
    ({"p": 1.5}, ValueError, "p"),
    ({"chunk": 0}, ValueError, "chunk"),
])
def test_record_rejects_bad_arguments(leaky, kwargs, error, name):
    with pytest.raises(error, match=name):
        analysis.record(leaky, **{"steps": 10, **kwargs})


def test_record_rejects_models_with_more_than_one_input():
    with pytest.raises(ValueError, match="input_size"):
        analysis.record(LeakyRNN(4, (2,), input_size=2), steps=10)


def test_streamed_chunks_make_up_the_recording_and_its_autocorrelation(leaky):
    whole = analysis.record(leaky, steps=200, trials=2, burn_in=30, seed=2, chunk=64)
    pieces = list(analysis.activity_chunks(leaky, steps=200, trials=2, burn_in=30, seed=2, chunk=64))
    assert [p.shape[1] for p in pieces] == [34, 64, 64, 38]  # burn-in cut from the first chunk
    np.testing.assert_array_equal(np.concatenate(pieces, axis=1), whole)
    running = analysis.RunningAutocorrelation(max_lag=15)
    for piece in pieces:
        running.update(piece)
    np.testing.assert_allclose(running.result(), analysis.autocorrelation(whole, 15), atol=1e-8)
