"""Accuracy on continuous bit streams, and ablation: silencing chosen neurons of a copy of a model.

Silencing neuron i zeroes every weight into it (input or feed-forward weights, recurrent row,
biases; for GRU and LSTM the rows of every gate) and every weight out of it (recurrent column, the
next layer's feed-forward column, readout columns). Neurons of a stacked LeakyRNN are numbered
across its layers, as its states and ``taus`` are. The model names those tensors through its
``unit_tensors()`` (LeakyRNN, GRU and LSTM have it; a user's own model may add it).
It then gets no drive: a leaky neuron decays from h_0 towards 0 by its own leak, a GRU unit
halves each step (gates at 0.5, candidate 0), an LSTM cell likewise; and whatever value it holds
reaches neither the other neurons nor the readout.

Two experiments: :func:`ablate` with k neurons silences them *together* (a group ablation);
:func:`single_ablations` silences one neuron at a time, k separate networks, as the paper's
"ablating the 20 longest-τ neurons" does (their accuracies are then averaged).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import torch
from torch import nn

from agents.analysis.activity import bernoulli_bits, skip_steps, stream_states
from agents.models.protocol import headed, unwrap
from memtasks import label_stream
from memtasks.checks import check_int, check_probability

SELECTIONS = ("largest", "smallest", "random")
ABLATION_NAMES = {"largest": "longest", "smallest": "shortest", "random": "random"}  # by τ


def check_head(model: nn.Module, N: object) -> tuple[int, ...]:
    """The model's heads, where one of them is ``N``; else a ValueError naming them."""
    heads = tuple(headed(model).heads)
    if N not in heads:
        raise ValueError(f"N={N!r} is not accepted: the model has heads {heads}")
    return heads


def accuracy(model: nn.Module, task: str = "parity", N: int = 5, steps: int = 1000,
             warmup: int = 100, repeats: int = 10, seed: int = 0, p: float = 0.5,
             chunk: int = 1000) -> np.ndarray:
    """Per-step accuracy of the head for ``N`` on ``repeats`` continuous streams.

    Each stream has ``warmup + steps`` Bernoulli(``p``) bits; the head's prediction at every one
    of the last ``steps`` steps is scored against the task's label there (the paper's ablation
    test: 1,100 bits, 100 of warm-up, 10 repeats).

    Returns:
        float array ``(repeats,)``, the fraction correct on each stream.
    """
    net = headed(model)
    heads = check_head(model, N)
    steps, repeats = check_int(steps, "steps"), check_int(repeats, "repeats")
    warmup = check_int(warmup, "warmup", minimum=0)
    probability = check_probability(p, "p")
    bits = bernoulli_bits(np.random.default_rng(seed), warmup + steps, repeats, probability)
    labels = torch.as_tensor(label_stream(task, bits, (N,))[warmup:, :, 0])
    index, guesses = heads.index(N), []
    for states in skip_steps(stream_states(model, bits, chunk, seed), warmup):
        with torch.no_grad():
            guesses.append(net.readout(states)[..., index, :].argmax(-1).cpu())
    hits = torch.cat(guesses) == labels
    scored = labels >= 0
    return ((hits & scored).sum(0) / scored.sum(0)).double().numpy()


def ablate(model: nn.Module, neurons: Sequence[int] | npt.NDArray[np.integer]) -> nn.Module:
    """A deep copy of ``model`` with ``neurons`` silenced (see the module docstring).

    Works on the project's LeakyRNN, GRU and LSTM; the original is untouched.
    """
    if not callable(getattr(unwrap(model), "unit_tensors", None)):
        raise TypeError(f"ablate needs a model with unit_tensors() (LeakyRNN, GRU, LSTM), not "
                        f"{type(model).__name__}")
    hidden = model.hidden_size
    index = np.asarray(neurons)
    if index.size == 0:
        index = index.astype(np.int64)
    if index.ndim != 1 or index.dtype.kind not in "iu" or (
            index.size and (index.min() < 0 or index.max() >= hidden)):
        raise ValueError(f"neurons={neurons!r} is not accepted: expected a sequence of ints in "
                         f"[0, {hidden})")
    silenced = copy.deepcopy(model)
    with torch.no_grad():
        for tensor, axis, first, size in getattr(unwrap(silenced), "unit_tensors")():
            local = index[(index >= first) & (index < first + size)] - first
            blocks = np.arange(tensor.shape[axis] // size)[:, None] * size
            rows = torch.as_tensor((blocks + local[None, :]).ravel(), device=tensor.device)
            tensor.index_fill_(axis, rows, 0.0)
    return silenced


def select_neurons(taus: np.ndarray, k: int, how: str = "largest", seed: int = 0) -> np.ndarray:
    """Indices of ``k`` neurons: the largest τ, the smallest τ, or ``k`` at random (seeded)."""
    taus = np.asarray(taus)
    k = check_int(k, "k", minimum=0)
    if k > len(taus):
        raise ValueError(f"k={k!r} is not accepted: expected at most {len(taus)} (the neurons)")
    if how not in SELECTIONS:
        raise ValueError(f"how={how!r} is not accepted: expected one of {SELECTIONS}")
    if how == "random":
        return np.sort(np.random.default_rng(seed).choice(len(taus), size=k, replace=False))
    order = np.argsort(taus, kind="stable")
    return np.sort(order[::-1][:k] if how == "largest" else order[:k])


def single_ablations(model: nn.Module, neurons: Sequence[int] | npt.NDArray[np.integer],
                     task: str = "parity", N: int = 5, **accuracy_kwargs) -> np.ndarray:
    """Accuracy of the head for ``N`` with each of ``neurons`` silenced alone, one network each.

    ``accuracy_kwargs`` go to :func:`accuracy` (steps, warmup, repeats, seed, p); every network
    is scored on the same streams. Returns a float array ``(len(neurons), repeats)``.
    """
    rows = [accuracy(ablate(model, [int(i)]), task, N, **accuracy_kwargs) for i in np.asarray(neurons)]
    repeats = accuracy_kwargs.get("repeats", 10)
    return np.stack(rows) if rows else np.empty((0, repeats))
