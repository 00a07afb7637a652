"""Many training runs at once: a grid of ``memtasks train`` runs submitted through submitit.

A :class:`RunSpec` describes one run (task, curriculum, model, τ setting, seed, any other train
flag); :class:`Grid` expands axes into specs; :func:`run_sweep` submits them to SLURM or to local
subprocesses (the same submitit code path), shows progress and reports failures with their logs.
Every job is an ordinary run directory ``SWEEP_DIR/<condition>/seed_<s>/`` trained with
``resume=True``: submitting a sweep again skips finished runs and resumes unfinished ones.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import submitit
from tqdm.auto import tqdm

from agents.experiments.interrupts import SweepInterrupted, controller_output
from agents.experiments.sweep_checks import check_label, check_subpath, read_runs

SWEEP_FILE = "sweep.json"
LOGS = "logs"
EXECUTORS = ("local", "slurm")
AXES = ("task", "curriculum", "model", "tau")
# train flags a sweep sets itself: its axes, the seed and where each run goes
RESERVED = {"task", "curriculum", "model", "tau", "fixed_tau", "seed", "logdir", "resume",
            "no_progress"}


@dataclass
class RunSpec:
    """One training run of a sweep.

    ``tau`` is ``"trained"`` (τ learnt, leaky only: starting at 1 + U(0, 1)) or a number (τ fixed
    there; leaky only). ``options`` holds any other ``memtasks train`` flag by its name
    (``{"hidden": 64, "epochs": 5, "heads": [2, 3]}``). ``label`` names the condition (the runs
    that differ only by seed); by default it is built from task, curriculum, model and τ.
    ``path`` places the run elsewhere under the sweep directory than ``<condition>/seed_<seed>``
    (``memtasks reproduce`` keeps its runs at ``runs/<name>``).
    """

    task: str = "parity"
    curriculum: str = "multi"
    model: str = "leaky"
    tau: str | float = "trained"
    seed: int = 0
    options: dict[str, Any] = field(default_factory=dict)
    label: str | None = None
    path: str | None = None

    @property
    def condition(self) -> str:
        tau = "tau-trained" if self.tau == "trained" else f"tau-fixed{float(self.tau):g}"
        return self.label or f"{self.task}-{self.curriculum}-{self.model}-{tau}"

    def run_dir(self, sweep_dir: str | os.PathLike) -> Path:
        """Where this run lives: ``sweep_dir/<condition>/seed_<seed>`` (or ``sweep_dir/<path>``)."""
        if self.path is not None:
            return Path(sweep_dir) / check_subpath(self.path)
        return Path(sweep_dir) / check_label(self.condition) / f"seed_{self.seed}"

    def argv(self, run_dir: str | os.PathLike) -> list[str]:
        """The ``memtasks train`` arguments of this run, writing to ``run_dir`` and resuming."""
        argv = ["train", "--task", self.task, "--curriculum", self.curriculum, "--model",
                self.model, "--seed", str(self.seed), "--logdir", os.fspath(run_dir), "--resume",
                "--no-progress"]
        if self.tau != "trained":
            argv += ["--fixed-tau", str(self.tau)]
        for key, value in self.options.items():
            flag = "--" + key.replace("_", "-")
            if value is True:
                argv.append(flag)
            elif isinstance(value, (list, tuple)):
                argv += [flag, *map(str, value)]
            elif value is not False and value is not None:
                argv += [flag, str(value)]
        return argv

    def settings(self) -> argparse.Namespace:
        """The run's parsed train settings (defaults filled in); ValueError names a bad flag."""
        if self.tau != "trained" and self.model != "leaky":
            raise ValueError(f"tau={self.tau!r} is not accepted for model {self.model!r}: a fixed "
                             f"τ applies to the leaky model only")
        for key in self.options:
            if key.replace("-", "_") in RESERVED:
                raise ValueError(f"option {key!r} is not accepted: the sweep sets it itself "
                                 f"(use the grid axes and seeds)")
        return _train_parser().parse_args(self.argv("run"))

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class _RaisingParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise ValueError(f"train option {message}")


def _train_parser() -> argparse.ArgumentParser:
    from agents.experiments.cli import _add_train_arguments  # the cli registers this module: import late

    parser = _RaisingParser(prog="memtasks train", add_help=False)
    parser.add_argument("command")
    _add_train_arguments(parser)
    return parser


