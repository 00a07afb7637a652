"""Learners for memory tasks: leaky RNN with trainable tau, GRU, LSTM; training and analysis."""

from agents.leaky_rnn import LeakyRNN

__all__ = ["LeakyRNN"]
