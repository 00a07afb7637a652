"""One description of a training run, :class:`RunConfig`, and the one function that trains it.

The ``memtasks train`` flags, a sweep's grid, the reproduction plan and a run directory's
checkpoint all hold a ``RunConfig`` (as plain JSON in files). :func:`train_run` builds the env,
its curriculum and the network from it and trains into a run directory; resuming reads the
run's own description back from that directory.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import torch
from torch import nn

import curricula
import memtasks  # noqa: F401  (registers the envs)
from agents.models import LeakyRNN
from agents.training import runstate
from agents.training.checkpoint import KINDS, load
from agents.training.loop import LR, THRESHOLD, History, train
from memtasks.checks import (FLOAT32_MAX, check_choice, check_heads, check_int, check_positive,
                             check_seed, check_threshold, is_real, reject)
from memtasks.tasks import LABEL_MODES as LABELS, validate_heads

TASK_IDS = {"parity": "memtasks/Parity-v0", "dms": "memtasks/DMS-v0"}
CURRICULA = {"single": curricula.SingleHead, "multi": curricula.MultiHead,
             "sliding": curricula.Sliding, "none": curricula.Fixed}
MODELS = KINDS  # the model kinds a model file names
DEVICES = ("cpu", "cuda")
LEAKS = ("inside", "outside")
# what a resumed run may change; every other field is the run's own
CHANGEABLE = ("epochs", "time_budget", "target_n", "device", "lr")


@dataclass(frozen=True)
class RunConfig:
    """Everything that defines a training run, validated on construction.

    Field names are the ``memtasks train`` flags (``max_n`` is ``--max-n``). ``tau`` starts every
    trainable τ there (None: 1 + U(0, 1)); ``fixed_tau`` fixes τ (leaky model only).
    ``time_budget`` is the run's training seconds over all its resumptions. ``init_from`` =
    (run directory, N) starts from the network that run had when it solved N; a relative
    directory is taken from the directory that holds this run's own. ``leak`` places the leaky
    RNN's nonlinearity inside or outside the leak; ``repeats`` trains in continuous time, one
    batch per k each step with every bit shown k times (``agents.train(repeats=…)``).
    """

    task: str = "parity"
    curriculum: str = "multi"
    heads: tuple[int, ...] = (2,)
    max_n: int | None = None
    threshold: float = THRESHOLD
    labels: str = "final"
    model: str = "leaky"
    hidden: int = 500
    tau: float | None = None
    fixed_tau: float | None = None
    epochs: int = 50
    steps_per_epoch: int = 600
    eval_steps: int = 50
    batch_size: int = 256
    lr: float = LR
    seed: int = 0
    target_n: int | None = None
    time_budget: float | None = None
    device: str = "cpu"
    init_from: tuple[str, int] | None = None
    leak: str = "inside"
    repeats: tuple[int, ...] = (1,)

    def __post_init__(self) -> None:
        check_choice(self.task, "task", tuple(TASK_IDS))
        check_choice(self.curriculum, "curriculum", tuple(CURRICULA))
        check_choice(self.model, "model", tuple(MODELS))
        check_choice(self.labels, "labels", LABELS)
        check_choice(self.device, "device", DEVICES)
        check_choice(self.leak, "leak", LEAKS)
        if self.leak != "inside" and self.model != "leaky":
            raise reject("leak", self.leak, f"'inside': the leak applies to model 'leaky' only, "
                                            f"not {self.model!r}")
        heads = validate_heads(self.heads, self.task, "heads")
        fixed = {"heads": heads, "threshold": check_threshold(self.threshold),
                 "lr": check_positive(self.lr, "lr", maximum=FLOAT32_MAX),
                 "time_budget": check_positive(self.time_budget, "time_budget", optional=True),
                 "seed": check_seed(self.seed),
                 "repeats": check_heads(self.repeats, "repeats")}
        for name in ("hidden", "epochs", "steps_per_epoch", "eval_steps", "batch_size"):
            fixed[name] = check_int(getattr(self, name), name)
        for name in ("max_n", "target_n"):
            if getattr(self, name) is not None:
                fixed[name] = check_int(getattr(self, name), name, max(heads) if name == "max_n" else 1)
        for name in ("tau", "fixed_tau"):
            value = getattr(self, name)
            if value is not None:
                if not is_real(value) or not 1 <= value < float("inf"):
                    raise reject(name, value, "None or a finite float >= 1")
                if self.model != "leaky":
                    raise reject(name, value, f"None: τ applies to model 'leaky' only, not "
                                              f"{self.model!r}")
                fixed[name] = float(value)
        if self.tau is not None and self.fixed_tau is not None:
            raise reject("tau", self.tau, "None when fixed_tau is set (τ is either trained or fixed)")
        if self.init_from is not None:
            fixed["init_from"] = _check_init_from(self.init_from)
        for name, value in fixed.items():
            object.__setattr__(self, name, value)

    @property
    def name(self) -> str:
        """A directory name that says what the run is: task, curriculum, model, size, seed…"""
        parts = [self.task, self.curriculum, f"{self.model}{self.hidden}"]
        if self.curriculum == "none":
            parts.append("N" + "-".join(map(str, self.heads)))
        if self.fixed_tau is not None:
            parts.append(f"tau{self.fixed_tau:g}")
        if self.leak != "inside":
            parts.append(f"leak-{self.leak}")
        if self.repeats != (1,):
            parts.append("repeats" + "-".join(map(str, self.repeats)))
        if self.init_from is not None:
            parts.append(f"from-{Path(self.init_from[0]).name}-at{self.init_from[1]}")
        return "-".join(parts + [f"seed{self.seed}"])

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values (tuples as lists)."""
        return {k: list(v) if isinstance(v, tuple) else v
                for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "run config") -> RunConfig:
        """The config in ``data`` (as written by :meth:`to_dict`); unknown keys are refused."""
        if not isinstance(data, Mapping):
            raise reject(source, data, "a mapping of run settings", TypeError)
        unknown = sorted(set(data) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise reject(f"{source} key", unknown[0], f"one of {', '.join(f.name for f in dataclasses.fields(cls))}")
        return cls(**data)  # validation makes the lists of JSON tuples again

    def resumed_with(self, changes: Mapping[str, Any], source: str) -> RunConfig:
        """This run continued with ``changes``; a change to anything but CHANGEABLE is refused."""
        refused = [k for k, v in changes.items() if k not in CHANGEABLE
                   and getattr(self, k) != (tuple(v) if isinstance(v, list) else v)]
        if refused:
            key = refused[0]
            raise ValueError(f"{key}={changes[key]!r} contradicts the run in {source} "
                             f"({key}={getattr(self, key)!r}); a resumed run keeps its own "
                             f"settings and may change only {', '.join(CHANGEABLE)}")
        return dataclasses.replace(self, **{k: changes[k] for k in CHANGEABLE if k in changes})


def _check_init_from(value: Any) -> tuple[str, int]:
    if (not isinstance(value, (tuple, list)) or len(value) != 2
            or not isinstance(value[0], (str, os.PathLike))):
        raise reject("init_from", value, "None or a pair (run directory, N)", TypeError)
    return os.fspath(value[0]), check_int(value[1], "init_from N")


def make_env(config: RunConfig) -> gym.Env:
    """The memtasks env of the run inside its curriculum (``none``: fixed heads)."""
    env = gym.make(TASK_IDS[config.task], N=list(config.heads), labels=config.labels)
    return CURRICULA[config.curriculum](env, threshold=config.threshold, max_N=config.max_n)


def make_model(config: RunConfig, run_dir: Path) -> nn.Module:
    """The run's starting network, drawn from ``config.seed`` (or loaded, for ``init_from``)."""
    if config.init_from is not None:
        model = load(source_model(run_dir.parent / config.init_from[0], config.init_from[1]))
        model.set_heads(config.heads)
        return model
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        if config.model != "leaky":
            return MODELS[config.model](config.hidden, config.heads)
        fixed = config.fixed_tau is not None
        return LeakyRNN(config.hidden, config.heads, train_tau=not fixed,
                        tau=config.fixed_tau if fixed else config.tau, leak=config.leak)


def source_model(run_dir: Path, N: int) -> Path:
    """The model file of the epoch in which ``run_dir``'s curriculum solved N (its last at N).

    Raises LookupError when the run never solved N.
    """
    history = read_history(run_dir)
    epochs = [r.epoch for r in history.records if max(r.heads) == N
              and r.accuracy.get(N, 0.0) > history.threshold] if history else []
    if not epochs:
        raise LookupError(f"run {run_dir.name} never solved N={N}")
    return run_dir / runstate.MODELS / f"epoch_{epochs[-1]:04d}.pt"


def read_history(run_dir: Path) -> History | None:
    """The run's history, or None when it has not trained an epoch yet."""
    path = Path(run_dir) / runstate.HISTORY
    return History.read(path) if path.exists() else None


def read_config(run_dir: str | os.PathLike) -> RunConfig | None:
    """The description stored in ``run_dir``'s checkpoint (None: no checkpoint, or one written
    without a description, by ``agents.train`` called directly)."""
    path = Path(run_dir) / runstate.CHECKPOINT
    if not path.exists():
        return None
    stored = runstate.load_state(path)["config"].get("run")
    return None if stored is None else RunConfig.from_dict(stored, f"{path} config")


def is_finished(config: RunConfig, history: History | None) -> bool:
    """Whether the run has nothing left to train: its curriculum ended, or it reached its epochs,
    its target N or the end of its time budget (no further epoch would fit)."""
    if history is None or not len(history):
        return False
    return history.ended(config.epochs, config.target_n) or (
        config.time_budget is not None
        and sum(history.seconds) + history.seconds[-1] > config.time_budget)


def run_status(config: RunConfig, run_dir: Path) -> str:
    """``"done"`` (:func:`is_finished`), ``"partial"`` (some epochs trained) or ``"new"``."""
    try:
        history = read_history(run_dir)
    except (OSError, ValueError):  # History.read names a damaged file with a ValueError
        return "partial"
    if history is None or not len(history):
        return "new"
    return "done" if is_finished(config, history) else "partial"


def train_run(config: RunConfig, run_dir: str | os.PathLike, *, resume: bool = False,
              progress: bool = True) -> History:
    """Train the run ``config`` describes into ``run_dir``; ``resume`` continues it from there.

    A run that is already finished returns its history untouched. Resuming a directory whose
    stored description differs from ``config`` in anything but CHANGEABLE is refused.
    """
    run_dir = Path(run_dir)
    if resume and (stored := read_config(run_dir)) is not None:
        stored.resumed_with(config.to_dict(), str(run_dir))  # refuses what may not change
    history = read_history(run_dir) if resume else None
    if is_finished(config, history):
        return history  # type: ignore[return-value]
    budget = config.time_budget
    if budget is not None and history is not None:
        budget -= sum(history.seconds)
    return train(make_model(config, run_dir), make_env(config), epochs=config.epochs,
                 steps_per_epoch=config.steps_per_epoch, eval_steps=config.eval_steps,
                 batch_size=config.batch_size, seed=config.seed, logdir=run_dir,
                 checkpoint_dir=run_dir, resume=resume, device=config.device,
                 target_N=config.target_n, time_budget=budget, progress=progress, lr=config.lr,
                 threshold=config.threshold, description=config.to_dict(),
                 repeats=config.repeats)
