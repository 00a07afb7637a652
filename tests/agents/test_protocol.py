import pytest
import torch
from torch import nn

from agents import GRU, LSTM, LeakyRNN, check_model
from agents.models.heads import Heads


class TwoLayerGRU(nn.Module):
    """A user's own model, following the protocol without the project's base class."""

    def __init__(self, heads=(2,)):
        super().__init__()
        self.rnn = nn.GRU(1, 8, num_layers=2)
        self.readouts = Heads(8, heads)

    @property
    def heads(self):
        return self.readouts.heads

    def set_heads(self, heads):
        return self.readouts.set_heads(heads)

    def forward(self, inputs):
        return self.rnn(inputs)[0]

    def readout(self, states):
        return self.readouts(states)


@pytest.mark.parametrize("model", [LeakyRNN(4, (2, 3)), GRU(4, 2), LSTM(4, 2), TwoLayerGRU()])
def test_conforming_models_pass_and_leave_the_rng_alone(model):
    state = torch.random.get_rng_state()
    check_model(model)
    assert torch.equal(state, torch.random.get_rng_state())


def test_lacking_model_lists_everything_missing():
    with pytest.raises(TypeError) as info:
        check_model(nn.Linear(1, 2))
    message = str(info.value)
    for attr in ("heads", "set_heads", "readout"):
        assert attr in message
    assert "forward" not in message  # nn.Linear has one

    with pytest.raises(TypeError, match="forward"):
        check_model(nn.Module())
    with pytest.raises(TypeError, match="nn.Module"):
        check_model(object())


def test_wrong_shapes_are_reported():
    class FlatStates(TwoLayerGRU):
        def forward(self, inputs):
            return self.rnn(inputs)[0][-1]

    class OneLogit(TwoLayerGRU):
        def readout(self, states):
            return states[..., :1]

    with pytest.raises(TypeError, match="forward.*states"):
        check_model(FlatStates())
    with pytest.raises(TypeError, match="readout.*logits"):
        check_model(OneLogit())
    bad_heads = TwoLayerGRU()
    bad_heads.readouts._heads = [2]
    with pytest.raises(TypeError, match="heads"):
        check_model(bad_heads)


def test_a_compiled_model_is_checked_as_the_model_inside_without_compiling():
    from torch._dynamo.utils import counters

    from agents.models.protocol import unwrap

    model = LeakyRNN(4, (2, 3))
    compiled = torch.compile(model, backend="eager")
    counters.clear()
    check_model(compiled)
    assert unwrap(compiled) is model and unwrap(model) is model
    assert counters["stats"]["unique_graphs"] == 0  # the tiny check batch ran the module eagerly
    with pytest.raises(TypeError, match="lacks"):
        check_model(torch.compile(nn.Linear(1, 2), backend="eager"))
