"""Train the runs of a plan that are not finished yet; a run directory per spec under ``OUT/runs``.

Finished runs are skipped, interrupted ones resume from their checkpoint (with what is left of
their time budget), so running the same plan twice trains nothing the second time.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm.auto import tqdm

from agents.experiments.config import is_finished, read_history, train_run
from agents.experiments.reproduce.plan import PlannedRun

# Cost model of one batch on one CPU thread (seconds = overhead + per_step · batch · T · hidden),
# measured with LeakyRNN(64) and GRU(64) on parity; GRU/LSTM cost about five times the leaky loop.
BATCH_OVERHEAD = 1.3e-3
STEP_COST = {"leaky": 1.5e-8, "gru": 6.0e-8, "lstm": 7.0e-8}


def epoch_seconds(spec: PlannedRun, N: int) -> float:
    """Estimated seconds of one epoch (training and evaluation batches) at largest N."""
    mean_T = 2.5 * N + 2  # the envs' default length: uniform in [N + 2, 4N + 2)
    batch = BATCH_OVERHEAD + STEP_COST[spec.model] * spec.batch_size * mean_T * spec.hidden
    return (spec.steps_per_epoch + spec.eval_steps / 3) * batch


def estimate_seconds(spec: PlannedRun) -> float:
    """Estimated wall time of a run: its budget, or its epochs at a plausible N when unbudgeted."""
    N = max(spec.heads) if spec.curriculum == "none" else 2 + spec.epochs // 4
    estimate = spec.epochs * epoch_seconds(spec, N)
    return estimate if spec.time_budget is None else min(spec.time_budget, estimate)


@dataclass
class RunOutcome:
    """What happened to one spec: "trained", "skipped" (already finished) or "blocked" (why)."""

    spec: PlannedRun
    status: str
    reason: str = ""


def train_one(spec: PlannedRun, runs_dir: Path, device: str = "cpu") -> RunOutcome:
    """Train (or resume) one run into ``runs_dir/spec.name``; skip it if already finished."""
    run_dir = runs_dir / spec.name
    if is_finished(spec.config, read_history(run_dir)):
        return RunOutcome(spec, "skipped")
    try:
        train_run(dataclasses.replace(spec.config, device=device), run_dir, resume=True,
                  progress=False)
    except (LookupError, FileNotFoundError) as exc:  # its source run never solved its N
        return RunOutcome(spec, "blocked", str(exc))
    return RunOutcome(spec, "trained")


def run_plan(plan: list[PlannedRun], runs_dir: Path, device: str = "cpu",
             progress: bool = True) -> list[RunOutcome]:
    """Train every unfinished run of ``plan`` in order, one at a time, with a progress bar."""
    runs_dir.mkdir(parents=True, exist_ok=True)
    outcomes = []
    with tqdm(plan, desc="train", unit="run", disable=not progress) as bar:
        for spec in bar:
            bar.set_postfix_str(spec.name)
            outcomes.append(train_one(spec, runs_dir, device))
    return outcomes


def set_threads(threads: int) -> None:
    """Torch CPU threads for training (the machine may be shared)."""
    torch.set_num_threads(threads)
