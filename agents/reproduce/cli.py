"""``memtasks reproduce --scale {smoke,cpu,paper} --out DIR``: arguments and entry point."""

from __future__ import annotations

import argparse
from pathlib import Path

from agents.reproduce.plan import SCALES, get_scale, make_plan


def add_reproduce_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``memtasks reproduce``."""
    parser.add_argument("--scale", choices=list(SCALES), required=True,
                        help="smoke: every stage on tiny sizes in seconds; cpu: 64-unit networks, at "
                             "most ~76 min on one core; paper: the paper's sizes, trained by "
                             "`memtasks sweep` (this lists the runs and reports on those done)")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR",
                        help="runs go to DIR/runs, the report to DIR/reproduction/REPORT.md")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the plan and the estimated time, train nothing")
    parser.add_argument("--threads", type=int, default=1, metavar="T",
                        help="torch CPU threads (default: %(default)s)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


def run_reproduce(args: argparse.Namespace) -> int:
    """Print the plan and its estimated time, then (unless --dry-run) reproduce and report."""
    from agents.reproduce.pipeline import describe, reproduce
    from agents.reproduce.run import set_threads

    if args.threads < 1:
        raise ValueError(f"--threads {args.threads} is not accepted: expected an int >= 1")
    scale = get_scale(args.scale)
    print(describe(make_plan(scale), scale), flush=True)
    if args.dry_run:
        return 0
    set_threads(args.threads)
    argv = ["reproduce", "--scale", args.scale, "--out", str(args.out)]
    report = reproduce(scale, args.out, argv, progress=not args.no_progress)
    print(f"report written to {report}")
    return 0
