"""Shared pieces for the training tests: a user's own model (not a project model) and envs."""

from __future__ import annotations

import gymnasium as gym
import pytest
import torch
from torch import nn

import curricula
import memtasks  # noqa: F401  (registers the envs)


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


class AnalysableGRU(UserGRU):
    """UserGRU with what ablation and perturbation need: the tensors of each unit, and W_hh."""

    def unit_tensors(self) -> list[tuple[torch.Tensor, int, int, int]]:
        weight = self.rnn.weight_hh_l0
        return [(weight, 0, 0, self.hidden_size), (weight, 1, 0, self.hidden_size)]

    def recurrent_weights(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        return [(self.rnn.weight_hh_l0, torch.ones_like(self.rnn.weight_hh_l0))]


@pytest.fixture
def user_gru():
    torch.manual_seed(0)
    return UserGRU()


@pytest.fixture
def analysable_gru():
    torch.manual_seed(0)
    return AnalysableGRU()


@pytest.fixture
def user_model_class():
    return UserGRU


@pytest.fixture
def make_env():
    """``make_env(N, labels)`` → a parity env; ``make_env(N, curriculum=True)`` → under MultiHead."""
    def make(N=2, labels="final", curriculum=False):
        env = gym.make("memtasks/Parity-v0", N=N, labels=labels)
        return curricula.MultiHead(env) if curriculum else env
    return make