@dataclass
class Grid:
    """Axes of a sweep; :meth:`specs` is their product, one :class:`RunSpec` per run.

    ``options`` maps a train flag to one value or to a list of values (a list is an axis; use a
    list of lists for a flag that itself takes several values, e.g. ``{"heads": [[2, 3]]}``).
    Flags with several values appear in the condition names. A fixed τ is combined with the
    leaky model only.
    """

    task: Sequence[str] = ("parity",)
    curriculum: Sequence[str] = ("multi",)
    model: Sequence[str] = ("leaky",)
    tau: Sequence[str | float] = ("trained",)
    seeds: Sequence[int] = (0,)
    options: Mapping[str, Any] = field(default_factory=dict)

    def specs(self) -> list[RunSpec]:
        axes = {k: (v if isinstance(v, list) else [v]) for k, v in self.options.items()}
        varied = [k for k, v in axes.items() if len(v) > 1]
        specs = []
        for task, curriculum, model, tau in itertools.product(self.task, self.curriculum,
                                                              self.model, self.tau):
            if model != "leaky" and tau != "trained":
                continue
            for values in itertools.product(*axes.values()):
                options = dict(zip(axes, values))
                base = RunSpec(task, curriculum, model, tau).condition
                label = "-".join([base] + [f"{k}{_compact(options[k])}" for k in varied])
                specs += [RunSpec(task, curriculum, model, tau, seed, options, label)
                          for seed in self.seeds]
        if not specs:
            raise ValueError(f"the grid is empty: tau={list(self.tau)!r} holds no 'trained' "
                             f"entry for models {list(self.model)!r} other than leaky")
        for spec in specs:
            spec.settings()  # every run is valid before anything is submitted
        return specs


def _compact(value: Any) -> str:
    return "_".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)


def run_status(spec: RunSpec, sweep_dir: str | os.PathLike) -> str:
    """``"done"`` (its history says it ended or has all its epochs), ``"partial"`` or ``"new"``."""
    history = spec.run_dir(sweep_dir) / "history.json"
    if not history.is_file():
        return "new"
    try:
        data = json.loads(history.read_text())
    except (OSError, ValueError):
        return "partial"
    if (data.get("stop_reason") in ("target_N", "finished")
            or len(data.get("records", [])) >= spec.settings().epochs):
        return "done"
    return "partial"


class TrainJob(submitit.helpers.Checkpointable):
    """What a submitit job runs: ``memtasks train … --resume`` in the job's process.

    Being ``Checkpointable``, a SLURM job that hits its time limit or is pre-empted is requeued
    and continues from the run's last checkpoint.
    """

    def __init__(self, threads: int | None = None):
        self.threads = threads

    def __call__(self, argv: list[str]) -> int:
        import torch

        from agents.experiments.cli import main

        if self.threads is not None:
            torch.set_num_threads(self.threads)
        code = main(argv)
        if code != 0:
            raise RuntimeError(f"memtasks {' '.join(argv)} exited with code {code}")
        return code


@dataclass
class ExecutorConfig:
    """Where and with what the jobs run.

    ``jobs``: runs at a time (local: how many subprocesses; slurm: the array parallelism, None
    for no limit). ``time`` is minutes per job; ``cpus``, ``gpus`` and ``mem_gb`` per job;
    ``partition`` the SLURM partition.
    """

    kind: str = "local"
    jobs: int | None = None
    time: int = 24 * 60
    cpus: int | None = None
    gpus: int = 0
    mem_gb: float | None = None
    partition: str | None = None

    def parameters(self) -> dict[str, Any]:
        """The submitit ``update_parameters`` keywords for this configuration."""
        if self.kind not in EXECUTORS:
            raise ValueError(f"executor={self.kind!r} is not accepted: expected one of {EXECUTORS}")
        params: dict[str, Any] = {"name": "memtasks-sweep", "timeout_min": self.time,
                                  "gpus_per_node": self.gpus}
        if self.cpus is not None:
            params["cpus_per_task"] = self.cpus
        if self.kind == "slurm":
            if self.mem_gb is not None:
                params["mem_gb"] = self.mem_gb
            if self.partition is not None:
                params["slurm_partition"] = self.partition
            if self.jobs is not None:
                params["slurm_array_parallelism"] = self.jobs
        return params


def make_executor(config: ExecutorConfig, folder: str | os.PathLike) -> submitit.AutoExecutor:
    """A submitit executor for ``config``, logging to ``folder/<job id>_*``.

    The project root is put on ``PYTHONPATH`` (inherited by local and SLURM jobs) so that jobs
    import this copy of the project even where it is not installed.
    """
    root = str(Path(__file__).resolve().parents[1])
    paths = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    if root not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join([root] + [p for p in paths if p])
    executor = submitit.AutoExecutor(folder=os.fspath(folder), cluster=config.kind)
    executor.update_parameters(**config.parameters())
    return executor


