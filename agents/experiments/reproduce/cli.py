"""``memtasks reproduce --scale {smoke,cpu,paper} --out DIR``: arguments and entry point."""

from __future__ import annotations

import argparse
import dataclasses

from agents.experiments.reproduce.pipeline import describe, reproduce
from agents.experiments.reproduce.plan import SCALES, get_scale, make_plan
from agents.experiments.reproduce.run import set_threads
from agents.experiments.sweep_cli import add_executor_arguments, executor_config, print_result
from agents.training.paths import make_out_dir, path_argument


def add_reproduce_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``memtasks reproduce``."""
    parser.add_argument("--scale", choices=list(SCALES), required=True,
                        help="smoke: every stage on tiny sizes in seconds; cpu: 64-unit networks, at "
                             "most ~76 min on one core; paper: the paper's sizes, trained as sweep "
                             "jobs (see executor) on cuda")
    parser.add_argument("--out", type=path_argument, required=True, metavar="DIR",
                        help="runs go to DIR/runs, the report to DIR/reproduction/REPORT.md")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the plan and the estimated time, train nothing")
    parser.add_argument("--device", choices=("cpu", "cuda"), default=None,
                        help="where to train (default: cuda at paper scale, else cpu)")
    parser.add_argument("--threads", type=int, default=1, metavar="T",
                        help="torch CPU threads of the runs trained here (default: %(default)s)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    add_executor_arguments(parser.add_argument_group(
        "executor (--scale paper: its runs are sweep jobs; smoke and cpu train here, in process)"))


def run_reproduce(args: argparse.Namespace) -> int:
    """Print the plan and its estimated time, then (unless --dry-run) reproduce and report.

    Exit code 1 when a paper-scale sweep job failed (the report is written all the same).
    """
    if args.threads < 1:
        raise ValueError(f"--threads {args.threads} is not accepted: expected an int >= 1")
    scale = get_scale(args.scale)
    if args.device is not None:
        scale = dataclasses.replace(scale, device=args.device)
    print(describe(make_plan(scale), scale), flush=True)
    if args.dry_run:
        return 0
    make_out_dir(args.out, "--out")
    set_threads(args.threads)
    argv = ["reproduce", "--scale", args.scale, "--out", str(args.out)]
    report, result = reproduce(scale, args.out, argv, progress=not args.no_progress,
                               executor=executor_config(args, scale.device == "cuda"),
                               wait=not args.no_wait, poll=args.poll)
    if result is not None:
        print_result(result, args.out / "runs")
    print(f"report written to {report}")
    return 0 if result is None or result.ok else 1
