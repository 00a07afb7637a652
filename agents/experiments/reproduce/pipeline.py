"""The whole reproduction: plan → train (resumable) → measure → claims → report."""

from __future__ import annotations

import time
from pathlib import Path

from tqdm.auto import tqdm

from agents.experiments.config import is_finished, read_history
from agents.experiments.reproduce import measure
from agents.experiments.reproduce.claims import Evidence, evaluate
from agents.experiments.reproduce.plan import PlannedRun, Scale, make_plan
from agents.experiments.reproduce.report import command_line, write_report
from agents.experiments.reproduce.run import estimate_seconds, run_plan
from agents.experiments.sweep import ExecutorConfig, SweepResult, run_sweep
from agents.training.loop import solved_N

ANALYSIS_SECONDS = 0.1  # per stage and 1000 recorded steps (measured 0.07 with 64 units)


def estimate(plan: list[PlannedRun], scale: Scale) -> float:
    """Estimated seconds of the whole reproduction: training plus measurements."""
    measured = sum(1 for s in plan if 5 in s.claims)
    stages = 2 + scale.epochs // 8
    analysis = measured * stages * ANALYSIS_SECONDS * scale.record_steps * scale.record_trials / 1000
    robustness = measured * 8 * scale.accuracy_steps * scale.accuracy_repeats * 2e-5 * \
        (1 + scale.perturb_draws)
    return sum(estimate_seconds(s) for s in plan) + analysis + robustness


def describe(plan: list[PlannedRun], scale: Scale) -> str:
    """The plan as text: one line per run (claims served, estimated minutes) and the total."""
    lines = [f"reproduce --scale {scale.name}: {len(plan)} runs"]
    lines += [f"  claims {','.join(map(str, s.claims)):<11} ~{estimate_seconds(s) / 60:5.1f} min  "
              f"{s.name}" for s in plan]
    bound = sum(s.time_budget or estimate_seconds(s) for s in plan) + estimate(plan, scale) - \
        sum(estimate_seconds(s) for s in plan)
    lines.append(f"estimated total (training + analysis, one thread): "
                 f"{estimate(plan, scale) / 60:.0f} min on an idle core; at most "
                 f"{bound / 60:.0f} min if every run uses its whole time budget")
    return "\n".join(lines)


def gather(plan: list[PlannedRun], runs_dir: Path, scale: Scale, cache: Path,
           blocked: dict[str, str], progress: bool = True) -> Evidence:
    """Histories of the runs that exist, and the measurements of claims 5–7 (cached, so taken of
    finished runs only: a sweep may still be training the others)."""
    histories = {s.name: h for s in plan if (h := read_history(runs_dir / s.name)) is not None
                 and len(h)}
    ev = Evidence(plan, histories, blocked=blocked)
    measured = [s for s in plan if 5 in s.claims and s.name in histories  # cached: finished only
                and is_finished(s.config, histories[s.name])]
    for spec in tqdm(measured, desc="measure", unit="run", disable=not progress):
        ev.timescales[spec.name] = measure.timescales(runs_dir / spec.name, scale, cache)
        partner = next((p for p in measured if p.seed == spec.seed and p.task == spec.task
                        and p.curriculum != spec.curriculum), None)
        if partner is None:
            continue
        N = min(max(solved_N(r.accuracy, h.threshold) for r in h.records)
                for h in (histories[spec.name], histories[partner.name]))
        if N >= 2:
            ev.robustness[spec.name] = measure.robustness(runs_dir / spec.name, N, spec.task,
                                                          scale, cache)
    return ev


def reproduce(scale: Scale, out: Path, argv: list[str], progress: bool = True,
              executor: ExecutorConfig | None = None, wait: bool = True,
              poll: float = 5.0) -> tuple[Path, SweepResult | None]:
    """Run the reproduction at ``scale`` into ``out``; return REPORT.md's path and the sweep's end.

    Smoke and cpu scales train every run here, one after the other. At a scale that does not
    train locally (paper), the runs that start from scratch go to :func:`agents.experiments.sweep.run_sweep`
    on ``executor`` (default: local jobs) as run directories ``out/runs/<name>`` (finished ones
    skipped, unfinished ones resumed); once it has ended, the short retraining runs of claim 9
    train here. The report covers the runs found in ``out/runs``.
    """
    started = time.perf_counter()
    plan = make_plan(scale)
    runs_dir, target = out / "runs", out / "reproduction"
    target.mkdir(parents=True, exist_ok=True)
    result, blocked = None, {}
    local = plan
    if not scale.trains_locally:
        sources = [s.sweep_run(scale.device) for s in plan if s.init_from is None]
        result = run_sweep(sources, runs_dir, executor or ExecutorConfig(), poll=poll, wait=wait,
                           progress=progress)
        local = [s for s in plan if s.init_from is not None]
        if not wait:  # the sources are still training: retrain from them on a later call
            blocked = {s.name: "the sweep's jobs were still running; rerun the command once "
                               "they end" for s in local}
            local = []
    blocked |= {o.spec.name: o.reason for o in run_plan(local, runs_dir, scale.device, progress)
                if o.status == "blocked"}
    ev = gather(plan, runs_dir, scale, out / "measurements", blocked, progress)
    report = write_report(evaluate(ev), scale, target, command_line(argv),
                          paper_command(out), len(plan), time.perf_counter() - started)
    return report, result


def paper_command(out: Path) -> str:
    """The command that reproduces at the paper's scale into ``out`` on a SLURM cluster."""
    return command_line(["reproduce", "--scale", "paper", "--out", str(out), "--executor",
                         "slurm", "--partition", "PARTITION"])
