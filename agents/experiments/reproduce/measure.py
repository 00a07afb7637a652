"""Measurements on trained networks for claims 5–7, cached as JSON so a rerun does not redo them.

τ_net per curriculum stage (autocorrelation fits), and at one N: accuracy after silencing the
longest-/shortest-τ/random neurons and after perturbing the recurrent weights or τ, relative to
the intact network ((acc − 0.5) / (baseline − 0.5)). Two protocols (see ``agents.analysis``):
``"paper"`` (the default: the authors' definitions — pooled autocorrelation and their fits, τ_net
averaged over the neurons above 1, raw τ, neurons silenced one at a time, the best baseline
stream) and ``"project"`` (per-trial normalised autocorrelation, effective τ, the k neurons
silenced together, the mean baseline). Each protocol has its own cache files.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any, Protocol, TypeVar

import torch
from tqdm.auto import tqdm

from agents import analysis
from agents.analysis.report import load_stages
from agents.analysis.timescales import finite_stats, paper_tau_net_summary
from agents.experiments.config import source_model
from agents.experiments.reproduce.plan import Scale
from agents.training.checkpoint import load
from agents.training.runstate import save_json
from memtasks.checks import check_choice

EPS_WEIGHTS = 0.215  # the paper's perturbation sizes (claim 7)
EPS_TAU = 0.1
PROTOCOLS = ("paper", "project")
BURN_IN = 500
PROTOCOL_TEXT = {
    "paper": "the authors' definitions: trials' covariances pooled, their exponential fits, τ_net "
             "averaged over the neurons above 1; raw τ; each of the k neurons silenced alone and "
             "the accuracies averaged; relative to the best baseline stream",
    "project": "the project's definitions: per-trial normalised autocorrelation and the project's "
               "fits; effective τ; the k neurons silenced together; relative to the mean baseline"}


class _Staged(Protocol):
    """Anything with the N of its curriculum stage (``agents.analysis.report.Stage``)."""

    @property
    def N(self) -> int: ...


S = TypeVar("S", bound=_Staged)
J = TypeVar("J", dict, list)


def check_protocol(protocol: object) -> str:
    """``protocol`` if it is one of :data:`PROTOCOLS`, else a ValueError naming it."""
    return check_choice(protocol, "protocol", PROTOCOLS)


def _cached(path: Path, compute: Callable[[], J]) -> J:
    """The JSON at ``path``, or ``compute()`` written there (atomically: a killed run leaves no half file)."""
    if path.exists():
        return json.loads(path.read_text())
    value = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    save_json(value, path)
    return value


def at_grid(stages: Sequence[S], grid: Sequence[int] | None) -> list[S]:
    """The stages whose N is in ``grid`` (None: all): the same N in every run, so that runs of
    different seeds can be compared N by N."""
    return list(stages) if grid is None else [s for s in stages if s.N in grid]


def _stage_timescales(model, scale: Scale, protocol: str) -> tuple[float | None, float | None]:
    """(mean τ, mean τ_net) of one network by ``protocol``."""
    recording: dict[str, Any] = {"steps": scale.record_steps, "trials": scale.record_trials,
                                 "burn_in": BURN_IN, "seed": 0}
    if protocol == "paper":
        _, fit, _ = analysis.paper_timescales(model, **recording)
        tau_net = paper_tau_net_summary(fit.tau)["mean_above_1"]
        return finite_stats(analysis.raw_timescales(model))[0], tau_net
    act = analysis.record(model, **recording)
    fit = analysis.fit_timescales(analysis.autocorrelation(act, min(200, scale.record_steps // 2)))
    return finite_stats(analysis.trained_timescales(model))[0], finite_stats(fit.tau)[0]


def timescales(run_dir: Path, scale: Scale, cache: Path, protocol: str = "paper") -> list[dict]:
    """Per stage (last network of each largest N; only those at ``scale.measured_N`` if given):
    N, mean τ and mean τ_net by ``protocol``."""
    def compute() -> list[dict]:
        rows = []
        for stage in at_grid(load_stages(run_dir), scale.measured_N):
            tau_mean, tau_net_mean = _stage_timescales(stage.model, scale, protocol)
            rows.append({"N": stage.N, "epoch": stage.epoch, "protocol": protocol,
                         "tau_mean": tau_mean, "tau_net_mean": tau_net_mean})
        return rows
    return _cached(cache / f"{run_dir.name}-{check_protocol(protocol)}-timescales.json", compute)


def _robustness_numbers(summary: dict) -> dict:
    """A robustness summary (either protocol's ``summary()``) as the reproduction stores it."""
    return {"baseline": summary["accuracy"], "ablation": summary["ablation"],
            "perturbation": {target: {"epsilon": eps, "relative": value}
                             for target, by_eps in summary["perturbation"].items()
                             for eps, value in by_eps.items()}}


def _measure_robustness(model, N: int, task: str, scale: Scale, protocol: str) -> dict:
    """Relative accuracies of ``model`` at ``N`` by ``protocol``, at the scale's sizes."""
    common: dict[str, Any] = {"task": task, "k": scale.ablate_k(), "epsilons_weights": (EPS_WEIGHTS,),
                              "epsilons_tau": (EPS_TAU,), "draws": scale.perturb_draws, "seed": 0}
    if protocol == "paper":
        return _robustness_numbers(analysis.paper_robustness(
            model, N, **common, accuracy_steps=scale.accuracy_steps,
            repeats=scale.accuracy_repeats).summary())
    return _robustness_numbers(analysis.group_robustness(
        model, N, **common, steps=scale.accuracy_steps, repeats=scale.accuracy_repeats).summary())


def robustness(run_dir: Path, N: int, task: str, scale: Scale, cache: Path,
               protocol: str = "paper") -> dict:
    """Relative accuracy at N after ablation (k longest, shortest, random τ) and perturbation,
    of the network the curriculum left at N (heads up to N, as the authors load it by N_max)."""
    def compute() -> dict:
        return {"N": N, "k": scale.ablate_k(), "protocol": protocol,
                "ablation_kind": "single" if protocol == "paper" else "group",
                **_measure_robustness(load(source_model(run_dir, N)), N, task, scale, protocol)}
    return _cached(cache / f"{run_dir.name}-N{N}-{check_protocol(protocol)}-robustness.json", compute)


def measure_run(run_dir: Path, N: int | None, task: str, scale: Scale, cache: Path,
                protocol: str = "paper") -> tuple[list[dict], dict | None]:
    """τ_net per stage of one run, and its robustness at ``N`` (None: not measured)."""
    return (timescales(run_dir, scale, cache, protocol),
            None if N is None else robustness(run_dir, N, task, scale, cache, protocol))


def measure_runs(jobs: Sequence[tuple[Path, int | None, str]], scale: Scale, cache: Path,
                 protocol: str = "paper", workers: int = 1,
                 progress: bool = True) -> list[tuple[list[dict], dict | None]]:
    """:func:`measure_run` of each (run directory, N, task), ``workers`` runs at a time in
    processes of their own (the machine's cores shared among them); in this process if 1."""
    bar = tqdm(total=len(jobs), desc="measure", unit="run", disable=not progress)
    if workers <= 1 or len(jobs) <= 1:
        results = []
        for job in jobs:
            results.append(measure_run(*job, scale, cache, protocol))
            bar.update()
        bar.close()
        return results
    threads = max(1, (os.cpu_count() or 1) // workers)
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                             initializer=torch.set_num_threads, initargs=(threads,)) as pool:
        futures = [pool.submit(measure_run, *job, scale, cache, protocol) for job in jobs]
        for future in as_completed(futures):
            future.result()  # raise here, not later
            bar.update()
    bar.close()
    return [future.result() for future in futures]

