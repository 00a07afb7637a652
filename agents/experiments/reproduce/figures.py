"""One PNG per claim, drawn from that claim's numbers (``Claim.numbers``).

Built on ``matplotlib.figure.Figure`` (no pyplot); each function takes a claim's numbers and an
``Axes``. :func:`draw` writes the file.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from agents.analysis.figures import _save
from agents.experiments.reproduce.claims import Claim

COLORS = {"single": "tab:orange", "multi": "tab:blue", "none": "tab:gray"}


def _legend(ax: Axes) -> None:
    if ax.get_legend_handles_labels()[0]:
        ax.legend()
    else:
        ax.text(0.5, 0.5, "no runs at this scale", ha="center", transform=ax.transAxes)


def _bars(ax: Axes, values: Mapping[str, float | None], ylabel: str) -> None:
    names = list(values)
    ax.bar(names, [values[n] or 0.0 for n in names],
           color=[COLORS.get(n.split()[0], "tab:green") for n in names])
    ax.set_ylabel(ylabel)
    ax.tick_params(axis="x", labelrotation=20)


def _curricula(fig: Figure, numbers: Mapping[str, Any]) -> None:
    axes = fig.subplots(1, max(1, len(numbers)), squeeze=False)[0]
    for ax, (task, per) in zip(axes, numbers.items()):
        for curriculum, data in per.items():
            for i, curve in enumerate(data["curves"]):
                ax.plot(range(1, len(curve) + 1), curve, color=COLORS[curriculum], alpha=0.8,
                        label=f"{curriculum}-head" if i == 0 else None)
        ax.set(title=task, xlabel="epoch", ylabel="largest N solved so far")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        _legend(ax)


def _no_curriculum(fig: Figure, numbers: Mapping[str, Any]) -> None:
    ax = fig.subplots()
    for n, accs in numbers["best_accuracy"].items():
        ax.plot([n] * len(accs), accs, "o", color=COLORS["none"])
    ax.axhline(numbers["threshold"], ls="--", color="k", lw=0.8,
               label=f"solved ({numbers['threshold']:g})")
    if numbers["multi_head_max_N"] is not None:
        ax.axvline(numbers["multi_head_max_N"], color=COLORS["multi"],
                   label="multi-head curriculum reaches")
    ax.set(xlabel="fixed N (no curriculum)", ylabel="best accuracy", title="parity")
    _legend(ax)


def _fixed_tau(fig: Figure, numbers: Mapping[str, Any]) -> None:
    values = {"multi trained τ": numbers["multi_trained"],
              **{f"multi τ={t:g}": v for t, v in numbers["multi_fixed"].items()},
              "single trained τ": numbers["single_trained"],
              "single τ=1": numbers["single_fixed_1"]}
    _bars(fig.subplots(), values, "largest N solved (mean over seeds)")


def _tau_growth(fig: Figure, numbers: Mapping[str, Any]) -> None:
    ax = fig.subplots()
    for curriculum in ("single", "multi"):
        series = sorted(numbers[curriculum].items())
        if series:
            ns, stats = zip(*series)
            ax.errorbar(ns, [m for m, _ in stats], yerr=[s for _, s in stats], capsize=2,
                        color=COLORS[curriculum], label=f"{curriculum}-head: mean ± sd of τ")
    ax.set(xlabel="N", ylabel="τ")
    _legend(ax)


def _tau_net(fig: Figure, numbers: Mapping[str, Any]) -> None:
    ax = fig.subplots()
    for curriculum in ("single", "multi"):
        series = sorted(numbers[curriculum].items())
        if series:
            ax.plot(*zip(*series), "o-", color=COLORS[curriculum], label=f"{curriculum}-head")
    ax.set(xlabel="N", ylabel="mean τ_net")
    _legend(ax)


def _robustness(fig: Figure, numbers: Mapping[str, Any]) -> None:
    ax = fig.subplots()
    keys = sorted(set(numbers["single"]) | set(numbers["multi"]))
    width = 0.4
    for i, curriculum in enumerate(("single", "multi")):
        ax.bar([k + (i - 0.5) * width for k in range(len(keys))],
               [numbers[curriculum].get(key, 0.0) for key in keys], width,
               color=COLORS[curriculum], label=f"{curriculum}-head")
    ax.set_xticks(range(len(keys)), keys)
    ax.set(ylabel="relative accuracy", ylim=(min(0.0, ax.get_ylim()[0]), 1.1))
    _legend(ax)


def _gated(fig: Figure, numbers: Mapping[str, Any]) -> None:
    _bars(fig.subplots(), {f"{c} {model}": per[c] for model, per in numbers.items()
                           for c in ("single", "multi", "none")}, "largest N solved")


def _retrain(fig: Figure, numbers: Mapping[str, Any]) -> None:
    ax = fig.subplots()
    for curriculum in ("single", "multi"):
        series = sorted(numbers[curriculum].items())
        if series:
            ax.plot([n for n, _ in series], [acc for _, (_, acc) in series], "o-",
                    color=COLORS[curriculum], label=f"trained {curriculum}-head")
    ax.set(xlabel="new N", ylabel="accuracy after retraining")
    _legend(ax)


DRAW = {1: _curricula, 2: _no_curriculum, 3: _fixed_tau, 4: _tau_growth, 5: _tau_net,
        6: _robustness, 7: _robustness, 8: _gated, 9: _retrain}


def draw(claim: Claim, path: Path) -> Path:
    """Write the figure of ``claim`` to ``path`` (PNG)."""
    fig = Figure(figsize=(6.4 if claim.number != 1 else 10, 4))
    DRAW[claim.number](fig, claim.numbers)
    fig.suptitle(f"Claim {claim.number}: {claim.title}", fontsize=9)
    return _save(fig, path)
