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
from typing import Any

from memtasks import __version__

from agents.analysis.report import add_analyze_arguments, run_analyze
from agents.experiments.cli_types import float_above, int_at_least
from agents.experiments.reproduce.cli import add_reproduce_arguments, run_reproduce
from agents.experiments.summarize import add_summarize_arguments, run_summarize
from agents.experiments.sweep_cli import add_sweep_arguments, run_sweep_command

TASK_IDS = {"parity": "memtasks/Parity-v0", "dms": "memtasks/DMS-v0"}
CURRICULA = {"single": "SingleHead", "multi": "MultiHead", "sliding": "Sliding", "none": "Fixed"}
MODELS = ("leaky", "gru", "lstm")


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors: ``memtasks train: error: <what> (see --help)``, exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _add_train_arguments(p: argparse.ArgumentParser) -> None:
    task = p.add_argument_group("task and curriculum")
    task.add_argument("--task", choices=list(TASK_IDS), default="parity",
                      help="memory task: N-parity or N-delayed-match-to-sample (default: %(default)s)")
    task.add_argument("--curriculum", choices=list(CURRICULA), default="multi",
                      help="single: one head, N -> N+1 when solved; multi: add head N+1 and keep "
                           "the others; sliding: drop the smallest N, add one above; none: the "
                           "starting heads throughout (default: %(default)s)")
    task.add_argument("--heads", type=int_at_least(1), nargs="+", default=[2], metavar="N",
                      help="starting head set, e.g. --heads 2 3 4 for a sliding window of three "
                           "(default: 2)")
    task.add_argument("--max-n", type=int_at_least(1), default=None, metavar="N",
                      help="the curriculum never goes beyond this N (default: no cap)")
    task.add_argument("--threshold", type=float_above(0.0), default=0.98,
                      help="accuracy above which a stage counts as solved (default: %(default)s)")
    task.add_argument("--labels", choices=("final", "every_step"), default="final",
                      help="a label at the last step only, or at every step whose window is "
                           "complete (default: %(default)s)")

    model = p.add_argument_group("model")
    model.add_argument("--model", choices=MODELS, default="leaky",
                       help="leaky: the paper's leaky RNN with a timescale per neuron; gru; lstm "
                            "(default: %(default)s)")
    model.add_argument("--hidden", type=int_at_least(1), default=500, metavar="H",
                       help="number of hidden units (default: %(default)s, the paper's)")
    taus = model.add_mutually_exclusive_group()
    taus.add_argument("--tau", type=float_above(1.0, inclusive=True), default=None, metavar="T",
                      help="leaky only: start every trainable tau at T (default: 1 + U(0, 1))")
    taus.add_argument("--fixed-tau", type=float_above(1.0, inclusive=True), default=None,
                      metavar="T", help="leaky only: fix every tau at T; tau is not trained")

    run = p.add_argument_group("training")
    run.add_argument("--epochs", type=int_at_least(1), default=50, metavar="E",
                     help="epochs of the whole run, resumed or not (default: %(default)s)")
    run.add_argument("--steps-per-epoch", type=int_at_least(1), default=600, metavar="S",
                     help="training batches per epoch (default: %(default)s)")
    run.add_argument("--eval-steps", type=int_at_least(1), default=50, metavar="S",
                     help="evaluation batches per epoch (default: %(default)s)")
    run.add_argument("--batch-size", type=int_at_least(1), default=256, metavar="B",
                     help="sequences per batch (default: %(default)s)")
    run.add_argument("--lr", type=float_above(0.0), default=0.05,
                     help="learning rate of SGD with Nesterov momentum 0.1 (default: %(default)s)")
    run.add_argument("--seed", type=int_at_least(0), default=0,
                     help="seed of every random draw (default: %(default)s)")
    run.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                     help="where to train (default: %(default)s)")
    run.add_argument("--target-n", type=int_at_least(1), default=None, metavar="N",
                     help="stop once a head with N >= this is solved")
    run.add_argument("--time-budget", type=float_above(0.0), default=None, metavar="SECONDS",
                     help="stop before an epoch that would end after this many seconds")

    out = p.add_argument_group("output")
    out.add_argument("--logdir", type=Path, default=None, metavar="DIR",
                     help="run directory: TensorBoard events, checkpoint.pt, history.json, "
                          "models/ (default: runs/<task>-<curriculum>-<model><hidden>-seed<seed>)")
    out.add_argument("--resume", action="store_true",
                     help="continue the run in --logdir from its last checkpoint")
    out.add_argument("--no-progress", action="store_true", help="no progress bar")


def make_env(task: str, curriculum: str, heads: Sequence[int], *, threshold: float,
             max_N: int | None, labels: str = "final") -> Any:
    """The memtasks env of ``task`` (a key of TASK_IDS) inside ``curriculum`` (a key of CURRICULA)."""
    import gymnasium as gym

    import curricula
    import memtasks  # noqa: F401  (registers the envs)

    env = gym.make(TASK_IDS[task], N=list(heads), labels=labels)
    return getattr(curricula, CURRICULA[curriculum])(env, threshold=threshold, max_N=max_N)


def make_model(kind: str, hidden: int, heads: Sequence[int], *, tau: float | None = None,
               fixed_tau: float | None = None) -> Any:
    """A fresh network of ``kind`` (one of MODELS); a leaky one starts τ at ``tau`` or fixes it at ``fixed_tau``."""
    from agents import LeakyRNN
    from agents.training.checkpoint import KINDS

    if kind == "leaky":
        fixed = fixed_tau is not None
        return LeakyRNN(hidden, heads, train_tau=not fixed, tau=fixed_tau if fixed else tau)
    return KINDS[kind](hidden, heads)


def _run_train(args: argparse.Namespace) -> int:
    from agents.training.monitor import summary_table
    from agents.training.loop import train

    if args.model != "leaky" and (args.tau is not None or args.fixed_tau is not None):
        raise ValueError(f"--tau and --fixed-tau apply to --model leaky only, not {args.model!r}")
    logdir = args.logdir or Path("runs") / (f"{args.task}-{args.curriculum}-{args.model}"
                                            f"{args.hidden}-seed{args.seed}")
    env = make_env(args.task, args.curriculum, args.heads, threshold=args.threshold,
                   max_N=args.max_n, labels=args.labels)
    model = make_model(args.model, args.hidden, env.unwrapped.heads, tau=args.tau,
                       fixed_tau=args.fixed_tau)
    history = train(model, env, epochs=args.epochs, steps_per_epoch=args.steps_per_epoch,
                    eval_steps=args.eval_steps, batch_size=args.batch_size, seed=args.seed,
                    logdir=logdir, checkpoint_dir=logdir, resume=args.resume, device=args.device,
                    target_N=args.target_n, time_budget=args.time_budget,
                    progress=not args.no_progress, lr=args.lr, threshold=args.threshold)
    print(summary_table(history))
    print(f"stopped: {history.stop_reason}; largest N solved: {max(history.solved_N, default=0)}")
    print(f"run directory: {logdir}\nwatch it: tensorboard --logdir {logdir}")
    return 0


COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None],
                          Callable[[argparse.Namespace], int]]] = {
    "train": ("train one network on a memory task under a curriculum",
              _add_train_arguments, _run_train),
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
    """Run a ``memtasks`` command; bad input ends with one line on stderr and exit code 2."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except FloatingPointError as exc:  # training diverged: not a usage error
        print(f"memtasks {args.command}: {exc}", file=sys.stderr)
        return 1
    except (ValueError, TypeError, FileNotFoundError) as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"memtasks {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

