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

from agents.experiments.config import (CHANGEABLE, CURRICULA, DEVICES, LABELS, LEAKS, MODELS,
                                       TASK_IDS, RunConfig)
from agents.training.paths import path_argument

DEFAULTS = RunConfig()
FIELDS = tuple(f.name for f in dataclasses.fields(RunConfig))
# one flag per RunConfig field: (group, help, argparse options); RunConfig validates the values
FLAGS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "task": ("task", "memory task: N-parity or N-delayed-match-to-sample",
             {"choices": list(TASK_IDS)}),
    "curriculum": ("task", "single: one head, N -> N+1 when solved; multi: add head N+1 and keep "
                   "the others; sliding: drop the smallest N, add one above; none: the starting "
                   "heads throughout", {"choices": list(CURRICULA)}),
    "heads": ("task", "starting head set, e.g. --heads 2 3 4 for a sliding window of three",
              {"type": int, "nargs": "+", "metavar": "N"}),
    "max_n": ("task", "the curriculum never goes beyond this N (default: no cap)",
              {"type": int, "metavar": "N"}),
    "threshold": ("task", "accuracy above which a stage counts as solved, in (0, 1]",
                  {"type": float}),
    "labels": ("task", "a label at the last step only, or at every step whose window is complete",
               {"choices": LABELS}),
    "model": ("model", "leaky: the paper's leaky RNN with a timescale per neuron; gru; lstm",
              {"choices": list(MODELS)}),
    "hidden": ("model", "number of hidden units", {"type": int, "metavar": "H"}),
    "tau": ("model", "leaky only: start every trainable tau at T (default: 1 + U(0, 1))",
            {"type": float, "metavar": "T"}),
    "fixed_tau": ("model", "leaky only: fix every tau at T; tau is not trained",
                  {"type": float, "metavar": "T"}),
    "epochs": ("training", "epochs of the whole run, resumed or not", {"type": int, "metavar": "E"}),
    "steps_per_epoch": ("training", "training batches per epoch", {"type": int, "metavar": "S"}),
    "eval_steps": ("training", "evaluation batches per epoch", {"type": int, "metavar": "S"}),
    "batch_size": ("training", "sequences per batch", {"type": int, "metavar": "B"}),
    "lr": ("training", "learning rate of SGD with Nesterov momentum 0.1", {"type": float}),
    "seed": ("training", "seed of every random draw, the network's initial weights included",
             {"type": int}),
    "device": ("training", "where to train", {"choices": DEVICES}),
    "target_n": ("training", "stop once a head with N >= this is solved",
                 {"type": int, "metavar": "N"}),
    "time_budget": ("training", "training seconds of the whole run: no epoch starts that would "
                    "end past them, and one still running then ends early and is evaluated",
                    {"type": float, "metavar": "SECONDS"}),
    "init_from": ("model", "start from the network run RUN_DIR had when it solved N",
                  {"nargs": 2, "metavar": ("RUN_DIR", "N")}),
    "leak": ("model", "leaky only: the nonlinearity wraps the leak (inside, the paper's main "
             "network) or acts on the recurrent input only (outside, the authors' variant)",
             {"choices": LEAKS}),
    "repeats": ("training", "continuous time: each step trains one batch per K with every bit "
                "shown K times (leaky: tau scaled by K), e.g. --repeats 1 2 4; accuracy is pooled "
                "over K", {"type": int, "nargs": "+", "metavar": "K"}),
}


def add_train_arguments(p: argparse.ArgumentParser) -> None:
    """The arguments of ``memtasks train``: a flag per RunConfig field, then the run's directory."""
    groups = {name: p.add_argument_group(title) for name, title in (
        ("task", "task and curriculum"), ("model", "model"), ("training", "training"))}
    taus = groups["model"].add_mutually_exclusive_group()
    for name in FIELDS:
        group, text, options = FLAGS[name]
        default = getattr(DEFAULTS, name)
        if default is not None and "(default" not in text:
            shown = ' '.join(map(str, default)) if isinstance(default, tuple) else default
            text += f" (default: {shown})"
        (taus if name in ("tau", "fixed_tau") else groups[group]).add_argument(
            "--" + name.replace("_", "-"), help=text, **options)
    out = p.add_argument_group("output")
    out.add_argument("--logdir", type=path_argument, default=None, metavar="DIR",
                     help="run directory: TensorBoard events, checkpoint.pt, history.json, "
                          "models/ (default: runs/<task>-<curriculum>-<model><hidden>-…-seed<seed>)")
    out.add_argument("--resume", action="store_true",
                     help="continue the run in --logdir from its last checkpoint, with its own "
                          f"settings; only {', '.join('--' + c.replace('_', '-') for c in CHANGEABLE)} "
                          "may change")
    out.add_argument("--no-progress", action="store_true", help="no progress bar")


def given(args: argparse.Namespace) -> dict[str, Any]:
    """The RunConfig fields set by flags (the others were not given)."""
    values = {k: getattr(args, k) for k in FIELDS if getattr(args, k, None) is not None}
    values.update({name: tuple(values[name]) for name in ("heads", "repeats") if name in values})
    if "init_from" in values:
        run_dir, n = values["init_from"]
        if not n.isdigit():
            raise ValueError(f"--init-from {run_dir} {n} is not accepted: expected a run "
                             f"directory and an int N >= 1")
        values["init_from"] = (str(Path(run_dir).resolve()), int(n))
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
