"""The paper protocol: the measurements of the paper's claims 5–7, by the authors' definitions.

- **Recording**: ``trials`` streams of Bernoulli(p) bits, p ~ U(0, 1) per trial, h_0 ~ U(0, 0.1),
  ``burn_in`` steps discarded, then ``steps`` recorded (the paper: 10 × 100,000 after 500).
- **τ**: the raw trained τ parameter (it may lie below the clamp at 1): its mean and std.
- **τ_net**: per neuron, the trials' covariances pooled, then normalised once
  (:func:`autocorrelation` with ``average="pooled"``), fitted by :func:`fit_timescales_paper`;
  summarised as the mean and std over the neurons with τ_net > 1, and the fraction of neurons
  where the double exponential won.
- **Dimensionality**: one PCA per trial, the index of the first component at which 90 % of the
  variance is exceeded (:func:`trial_dimensionality`), averaged over trials.
- **Accuracy**: the head for N on ``repeats`` streams of 1,100 bits (p = 0.5), scored after 100
  warm-up steps; every network below is scored on the same streams.
- **Ablation**: k neurons chosen by raw τ (longest, shortest) or at random, each silenced *alone*
  (k networks, :func:`single_ablations`); k = 4 % of the neurons by default (20 of 500).
- **Perturbation**: ``draws`` perturbed copies per ε (:func:`perturb` with ``paper=True``).
- **Relative accuracy**: (acc − 0.5) / (best baseline stream − 0.5) for every network and stream,
  averaged.

The activity is streamed chunk by chunk into the autocorrelation and covariance accumulators,
so memory holds one chunk, never the whole recording. Three details differ from the authors'
scripts: they record 500 steps more (100,500) and divide the lagged sum at lag k by T − 1 − k
rather than T − k (a relative change below k/T²), which changes nothing measurable; and they fit
C/C(0) as computed, where it is rounded to 8 decimals here, which makes τ_net a function of the
data rather than of rounding error (see :func:`fit_timescales_paper`).
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypedDict

import numpy as np
from torch import nn
from tqdm.auto import tqdm

from memtasks.checks import check_int
from memtasks.tasks import validate_task
from agents.analysis.ablation import (ABLATION_NAMES, SELECTIONS, accuracy, check_head,
                                      select_neurons, single_ablations)
from agents.analysis.activity import activity_chunks
from agents.analysis.autocorrelation import RunningAutocorrelation
from agents.analysis.dimensionality import TrialCovariance, check_variance, paper_count
from agents.analysis.perturbation import perturb, relative_accuracy
from agents.analysis.timescales import (TimescaleFit, fit_timescales_paper, paper_tau_net_summary,
                                        raw_timescales)

ABLATED_FRACTION = 0.04  # the paper's 20 of 500 neurons
CHUNK = 1000


@dataclass
class PaperRobustness:
    """Accuracies of one network intact, ablated and perturbed, by the paper's protocol.

    ``baseline``: (repeats,) per stream; ``ablation`` maps longest/shortest/random to (neurons,
    accuracies (k, repeats)); ``perturbation`` maps weights/tau to {ε: accuracies (draws, repeats)}.
    """

    N: int
    task: str
    k: int
    baseline: np.ndarray
    ablation: dict[str, tuple[np.ndarray, np.ndarray]]
    perturbation: dict[str, dict[float, np.ndarray]]

    def relative(self, acc: np.ndarray) -> np.ndarray:
        """(acc − 0.5) / (best baseline stream − 0.5), elementwise."""
        return relative_accuracy(acc, float(self.baseline.max()))

    def summary(self) -> dict:
        """The relative accuracies, averaged over neurons (or draws) and streams, as a plain dict."""
        return {
            "protocol": "paper", "N": self.N, "task": self.task, "k": self.k,
            "accuracy": float(self.baseline.mean()), "accuracy_best": float(self.baseline.max()),
            "ablation": {name: float(self.relative(acc).mean())
                         for name, (_, acc) in self.ablation.items()},
            "perturbation": {target: {eps: float(self.relative(acc).mean())
                                      for eps, acc in by_eps.items()}
                             for target, by_eps in self.perturbation.items()}}


@dataclass
class PaperMeasurements(PaperRobustness):
    """Everything the paper protocol measured on one network (the summary is :meth:`summary`):
    the accuracies of :class:`PaperRobustness`, raw τ, the pooled autocorrelation and its fits,
    and each trial's explained-variance ratios and dimensionality."""

    tau: np.ndarray
    autocorrelation: np.ndarray
    fit: TimescaleFit
    explained_variance: np.ndarray
    dimensionality: np.ndarray
    settings: dict

    def summary(self) -> dict:
        """The paper's numbers as a plain dict (see :func:`paper_protocol`)."""
        return {**super().summary(), **timescale_summary(self.tau, self.fit, self.dimensionality),
                "settings": self.settings}


