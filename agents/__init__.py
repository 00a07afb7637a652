"""Learners for memory tasks: leaky RNN with trainable tau, GRU, LSTM; training and analysis.

Sub-packages, imports pointing down only: ``models`` ← ``training`` ← ``analysis`` ← ``experiments``.
"""

from memtasks.version import __version__

from agents.models import GRU, LSTM, LeakyRNN, check_model
from agents.training import (History, NonFiniteLossError, load, load_reference_checkpoint, save,
                             summary_table, train)

__all__ = [
    "GRU", "History", "LSTM", "LeakyRNN", "NonFiniteLossError", "check_model", "load",
    "load_reference_checkpoint", "save", "summary_table", "train", "__version__",
]
