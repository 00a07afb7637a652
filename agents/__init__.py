"""Learners for memory tasks: leaky RNN with trainable tau, GRU, LSTM; training and analysis."""
