"""Many training runs at once: a grid of runs submitted through submitit.

A :class:`SweepRun` is one run's :class:`RunConfig` and its directory in the sweep; :class:`Grid`
expands axes into them; :func:`run_sweep` submits them to SLURM or to local subprocesses (the
same submitit code path), shows progress and reports failures with their logs. Every job is an
ordinary run directory ``SWEEP_DIR/<condition>/seed_<s>/`` trained with ``resume=True``:
submitting a sweep again skips finished runs and resumes unfinished ones.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import json
import os
import shlex
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import submitit
import torch
from tqdm.auto import tqdm

from agents.experiments.config import RunConfig, run_status, train_run
from agents.training.runstate import save_json
from memtasks.checks import check_choice, first_line, reject

SWEEP_FILE = "sweep.json"
LOGS = "logs"
CONTROLLERS_LOG = "controllers.log"
EXECUTORS = ("local", "slurm")
# settings a grid sets through its axes, not through options
RESERVED = ("task", "curriculum", "model", "tau", "fixed_tau", "seed")


@dataclass(frozen=True)
class SweepRun:
    """One run of a sweep: its description, its directory relative to the sweep directory
    (no ``..``, not absolute) and its condition (the runs that differ only by seed share it)."""

    config: RunConfig
    path: str
    condition: str

    def __post_init__(self) -> None:
        parts = PurePosixPath(self.path).parts
        if not parts or PurePosixPath(self.path).is_absolute() or ".." in parts or "\\" in self.path:
            raise reject("path", self.path, "a relative directory inside the sweep directory")

    def run_dir(self, sweep_dir: str | os.PathLike) -> Path:
        """Where this run lives."""
        return Path(sweep_dir) / self.path

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "condition": self.condition, "config": self.config.to_dict()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> SweepRun:
        if not isinstance(data, Mapping) or {"path", "condition", "config"} - set(data):
            raise reject("sweep run", data, "a mapping with keys path, condition and config",
                         TypeError)
        return cls(RunConfig.from_dict(data["config"]), data["path"], data["condition"])


def condition_name(config: RunConfig) -> str:
    """The name of a grid point from its axes: task, curriculum, model and τ setting."""
    tau = "tau-trained" if config.fixed_tau is None else f"tau-fixed{config.fixed_tau:g}"
    return f"{config.task}-{config.curriculum}-{config.model}-{tau}"


@dataclass
class Grid:
    """Axes of a sweep; :meth:`runs` is their product, one :class:`SweepRun` per run.

    ``tau`` holds ``"trained"`` and fixed values. ``options`` maps any other RunConfig field to
    one value or to a list of values (a list is an axis; use a list of lists for a field that
    itself holds several values, e.g. ``{"heads": [[2, 3]]}``). Fields with several values appear
    in the condition names. A fixed τ is combined with the leaky model only.
    """

    task: Sequence[str] = ("parity",)
    curriculum: Sequence[str] = ("multi",)
    model: Sequence[str] = ("leaky",)
    tau: Sequence[str | float] = ("trained",)
    seeds: Sequence[int] = (0,)
    options: Mapping[str, Any] = field(default_factory=dict)

    def runs(self) -> list[SweepRun]:
        for key in self.options:
            if key in RESERVED:
                raise reject("option", key, "a setting other than the grid's axes (task, "
                             "curriculum, model, tau, seeds)")
        axes = {k: (v if isinstance(v, list) else [v]) for k, v in self.options.items()}
        varied = [k for k, v in axes.items() if len(v) > 1]
        runs = []
        for task, curriculum, model, tau in itertools.product(self.task, self.curriculum,
                                                              self.model, self.tau):
            if model != "leaky" and tau != "trained":
                continue
            for values in itertools.product(*axes.values()):
                options = dict(zip(axes, values))
                for seed in self.seeds:
                    config = RunConfig.from_dict(
                        {**options, "task": task, "curriculum": curriculum, "model": model,
                         "fixed_tau": None if tau == "trained" else tau, "seed": seed},
                        "grid option")
                    condition = "-".join([condition_name(config)]
                                         + [f"{k}{_compact(options[k])}" for k in varied])
                    runs.append(SweepRun(config, f"{condition}/seed_{seed}", condition))
        if not runs:
            raise ValueError(f"the grid is empty: tau={list(self.tau)!r} holds no 'trained' "
                             f"entry for models {list(self.model)!r} other than leaky")
        return runs


def _compact(value: Any) -> str:
    return "_".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)


class TrainJob(submitit.helpers.Checkpointable):
    """What a submitit job runs: :func:`train_run` with ``resume=True`` in the job's process.

    Being ``Checkpointable``, a SLURM job that hits its time limit or is pre-empted is requeued
    and continues from the run's last checkpoint.
    """

    def __init__(self, threads: int | None = None):
        self.threads = threads

    def __call__(self, config: dict[str, Any], run_dir: str) -> str | None:
        if self.threads is not None:
            torch.set_num_threads(self.threads)
        return train_run(RunConfig.from_dict(config), run_dir, resume=True,
                         progress=False).stop_reason


@dataclass
class ExecutorConfig:
    """Where and with what the jobs run.

    ``jobs``: runs at a time (local: how many subprocesses; slurm: the array parallelism, None
    for no limit). ``time`` is minutes per job; ``cpus``, ``gpus`` and ``mem_gb`` per job;
    ``partition`` the SLURM partition. Local jobs do not wait for a GPU each: all ``jobs`` of
    them run at once on the GPUs this process sees (``--jobs J --set device=cuda`` puts J runs
    on one GPU).
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
        check_choice(self.kind, "executor", EXECUTORS)
        params: dict[str, Any] = {"name": "memtasks-sweep", "timeout_min": self.time,
                                  "gpus_per_node": self.gpus}
        optional: dict[str, Any] = {"cpus_per_task": self.cpus}
        if self.kind == "slurm":
            optional |= {"mem_gb": self.mem_gb, "slurm_partition": self.partition,
                         "slurm_array_parallelism": self.jobs}
        params.update({key: value for key, value in optional.items() if value is not None})
        visible = os.environ.get("CUDA_VISIBLE_DEVICES")
        if self.kind == "local" and self.gpus and visible is not None:
            # submitit numbers a local job's GPUs from 0 and sets CUDA_VISIBLE_DEVICES to them;
            # the jobs keep the GPUs chosen for this process instead
            params["local_setup"] = [f"export CUDA_VISIBLE_DEVICES={shlex.quote(visible)}"]
        return params


