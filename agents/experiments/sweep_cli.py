"""``memtasks sweep``: a grid of training runs from flags or a TOML/JSON file, on SLURM or locally.

A grid file holds the same names as the flags, e.g.::

    task = ["parity", "dms"]
    curriculum = ["single", "multi"]
    tau = ["trained", 1.0]
    seeds = [0, 1, 2]
    [set]
    hidden = 64
    epochs = [5, 10]        # a list is an axis of the grid

Flags given on the command line win over the file. ``memtasks sweep SWEEP_DIR`` with no grid
re-submits the grid recorded in ``SWEEP_DIR/sweep.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the same parser, as a package
    import tomli as tomllib

from agents.experiments.config import CURRICULA, MODELS, TASK_IDS, run_status
from agents.experiments.sweep import (EXECUTORS, ExecutorConfig, Grid, SweepResult, read_sweep_file,
                                      run_sweep)
from agents.experiments.train_flags import parse_settings
from agents.training.paths import float_above, int_at_least, path_argument
from memtasks.checks import SEED_MAX, first_line, is_int, is_real

GRID_KEYS = ("task", "curriculum", "model", "tau", "seeds", "set")


def _tau(text: str) -> str | float:
    if text == "trained":
        return text
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 1.0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected 'trained' or a fixed τ >= 1, got {text!r}")
    return value


def _setting(text: str) -> tuple[str, list[Any]]:
    key, sep, values = text.partition("=")
    if not sep or not key or not values:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE[,VALUE...], got {text!r}")
    return key.replace("-", "_"), [v.split() if " " in v.strip() else v.strip()
                                   for v in values.split(",")]


def add_sweep_arguments(p: argparse.ArgumentParser) -> None:
    """The arguments of ``memtasks sweep``."""
    p.add_argument("sweep_dir", type=path_argument, metavar="SWEEP_DIR",
                   help="runs go to SWEEP_DIR/<condition>/seed_<s>/, the grid to sweep.json")
    grid = p.add_argument_group("grid (each flag takes several values; the grid is their product)")
    grid.add_argument("--config", type=path_argument, default=None, metavar="FILE",
                      help="a TOML or JSON grid file with keys task, curriculum, model, tau, "
                           "seeds and a table 'set'; flags given here win over it")
    grid.add_argument("--task", nargs="+", choices=list(TASK_IDS), default=None,
                      help="tasks (default: parity)")
    grid.add_argument("--curriculum", nargs="+", choices=list(CURRICULA), default=None,
                      help="curricula (default: multi)")
    grid.add_argument("--model", nargs="+", choices=list(MODELS), default=None,
                      help="models (default: leaky)")
    grid.add_argument("--tau", nargs="+", type=_tau, default=None, metavar="TAU",
                      help="'trained' or a fixed τ >= 1 (leaky only), e.g. --tau trained 1 2 "
                           "(default: trained)")
    grid.add_argument("--seeds", nargs="+", type=int_at_least(0, SEED_MAX), default=None,
                      metavar="S", help="seeds (default: 0)")
    grid.add_argument("--set", type=_setting, action="append", default=None, metavar="KEY=VALUE",
                      help="any other train flag, e.g. --set hidden=64 --set epochs=5; "
                           "comma-separated values are an axis (--set hidden=32,64); spaces "
                           "separate a flag's own values (--set 'heads=2 3')")

    ex = p.add_argument_group("executor")
    add_executor_arguments(ex)
    ex.add_argument("--dry-run", action="store_true",
                    help="print the runs and whether each is done, partial or new; run nothing")
    ex.add_argument("--no-progress", action="store_true", help="no progress bar")


def add_executor_arguments(ex: argparse._ActionsContainer) -> None:
    """Where and how jobs run (``memtasks sweep`` and ``memtasks reproduce --scale paper``)."""
    ex.add_argument("--executor", choices=EXECUTORS, default="local",
                    help="local: subprocesses on this machine; slurm: a SLURM job array "
                         "(default: %(default)s)")
    ex.add_argument("--jobs", type=int_at_least(1), default=None, metavar="J",
                    help="runs at a time (local default: 1; slurm: array parallelism, default "
                         "no limit)")
    ex.add_argument("--time", type=int_at_least(1), default=24 * 60, metavar="MINUTES",
                    help="time limit per job; slurm jobs past it are requeued and resume "
                         "(default: %(default)s)")
    ex.add_argument("--cpus", type=int_at_least(1), default=None, metavar="C",
                    help="CPUs per job (local: torch threads per job)")
    ex.add_argument("--gpus", type=int_at_least(0), default=None, metavar="G",
                    help="GPUs per job (default: 1 when the runs train on cuda, else 0)")
    ex.add_argument("--mem", type=int_at_least(1), default=None, metavar="GB",
                    help="slurm: memory per job in GB")
    ex.add_argument("--partition", default=None, help="slurm: the partition")
    ex.add_argument("--poll", type=float_above(0.0), default=5.0, metavar="SECONDS",
                    help="seconds between looks at the jobs (default: %(default)s)")
    ex.add_argument("--no-wait", action="store_true",
                    help="submit and return without waiting (slurm)")


def executor_config(args: argparse.Namespace, cuda: bool) -> ExecutorConfig:
    """The executor the flags of :func:`add_executor_arguments` describe; ``cuda``: runs on a GPU."""
    return ExecutorConfig(kind=args.executor, jobs=args.jobs, time=args.time, cpus=args.cpus,
                          gpus=args.gpus if args.gpus is not None else int(cuda),
                          mem_gb=args.mem, partition=args.partition)


def print_result(result: SweepResult, sweep_dir: Path) -> None:
    """One line of counts, then one line per failed run with its job's log."""
    print(f"sweep {sweep_dir}: {len(result.finished)} finished, {len(result.skipped)} "
          f"skipped (already done), {len(result.failed)} failed")
    for run, log in result.failed:
        print(f"  failed: {run.run_dir(sweep_dir)}  log: {log}")


