"""Perturbation: random, normalised changes to a copy of a model's recurrent weights or τ.

Weights: W' = W + ε‖W‖_F D/‖D‖_F with D Gaussian (LeakyRNN: D keeps the zero diagonal, and with
stacked layers W is the recurrent matrices of all layers taken together; GRU and LSTM: the
hidden-to-hidden matrix of all gates). τ (LeakyRNN only), in the positive direction so
τ stays ≥ 1: τ' = τ + ε‖τ‖ |D|/‖D‖ on the effective τ. Accuracy is then compared with the
unperturbed network relative to chance: (acc − 0.5) / (baseline − 0.5).

``paper=True`` follows the paper's code instead: τ' = τ + ε‖τ‖ |D|/‖D‖ on the raw τ parameter
(which may lie below 1; the network still uses max(τ', 1)), and the weight direction D is drawn
over the whole recurrent matrix (matrices), its diagonal included in ‖D‖, then the diagonal
removed (the network has no self-connections).
"""

from __future__ import annotations

import copy
import numbers
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from agents.analysis.ablation import accuracy
from agents.models.protocol import headed
from memtasks.checks import check_bool, check_int

TARGETS = ("weights", "tau")


def _direction(like: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """A Gaussian tensor shaped like ``like``, drawn from ``generator`` (on the CPU)."""
    return torch.randn(like.shape, generator=generator, dtype=like.dtype).to(like.device)


def perturb(model: nn.Module, target: str = "weights", epsilon: float = 0.1, seed: int = 0, *,
            paper: bool = False) -> nn.Module:
    """A copy of ``model`` with its recurrent weights or τ perturbed (see the module docstring;
    ``paper=True``: the paper's convention)."""
    if target not in TARGETS:
        raise ValueError(f"target={target!r} is not accepted: expected one of {TARGETS}")
    check_bool(paper, "paper")
    if not isinstance(epsilon, numbers.Real) or isinstance(epsilon, bool) or not epsilon >= 0:
        raise ValueError(f"epsilon={epsilon!r} is not accepted: expected a float >= 0")
    needs = "taus" if target == "tau" else "recurrent_weights"
    if not hasattr(model, needs):
        accepted = "a LeakyRNN" if target == "tau" else "a LeakyRNN, GRU or LSTM"
        raise TypeError(f"perturb(target={target!r}) needs {accepted} (a model with {needs}), "
                        f"not {type(model).__name__}")
    changed = copy.deepcopy(model)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        if target == "tau":
            tau = changed.tau if paper else changed.taus
            direction = _direction(tau, generator).abs()
            changed.tau.copy_(tau + epsilon * tau.norm() * direction / direction.norm())
            return changed
        pairs = changed.recurrent_weights()
        directions = [_direction(weight, generator) * (1 if paper else mask) for weight, mask in pairs]
        scale = epsilon * _norm(weight for weight, _ in pairs) / _norm(directions)
        for (weight, mask), direction in zip(pairs, directions):
            weight.add_(scale * direction).mul_(mask)  # the paper's diagonal draws are dropped here
    return changed


def _norm(tensors: Iterable[torch.Tensor]) -> torch.Tensor:
    """The Frobenius norm of the tensors taken together."""
    return torch.stack([tensor.norm() for tensor in tensors]).norm()


def relative_accuracy(acc: np.ndarray | float, baseline: float) -> np.ndarray:
    """(acc − 0.5) / (baseline − 0.5): 1 is the unperturbed accuracy, 0 is chance (the paper
    takes the best of the baseline's trials as ``baseline``, the project their mean)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return (np.asarray(acc, dtype=np.float64) - 0.5) / (baseline - 0.5)


@dataclass
class PerturbationSweep:
    """Accuracies over an ε grid: ``accuracy`` and ``relative`` are (len(epsilons), draws);
    ``retrained`` likewise after the retraining hook, else None."""

    target: str
    N: int
    epsilons: np.ndarray
    baseline: float
    accuracy: np.ndarray
    relative: np.ndarray
    retrained: np.ndarray | None = None


def perturbation_sweep(model: nn.Module, epsilons: Sequence[float] = (0.0, 0.05, 0.1, 0.2, 0.5),
                       target: str = "weights", task: str = "parity", N: int | None = None,
                       draws: int = 3, seed: int = 0,
                       retrain: Callable[[nn.Module], object] | None = None,
                       baseline: float | None = None, **accuracy_kwargs) -> PerturbationSweep:
    """Mean accuracy of head ``N`` (default: the largest) for ``draws`` perturbations per ε.

    ``retrain`` (optional) is called on each perturbed copy and should train it in place, e.g.
    ``lambda m: agents.train(m, env, epochs=3)``; the accuracy after it is in ``retrained``.
    ``baseline``: the intact model's mean accuracy on these streams where already scored.
    ``accuracy_kwargs`` go to :func:`accuracy` (steps, warmup, repeats, p, …).
    """
    draws = check_int(draws, "draws")
    N = max(headed(model).heads) if N is None else N
    grid = np.asarray(epsilons, dtype=np.float64)
    if grid.ndim != 1 or grid.size == 0:
        raise ValueError(f"epsilons={epsilons!r} is not accepted: expected a non-empty sequence of floats")

    def score(m: nn.Module) -> float:
        return float(accuracy(m, task, N, seed=seed, **accuracy_kwargs).mean())

    baseline = score(model) if baseline is None else baseline
    acc = np.empty((grid.size, draws))
    retrained = np.empty((grid.size, draws))  # returned only where there is retraining
    for i, epsilon in enumerate(grid):
        for j in range(draws):
            changed = perturb(model, target, float(epsilon), seed=seed + j)
            acc[i, j] = score(changed)
            if retrain is not None:
                retrain(changed)
                retrained[i, j] = score(changed)
    return PerturbationSweep(target=target, N=N, epsilons=grid, baseline=baseline, accuracy=acc,
                             relative=relative_accuracy(acc, baseline),
                             retrained=retrained if retrain is not None else None)
