"""Train the runs of a plan that are not finished yet; a run directory per spec under ``OUT/runs``.

Finished runs are skipped, interrupted ones resume from their checkpoint (with what is left of
their time budget), so running the same plan twice trains nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from tqdm.auto import tqdm

from agents.experiments.config import is_finished, read_history, train_run
from agents.experiments.reproduce.plan import PlannedRun


@dataclass
class RunOutcome:
    """What happened to one spec: "trained", "skipped" (already finished) or "blocked" (why)."""

    spec: PlannedRun
    status: str
    reason: str = ""


def train_one(spec: PlannedRun, runs_dir: Path) -> RunOutcome:
    """Train (or resume) one run into ``runs_dir/spec.name``; skip it if already finished."""
    run_dir = runs_dir / spec.name
    if is_finished(spec.config, read_history(run_dir)):
        return RunOutcome(spec, "skipped")
    try:
        train_run(spec.config, run_dir, resume=True, progress=False)
    except (LookupError, FileNotFoundError) as exc:  # its source run never solved its N
        return RunOutcome(spec, "blocked", str(exc))
    return RunOutcome(spec, "trained")


def run_plan(plan: list[PlannedRun], runs_dir: Path, progress: bool = True) -> list[RunOutcome]:
    """Train every unfinished run of ``plan`` in order, one at a time, with a progress bar."""
    runs_dir.mkdir(parents=True, exist_ok=True)
    outcomes = []
    with tqdm(plan, desc="train", unit="run", disable=not progress) as bar:
        for spec in bar:
            bar.set_postfix_str(spec.name)
            outcomes.append(train_one(spec, runs_dir))
    return outcomes


def set_threads(threads: int) -> None:
    """Torch CPU threads for training (the machine may be shared)."""
    torch.set_num_threads(threads)