@dataclass
class SweepResult:
    """How a sweep ended: runs skipped (already done), finished now, and failed (with logs)."""

    skipped: list[RunSpec] = field(default_factory=list)
    finished: list[RunSpec] = field(default_factory=list)
    failed: list[tuple[RunSpec, Path]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no run failed."""
        return not self.failed


def write_sweep_file(specs: Sequence[RunSpec], sweep_dir: Path, config: ExecutorConfig) -> None:
    """Record the grid (runs, conditions, executor) in ``sweep_dir/sweep.json``, for resubmission."""
    from agents.training.runstate import save_json

    save_json({"runs": [s.to_dict() | {"condition": s.condition,
                                       "run_dir": str(s.run_dir(sweep_dir).relative_to(sweep_dir))}
                        for s in specs],
               "conditions": sorted({s.condition for s in specs}),
               "executor": dataclasses.asdict(config)}, sweep_dir / SWEEP_FILE)


def read_sweep_file(sweep_dir: str | os.PathLike) -> list[RunSpec]:
    """The runs recorded in ``sweep_dir/sweep.json``."""
    path = Path(sweep_dir) / SWEEP_FILE
    if not path.is_file():
        raise FileNotFoundError(f"no {SWEEP_FILE} in '{sweep_dir}': give the grid to sweep")
    names = {f.name for f in dataclasses.fields(RunSpec)}
    return [RunSpec(**{k: v for k, v in run.items() if k in names}) for run in read_runs(path)]


def run_sweep(specs: Iterable[RunSpec], sweep_dir: str | os.PathLike,
              executor: str | ExecutorConfig = "local", *, jobs: int | None = None,
              poll: float = 2.0, wait: bool = True, progress: bool = True,
              log: Callable[[str], object] = print) -> SweepResult:
    """Train every run of ``specs`` under ``sweep_dir``; skip finished runs, resume the others.

    Args:
        specs: the runs (e.g. ``Grid(...).specs()``); each condition/seed pair at most once.
        sweep_dir: runs go to ``sweep_dir/<condition>/seed_<s>/``, job logs to ``sweep_dir/logs``,
            the grid to ``sweep_dir/sweep.json``.
        executor: ``"local"``, ``"slurm"`` or an :class:`ExecutorConfig`.
        jobs: runs at a time (overrides ``executor.jobs``; local default: 1).
        poll: seconds between looks at the jobs.
        wait: wait for the jobs to end (False: submit and return; SLURM only makes sense).
        progress: show a tqdm bar of done / running / failed.
        log: where messages about skipped and failed runs go.

    Returns:
        a :class:`SweepResult`; ``result.failed`` lists each failed run with its job's log file.
    """
    config = executor if isinstance(executor, ExecutorConfig) else ExecutorConfig(kind=executor)
    if jobs is not None:
        config = dataclasses.replace(config, jobs=jobs)
    config.parameters()  # validate the kind before any work
    specs = list(specs)
    sweep_dir = Path(sweep_dir)
    dirs = [s.run_dir(sweep_dir) for s in specs]
    if len(set(dirs)) != len(dirs):
        raise ValueError("specs name the same condition and seed twice; give each run once")
    for spec in specs:
        spec.settings()
    sweep_dir.mkdir(parents=True, exist_ok=True)
    write_sweep_file(specs, sweep_dir, config)

    result = SweepResult()
    todo = []
    for spec in specs:
        status = run_status(spec, sweep_dir)
        (result.skipped if status == "done" else todo).append(spec)
    if result.skipped:
        log(f"{len(result.skipped)} of {len(specs)} runs already finished: skipped")
    if not todo:
        return result
    ex = make_executor(config, sweep_dir / LOGS / "%j")
    threads = config.cpus if config.kind == "local" else None
    window = len(todo) if config.kind == "slurm" else (config.jobs or 1)
    job_of = TrainJob(threads)
    pending = list(todo)
    running: list[tuple[RunSpec, Any]] = []

    def submit() -> None:
        batch = pending[:max(0, window - len(running))]
        del pending[:len(batch)]
        if not batch:
            return
        with controller_output(config.kind, sweep_dir / LOGS), ex.batch():
            submitted = [(s, ex.submit(job_of, s.argv(s.run_dir(sweep_dir)))) for s in batch]
        running.extend(submitted)

    bar = tqdm(total=len(todo), desc="sweep", unit="run", disable=not progress)
    try:
        submit()
        if not wait:
            log(f"submitted {len(running)} jobs; logs in {sweep_dir / LOGS}")
            return result
        while running or pending:
            time.sleep(poll)
            for spec, job in [r for r in running if r[1].done()]:
                running.remove((spec, job))
                try:
                    error = job.exception()
                except Exception as exc:  # killed before it wrote a result: still a failure
                    error = exc
                if error is None:
                    result.finished.append(spec)
                else:
                    result.failed.append((spec, Path(job.paths.stderr)))
                    message = str(error).strip().splitlines() or [type(error).__name__]
                    bar.write(f"FAILED {spec.condition} seed {spec.seed}: {message[-1]} "
                              f"(log: {job.paths.stderr})")
                bar.update(1)
            submit()
            bar.set_postfix(done=len(result.finished), running=len(running),
                            failed=len(result.failed), refresh=False)
    except KeyboardInterrupt:
        for _, job in running:
            job.cancel(check=False)
        raise SweepInterrupted(f"sweep interrupted: {len(running)} running jobs cancelled, "
                               f"{len(result.finished)} runs finished, "
                               f"{len(running) + len(pending)} to do; finished epochs are kept "
                               f"in {sweep_dir}; run the same command again to resume") from None
    finally:
        bar.close()
    return result
