"""``analyze_run``: the whole analysis of a training run (or one model file) as figures and a JSON.

A run directory (written by ``agents.train``) holds ``models/epoch_XXXX.pt``; the last model of
each curriculum stage (each largest N) is analysed for τ and τ_net, and the final model also for
ablation, perturbation and dimensionality. A single file is a model written by ``agents.save``
or a network saved by the paper's code (then ``heads`` names its heads). Everything lands in
``RUN_DIR/analysis/`` (a file: ``<its folder>/analysis/<its name>/``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypedDict
from pathlib import Path

import numpy as np
from torch import nn
from tqdm.auto import tqdm

from agents.analysis import figures
from agents.analysis.activity import record
from agents.analysis.autocorrelation import autocorrelation, population_autocorrelation
from agents.analysis.dimensionality import dimensionality, paper_count
from agents.analysis.group import group_robustness
from agents.analysis.paper import (PaperMeasurements, measure_paper, paper_timescales,
                                   timescale_summary)
from agents.analysis.perturbation import PerturbationSweep
from agents.analysis.timescales import (TimescaleFit, finite_stats, fit_timescales,
                                        raw_timescales, trained_timescales)
from agents.models.device import check_device
from agents.models.protocol import headed
from agents.training.checkpoint import load, load_reference_checkpoint, safe_load
from agents.training.loop import History
from agents.training.paths import make_out_dir, path_argument
from agents.training.runstate import CHECKPOINT, HISTORY
from memtasks.checks import check_choice, check_int, check_memory, check_seed
from memtasks.tasks import TASKS

RESULTS = "analysis.json"
RECORD_BYTES = 40  # per recorded (trial, step, unit): float32 states, float64 FFT autocorrelation
GROUPS = {"largest": "largest τ", "smallest": "smallest τ", "random": "random"}
PROTOCOLS = ("project", "paper")


class _Recording(TypedDict):
    """The keywords of :func:`record` (and of the paper's streamed recording) for every stage."""

    steps: int
    trials: int
    burn_in: int
    seed: int


class _Grids(TypedDict, total=False):
    """The perturbation grids given to :func:`measure_paper` or :func:`group_robustness` (their
    defaults where absent)."""

    epsilons_weights: Sequence[float]
    epsilons_tau: Sequence[float]


@dataclass
class Stage:
    """A model to analyse: its name (file stem), training epoch (None for a lone file) and N;
    the accuracy of head N at that epoch and whether it was solved (None: no history says)."""

    name: str
    epoch: int | None
    model: nn.Module
    accuracy: float | None = None
    solved: bool | None = None

    @property
    def N(self) -> int:
        """The largest N the model has a head for (its curriculum stage)."""
        return max(headed(self.model).heads)

    @property
    def label(self) -> str:
        """The stage in words, for figures: N, epoch, accuracy and whether it was ever solved."""
        epoch = f"epoch {self.epoch}" if self.epoch is not None else self.name
        accuracy = "accuracy unknown" if self.accuracy is None else f"accuracy {self.accuracy:.3f}"
        return f"N={self.N}, {epoch}, {accuracy}" + (" (never solved)" if self.solved is False
                                                     else "")


def _epoch_of(file: Path) -> int:
    number = file.stem.removeprefix("epoch_")
    if not number.isdigit():
        raise ValueError(f"cannot analyse '{file}': expected a model named epoch_<number>.pt")
    return int(number)


def attach_history(stages: list[Stage], history_file: Path) -> None:
    """Give each stage the accuracy of its head N at its epoch in ``history_file`` (if there)."""
    if not history_file.is_file():
        return
    history = History.read(history_file)
    by_epoch = {record.epoch: record for record in history.records}
    for stage in stages:
        record = by_epoch.get(stage.epoch) if stage.epoch is not None else None
        if record is not None and stage.N in record.accuracy:
            stage.accuracy = record.accuracy[stage.N]
            stage.solved = stage.accuracy > history.threshold


def _load_file(path: Path, heads: Sequence[int] | None) -> nn.Module:
    try:
        return load(path)
    except ValueError as error:
        if "not a memtasks model file" not in str(error):  # one, but damaged: say how
            raise
        if heads is None:
            raise ValueError(f"cannot analyse '{path}': not a memtasks model file; for a network "
                             "saved by the paper's code pass heads (e.g. --heads 2 3 4 5)") from None
        return load_reference_checkpoint(path, heads)


def load_stages(path: str | os.PathLike, heads: Sequence[int] | None = None) -> list[Stage]:
    """The models to analyse: the last checkpoint of each largest N of a run, or one file."""
    path = Path(path)
    if path.is_file():
        stage = Stage(path.stem, None, _load_file(path, heads))
        if path.parent.name == "models" and path.stem.removeprefix("epoch_").isdigit():
            stage.epoch = _epoch_of(path)  # a model of a run: its history tells the accuracy
            attach_history([stage], path.parent.parent / HISTORY)
        return [stage]
    files = sorted((path / "models").glob("epoch_*.pt"))
    if not path.is_dir() or not files:
        raise FileNotFoundError(f"no model to analyse at '{path}': expected a run directory "
                                "with models/epoch_XXXX.pt or a model file")
    last_by_N: dict[int, Stage] = {}
    for file in sorted(files, key=_epoch_of):
        stage = Stage(file.stem, _epoch_of(file), load(file))
        last_by_N[stage.N] = stage  # files are in epoch order: the last one of each N stays
    stages = sorted(last_by_N.values(), key=lambda s: s.N)
    attach_history(stages, path / HISTORY)
    return stages


def output_dir(path: str | os.PathLike, out_dir: str | os.PathLike | None = None) -> Path:
    """``out_dir`` if given, else ``RUN_DIR/analysis`` or ``<folder>/analysis/<file name>``."""
    path = Path(path)
    if out_dir is not None:
        return Path(out_dir)
    return path / "analysis" if path.is_dir() else path.parent / "analysis" / path.stem


def _run_task(path: Path) -> str:
    """The task a run trained on (its checkpoint's config); "parity" for a run without one.
    A checkpoint that does not say clearly is refused: pass ``task`` then."""
    file = path / CHECKPOINT
    if not file.exists():
        return "parity"
    state = safe_load(file)
    config = state.get("config") if isinstance(state, dict) else None
    task = config.get("task") if isinstance(config, dict) else None
    if task not in TASKS:
        raise ValueError(f"cannot tell the task of '{path}': {file} holds no run config naming "
                         f"it (config: {type(config).__name__}); pass task='parity' or 'dms' "
                         f"(--task)")
    return task


def _finite(values: np.ndarray) -> list[float | None]:
    """A JSON-safe list: NaN becomes null."""
    return [float(v) if math.isfinite(v) else None for v in np.asarray(values, dtype=float)]


def _layer_stats(tau: np.ndarray, tau_net: np.ndarray) -> dict[str, float | None]:
    """Mean and std of τ and of τ_net over one layer's neurons."""
    (tau_mean, tau_std), (net_mean, net_std) = finite_stats(tau), finite_stats(tau_net)
    return {"tau_mean": tau_mean, "tau_std": tau_std, "tau_net_mean": net_mean,
            "tau_net_std": net_std}


def analyze_run(path: str | os.PathLike, out_dir: str | os.PathLike | None = None, *,
                heads: Sequence[int] | None = None, task: str | None = None,
                protocol: str = "project", steps: int | None = None, trials: int | None = None,
                burn_in: int = 500, max_lag: int = 200, fit_lag: int = 30,
                ablate_k: int | None = None, epsilons: Sequence[float] | None = None,
                draws: int | None = None, accuracy_steps: int = 1000, warmup: int = 100,
                repeats: int = 10, seed: int = 0, progress: bool = True, tensorboard: bool = False,
                device: str = "cpu", log: Callable[[str], object] = print) -> dict:
    """Analyse a run directory or a model file; write PNG figures and ``analysis.json``.

    Args:
        path: a run directory (``models/epoch_XXXX.pt``) or one model file.
        out_dir: where to write (default: ``RUN_DIR/analysis`` or ``<folder>/analysis/<name>``).
        heads: the N of each head of a paper checkpoint (only for such a file).
        task: "parity" or "dms" for the accuracy tests (default: the run's task, else parity).
        protocol: "project" (the project's definitions: k neurons silenced together, per-trial
            normalised autocorrelation, pooled dimensionality) or "paper" (the authors'
            definitions, :func:`~agents.analysis.paper.paper_protocol`; its numbers for the final
            network go under ``"paper"`` in the JSON, and the figures show them).
        steps, trials, burn_in: the recording of activity (see :func:`record`; default: 10,000
            steps × 4 trials, the paper protocol 100,000 × 10).
        max_lag, fit_lag: autocorrelation lags and the lags fitted (see :func:`fit_timescales`;
            the paper protocol computes lags 0..fit_lag only).
        ablate_k: neurons per ablation group (default: a tenth of them; the paper protocol 4 %).
        epsilons, draws: the perturbation grid and perturbations per ε (default: 0 … 0.5 and 3
            draws; the paper protocol ε = 0.215 for the weights and 0.1 for τ, 10 draws).
        accuracy_steps, warmup, repeats: the accuracy test (see :func:`accuracy`).
        seed: seeds every random draw.
        progress: show a tqdm progress bar.
        tensorboard: also write the figures as images to TensorBoard event files in the output
            folder (``tensorboard --logdir RUN_DIR/analysis``).
        device: ``"cpu"`` or ``"cuda"``: where the models run.
        log: told about stages the run never solved (their accuracy at or below its threshold).

    Returns:
        the numbers written to ``analysis.json``.
    """
    paper = check_choice(protocol, "protocol", PROTOCOLS) == "paper"
    steps = (100_000 if paper else 10_000) if steps is None else steps
    trials = (10 if paper else 4) if trials is None else trials
    draws = (10 if paper else 3) if draws is None else draws
    for name, value, minimum in (("steps", steps, 1), ("trials", trials, 1), ("burn_in", burn_in, 0),
                                 ("max_lag", max_lag, 1), ("draws", draws, 1), ("repeats", repeats, 1),
                                 ("accuracy_steps", accuracy_steps, 1), ("warmup", warmup, 0)):
        check_int(value, name, minimum)  # fail before any work is done
    check_seed(seed)
    lags = fit_lag if paper else max_lag
    if lags >= steps:
        name = "fit_lag" if paper else "max_lag"
        raise ValueError(f"{name}={lags!r} is not accepted: expected {name} < steps = {steps}")
    target = check_device(device)
    path = Path(path)
    stages = load_stages(path, heads)
    for stage in stages:
        stage.model.to(target)
    task = task or (_run_task(path) if path.is_dir() else "parity")
    if not paper:  # the project's recording is held whole; the paper's is streamed
        units = max(getattr(stage.model, "hidden_size", 1) for stage in stages)
        check_memory(trials * (steps + burn_in) * units * RECORD_BYTES,
                     f"steps={steps} with trials={trials} and {units} units")
    for stage in stages:
        if stage.solved is False:
            log(f"note: stage {stage.label}: the network never solved N={stage.N}; its "
                f"timescales describe a network that did not learn that task")
    out = make_out_dir(output_dir(path, out_dir), "out_dir")
    recording: _Recording = {"steps": steps, "trials": trials, "burn_in": burn_in, "seed": seed}
    results: dict = {"source": str(path), "task": task, "protocol": protocol, "stages": [],
                     "settings": {**recording, "max_lag": lags, "fit_lag": fit_lag}}
    final = stages[-1]
    grids: _Grids = {} if epsilons is None else {"epsilons_weights": epsilons, "epsilons_tau": epsilons}
    bar = tqdm(total=len(stages) + 2, desc=f"analyze ({protocol} protocol)", disable=not progress)
    for stage in stages:
        bar.set_postfix_str(f"{'paper protocol' if paper and stage is final else 'timescales'} "
                            f"{stage.name}")
        if paper and stage is final:  # the whole protocol; its recording serves the stage too
            measured = measure_paper(final.model, final.N, task=task, k=ablate_k, **grids,
                                     **recording, fit_lag=fit_lag, accuracy_steps=accuracy_steps,
                                     warmup=warmup, repeats=repeats, draws=draws, progress=False)
            outcome = _paper_stage(measured.tau, measured.autocorrelation, measured.fit,
                                   measured.explained_variance)
        elif paper:
            outcome = _paper_stage(raw_timescales(stage.model),
                                   *paper_timescales(stage.model, **recording, fit_lag=fit_lag))
        else:
            outcome = _project_stage(stage, recording, max_lag, fit_lag)
        row, ac, fit, tau, population = outcome
        results["stages"].append({"name": stage.name, "epoch": stage.epoch, "N": stage.N,
                                  "heads": list(headed(stage.model).heads), "accuracy": stage.accuracy,
                                  "solved": stage.solved, **row})
        bar.update()
    figures.plot_autocorrelations(ac, fit, out / "autocorrelations.png", population=population,
                                  stage=final.label)
    figures.plot_timescale_histograms(tau, fit.tau, out / "timescales_hist.png", stage=final.label,
                                      raw=paper)
    figures.plot_timescales_vs_N(results["stages"], out / "timescales_vs_N.png")
    results["final"] = {"name": final.name, "N": final.N, "tau": _finite(tau),
                        "tau_net": _finite(fit.tau), "model": fit.model.tolist()}
    slices = getattr(final.model, "layer_slices", ())
    if len(slices) > 1:  # a stacked network: its timescales layer by layer too
        results["final"]["layers"] = [_layer_stats(tau[part], fit.tau[part]) for part in slices]
    if paper:
        results["paper"] = measured.summary()
        _paper_figures(measured, out, final.label)
        bar.update(2)
    else:
        bar.set_postfix_str("ablation and perturbation")
        scoring = {"steps": accuracy_steps, "warmup": warmup, "repeats": repeats, "seed": seed}
        _project_robustness(final, task, scoring, ablate_k, grids, draws, out, results)
        bar.update(2)
    bar.close()
    (out / RESULTS).write_text(json.dumps(results, indent=1, allow_nan=False))
    if tensorboard:
        _log_figures(out)
    return results


StageResult = tuple[dict, np.ndarray, TimescaleFit, np.ndarray, "np.ndarray | None"]


def _project_stage(stage: Stage, recording: _Recording, max_lag: int, fit_lag: int) -> StageResult:
    """The project's timescale numbers of one stage, with its autocorrelation, fit, τ and the
    population's autocorrelation."""
    act = record(stage.model, **recording)
    ac = autocorrelation(act, max_lag)
    fit = fit_timescales(ac, fit_lag)
    tau = trained_timescales(stage.model)
    return ({**_layer_stats(tau, fit.tau), "fraction_double": float(np.mean(fit.model == 2)),
             "fraction_unfitted": float(np.mean(fit.model == 0)),
             "dimensionality_90": dimensionality(act, 0.9)}, ac, fit, tau,
            population_autocorrelation(act, max_lag))


def _paper_stage(tau: np.ndarray, ac: np.ndarray, fit: TimescaleFit, ratios: np.ndarray) -> StageResult:
    """The paper's timescale numbers of one stage in the stage table's columns (raw τ; τ_net
    above 1; dimensionality per trial, averaged), with its pooled autocorrelation, fit and τ."""
    summary = timescale_summary(tau, fit, paper_count(ratios))
    return ({"tau_mean": summary["tau"]["mean"], "tau_std": summary["tau"]["std"],
             "tau_net_mean": summary["tau_net"]["mean_above_1"],
             "tau_net_std": summary["tau_net"]["std_above_1"],
             "fraction_double": summary["tau_net"]["fraction_double"],
             "fraction_unfitted": float(np.mean(fit.model == 0)),
             "dimensionality_90": summary["dimensionality"]}, ac, fit, tau, None)


def _project_robustness(final: Stage, task: str, scoring: dict, ablate_k: int | None,
                        grids: _Grids, draws: int, out: Path, results: dict) -> None:
    """The project's group ablation and perturbation sweeps of the final network: figures and
    the ``ablation`` and ``perturbation`` sections of ``results``."""
    measured = group_robustness(final.model, final.N, task=task, k=ablate_k, **grids, draws=draws,
                                **scoring)
    bars = {"intact": measured.baseline,
            **{f"{measured.k} {GROUPS[how]}": acc for how, acc in measured.ablation.items()}}
    figures.plot_ablation(bars, float(measured.baseline.mean()), out / "ablation.png", N=final.N,
                          stage=final.label, kind="together")
    results["ablation"] = {"kind": "group", "N": final.N, "k": measured.k,
                           "baseline": _finite(measured.baseline),
                           **{how: _finite(acc) for how, acc in measured.ablation.items()}}
    figures.plot_perturbation(measured.sweeps, out / "perturbation.png", stage=final.label)
    results["perturbation"] = {s.target: {"epsilons": _finite(s.epsilons), "baseline": s.baseline,
                                          "accuracy": [_finite(row) for row in s.accuracy],
                                          "relative": [_finite(row) for row in s.relative]}
                               for s in measured.sweeps}


def _paper_figures(measured: PaperMeasurements, out: Path, stage: str) -> None:
    """The ablation and perturbation figures from the paper protocol's measurements."""
    bars = {"intact": measured.baseline,
            **{f"{measured.k} {name} τ" if name != "random" else f"{measured.k} random":
               acc.ravel() for name, (_, acc) in measured.ablation.items()}}
    figures.plot_ablation(bars, float(measured.baseline.mean()), out / "ablation.png",
                          N=measured.N, stage=stage, kind="one at a time")
    best = float(measured.baseline.max())
    sweeps = [PerturbationSweep(target=target, N=measured.N, epsilons=np.array(list(by_eps)),
                                baseline=best, accuracy=np.stack([a.mean(axis=1) for a in by_eps.values()]),
                                relative=np.stack([measured.relative(a).mean(axis=1)
                                                   for a in by_eps.values()]))
              for target, by_eps in measured.perturbation.items()]
    figures.plot_perturbation(sweeps, out / "perturbation.png", stage=stage, baseline="best stream")


def _log_figures(out: Path) -> None:
    """Every PNG in ``out`` as a TensorBoard image tagged ``analysis/<name>``."""
    from matplotlib.image import imread
    from torch.utils.tensorboard import SummaryWriter

    with SummaryWriter(str(out)) as writer:
        for png in sorted(out.glob("*.png")):
            writer.add_image(f"analysis/{png.stem}", imread(png)[..., :3], dataformats="HWC")


def add_analyze_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``memtasks analyze`` (see :func:`analyze_run`)."""
    parser.add_argument("path", type=path_argument, metavar="RUN_DIR",
                        help="a training run directory (models/epoch_XXXX.pt) or one model file")
    parser.add_argument("--out", type=path_argument, default=None, metavar="DIR",
                        help="output folder (default: RUN_DIR/analysis)")
    parser.add_argument("--heads", type=int, nargs="+", default=None, metavar="N",
                        help="the N of each head of a paper checkpoint, e.g. --heads 2 3 4 5")
    parser.add_argument("--task", choices=("parity", "dms"), default=None,
                        help="task of the accuracy tests (default: the run's, else parity)")
    parser.add_argument("--protocol", choices=PROTOCOLS, default="project",
                        help="project: the project's definitions (k neurons silenced together, "
                             "per-trial normalised autocorrelation); paper: the authors' "
                             "definitions, its numbers under \"paper\" in analysis.json "
                             "(default: %(default)s)")
    parser.add_argument("--steps", type=int, default=None,
                        help="recorded steps per trial (default: 10000; paper protocol 100000)")
    parser.add_argument("--trials", type=int, default=None,
                        help="recorded trials (default: 4; paper protocol 10)")
    parser.add_argument("--fit-lag", type=int, default=30,
                        help="largest lag of the exponential fits (default: %(default)s)")
    parser.add_argument("--ablate-k", type=int, default=None, metavar="K",
                        help="neurons per ablation group (default: a tenth of them, silenced "
                             "together; paper protocol: 4 %%, one at a time)")
    parser.add_argument("--epsilons", type=float, nargs="+", default=None, metavar="EPS",
                        help="perturbation sizes (default: 0 0.01 0.05 0.1 0.2 0.5; paper "
                             "protocol: 0.215 for the weights, 0.1 for τ)")
    parser.add_argument("--repeats", type=int, default=10,
                        help="streams per accuracy test (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="seed (default: %(default)s)")
    parser.add_argument("--tensorboard", action="store_true",
                        help="also log the figures to TensorBoard in the output folder")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                        help="where the models run (default: %(default)s)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run_analyze(args: argparse.Namespace) -> int:
    """Run :func:`analyze_run` from parsed ``memtasks analyze`` arguments; print where it wrote."""
    results = analyze_run(args.path, args.out, heads=args.heads, task=args.task,
                          protocol=args.protocol, steps=args.steps,
                          trials=args.trials, fit_lag=args.fit_lag, ablate_k=args.ablate_k,
                          epsilons=args.epsilons, repeats=args.repeats, seed=args.seed,
                          progress=not args.no_progress, tensorboard=args.tensorboard,
                          device=args.device)
    def show(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.3f}"

    for stage in results["stages"]:
        print(f"{stage['name']}: N={stage['N']}  tau {show(stage['tau_mean'])} ± "
              f"{show(stage['tau_std'])}  tau_net {show(stage['tau_net_mean'])} ± "
              f"{show(stage['tau_net_std'])}")
    if "paper" in results:
        paper = results["paper"]
        print(f"paper protocol at N={paper['N']}: relative accuracy after ablating "
              + ", ".join(f"{name} {value:.3f}" for name, value in paper["ablation"].items())
              + "; perturbed " + ", ".join(f"{target} ε={eps:g} {value:.3f}"
                                          for target, by_eps in paper["perturbation"].items()
                                          for eps, value in by_eps.items()))
    print(f"figures and {RESULTS} written to {output_dir(args.path, args.out)}")
    return 0