def make_executor(config: ExecutorConfig, folder: str | os.PathLike) -> submitit.AutoExecutor:
    """A submitit executor for ``config``, logging to ``folder/<job id>_*``.

    The project root is put on ``PYTHONPATH`` (inherited by local and SLURM jobs) so that jobs
    import this copy of the project even where it is not installed.
    """
    root = str(Path(__file__).resolve().parents[2])
    paths = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    if root not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join([root] + [p for p in paths if p])
    executor = submitit.AutoExecutor(folder=os.fspath(folder), cluster=config.kind)
    executor.update_parameters(**config.parameters())
    return executor


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped a sweep; its running jobs were cancelled (the message counts them)."""


@contextlib.contextmanager
def controller_output(kind: str, logs: Path) -> Iterator[None]:
    """For ``kind == "local"``: point file descriptor 2 at ``logs/controllers.log`` meanwhile, so
    the submitit controller processes started now print their tracebacks (on cancel or Ctrl-C)
    there, not on the terminal; other kinds: nothing."""
    if kind != "local":
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    logs.mkdir(parents=True, exist_ok=True)
    with open(logs / CONTROLLERS_LOG, "ab") as log:
        os.dup2(log.fileno(), 2)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


@dataclass
class SweepResult:
    """How a sweep ended: runs skipped (already done), finished now, failed (with logs), and
    blocked (never ready: see ``ready`` of :func:`run_sweep`)."""

    skipped: list[SweepRun] = field(default_factory=list)
    finished: list[SweepRun] = field(default_factory=list)
    failed: list[tuple[SweepRun, Path]] = field(default_factory=list)
    blocked: list[SweepRun] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no run failed."""
        return not self.failed


def write_sweep_file(runs: Sequence[SweepRun], sweep_dir: Path, config: ExecutorConfig) -> None:
    """Record the runs and the executor in ``sweep_dir/sweep.json``, for resubmission."""
    save_json({"runs": [r.to_dict() for r in runs],
               "conditions": sorted({r.condition for r in runs}),
               "executor": dataclasses.asdict(config)}, sweep_dir / SWEEP_FILE)


