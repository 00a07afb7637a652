"""The ``memtasks train`` flags: one per :class:`RunConfig` field, plus where the run goes.

A flag's destination is the field's name and its parsed default is None, so the flags a user
gave are exactly the non-None values (:func:`given`): a resumed run takes its own settings and
only those. ``memtasks sweep --set KEY=VALUE`` parses its values with the same flags.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from agents.experiments.cli_types import float_above, int_at_least
from agents.experiments.config import CURRICULA, DEVICES, LABELS, MODELS, TASK_IDS, RunConfig

DEFAULTS = RunConfig()
FIELDS = tuple(f.name for f in dataclasses.fields(RunConfig))


def _default(name: str) -> str:
    return f" (default: {getattr(DEFAULTS, name)})"


def add_train_arguments(p: argparse.ArgumentParser) -> None:
    """The arguments of ``memtasks train``."""
    task = p.add_argument_group("task and curriculum")
    task.add_argument("--task", choices=list(TASK_IDS),
                      help="memory task: N-parity or N-delayed-match-to-sample" + _default("task"))
    task.add_argument("--curriculum", choices=list(CURRICULA),
                      help="single: one head, N -> N+1 when solved; multi: add head N+1 and keep "
                           "the others; sliding: drop the smallest N, add one above; none: the "
                           "starting heads throughout" + _default("curriculum"))
    task.add_argument("--heads", type=int_at_least(1), nargs="+", metavar="N",
                      help="starting head set, e.g. --heads 2 3 4 for a sliding window of three "
                           "(default: 2)")
    task.add_argument("--max-n", type=int_at_least(1), metavar="N",
                      help="the curriculum never goes beyond this N (default: no cap)")
    task.add_argument("--threshold", type=float_above(0.0, maximum=1.0),
                      help="accuracy above which a stage counts as solved, in (0, 1]"
                           + _default("threshold"))
    task.add_argument("--labels", choices=LABELS,
                      help="a label at the last step only, or at every step whose window is "
                           "complete" + _default("labels"))

    model = p.add_argument_group("model")
    model.add_argument("--model", choices=list(MODELS),
                       help="leaky: the paper's leaky RNN with a timescale per neuron; gru; lstm"
                            + _default("model"))
    model.add_argument("--hidden", type=int_at_least(1), metavar="H",
                       help="number of hidden units" + _default("hidden") + ", the paper's")
    taus = model.add_mutually_exclusive_group()
    taus.add_argument("--tau", type=float_above(1.0, inclusive=True), metavar="T",
                      help="leaky only: start every trainable tau at T (default: 1 + U(0, 1))")
    taus.add_argument("--fixed-tau", type=float_above(1.0, inclusive=True), metavar="T",
                      help="leaky only: fix every tau at T; tau is not trained")

    run = p.add_argument_group("training")
    run.add_argument("--epochs", type=int_at_least(1), metavar="E",
                     help="epochs of the whole run, resumed or not" + _default("epochs"))
    run.add_argument("--steps-per-epoch", type=int_at_least(1), metavar="S",
                     help="training batches per epoch" + _default("steps_per_epoch"))
    run.add_argument("--eval-steps", type=int_at_least(1), metavar="S",
                     help="evaluation batches per epoch" + _default("eval_steps"))
    run.add_argument("--batch-size", type=int_at_least(1), metavar="B",
                     help="sequences per batch" + _default("batch_size"))
    run.add_argument("--lr", type=float_above(0.0),
                     help="learning rate of SGD with Nesterov momentum 0.1" + _default("lr"))
    run.add_argument("--seed", type=int_at_least(0),
                     help="seed of every random draw, the network's initial weights included"
                          + _default("seed"))
    run.add_argument("--device", choices=DEVICES, help="where to train" + _default("device"))
    run.add_argument("--target-n", type=int_at_least(1), metavar="N",
                     help="stop once a head with N >= this is solved")
    run.add_argument("--time-budget", type=float_above(0.0), metavar="SECONDS",
                     help="training seconds of the whole run: no epoch starts that would end "
                          "past them")

    out = p.add_argument_group("output")
    out.add_argument("--logdir", type=Path, default=None, metavar="DIR",
                     help="run directory: TensorBoard events, checkpoint.pt, history.json, "
                          "models/ (default: runs/<task>-<curriculum>-<model><hidden>-…-seed<seed>)")
    out.add_argument("--resume", action="store_true",
                     help="continue the run in --logdir from its last checkpoint, with its own "
                          "settings; only --epochs, --time-budget, --target-n, --device and "
                          "--lr may change")
    out.add_argument("--no-progress", action="store_true", help="no progress bar")


def given(args: argparse.Namespace) -> dict[str, Any]:
    """The RunConfig fields set by flags (the others were not given)."""
    values = {k: getattr(args, k) for k in FIELDS if getattr(args, k, None) is not None}
    if "heads" in values:
        values["heads"] = tuple(values["heads"])
    return values


class _RaisingParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise ValueError(f"train option {message}")


def parse_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Settings by field name, with values as text (``{"hidden": "64", "heads": ["2", "3"]}``),
    parsed by the train flags; ValueError names a bad flag or value."""
    argv = []
    for key, value in settings.items():
        if key.replace("-", "_") not in FIELDS:
            raise ValueError(f"setting {key!r} is not accepted: expected one of {', '.join(FIELDS)}")
        argv += ["--" + key.replace("_", "-"), *map(str, value if isinstance(value, list) else [value])]
    parser = _RaisingParser(prog="memtasks train", add_help=False)
    add_train_arguments(parser)
    return given(parser.parse_args(argv))