def timescale_summary(tau: np.ndarray, fit: TimescaleFit, dimensionality: np.ndarray) -> dict:
    """The paper's summary of a network's timescales: raw τ (mean, std), τ_net (mean and std
    above 1, the fraction of double exponentials) and the mean dimensionality over trials."""
    return {"tau": {"mean": float(np.mean(tau)), "std": float(np.std(tau))},
            "tau_net": {**paper_tau_net_summary(fit.tau),
                        "fraction_double": float(np.mean(fit.model == 2))},
            "dimensionality": float(np.mean(dimensionality))}


class _Scoring(TypedDict):
    """The keywords of :func:`accuracy` that score every network of :func:`paper_robustness` alike."""

    steps: int
    warmup: int
    repeats: int
    seed: int
    p: float


def _epsilons(values: Iterable[float], name: str) -> tuple[float, ...]:
    """``values`` as a tuple of floats >= 0, else an error naming ``name``."""
    grid: tuple[float, ...] | None
    try:
        grid = tuple(values)  # a user's argument: may hold anything, or not be iterable
    except TypeError:
        grid = None
    if grid is None or not all(isinstance(v, numbers.Real) and not isinstance(v, bool) and v >= 0
                               for v in grid):
        raise ValueError(f"{name}={values!r} is not accepted: expected a sequence of floats >= 0")
    return tuple(float(v) for v in grid)


