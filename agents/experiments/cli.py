"""The ``memtasks`` command line. ``memtasks train …`` trains one network and writes a run directory.

Every command has ``--help``; a bad flag or value prints one line naming it and exits with code 2.
A command is a pair (add its arguments to a subparser, run it on the parsed namespace) in
``COMMANDS``: train, analyze, sweep, summarize and reproduce.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from memtasks.version import __version__

from agents.analysis.report import add_analyze_arguments, run_analyze
from agents.experiments.config import RunConfig, read_config, train_run
from agents.experiments.errors import run_command
from agents.experiments.reproduce.cli import add_reproduce_arguments, run_reproduce
from agents.experiments.summarize import add_summarize_arguments, run_summarize
from agents.experiments.sweep_cli import add_sweep_arguments, run_sweep_command
from agents.experiments.train_flags import add_train_arguments, given
from agents.training.monitor import summary_table


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``memtasks train: error: <what> (see --help)``, exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def run_config(args: argparse.Namespace) -> tuple[RunConfig, Path]:
    """The run the train flags describe and its directory; with ``--resume``, the run stored in
    that directory, changed only where the flags may change it."""
    flags = given(args)
    try:
        if args.resume and args.logdir is not None and (stored := read_config(args.logdir)):
            return stored.resumed_with(flags, str(args.logdir)), args.logdir
        config = RunConfig(**flags)
    except (ValueError, TypeError) as exc:  # name the flag the user typed, not the field
        field, sep, rest = str(exc).partition("=")
        if not sep or field not in flags:
            raise
        raise type(exc)(f"--{field.replace('_', '-')}={rest}") from None
    return config, args.logdir or Path("runs") / config.name


def _run_train(args: argparse.Namespace) -> int:
    config, logdir = run_config(args)
    history = train_run(config, logdir, resume=args.resume, progress=not args.no_progress)
    print(summary_table(history))
    print(f"stopped: {history.stop_reason}; largest N solved: {max(history.solved_N, default=0)}")
    print(f"run directory: {logdir}\nwatch it: tensorboard --logdir {logdir}")
    return 0


COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None],
                          Callable[[argparse.Namespace], int]]] = {
    "train": ("train one network on a memory task under a curriculum",
              add_train_arguments, _run_train),
    "analyze": ("analyse a training run or a model file: timescales, ablation, perturbation",
                add_analyze_arguments, run_analyze),
    "sweep": ("train a grid of runs (tasks x curricula x models x tau x seeds x flags) locally "
              "or on SLURM", add_sweep_arguments, run_sweep_command),
    "summarize": ("tabulate and plot a sweep: N reached, epochs to reach N, final tau",
                  add_summarize_arguments, run_summarize),
    "reproduce": ("train, measure and report the paper's nine claims at a chosen scale",
                  add_reproduce_arguments, run_reproduce),
}


def build_parser() -> Parser:
    parser = Parser(prog="memtasks", description="Train and study recurrent networks on memory "
                                                 "tasks (N-parity, N-DMS) with curricula.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (help_text, add_arguments, run) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        add_arguments(p)
        p.set_defaults(run=run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run a ``memtasks`` command; a failure ends with one line on stderr (see ``errors``)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    return run_command(args.command, lambda: args.run(args))


if __name__ == "__main__":
    sys.exit(main())

