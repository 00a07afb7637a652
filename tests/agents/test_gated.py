import pytest
import torch

from agents import GRU, LSTM


@pytest.mark.parametrize("cls", [GRU, LSTM])
def test_shapes_heads_and_final_state(cls):
    torch.manual_seed(0)
    model = cls(6, (2, 3), input_size=2)
    inputs = torch.randn(5, 4, 2)
    states, final = model(inputs, return_final=True)
    assert states.shape == (5, 4, 6) and states.dtype == torch.float32
    assert model.readout(states).shape == (5, 4, 2, 2)
    h_final = final[0] if cls is LSTM else final
    torch.testing.assert_close(h_final, states[-1])
    second = model(inputs[3:], h0=model(inputs[:3], return_final=True)[1])
    torch.testing.assert_close(second, states[3:])
    model.set_heads((3, 4))
    assert model.heads == (3, 4) and model.readout(states).shape == (5, 4, 2, 2)


def test_lstm_gates_reproduce_torch_lstm():
    torch.manual_seed(0)
    model = LSTM(5, 2)
    inputs = torch.randint(0, 2, (7, 3, 1)).float()
    h0 = (torch.randn(3, 5), torch.randn(3, 5))
    states, (h, c) = model(inputs, h0=h0, return_final=True)
    hidden, cells, forget = model.forward_with_gates(inputs, h0=h0)
    torch.testing.assert_close(hidden, states)
    torch.testing.assert_close(cells[-1], c)
    assert forget.shape == (7, 3, 5) and 0 < forget.min() and forget.max() < 1


def test_gru_gates_reproduce_torch_gru():
    torch.manual_seed(0)
    model = GRU(5, 2)
    inputs = torch.randint(0, 2, (7, 3, 1)).float()
    h0 = torch.randn(3, 5)
    hidden, update = model.forward_with_gates(inputs, h0=h0)
    torch.testing.assert_close(hidden, model(inputs, h0=h0))
    assert update.shape == (7, 3, 5) and 0 < update.min() and update.max() < 1


@pytest.mark.parametrize("cls", [GRU, LSTM])
def test_timescales_follow_the_gate(cls):
    torch.manual_seed(0)
    model = cls(4, 2)
    before = model.timescales()
    assert before.shape == (4,) and torch.isfinite(before).all() and (before >= 1).all()
    state = torch.random.get_rng_state()
    model.timescales()
    assert torch.equal(state, torch.random.get_rng_state())  # the probe leaves the global RNG alone
    # a forget/update gate saturated near 1 means a long memory
    rnn = model.rnn
    with torch.no_grad():
        rnn.weight_hh_l0.zero_(), rnn.weight_ih_l0.zero_(), rnn.bias_ih_l0.zero_(), rnn.bias_hh_l0.zero_()
        rnn.bias_ih_l0[4:8] = 3.0  # the second gate block: LSTM (i, f, g, o) f; GRU (r, z, n) z
    model(torch.zeros(3, 2, 1))
    expected = 1 / (1 - torch.sigmoid(torch.tensor(3.0)))
    torch.testing.assert_close(model.timescales(), expected.expand(4))


@pytest.mark.parametrize("cls", [GRU, LSTM])
@pytest.mark.parametrize("kwargs, error, name", [
    ({"hidden_size": 0}, ValueError, "hidden_size"),
    ({"heads": []}, ValueError, "heads"),
    ({"input_size": "1"}, TypeError, "input_size"),
])
def test_bad_constructor_arguments(cls, kwargs, error, name):
    with pytest.raises(error, match=name):
        cls(**({"hidden_size": 3, "heads": 2} | kwargs))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("cls", [GRU, LSTM])
def test_cuda(cls):
    model = cls(4, (2, 3)).cuda()
    states = model(torch.zeros(3, 2, 1, device="cuda"))
    assert states.is_cuda and model.timescales().is_cuda
