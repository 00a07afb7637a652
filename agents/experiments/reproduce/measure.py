"""Measurements on trained networks for claims 5–7, cached as JSON so a rerun does not redo them.

τ_net per curriculum stage (autocorrelation fits), and at one N: accuracy after silencing the
longest-/shortest-τ/random neurons and after perturbing the recurrent weights or τ, relative to
the intact network ((acc − 0.5) / (baseline − 0.5)).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import numpy as np

from agents import analysis
from agents.analysis.ablation import SELECTIONS
from agents.analysis.report import load_stages
from agents.experiments.config import read_history
from agents.experiments.reproduce.plan import Scale
from agents.training.checkpoint import load
from agents.training.runstate import save_json

EPS_WEIGHTS = 0.215  # the paper's perturbation sizes (claim 7)
EPS_TAU = 0.1
T = TypeVar("T")


def _cached(path: Path, compute: Callable[[], dict | list]) -> dict | list:
    """The JSON at ``path``, or ``compute()`` written there (atomically: a killed run leaves no half file)."""
    if path.exists():
        return json.loads(path.read_text())
    value = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    save_json(value, path)
    return value


def _mean(values: np.ndarray) -> float | None:
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    return float(finite.mean()) if finite.size else None


def evenly(items: Sequence[T], count: int | None) -> list[T]:
    """At most ``count`` of ``items``, evenly spaced, first and last kept (None: all)."""
    if count is None or len(items) <= count:
        return list(items)
    return [items[i] for i in np.unique(np.linspace(0, len(items) - 1, count).round().astype(int))]


def timescales(run_dir: Path, scale: Scale, cache: Path) -> list[dict]:
    """Per stage (last network of each largest N; at most ``scale.measured_stages`` of them,
    evenly spaced): N, mean trained τ and mean τ_net."""
    def compute() -> list[dict]:
        rows = []
        for stage in evenly(load_stages(run_dir), scale.measured_stages):
            act = analysis.record(stage.model, steps=scale.record_steps,
                                  trials=scale.record_trials, burn_in=200, seed=0)
            fit = analysis.fit_timescales(analysis.autocorrelation(act, min(200, scale.record_steps // 2)))
            rows.append({"N": stage.N, "epoch": stage.epoch,
                         "tau_mean": _mean(analysis.trained_timescales(stage.model)),
                         "tau_net_mean": _mean(fit.tau)})
        return rows
    return _cached(cache / f"{run_dir.name}-timescales.json", compute)


def latest_with_head(run_dir: Path, N: int) -> Path:
    """The last saved network of the run that has a head for N."""
    history = read_history(run_dir)
    epochs = [r.epoch for r in history.records if N in r.heads] if history else []
    if not epochs:
        raise LookupError(f"run {run_dir.name} never had a head for N={N}")
    return run_dir / "models" / f"epoch_{epochs[-1]:04d}.pt"


def robustness(run_dir: Path, N: int, task: str, scale: Scale, cache: Path) -> dict:
    """Relative accuracy at N after ablation (k longest, shortest, random τ) and perturbation."""
    def compute() -> dict:
        model = load(latest_with_head(run_dir, N))
        scoring = {"steps": scale.accuracy_steps, "repeats": scale.accuracy_repeats, "seed": 0}
        baseline = float(analysis.accuracy(model, task, N, **scoring).mean())
        taus = analysis.trained_timescales(model)
        ablation = {how: float(analysis.relative_accuracy(analysis.accuracy(
            analysis.ablate(model, analysis.select_neurons(taus, scale.ablate_k(), how)),
            task, N, **scoring).mean(), baseline)) for how in SELECTIONS}
        perturbation = {}
        for target, eps in (("weights", EPS_WEIGHTS), ("tau", EPS_TAU)):
            if target == "tau" and not hasattr(model, "taus"):
                continue
            sweep = analysis.perturbation_sweep(model, (eps,), target, task, N,
                                                draws=scale.perturb_draws, **scoring)
            perturbation[target] = {"epsilon": eps, "relative": float(sweep.relative.mean())}
        return {"N": N, "baseline": baseline, "k": scale.ablate_k(), "ablation": ablation,
                "perturbation": perturbation}
    return _cached(cache / f"{run_dir.name}-N{N}-robustness.json", compute)
