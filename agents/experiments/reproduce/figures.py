"""One PNG per claim, drawn from that claim's numbers (``Claim.numbers``).

Built on ``matplotlib.figure.Figure`` (no pyplot); each function takes a claim's numbers and an
``Axes``. :func:`draw` writes the file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from statistics import fmean
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from agents.analysis.figures import _save
from agents.experiments.reproduce.claims import Claim, retrained, at, key, seeds_of, values
from agents.experiments.reproduce.verdict import finite

COLORS = {"single": "tab:orange", "multi": "tab:blue", "none": "tab:gray"}


def _legend(ax: Axes) -> None:
    if ax.get_legend_handles_labels()[0]:
        ax.legend()
    else:
        ax.text(0.5, 0.5, "no runs at this scale", ha="center", transform=ax.transAxes)


def _bars(ax: Axes, heights: Mapping[str, float | None], ylabel: str) -> None:
    names = list(heights)
    ax.bar(names, [heights[n] or 0.0 for n in names],
           color=[COLORS.get(n.split()[0], "tab:green") for n in names])
    ax.set_ylabel(ylabel)
    ax.tick_params(axis="x", labelrotation=20)


def _mean(xs: Sequence[float | None]) -> float:
    got = finite(xs)
    return fmean(got) if got else 0.0


def _curricula(fig: Figure, numbers: Mapping[str, Any]) -> None:
    axes = fig.subplots(1, max(1, len(numbers)), squeeze=False)[0]
    for ax, (task, per) in zip(axes, sorted(numbers.items())):
        for curriculum, data in per.items():
            for i, curve in enumerate(values(data.get("curves"))):
                ax.plot(range(1, len(curve) + 1), curve, color=COLORS[curriculum], alpha=0.8,
                        label=f"{curriculum}-head" if i == 0 else None)
        ax.set(title=task, xlabel="epoch", ylabel="largest N solved so far")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        _legend(ax)


def _no_curriculum(fig: Figure, numbers: Mapping[str, Any]) -> None:
    ax = fig.subplots()
    for n, accs in numbers["best_accuracy"].items():
        ax.plot([key(n)] * len(values(accs)), values(accs), "o", color=COLORS["none"])
    ax.axhline(numbers["threshold"], ls="--", color="k", lw=0.8,
               label=f"solved ({numbers['threshold']:g})")
    multi = finite(values(numbers["multi_head_max_N"]))
    if multi:
        ax.axvline(min(multi), color=COLORS["multi"], label="multi-head curriculum reaches")
    ax.set(xlabel="fixed N (no curriculum)", ylabel="best accuracy", title="parity")
    _legend(ax)


def _fixed_tau(fig: Figure, numbers: Mapping[str, Any]) -> None:
    arms = {"multi trained τ": numbers["multi_trained"],
            **{f"multi τ={key(t):g}": v for t, v in numbers["multi_fixed"].items()},
            "single trained τ": numbers["single_trained"],
            "single τ=1": numbers["single_fixed_1"]}
    _bars(fig.subplots(), {k: _mean(values(v)) for k, v in arms.items()},
          "largest N solved (mean over seeds)")


def _series(seeds: Sequence[Mapping], part: int | None = None) -> tuple[list, list, list]:
    """N, and the mean and sd over seeds of the value there."""
    ns = sorted({n for d in seeds for n in d})
    stats = [np.asarray(at(seeds, n, part), dtype=float) for n in ns]
    return ns, [s.mean() for s in stats], [s.std() for s in stats]


def _tau_growth(fig: Figure, numbers: Mapping[str, Any]) -> None:
    ax = fig.subplots()
    for curriculum in ("single", "multi"):
        ns, mean, sd = _series(seeds_of(numbers[curriculum]), 0)
        if ns:
            ax.errorbar(ns, mean, yerr=sd, capsize=2, color=COLORS[curriculum],
                        label=f"{curriculum}-head: mean τ (± sd over seeds)")
    ax.set(xlabel="N", ylabel="mean τ")
    _legend(ax)


def _tau_net(fig: Figure, numbers: Mapping[str, Any]) -> None:
    ax = fig.subplots()
    for curriculum in ("single", "multi"):
        ns, mean, sd = _series(seeds_of(numbers[curriculum]))
        if ns:
            ax.errorbar(ns, mean, yerr=sd, fmt="o-", capsize=2, color=COLORS[curriculum],
                        label=f"{curriculum}-head")
    ax.set(xlabel="N", ylabel="mean τ_net")
    _legend(ax)


def _robustness(fig: Figure, numbers: Mapping[str, Any]) -> None:
    ax = fig.subplots()
    parts = {c: seeds_of(numbers[c], numeric=False) for c in ("single", "multi")}
    keys = sorted({k for seeds in parts.values() for d in seeds for k in d})
    width = 0.4
    for i, curriculum in enumerate(("single", "multi")):
        ax.bar([k + (i - 0.5) * width for k in range(len(keys))],
               [_mean(at(parts[curriculum], kind)) for kind in keys], width,
               color=COLORS[curriculum], label=f"{curriculum}-head")
    ax.set_xticks(range(len(keys)), keys)
    ax.set(ylabel="relative accuracy (mean over seeds)", ylim=(min(0.0, ax.get_ylim()[0]), 1.1))
    _legend(ax)


def _gated(fig: Figure, numbers: Mapping[str, Any]) -> None:
    _bars(fig.subplots(), {f"{c} {model}": _mean(values(per[c])) for model, per in numbers.items()
                           for c in ("single", "multi", "none")}, "largest N solved")


def _retrain(fig: Figure, numbers: Mapping[str, Any]) -> None:
    ax = fig.subplots()
    for curriculum in ("single", "multi"):
        series = sorted((key(n), _mean([a for _, a in retrained(v)]))
                        for n, v in numbers[curriculum].items())
        if series:
            ax.plot(*zip(*series), "o-", color=COLORS[curriculum],
                    label=f"trained {curriculum}-head")
    ax.set(xlabel="new N", ylabel="accuracy after retraining (mean over seeds)")
    _legend(ax)


DRAW = {1: _curricula, 2: _no_curriculum, 3: _fixed_tau, 4: _tau_growth, 5: _tau_net,
        6: _robustness, 7: _robustness, 8: _gated, 9: _retrain}


def draw(claim: Claim, path: Path) -> Path:
    """Write the figure of ``claim`` to ``path`` (PNG)."""
    fig = Figure(figsize=(6.4 if claim.number != 1 else 10, 4))
    DRAW[claim.number](fig, claim.numbers)
    fig.suptitle(f"Claim {claim.number}: {claim.title}", fontsize=9)
    return _save(fig, path)
