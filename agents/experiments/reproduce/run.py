"""Train the runs of a plan that are not finished yet; a run directory per spec under ``OUT/runs``.

Finished runs are skipped, interrupted ones resume from their checkpoint (with what is left of
their time budget), so running the same plan twice trains nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import gymnasium as gym
import torch
from torch import nn
from tqdm.auto import tqdm

from agents.experiments import cli
from agents.experiments.reproduce.plan import RunSpec
from agents.training import runstate
from agents.training.checkpoint import load
from agents.training.loop import History, train

DONE = ("target_N", "finished", "time_budget")  # stop reasons that end a run for good

# Cost model of one batch on one CPU thread (seconds = overhead + per_step · batch · T · hidden),
# measured with LeakyRNN(64) and GRU(64) on parity; GRU/LSTM cost about five times the leaky loop.
BATCH_OVERHEAD = 1.3e-3
STEP_COST = {"leaky": 1.5e-8, "gru": 6.0e-8, "lstm": 7.0e-8}


def read_history(run_dir: Path) -> History | None:
    """The run's history, or None when it has not trained an epoch yet."""
    path = run_dir / runstate.HISTORY
    if not path.exists():
        return None
    return History.read(path)


def remaining_budget(spec: RunSpec, history: History | None) -> float | None:
    """Seconds left of the run's time budget (None: no budget)."""
    if spec.time_budget is None:
        return None
    return spec.time_budget - (sum(history.seconds) if history is not None else 0.0)


def is_finished(spec: RunSpec, run_dir: Path) -> bool:
    """True when the run trained its epochs, met its target, ended its curriculum or budget."""
    history = read_history(run_dir)
    if history is None:
        return False
    left = remaining_budget(spec, history)
    return (history.stop_reason in DONE or len(history) >= spec.epochs
            or (left is not None and left <= 0))


def epoch_seconds(spec: RunSpec, N: int) -> float:
    """Estimated seconds of one epoch (training and evaluation batches) at largest N."""
    mean_T = 2.5 * N + 2  # the envs' default length: uniform in [N + 2, 4N + 2)
    batch = BATCH_OVERHEAD + STEP_COST[spec.model] * spec.batch_size * mean_T * spec.hidden
    return (spec.steps_per_epoch + spec.eval_steps / 3) * batch


def estimate_seconds(spec: RunSpec) -> float:
    """Estimated wall time of a run: its budget, or its epochs at a plausible N when unbudgeted."""
    N = max(spec.heads) if spec.curriculum == "none" else 2 + spec.epochs // 4
    estimate = spec.epochs * epoch_seconds(spec, N)
    return estimate if spec.time_budget is None else min(spec.time_budget, estimate)


def make_env(spec: RunSpec) -> gym.Env:
    """The memtasks env of ``spec`` inside its curriculum (``none``: fixed heads)."""
    return cli.make_env(spec.task, spec.curriculum, spec.heads, threshold=spec.threshold,
                        max_N=spec.max_N)


def make_model(spec: RunSpec, runs_dir: Path) -> nn.Module:
    """A fresh network, or for a retraining run the source run's network at ``init_from[1]``."""
    if spec.init_from is not None:
        model = load(source_model(runs_dir / spec.init_from[0], spec.init_from[1]))
        model.set_heads(spec.heads)
        return model
    return cli.make_model(spec.model, spec.hidden, spec.heads, fixed_tau=spec.fixed_tau)


def source_model(run_dir: Path, N: int) -> Path:
    """The model file of the epoch in which ``run_dir``'s curriculum solved N (its last at N).

    Raises LookupError when the run never solved N (its retraining runs cannot start).
    """
    history = read_history(run_dir)
    epochs = [r.epoch for r in history.records if max(r.heads) == N
              and r.accuracy.get(N, 0.0) > history.threshold] if history else []
    if not epochs:
        raise LookupError(f"run {run_dir.name} never solved N={N}")
    return run_dir / runstate.MODELS / f"epoch_{epochs[-1]:04d}.pt"


@dataclass
class RunOutcome:
    """What happened to one spec: "trained", "skipped" (already finished) or "blocked" (why)."""

    spec: RunSpec
    status: str
    reason: str = ""


def train_run(spec: RunSpec, runs_dir: Path, device: str = "cpu") -> RunOutcome:
    """Train (or resume) one run into ``runs_dir/spec.name``; skip it if already finished."""
    run_dir = runs_dir / spec.name
    if is_finished(spec, run_dir):
        return RunOutcome(spec, "skipped")
    try:
        model = make_model(spec, runs_dir)
    except (LookupError, FileNotFoundError) as exc:
        return RunOutcome(spec, "blocked", str(exc))
    left = remaining_budget(spec, read_history(run_dir))
    train(model, make_env(spec), epochs=spec.epochs, steps_per_epoch=spec.steps_per_epoch,
          eval_steps=spec.eval_steps, batch_size=spec.batch_size, seed=spec.seed,
          logdir=run_dir, checkpoint_dir=run_dir, resume=True, device=device,
          time_budget=left, progress=False, threshold=spec.threshold)
    return RunOutcome(spec, "trained")


def run_plan(plan: list[RunSpec], runs_dir: Path, device: str = "cpu",
             progress: bool = True) -> list[RunOutcome]:
    """Train every unfinished run of ``plan`` in order, one at a time, with a progress bar."""
    runs_dir.mkdir(parents=True, exist_ok=True)
    outcomes = []
    with tqdm(plan, desc="train", unit="run", disable=not progress) as bar:
        for spec in bar:
            bar.set_postfix_str(spec.name)
            outcomes.append(train_run(spec, runs_dir, device))
    return outcomes


def set_threads(threads: int) -> None:
    """Torch CPU threads for training (the machine may be shared)."""
    torch.set_num_threads(threads)
