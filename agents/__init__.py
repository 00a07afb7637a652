"""Learners for memory tasks: leaky RNN with trainable tau, GRU, LSTM; training and analysis."""

from agents.checkpoint import load, load_reference_checkpoint, save
from agents.gated import GRU, LSTM
from agents.leaky_rnn import LeakyRNN
from agents.protocol import check_model
from agents.train import History, NonFiniteLossError, train

__all__ = [
    "GRU", "History", "LSTM", "LeakyRNN", "NonFiniteLossError", "check_model", "load",
    "load_reference_checkpoint", "save", "train",
]
