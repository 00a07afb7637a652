"""Train the runs of a plan that are not finished yet; a run directory per spec under ``OUT/runs``.

Finished runs are skipped, interrupted ones resume from their checkpoint (with what is left of
their time budget), so running the same plan twice trains nothing the second time.
"""

from __future__ import annotations

from pathlib import Path

from tqdm.auto import tqdm

from agents.experiments.config import is_finished, read_history, train_run
from agents.experiments.reproduce.plan import PlannedRun


def train_one(spec: PlannedRun, runs_dir: Path) -> str | None:
    """Train (or resume) one run into ``runs_dir/spec.name``, unless it is finished; why it is
    blocked (its source run never solved its N), else None."""
    run_dir = runs_dir / spec.name
    if is_finished(spec.config, read_history(run_dir)):
        return None
    try:
        train_run(spec.config, run_dir, resume=True, progress=False)
    except (LookupError, FileNotFoundError) as exc:
        return str(exc)
    return None


def run_plan(plan: list[PlannedRun], runs_dir: Path, progress: bool = True) -> dict[str, str]:
    """Train every unfinished run of ``plan`` in order, one at a time, with a progress bar;
    the blocked runs' names and why."""
    runs_dir.mkdir(parents=True, exist_ok=True)
    blocked = {}
    with tqdm(plan, desc="train", unit="run", disable=not progress) as bar:
        for spec in bar:
            bar.set_postfix_str(spec.name)
            if (reason := train_one(spec, runs_dir)) is not None:
                blocked[spec.name] = reason
    return blocked
