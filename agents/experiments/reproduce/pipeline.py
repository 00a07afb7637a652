"""The whole reproduction: plan → train (resumable) → measure → claims → numbers.json → report."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import torch

from agents.experiments.config import is_finished, read_history, source_model
from agents.experiments.reproduce import measure
from agents.experiments.reproduce.claims import Evidence, evaluate
from agents.experiments.reproduce.cost import (CPU, DeviceCost, analysis_seconds, cost_of,
                                               detect_gpu, packed_seconds, run_seconds)
from agents.experiments.reproduce.plan import PlannedRun, Scale, make_plan
from agents.experiments.reproduce.report import (display_path, read_numbers, render, sizes,
                                                 write_numbers)
from agents.experiments.reproduce.run import run_plan
from agents.experiments.sweep import ExecutorConfig, SweepResult, SweepRun, run_sweep
from agents.training.runstate import save_json

WALL = "wall.json"  # seconds of each invocation that trained, under OUT/reproduction


def gpu_cost(plan: Sequence[PlannedRun]) -> tuple[DeviceCost, str]:
    """The cost model of the GPU runs (none: the CPU's) and a line saying where it comes from."""
    if not any(s.device == "cuda" for s in plan):
        return CPU, "times estimated for one CPU thread per run"
    return detect_gpu()


def describe(plan: list[PlannedRun], scale: Scale, jobs: int | None = None) -> str:
    """The plan as text: one line per run (claims, device, estimated minutes alone on its device)
    and the estimated wall time (``jobs`` runs at a time; one at a time by default)."""
    gpu, where = gpu_cost(plan)
    jobs = jobs or scale.jobs or 1
    alone = {s.name: run_seconds(s, cost_of(s, gpu)) for s in plan}
    lines = [f"reproduce --scale {scale.name}: {len(plan)} runs; {where} (per run: alone on "
             "its device)"]
    lines += [f"  claims {','.join(map(str, s.claims)):<11} {s.device:<4} "
              f"~{alone[s.name] / 60:5.1f} min  {s.name}" for s in plan]
    training = packed_seconds(longest_first(plan, gpu), gpu, jobs)
    analysis = analysis_seconds(plan, scale)
    at_once = (f"{jobs} runs at a time" if jobs > 1 else "one run at a time") + (
        " sharing one GPU" if gpu is not CPU else "")
    lines.append(f"estimated wall time, {at_once}: {(training + analysis) / 60:.1f} min "
                 f"(training {training / 60:.1f}, measurements {analysis / 60:.1f}); each run "
                 f"stops at its epochs or its time budget, whichever comes first")
    return "\n".join(lines)


def longest_first(plan: Sequence[PlannedRun], gpu: DeviceCost) -> list[PlannedRun]:
    """The plan with its longest runs first (so packed runs end together)."""
    return sorted(plan, key=lambda s: -run_seconds(s, cost_of(s, gpu)))


def gather(plan: list[PlannedRun], runs_dir: Path, scale: Scale, cache: Path,
           blocked: dict[str, str], progress: bool = True, protocol: str = "paper") -> Evidence:
    """Histories of the runs that exist, and the measurements of claims 5–7 by ``protocol``
    (cached, so taken of finished runs only: a sweep may still be training the others)."""
    histories = {s.name: h for s in plan if (h := read_history(runs_dir / s.name)) is not None
                 and len(h)}
    ev = Evidence(plan, histories, blocked=blocked, protocol=protocol)
    measured = [s for s in plan if 5 in s.claims and s.name in histories  # cached: finished only
                and is_finished(s.config, histories[s.name])]
    jobs = []
    for spec in measured:
        partner = next((p for p in measured if p.seed == spec.seed and p.task == spec.task
                        and p.curriculum != spec.curriculum), None)
        N = None if partner is None else min(histories[spec.name].largest_N,
                                             histories[partner.name].largest_N)
        jobs.append((runs_dir / spec.name, N if N is not None and N >= 2 else None, spec.task))
    workers = min(len(jobs), scale.jobs or 1)
    for spec, (taus, robust) in zip(measured, measure.measure_runs(
            jobs, scale, cache, protocol, workers, progress)):
        ev.timescales[spec.name] = taus
        if robust is not None:
            ev.robustness[spec.name] = robust
    return ev


def source_ready(run: SweepRun, runs_dir: Path) -> bool:
    """Whether the run may start: it starts from scratch, or its source has solved its N."""
    if run.config.init_from is None:
        return True
    try:
        source_model(runs_dir / run.config.init_from[0], run.config.init_from[1])
    except LookupError:
        return False
    return True


def _blocked_reason(run: SweepRun, waited: bool) -> str:
    source, n = run.config.init_from or ("?", 0)
    if not waited:
        return "the sweep's jobs were still running; rerun the command once they end"
    return f"run {source} never solved N={n}"


def train_all(plan: list[PlannedRun], scale: Scale, runs_dir: Path, progress: bool,
              executor: ExecutorConfig | None, wait: bool,
              poll: float) -> tuple[SweepResult | None, dict[str, str]]:
    """Train every unfinished run: here one after the other (smoke, cpu), or as sweep jobs,
    longest first, a run that starts from another once that one has solved its N."""
    if scale.trains_locally:
        return None, run_plan(plan, runs_dir, progress)
    jobs = [s.sweep_run() for s in longest_first(plan, gpu_cost(plan)[0])]
    cuda = any(s.device == "cuda" for s in plan)
    executor = executor or ExecutorConfig(jobs=scale.jobs, cpus=1, gpus=int(cuda))
    result = run_sweep(jobs, runs_dir, executor, poll=poll,
                       wait=wait, progress=progress, ready=lambda r: source_ready(r, runs_dir))
    return result, {r.path: _blocked_reason(r, wait) for r in result.blocked}


def machine(plan: Sequence[PlannedRun]) -> str:
    """The device the runs trained on, in words."""
    if any(s.device == "cuda" for s in plan) and torch.cuda.is_available():
        return f"{torch.cuda.get_device_name(0)} (CPU for runs on cpu)"
    return "CPU"


def reproduce(scale: Scale, out: Path, command: str, progress: bool = True,
              executor: ExecutorConfig | None = None, wait: bool = True, poll: float = 5.0,
              compare: Path | None = None, protocol: str = "paper",
              note: str | None = None) -> tuple[Path, SweepResult | None]:
    """Run the reproduction at ``scale`` into ``out``; return REPORT.md's path and the sweep's end.

    Smoke and cpu scales train every run here, one after the other; the others train as sweep
    jobs on ``executor`` (default: the scale's local jobs, sharing this machine's GPU). Finished
    runs are skipped and unfinished ones resumed, so the command can be stopped and run again.
    ``command`` is the command line shown in the report; ``compare`` another scale's
    numbers.json to put beside this one's. Claims 5–7 are measured by ``protocol``: "paper"
    (the authors' definitions) or "project" (see :mod:`agents.experiments.reproduce.measure`).
    ``note``: a line for the report's header.
    """
    started = time.perf_counter()
    protocol = measure.check_protocol(protocol)
    plan = make_plan(scale)
    runs_dir, target = out / "runs", out / "reproduction"
    target.mkdir(parents=True, exist_ok=True)
    result, blocked = train_all(plan, scale, runs_dir, progress, executor, wait, poll)
    ev = gather(plan, runs_dir, scale, out / "measurements", blocked, progress, protocol)
    wall_file = target / WALL
    walls = json.loads(wall_file.read_text()) if wall_file.exists() else []
    walls.append(time.perf_counter() - started)
    save_json(walls, wall_file)  # atomically: a kill mid-write must not break later calls
    meta = {"scale": scale.name, "command": command, "protocol": protocol,
            "sizes": sizes(scale), "runs": len(plan),
            "device": machine(plan), "torch": torch.__version__, "wall_seconds": walls,
            "training_seconds": sum(sum(h.seconds) for h in ev.histories.values()),
            **({"note": note} if note else {})}
    doc = write_numbers(evaluate(ev), meta, target)
    return report_from(doc, target, compare), result


def report_from(doc: Mapping, target: Path, compare: Path | None) -> Path:
    """REPORT.md and figures from ``doc``, beside the numbers.json at ``compare`` if given."""
    other = read_numbers(compare) if compare is not None else None
    return render(doc, target, other, None if compare is None else display_path(compare))
