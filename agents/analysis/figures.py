"""Figures of an analysis, written as PNG files.

Built on ``matplotlib.figure.Figure`` (no pyplot), so they render without a display and leave
the caller's matplotlib state alone. Each function takes numbers, writes one file, returns its path.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from agents.analysis.perturbation import PerturbationSweep, relative_accuracy
from agents.analysis.timescales import TimescaleFit


def _save(figure: Figure, path: str | os.PathLike, stage: str | None = None) -> Path:
    """Write ``figure``; ``stage`` (which model it shows: N, epoch, accuracy) becomes its suptitle."""
    path = Path(path)
    if stage is not None:
        figure.suptitle(stage, fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    return path


def representative_units(tau_net: np.ndarray, count: int = 6) -> np.ndarray:
    """Up to ``count`` neurons spread over the range of τ_net (quantiles of the fitted ones)."""
    fitted = np.flatnonzero(np.isfinite(tau_net))
    if fitted.size == 0:
        return np.arange(min(count, len(tau_net)))
    order = fitted[np.argsort(tau_net[fitted], kind="stable")]
    picks = np.linspace(0, len(order) - 1, min(count, len(order))).round().astype(int)
    return np.unique(order[picks])


def plot_autocorrelations(ac: np.ndarray, fit: TimescaleFit, path: str | os.PathLike,
                          units: Sequence[int] | None = None,
                          population: np.ndarray | None = None, stage: str | None = None) -> Path:
    """Autocorrelations (dots) of a few neurons with their kept fits (lines); the population's
    autocorrelation in black when given. Lags beyond ``fit.fit_lag`` show how the fit extrapolates."""
    shown = representative_units(fit.tau) if units is None else np.asarray(units)
    lags = np.arange(ac.shape[0])
    figure = Figure(figsize=(6.4, 4.2))
    axes = figure.add_subplot()
    colors = [f"C{i % 10}" for i in range(len(shown))]
    for unit, color in zip(shown, colors):
        kind = {0: "no fit", 1: "single", 2: "double"}[int(fit.model[unit])]
        axes.plot(lags, ac[:, unit], "o", ms=2.5, color=color, alpha=0.6)
        axes.plot(lags, fit.curve(unit, lags), "-", color=color,
                  label=f"neuron {unit}: τ_net = {fit.tau[unit]:.2f} ({kind})")
    if population is not None:
        axes.plot(np.arange(len(population)), population, "k-", lw=2, label="population")
    axes.axvline(fit.fit_lag, color="grey", ls=":", lw=1)
    axes.set(xlabel="lag (steps)", ylabel="autocorrelation", ylim=(-0.2, 1.05),
             title="Autocorrelation and exponential fits")
    axes.legend(fontsize=7)
    return _save(figure, path, stage)


def plot_timescale_histograms(tau: np.ndarray, tau_net: np.ndarray, path: str | os.PathLike,
                              stage: str | None = None, raw: bool = False) -> Path:
    """Histograms of the trained single-neuron τ (``raw``: the parameter, before the clamp at 1)
    and of the network-mediated τ_net."""
    figure = Figure(figsize=(8, 3.5))
    names = ("trained τ (raw)" if raw else "trained τ", "τ_net (autocorrelation)")
    for index, (values, name) in enumerate(zip((tau, tau_net), names)):
        axes = figure.add_subplot(1, 2, index + 1)
        finite = np.asarray(values, dtype=float)
        finite = finite[np.isfinite(finite) & (finite > 0)]
        if finite.size:
            wide = finite.max() > 10 * finite.min()  # log bins only where τ spans a decade
            bins = np.geomspace(finite.min(), finite.max(), 31).tolist() if wide else 30
            axes.hist(finite, bins=bins, color=f"C{index}")
            if wide:
                axes.set_xscale("log")
        axes.set(xlabel=name, ylabel="neurons",
                 title=f"{name}: mean {np.mean(finite) if finite.size else np.nan:.2f}")
    return _save(figure, path, stage)


def plot_timescales_vs_N(stages: Sequence[Mapping[str, float]], path: str | os.PathLike) -> Path:
    """Mean ± std of τ and τ_net against the largest N solved, one point per curriculum stage
    (``stages``: dicts with N, tau_mean, tau_std, tau_net_mean, tau_net_std; where they hold
    epoch, accuracy and solved, each point is labelled with them, unsolved stages in red)."""
    figure = Figure(figsize=(8, 3.5))
    N = [s["N"] for s in stages]
    for index, key in enumerate(("tau", "tau_net")):
        axes = figure.add_subplot(1, 2, index + 1)
        mean = np.array([s[f"{key}_mean"] for s in stages], dtype=float)
        std = np.array([s[f"{key}_std"] for s in stages], dtype=float)
        axes.errorbar(N, mean, yerr=std, marker="o", capsize=3, color=f"C{index}", label="mean")
        axes.plot(N, std, "s--", color=f"C{index}", alpha=0.5, label="std")
        for n, y, s in zip(N, mean, stages):
            if s.get("epoch") is not None or s.get("accuracy") is not None:
                accuracy = "?" if s.get("accuracy") is None else f"{s['accuracy']:.2f}"
                unsolved = s.get("solved") is False
                axes.annotate(f"ep {s.get('epoch', '?')}\nacc {accuracy}"
                              + ("\nnot solved" if unsolved else ""), (n, y), fontsize=6,
                              xytext=(3, 3), textcoords="offset points",
                              color="red" if unsolved else "black")
        axes.set(xlabel="N (largest head)", ylabel="τ" if key == "tau" else "τ_net",
                 title=f"{'trained τ' if key == 'tau' else 'τ_net'} across the curriculum")
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
        axes.legend(fontsize=7)
    return _save(figure, path)


def plot_ablation(results: Mapping[str, np.ndarray], baseline: float, path: str | os.PathLike,
                  N: int | None = None, stage: str | None = None, kind: str = "together") -> Path:
    """Accuracy after ablating each group of neurons (mean ± std over streams, and over the
    neurons where they were silenced ``kind="one at a time"``); dashed: the intact network,
    dotted: chance."""
    figure = Figure(figsize=(5.5, 3.8))
    axes = figure.add_subplot()
    names = list(results)
    means = [float(np.mean(results[n])) for n in names]
    stds = [float(np.std(results[n])) for n in names]
    axes.bar(names, means, yerr=stds, capsize=4, color=[f"C{i}" for i in range(len(names))])
    axes.axhline(baseline, color="k", ls="--", lw=1, label="intact")
    axes.axhline(0.5, color="grey", ls=":", lw=1, label="chance")
    axes.set(ylabel="accuracy per step", ylim=(0.4, 1.02),
             title=f"Ablation, silenced {kind}" + (f" (head N = {N})" if N is not None else ""))
    axes.legend(fontsize=7)
    return _save(figure, path, stage)


def plot_perturbation(sweeps: Sequence[PerturbationSweep], path: str | os.PathLike,
                      stage: str | None = None, baseline: str = "baseline") -> Path:
    """Relative accuracy (1: intact, 0: chance) against ε, one line per perturbed target
    (mean ± std over draws); after retraining as dashed lines where the sweep has them.
    ``baseline`` names the accuracy that counts as 1 (the axis label)."""
    figure = Figure(figsize=(5.5, 3.8))
    axes = figure.add_subplot()
    for index, sweep in enumerate(sweeps):
        lines = [(sweep.relative, "o-", "")]
        if sweep.retrained is not None:
            lines.append((relative_accuracy(sweep.retrained, sweep.baseline), "s--", ", retrained"))
        for values, style, suffix in lines:
            axes.errorbar(sweep.epsilons, values.mean(axis=1), yerr=values.std(axis=1),
                          fmt=style, capsize=3, color=f"C{index}",
                          label=f"{sweep.target}{suffix} (N = {sweep.N})")
    axes.axhline(0.0, color="grey", ls=":", lw=1)
    axes.set(xlabel="ε (relative size of the perturbation)", ylabel=f"(acc − 0.5) / ({baseline} − 0.5)",
             title="Perturbation")
    axes.legend(fontsize=7)
    return _save(figure, path, stage)