def _load_config(path: Path) -> dict[str, Any]:
    """The grid file at ``path``; ValueError naming the file and the key whose value is wrong."""
    if not path.is_file():
        raise FileNotFoundError(f"--config {path}: no such file")
    try:
        data = (json.loads(path.read_text()) if path.suffix == ".json"
                else tomllib.loads(path.read_text()))
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"--config {path}: not valid {path.suffix[1:] or 'TOML'} "
                         f"({first_line(exc)})") from None
    if not isinstance(data, dict):
        raise ValueError(f"--config {path}: expected a table of grid keys, got a "
                         f"{type(data).__name__}")
    unknown = set(data) - set(GRID_KEYS)
    if unknown:
        raise ValueError(f"--config {path}: unknown key {sorted(unknown)[0]!r}; expected "
                         f"{', '.join(GRID_KEYS)}")

    def refuse(key: str, expected: str) -> None:
        raise ValueError(f"--config {path}: {key} = {data[key]!r} is not accepted: expected "
                         f"{expected}")

    for key in GRID_KEYS[:3]:  # task, curriculum, model
        if key in data and not all(isinstance(v, str) for v in _as_list(data[key])):
            refuse(key, "a string or a list of strings")
    if "tau" in data and not all(isinstance(v, str) or is_real(v) for v in _as_list(data["tau"])):
        refuse("tau", "'trained', a number >= 1, or a list of them")
    if "seeds" in data and not all(is_int(v) and 0 <= v <= SEED_MAX for v in _as_list(data["seeds"])):
        refuse("seeds", f"an int in [0, {SEED_MAX}] or a list of them")
    if "set" in data and not isinstance(data["set"], dict):
        refuse("set", "a table of train flags, e.g. [set] hidden = 64")
    return data


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def grid_from_args(args: argparse.Namespace) -> Grid | None:
    """The grid the flags and ``--config`` describe; None if they describe none."""
    file = _load_config(args.config) if args.config else {}
    given = {k: getattr(args, k) for k in GRID_KEYS if getattr(args, k) is not None}
    if not file and not given:
        return None
    options = {k.replace("-", "_"): v for k, v in file.get("set", {}).items()}  # a table: checked
    for key, values in given.pop("set", []):
        parsed = [parse_settings({key: v})[key] for v in values]
        options[key] = parsed if len(parsed) > 1 else parsed[0]
    axes = {k: _as_list(given.get(k, file.get(k))) for k in GRID_KEYS[:5]
            if given.get(k, file.get(k)) is not None}
    if "tau" in axes:
        try:
            axes["tau"] = [v if v == "trained" else _tau(str(v)) for v in axes["tau"]]
        except argparse.ArgumentTypeError as error:
            raise ValueError(f"--config {args.config}: tau: {error}") from None
    return Grid(**axes, options=options)


def run_sweep_command(args: argparse.Namespace) -> int:
    """Run ``memtasks sweep``; exit code 1 if any run failed."""
    grid = grid_from_args(args)
    runs = grid.runs() if grid is not None else read_sweep_file(args.sweep_dir)
    if args.dry_run:
        for run in runs:
            print(f"{run_status(run.config, run.run_dir(args.sweep_dir)):>7}  "
                  f"{run.run_dir(args.sweep_dir)}")
        return 0
    cuda = any(run.config.device == "cuda" for run in runs)
    result = run_sweep(runs, args.sweep_dir, executor_config(args, cuda), poll=args.poll,
                       wait=not args.no_wait, progress=not args.no_progress)
    print_result(result, args.sweep_dir)
    return 0 if result.ok else 1