def recording_chunks(steps: int, burn_in: int) -> int:
    """How many chunks :func:`paper_timescales` records (a progress bar's units)."""
    return -(-(burn_in + steps) // CHUNK) - burn_in // CHUNK


def paper_timescales(model: nn.Module, *, trials: int = 10, steps: int = 100_000, burn_in: int = 500,
                     fit_lag: int = 30, seed: int = 0,
                     bar: tqdm | None = None) -> tuple[np.ndarray, TimescaleFit, np.ndarray]:
    """Record ``model`` as the paper does and return the pooled autocorrelation (lags
    0..fit_lag, units), the paper's fits of it, and each trial's explained-variance ratios
    (trials, units); the activity is streamed, never held whole. ``bar`` advances per chunk, then
    once for the fits."""
    bar = bar if bar is not None else tqdm(disable=True)
    running, covariance = RunningAutocorrelation(fit_lag, average="pooled"), TrialCovariance()
    bar.set_postfix_str("recording")
    for chunk in activity_chunks(model, steps, trials, burn_in, seed, p=None, chunk=CHUNK):
        running.update(chunk)
        covariance.update(chunk)
        bar.update()
    bar.set_postfix_str("fits")
    ac = running.result()
    fit = fit_timescales_paper(ac, fit_lag)
    bar.update()
    return ac, fit, covariance.explained_variance()


def _checked_k(k: int | None, units: int) -> int:
    """Neurons per ablation group: ``k``, or 4 % of ``units`` (at least 1) where None."""
    k = max(1, round(ABLATED_FRACTION * units)) if k is None else check_int(k, "k")
    if k > units:
        raise ValueError(f"k={k!r} is not accepted: expected at most {units} (the neurons)")
    return k


def _targets(model: nn.Module, epsilons_weights: Iterable[float],
             epsilons_tau: Iterable[float]) -> dict[str, tuple[float, ...]]:
    """The perturbation grids; τ is perturbed where the model has one (LeakyRNN)."""
    targets = {"weights": _epsilons(epsilons_weights, "epsilons_weights")}
    if hasattr(model, "taus"):
        targets["tau"] = _epsilons(epsilons_tau, "epsilons_tau")
    return targets


def paper_robustness(model: nn.Module, N: int, *, task: str = "parity", k: int | None = None,
                     epsilons_weights: Sequence[float] = (0.215,),
                     epsilons_tau: Sequence[float] = (0.1,), accuracy_steps: int = 1000,
                     warmup: int = 100, repeats: int = 10, draws: int = 10, seed: int = 0,
                     bar: tqdm | None = None) -> PaperRobustness:
    """Accuracy of the head for ``N`` intact, after single-neuron ablations by raw τ and after
    perturbations, by the paper's protocol (module docstring); ``bar`` advances per network."""
    task = validate_task(task)
    check_head(model, N)
    for name, value, minimum in (("accuracy_steps", accuracy_steps, 1), ("warmup", warmup, 0),
                                 ("repeats", repeats, 1), ("draws", draws, 1)):
        check_int(value, name, minimum)
    targets = _targets(model, epsilons_weights, epsilons_tau)
    tau = raw_timescales(model)
    k = _checked_k(k, len(tau))
    bar = bar if bar is not None else tqdm(disable=True)
    scoring: _Scoring = {"steps": accuracy_steps, "warmup": warmup, "repeats": repeats, "seed": seed,
                         "p": 0.5}
    bar.set_postfix_str("accuracy")
    baseline = accuracy(model, task, N, **scoring)
    bar.update()
    ablation = {}
    for how in SELECTIONS:
        bar.set_postfix_str(f"ablation ({ABLATION_NAMES[how]})")
        neurons = select_neurons(tau, k, how, seed)
        ablation[ABLATION_NAMES[how]] = (neurons, single_ablations(model, neurons, task, N, **scoring))
        bar.update(k)
    perturbation: dict[str, dict[float, np.ndarray]] = {}
    for target, grid in targets.items():
        bar.set_postfix_str(f"perturbation ({target})")
        perturbation[target] = {}
        for eps in grid:
            rows = []
            for draw in range(draws):
                rows.append(accuracy(perturb(model, target, eps, seed + draw, paper=True),
                                     task, N, **scoring))
                bar.update()
            perturbation[target][eps] = np.stack(rows)
    return PaperRobustness(N=N, task=task, k=k, baseline=baseline, ablation=ablation,
                           perturbation=perturbation)


def measure_paper(model: nn.Module, N: int, *, task: str = "parity", k: int | None = None,
                  epsilons_weights: Sequence[float] = (0.215,), epsilons_tau: Sequence[float] = (0.1,),
                  trials: int = 10, steps: int = 100_000, seed: int = 0, burn_in: int = 500,
                  fit_lag: int = 30, variance: float = 0.9, accuracy_steps: int = 1000,
                  warmup: int = 100, repeats: int = 10, draws: int = 10,
                  progress: bool = True) -> PaperMeasurements:
    """Run the paper protocol on ``model`` at head ``N`` (the arguments of :func:`paper_protocol`)."""
    validate_task(task)
    check_head(model, N)
    fit_lag = check_int(fit_lag, "fit_lag", minimum=4)
    for name, value, minimum in (("trials", trials, 1), ("steps", steps, fit_lag + 1),
                                 ("burn_in", burn_in, 0), ("accuracy_steps", accuracy_steps, 1),
                                 ("warmup", warmup, 0), ("repeats", repeats, 1), ("draws", draws, 1)):
        check_int(value, name, minimum)  # every argument is checked before any work is done
    variance = check_variance(variance)
    targets = _targets(model, epsilons_weights, epsilons_tau)
    tau = raw_timescales(model)
    k = _checked_k(k, len(tau))
    work = recording_chunks(steps, burn_in) + 2 + 3 * k + draws * sum(map(len, targets.values()))
    with tqdm(total=work, desc="paper protocol", disable=not progress) as bar:
        ac, fit, ratios = paper_timescales(model, trials=trials, steps=steps, burn_in=burn_in,
                                           fit_lag=fit_lag, seed=seed, bar=bar)
        robust = paper_robustness(model, N, task=task, k=k, epsilons_weights=targets["weights"],
                                  epsilons_tau=targets.get("tau", ()), accuracy_steps=accuracy_steps,
                                  warmup=warmup, repeats=repeats, draws=draws, seed=seed, bar=bar)
    settings = {"trials": trials, "steps": steps, "burn_in": burn_in, "fit_lag": fit_lag,
                "variance": variance, "accuracy_steps": accuracy_steps, "warmup": warmup,
                "repeats": repeats, "draws": draws, "seed": seed}
    return PaperMeasurements(**vars(robust), tau=tau, autocorrelation=ac, fit=fit,
                             explained_variance=ratios, dimensionality=paper_count(ratios, variance),
                             settings=settings)


def paper_protocol(model: nn.Module, N: int, *, task: str = "parity", k: int | None = None,
                   epsilons_weights: Sequence[float] = (0.215,), epsilons_tau: Sequence[float] = (0.1,),
                   trials: int = 10, steps: int = 100_000, seed: int = 0, **options) -> dict:
    """The paper's measurements of one network, by the authors' definitions (module docstring).

    Args:
        model: a trained network with a head for ``N`` (LeakyRNN; GRU/LSTM without τ perturbation).
        N: the head whose accuracy is tested.
        task: "parity" or "dms".
        k: neurons per ablation group (None: 4 % of the neurons, the paper's 20 of 500).
        epsilons_weights, epsilons_tau: perturbation sizes (the paper's claim 7: 0.215 and 0.1).
        trials, steps: the recording (the paper's: 10 trials of 100,000 steps).
        seed: seeds every draw (bits, p per trial, h_0, neurons at random, perturbations).
        options: burn_in (500), fit_lag (30), variance (0.9), accuracy_steps (1000), warmup (100),
            repeats (10), draws (10), progress (True: a tqdm bar).

    Returns:
        ``{"protocol": "paper", "N", "task", "k", "accuracy" (mean baseline), "accuracy_best",
        "ablation": {"longest", "shortest", "random"}, "perturbation": {"weights": {ε: rel},
        "tau": {ε: rel}}, "tau": {"mean", "std"}, "tau_net": {"mean_above_1", "std_above_1",
        "fraction_double"}, "dimensionality", "settings"}``; ablation and perturbation values are
        relative accuracies.
    """
    return measure_paper(model, N, task=task, k=k, epsilons_weights=epsilons_weights,
                         epsilons_tau=epsilons_tau, trials=trials, steps=steps, seed=seed,
                         **options).summary()
