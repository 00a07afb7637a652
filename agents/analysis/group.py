"""The project's robustness protocol: the k longest-τ, shortest-τ or random neurons silenced
*together* (a group ablation, by the effective τ) and perturbation sweeps, each relative to the
mean accuracy of the intact network over its streams (the paper's protocol: ``paper.py``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from torch import nn

from agents.analysis.ablation import ABLATION_NAMES, SELECTIONS, ablate, accuracy, select_neurons
from agents.analysis.perturbation import PerturbationSweep, perturbation_sweep, relative_accuracy
from agents.analysis.timescales import trained_timescales

PROJECT_EPSILONS = (0.0, 0.01, 0.05, 0.1, 0.2, 0.5)


@dataclass
class GroupRobustness:
    """Accuracies of one network intact (``baseline``, per stream), with each group of ``k``
    neurons silenced (``ablation``: largest/smallest/random → per stream) and perturbed."""

    N: int
    k: int
    baseline: np.ndarray
    ablation: dict[str, np.ndarray]
    sweeps: list[PerturbationSweep]

    def summary(self) -> dict:
        """The relative accuracies, averaged over streams (and draws), as a plain dict."""
        baseline = float(self.baseline.mean())
        return {"protocol": "project", "N": self.N, "k": self.k, "accuracy": baseline,
                "ablation": {ABLATION_NAMES[how]: float(relative_accuracy(acc.mean(), baseline))
                             for how, acc in self.ablation.items()},
                "perturbation": {s.target: {float(eps): float(rel.mean())
                                            for eps, rel in zip(s.epsilons, s.relative)}
                                 for s in self.sweeps}}


def group_robustness(model: nn.Module, N: int, *, task: str = "parity", k: int | None = None,
                     epsilons_weights: Sequence[float] = PROJECT_EPSILONS,
                     epsilons_tau: Sequence[float] = PROJECT_EPSILONS, draws: int = 3,
                     seed: int = 0, **accuracy_kwargs) -> GroupRobustness:
    """Accuracy of the head for ``N`` intact, with k neurons silenced together (default: a
    tenth of them) and perturbed (τ only where the model has ``taus``); ``accuracy_kwargs`` go
    to :func:`accuracy` (steps, warmup, repeats)."""
    taus = trained_timescales(model)
    k = max(1, len(taus) // 10) if k is None else k
    baseline = accuracy(model, task, N, seed=seed, **accuracy_kwargs)
    ablation = {how: accuracy(ablate(model, select_neurons(taus, k, how, seed)), task, N,
                              seed=seed, **accuracy_kwargs) for how in SELECTIONS}
    grids = {"weights": epsilons_weights, "tau": epsilons_tau}
    targets = ("weights", "tau") if hasattr(model, "taus") else ("weights",)
    sweeps = [perturbation_sweep(model, grids[target], target, task, N, draws=draws, seed=seed,
                                 baseline=float(baseline.mean()), **accuracy_kwargs)
              for target in targets]
    return GroupRobustness(N=N, k=k, baseline=baseline, ablation=ablation, sweeps=sweeps)
