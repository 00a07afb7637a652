"""The ``memtasks`` command line. ``memtasks train …`` trains one network and writes a run directory.

Every command has ``--help``. A command is a pair (add its arguments to a subparser, run it on
the parsed namespace) in ``COMMANDS``: train, analyze, sweep, summarize and reproduce.

A failing command prints one line on stderr, never a traceback, and exits with code 2 for bad
input (a flag, a file, a directory; ``ValueError``, ``TypeError``, ``FileNotFoundError``,
``LookupError``), 1 for a failure of the run itself (training diverged, the disk is full, a file
cannot be written), 130 for Ctrl-C (the line says what was kept and how to go on).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from agents.analysis.report import add_analyze_arguments, run_analyze
from agents.experiments.config import RunConfig, read_config, train_run
from agents.experiments.reproduce.cli import add_reproduce_arguments, run_reproduce
from agents.experiments.summarize import add_summarize_arguments, run_summarize
from agents.experiments.sweep_cli import add_sweep_arguments, run_sweep_command
from agents.experiments.train_flags import add_train_arguments, given
from agents.training.loop import TrainingInterrupted
from agents.training.monitor import summary_table
from memtasks.checks import first_line
from memtasks.version import __version__

INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a process ended by Ctrl-C


def _interrupted(error: KeyboardInterrupt) -> str:
    if isinstance(error, TrainingInterrupted) and error.kept:
        return (f"{first_line(error)}; continue with: memtasks train --logdir "
                f"{error.checkpoint_dir} --resume")
    return first_line(error) if str(error) else "interrupted"


def _os_error(error: OSError) -> str:
    if error.filename is None or type(error).__str__ is not OSError.__str__:
        return first_line(error)
    return f"cannot use '{error.filename}': {error.strerror}"


def run_command(command: str, run: Callable[[], int]) -> int:
    """``run()``'s exit code; a failure is printed as ``memtasks COMMAND: …`` and mapped to a code."""
    def say(message: str) -> None:
        print(f"memtasks {command}: {message}", file=sys.stderr)

    try:
        return run()
    except KeyboardInterrupt as error:
        say(_interrupted(error))
        return INTERRUPTED
    except FloatingPointError as error:  # training diverged: not a usage error
        say(first_line(error))
        return 1
    except (ValueError, TypeError, FileNotFoundError, LookupError) as error:
        say(f"error: {first_line(error)}")
        return 2
    except OSError as error:
        say(f"error: {_os_error(error)}")
        return 1


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
    print(f"stopped: {history.stop_reason}; largest N solved: {history.largest_N}")
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
    """Run a ``memtasks`` command; a failure ends with one line on stderr (see :func:`run_command`)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    return run_command(args.command, lambda: args.run(args))


if __name__ == "__main__":
    sys.exit(main())

