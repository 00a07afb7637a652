"""The networks: readout heads keyed by N, the leaky RNN with its fast loop, GRU, LSTM, the model protocol."""

from agents.models.gated import GRU, LSTM
from agents.models.leaky_rnn import LeakyRNN
from agents.models.protocol import check_model

__all__ = ["GRU", "LSTM", "LeakyRNN", "check_model"]