def read_sweep_file(sweep_dir: str | os.PathLike) -> list[SweepRun]:
    """The runs recorded in ``sweep_dir/sweep.json``; ValueError names the file if it is bad."""
    path = Path(sweep_dir) / SWEEP_FILE
    if not path.is_file():
        raise FileNotFoundError(f"no {SWEEP_FILE} in '{sweep_dir}': give the grid to sweep")
    try:
        data = json.loads(path.read_text())
        if not isinstance(data, dict) or not isinstance(data.get("runs"), list):
            raise ValueError("expected an object with a list 'runs'")
        return [SweepRun.from_dict(run) for run in data["runs"]]
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{path} is not a sweep file this version can read: "
                         f"{first_line(exc)}") from None


def run_sweep(runs: Iterable[SweepRun], sweep_dir: str | os.PathLike,
              executor: str | ExecutorConfig = "local", *, jobs: int | None = None,
              poll: float = 2.0, wait: bool = True, progress: bool = True,
              log: Callable[[str], object] = print,
              ready: Callable[[SweepRun], bool] | None = None) -> SweepResult:
    """Train every run of ``runs`` under ``sweep_dir``; skip finished runs, resume the others.

    Args:
        runs: the runs (e.g. ``Grid(...).runs()``); each directory at most once.
        sweep_dir: runs go to ``sweep_dir/<condition>/seed_<s>/``, job logs to ``sweep_dir/logs``,
            the grid to ``sweep_dir/sweep.json``.
        executor: ``"local"``, ``"slurm"`` or an :class:`ExecutorConfig`.
        jobs: runs at a time (overrides ``executor.jobs``; local default: 1).
        poll: seconds between looks at the jobs.
        wait: wait for the jobs to end (False: submit and return; SLURM only makes sense).
        progress: show a tqdm bar of done / running / failed.
        log: where messages about skipped and failed runs go.
        ready: a run waits until ``ready(run)`` (asked at every poll), e.g. until the run it starts
            from has solved its N; runs still waiting when nothing else runs are ``blocked``.

    Returns:
        a :class:`SweepResult`; ``result.failed`` lists each failed run with its job's log file.
    """
    config = executor if isinstance(executor, ExecutorConfig) else ExecutorConfig(kind=executor)
    if jobs is not None:
        config = dataclasses.replace(config, jobs=jobs)
    config.parameters()  # validate the kind before any work
    runs = list(runs)
    sweep_dir = Path(sweep_dir)
    dirs = [s.run_dir(sweep_dir) for s in runs]
    if len(set(dirs)) != len(dirs):
        raise ValueError("two runs share a directory; give each run once")
    sweep_dir.mkdir(parents=True, exist_ok=True)
    write_sweep_file(runs, sweep_dir, config)

    result = SweepResult()
    todo: list[SweepRun] = []
    for run in runs:
        (result.skipped if run_status(run.config, run.run_dir(sweep_dir)) == "done" else todo).append(run)
    if result.skipped:
        log(f"{len(result.skipped)} of {len(runs)} runs already finished: skipped")
    if not todo:
        return result
    ex = make_executor(config, sweep_dir / LOGS / "%j")
    window = len(todo) if config.kind == "slurm" else (config.jobs or 1)
    job_of = TrainJob(config.cpus if config.kind == "local" else None)
    pending = list(todo)
    running: list[tuple[SweepRun, Any]] = []

    def submit() -> None:
        free = window - len(running)  # ready() may read a run's history: asked only with room
        batch = list(itertools.islice((s for s in pending if ready is None or ready(s)),
                                      max(0, free)))
        if not batch:
            return
        for s in batch:
            pending.remove(s)
        with controller_output(config.kind, sweep_dir / LOGS), ex.batch():
            submitted = [(s, ex.submit(job_of, s.config.to_dict(), str(s.run_dir(sweep_dir))))
                         for s in batch]
        running.extend(submitted)

    bar = tqdm(total=len(todo), desc="sweep", unit="run", disable=not progress)
    try:
        submit()
        if not wait:
            result.blocked.extend(pending)
            log(f"submitted {len(running)} jobs; logs in {sweep_dir / LOGS}")
            return result
        while running or pending:
            if not running:  # nothing runs and nothing pending became ready: it never will
                result.blocked.extend(pending)
                break
            time.sleep(poll)
            for run, job in [r for r in running if r[1].done()]:
                running.remove((run, job))
                try:
                    error = job.exception()
                except Exception as exc:  # killed before it wrote a result: still a failure
                    error = exc
                if error is None:
                    result.finished.append(run)
                else:
                    result.failed.append((run, Path(job.paths.stderr)))
                    message = str(error).strip().splitlines() or [type(error).__name__]
                    bar.write(f"FAILED {run.condition} seed {run.config.seed}: {message[-1]} "
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
