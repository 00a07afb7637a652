"""Training: the loop, its history, run checkpoints and model files, the TensorBoard monitor."""

from agents.training.checkpoint import load, load_reference_checkpoint, save
from agents.training.loop import History, NonFiniteLossError, train
from agents.training.monitor import summary_table

__all__ = ["History", "NonFiniteLossError", "load", "load_reference_checkpoint", "save",
           "summary_table", "train"]
