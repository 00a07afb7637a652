"""``memtasks reproduce --scale {smoke,cpu,gpu,paper} --out DIR``: arguments and entry point."""

from __future__ import annotations

import argparse
import dataclasses

import torch

from agents.experiments.config import DEVICES
from agents.experiments.reproduce.claims import Claim
from agents.experiments.reproduce.measure import PROTOCOLS
from agents.experiments.reproduce.pipeline import describe, report_from, reproduce
from agents.experiments.reproduce.plan import SCALES, make_plan
from agents.experiments.reproduce.report import (NUMBERS, command_line, display_path,
                                                 read_numbers, write_numbers)
from agents.experiments.sweep_cli import add_executor_arguments, executor_config, print_result
from agents.training.paths import int_at_least, make_out_dir, path_argument


def add_reproduce_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``memtasks reproduce``."""
    parser.add_argument("--scale", choices=list(SCALES), required=True,
                        help="smoke: every stage on tiny sizes in seconds; cpu: 64-unit networks, "
                             "about 40 min on one core; gpu: the paper's network and training "
                             "settings, runs capped to fit ~10 min on one H100, packed onto it; "
                             "paper: the paper's sizes, trained as sweep jobs (see executor)")
    parser.add_argument("--out", type=path_argument, required=True, metavar="DIR",
                        help="runs go to DIR/runs, the report to DIR/reproduction/REPORT.md")
    parser.add_argument("--protocol", choices=PROTOCOLS, default="paper",
                        help="how claims 5–7 are measured on the trained networks: paper (the "
                             "authors' definitions) or project (default: %(default)s)")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the plan and the estimated time per run, train nothing")
    parser.add_argument("--report-only", action="store_true",
                        help="re-render DIR/reproduction/REPORT.md and its figures from "
                             "DIR/reproduction/numbers.json; train and measure nothing")
    parser.add_argument("--compare", type=path_argument, default=None, metavar="NUMBERS_JSON",
                        help="another scale's numbers.json, shown in a column beside this one "
                             "(e.g. docs/reproduction/numbers.json)")
    parser.add_argument("--note", default=None, metavar="TEXT",
                        help="a note for the report's header, e.g. what changed since the last "
                             "report; kept in numbers.json (with --report-only: replaces the "
                             "stored one, \"\" removes it)")
    parser.add_argument("--device", choices=DEVICES, default=None,
                        help="where the runs train (default: cuda at gpu and paper scale, else "
                             "cpu; GRUs/LSTMs train on cpu at gpu scale)")
    parser.add_argument("--threads", type=int_at_least(1), default=1, metavar="T",
                        help="torch CPU threads of the runs trained here (default: %(default)s)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")
    add_executor_arguments(parser.add_argument_group(
        "executor (gpu and paper scales: their runs are sweep jobs; gpu default: local, the "
        "scale's jobs at a time, one CPU thread each; smoke and cpu train here, in process)"))


def _command(args: argparse.Namespace) -> str:
    """The command line as a user would type it (relative --out, the flags that matter)."""
    argv = ["reproduce", "--scale", args.scale, "--out", display_path(args.out)]
    for flag, value, default in (("--protocol", args.protocol, "paper"),
                                 ("--device", args.device, None), ("--threads", args.threads, 1),
                                 ("--executor", args.executor, "local"), ("--jobs", args.jobs, None)):
        if value != default:
            argv += [flag, str(value)]
    return command_line(argv)


def run_reproduce(args: argparse.Namespace) -> int:
    """Print the plan and its estimated time, then (unless --dry-run) reproduce and report.

    Exit code 1 when a sweep job failed (the report is written all the same).
    """
    if args.compare is not None and not args.compare.is_file():
        raise FileNotFoundError(f"--compare {args.compare}: no such file")
    target = args.out / "reproduction"
    if args.report_only:
        doc = read_numbers(target / NUMBERS)
        if doc.get("scale") != args.scale:
            raise ValueError(f"--scale {args.scale} is not accepted: {target / NUMBERS} holds "
                             f"scale {doc.get('scale')!r}")
        claims = [Claim.from_dict(c) for c in doc["claims"]]  # checks under this version's rule
        meta = {k: v for k, v in doc.items() if k != "claims"}
        if args.note is not None:
            meta["note"] = args.note
        doc = write_numbers(claims, meta, target)
        print(f"report written to {report_from(doc, target, args.compare)}")
        return 0
    scale = SCALES[args.scale]
    if args.device is not None:
        scale = dataclasses.replace(scale, device=args.device)
    print(describe(make_plan(scale), scale, args.jobs), flush=True)
    if args.dry_run:
        return 0
    make_out_dir(args.out, "--out")
    torch.set_num_threads(args.threads)  # the runs trained here
    executor = executor_config(args, scale.device == "cuda")
    if scale.jobs is not None:  # packed onto this machine: the scale's jobs, a thread each
        executor = dataclasses.replace(executor, jobs=executor.jobs or scale.jobs,
                                       cpus=executor.cpus or 1)
    report, result = reproduce(scale, args.out, _command(args), progress=not args.no_progress,
                               executor=executor, wait=not args.no_wait, poll=args.poll,
                               compare=args.compare, protocol=args.protocol, note=args.note)
    if result is not None:
        print_result(result, args.out / "runs")
    print(f"report written to {report}")
    return 0 if result is None or result.ok else 1
