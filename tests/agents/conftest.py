"""Shared pieces for the training tests: a user's own model (two-layer GRU, not a project model)."""

from __future__ import annotations

import pytest
import torch
from torch import nn


class UserGRU(nn.Module):
    """A model of the protocol as a user would write it: torch.nn.GRU plus a ModuleDict of heads."""

    def __init__(self, hidden_size: int = 16, heads=(2,), layers: int = 1):
        super().__init__()
        self.rnn = nn.GRU(1, hidden_size, num_layers=layers)
        self.hidden_size = hidden_size
        self.readouts = nn.ModuleDict()
        self.set_heads(heads)

    @property
    def heads(self) -> tuple[int, ...]:
        return tuple(int(n) for n in self.readouts)

    def set_heads(self, heads) -> None:
        old = self.readouts
        self.readouts = nn.ModuleDict(
            {str(n): old[str(n)] if str(n) in old else nn.Linear(self.hidden_size, 2) for n in heads})

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.rnn(inputs)[0]

    def readout(self, states: torch.Tensor) -> torch.Tensor:
        return torch.stack([head(states) for head in self.readouts.values()], dim=-2)


@pytest.fixture
def user_gru():
    torch.manual_seed(0)
    return UserGRU()


# --- TEMP stand-ins until memtasks and curricula land on main -------------------------------------
import numpy as np
from dataclasses import dataclass


@dataclass
class FakeBatch:
    inputs: np.ndarray
    steps: np.ndarray
    targets: np.ndarray
    heads: tuple

    def to_torch(self, device):
        return (torch.as_tensor(self.inputs, device=device),
                torch.as_tensor(self.targets, device=device))


class FakeParity:
    def __init__(self, N=(2,), labels="final"):
        self.heads = tuple(N)
        self.labels = labels
        self.task = "parity"

    @property
    def unwrapped(self):
        return self

    def set_heads(self, heads):
        self.heads = tuple(heads)

    def sample_batch(self, batch_size, rng=None):
        T = int(rng.integers(max(self.heads) + 2, 4 * max(self.heads) + 2))
        bits = (rng.random((T, batch_size)) < rng.random(batch_size)).astype(np.int64)
        y = np.full((T, batch_size, len(self.heads)), -1, dtype=np.int64)
        for h, n in enumerate(self.heads):
            c = np.cumsum(bits, 0)
            s = c[n - 1:] - np.concatenate([np.zeros((1, batch_size), np.int64), c[:-n]])
            y[n - 1:, :, h] = s % 2
        steps = np.arange(T) if self.labels == "every_step" else np.array([T - 1])
        return FakeBatch(bits[:, :, None].astype(np.float32), steps, y[steps], self.heads)


class FakeMultiHead:
    def __init__(self, env, threshold=0.98):
        self.env, self.threshold, self.changes = env, threshold, 0

    @property
    def unwrapped(self):
        return self.env.unwrapped

    def update(self, acc):
        heads = self.unwrapped.heads
        if np.mean([acc[n] for n in heads]) > self.threshold and acc[max(heads)] > self.threshold:
            self.unwrapped.set_heads(heads + (max(heads) + 1,))
            self.changes += 1
            return True
        return False

    def state_dict(self):
        return {"heads": list(self.unwrapped.heads), "changes": self.changes}

    def load_state_dict(self, state):
        self.unwrapped.set_heads(tuple(state["heads"]))
        self.changes = state["changes"]


@pytest.fixture
def make_env():
    """``make_env(N, labels)`` → a parity env; ``make_env(N, curriculum=True)`` → under MultiHead."""
    def make(N=(2,), labels="final", curriculum=False):
        env = FakeParity(tuple(int(n) for n in np.atleast_1d(N)), labels)
        return FakeMultiHead(env) if curriculum else env
    return make


@pytest.fixture
def user_model_class():
    return UserGRU
