"""The supervised training loop: memory-task batches, a curriculum's schedule, the paper's optimizer.

Each epoch trains ``steps_per_epoch`` batches (in continuous time one per repeat k each step),
evaluates accuracy per head, lets a curriculum change the head set, gives the model (and the
optimizer) the new heads, logs and checkpoints.
Read :func:`train` top to bottom; the helpers above it each do one step of that story.
"""

from __future__ import annotations

import dataclasses
import inspect
import itertools
import json
import os
import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from agents.models.device import check_device
from agents.models.heads import HeadedModel
from agents.models.protocol import check_model, headed, unwrap
from agents.training import runlock, runstate
from agents.training.checkpoint import KINDS, save
from agents.training.graphs import EagerSteps, GraphedSteps, check_graphs, make_steps
from agents.training.memory import check_training_memory
from agents.training.monitor import Monitor, timescales
from agents.training.paths import check_dir, make_out_dir
from agents.training.steps import optimizer_params
from memtasks.checks import (FLOAT32_MAX, check_bool, check_heads, check_int, check_positive,
                             check_seed, check_threshold, first_line)

LR = 0.05
MOMENTUM = 0.1
GRAD_CLIP = 2.0
THRESHOLD = 0.98
NAN_CHECK_EVERY = 25  # training steps between checks for a non-finite loss (one sync each)

OptimizerFactory = Callable[[Iterable[nn.Parameter]], torch.optim.Optimizer]


@dataclass
class EpochRecord:
    """What one epoch did: the heads trained, mean loss, accuracy per head, timings and τ."""

    epoch: int
    heads: tuple[int, ...]
    loss: float
    accuracy: dict[int, float]
    seconds: float
    samples_per_second: float
    tau_mean: float | None = None
    tau_std: float | None = None
    steps: int | None = None  # steps trained; < steps_per_epoch if the time budget cut it short


@dataclass
class History:
    """Per-epoch records of a run; ``stop_reason`` says why it ended (None while running).

    ``stop_reason`` is one of ``"epochs"``, ``"target_N"``, ``"time_budget"``, ``"finished"``
    (the curriculum has nothing left to teach). JSON round trip: ``to_dict`` / ``from_dict``.
    """

    records: list[EpochRecord] = field(default_factory=list)
    threshold: float = THRESHOLD
    stop_reason: str | None = None
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.records)

    @property
    def loss(self) -> list[float]:
        return [r.loss for r in self.records]

    @property
    def accuracy(self) -> list[dict[int, float]]:
        return [r.accuracy for r in self.records]

    @property
    def heads(self) -> list[tuple[int, ...]]:
        return [r.heads for r in self.records]

    @property
    def seconds(self) -> list[float]:
        return [r.seconds for r in self.records]

    @property
    def solved_N(self) -> list[int]:
        """Per epoch, the largest N whose accuracy exceeded ``threshold`` (0 if none)."""
        return [solved_N(r.accuracy, self.threshold) for r in self.records]

    @property
    def largest_N(self) -> int:
        """The largest N solved in any epoch (0 if none)."""
        return max(self.solved_N, default=0)

    @property
    def largest_N_so_far(self) -> list[int]:
        """Per epoch, the largest N solved up to and including it."""
        return list(itertools.accumulate(self.solved_N, max))

    def ended(self, epochs: int, target_N: int | None = None) -> bool:
        """Whether a run with this history has nothing left to train towards ``epochs`` and
        ``target_N``: its curriculum finished, it has the epochs, or it solved the target."""
        return (self.stop_reason == "finished" or len(self) >= epochs
                or (target_N is not None and self.largest_N >= target_N))

    def to_dict(self) -> dict[str, Any]:
        records = [dict(dataclasses.asdict(r), heads=list(r.heads),
                        accuracy={str(n): a for n, a in r.accuracy.items()}) for r in self.records]
        return {"records": records, "threshold": self.threshold, "stop_reason": self.stop_reason,
                "notes": self.notes}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "history") -> History:
        """The history ``to_dict`` gave; ValueError naming ``where`` if ``data`` is not one."""
        try:
            records = [EpochRecord(**dict(r, heads=tuple(r["heads"]),
                                          accuracy={int(n): a for n, a in r["accuracy"].items()}))
                       for r in data["records"]]
            return cls(records, data["threshold"], data["stop_reason"],
                       list(data.get("notes", [])))
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            reason = f"no {error}" if isinstance(error, KeyError) else first_line(error)
            raise ValueError(f"{where} is not a training history ({reason})") from None

    @classmethod
    def read(cls, path: str | os.PathLike) -> History:
        """The history in a ``history.json`` written by :func:`train`; ValueError naming the file
        if it is truncated, not JSON or not a history."""
        try:
            data = json.loads(Path(path).read_text())
        except UnicodeDecodeError:
            raise ValueError(f"{path} is not a training history (not text)") from None
        except json.JSONDecodeError as error:
            raise ValueError(f"{path} is not a training history (truncated or not JSON: "
                             f"{error.msg} at line {error.lineno})") from None
        return cls.from_dict(data, str(path))


class NonFiniteLossError(FloatingPointError):
    """The loss became NaN or infinite: training stopped; the last good checkpoint is kept."""

    def __init__(self, epoch: int, step: int, value: float, checkpoint: Path | None):
        self.epoch, self.step, self.value = epoch, step, value
        kept = (f"; the last good checkpoint is kept at {checkpoint}" if checkpoint is not None
                and checkpoint.exists() else "")
        super().__init__(f"training stopped: the loss became {value} at epoch {epoch}, "
                         f"step {step}{kept} (lower the learning rate or clip gradients harder)")


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped training; the message says what the run directory keeps."""

    def __init__(self, checkpoint_dir: Path | None):
        self.checkpoint_dir = checkpoint_dir
        self.kept = checkpoint_dir is not None and (checkpoint_dir / runstate.CHECKPOINT).exists()
        if checkpoint_dir is None:
            kept = "nothing is kept (no checkpoint_dir)"
        elif not self.kept:
            kept = f"no epoch had ended, so '{checkpoint_dir}' holds no checkpoint yet"
        else:
            try:
                done = len(History.read(checkpoint_dir / runstate.HISTORY))
                epochs = "epoch 1" if done == 1 else f"epochs 1-{done}"
            except (OSError, ValueError):
                epochs = "its last checkpoint"
            kept = f"'{checkpoint_dir}' keeps {epochs}; resume continues from there"
        super().__init__(f"training interrupted: {kept}")


def paper_optimizer(params: Iterable[nn.Parameter], lr: float = LR) -> torch.optim.Optimizer:
    """The paper's optimizer: SGD with Nesterov momentum 0.1."""
    return torch.optim.SGD(params, lr=lr, momentum=MOMENTUM, nesterov=True)


def solved_N(accuracy: Mapping[int, float], threshold: float = THRESHOLD) -> int:
    """The largest N whose accuracy exceeds ``threshold``, 0 if none does."""
    return max((n for n, a in accuracy.items() if a > threshold), default=0)


def _batches(env: Any, batch_size: int, rng: np.random.Generator,
             repeats: tuple[int, ...] | None) -> Iterator[Any]:
    """One training or evaluation step's batches: the env's own, or one per repeat k in order."""
    if repeats is None:
        yield env.unwrapped.sample_batch(batch_size, rng)
    else:
        for k in repeats:
            yield env.unwrapped.sample_batch(batch_size, rng, repeat=k)


def _check_repeats(repeats: Any, env: Any) -> tuple[int, ...] | None:
    """``repeats`` as a tuple of distinct ints >= 1 (None: the env's own batches)."""
    if repeats is None:
        return None
    repeats = check_heads(repeats, "repeats")
    if "repeat" not in inspect.signature(env.unwrapped.sample_batch).parameters:
        raise TypeError(f"repeats={repeats!r} is not accepted: env.unwrapped.sample_batch takes "
                        f"no repeat keyword; expected a memtasks env")
    return repeats


def _check_env(env: Any) -> None:
    unwrapped = getattr(env, "unwrapped", None)
    missing = [name for name in ("heads", "set_heads", "sample_batch")
               if not hasattr(unwrapped, name)]
    if missing:
        raise TypeError(f"env={env!r} is not accepted: env.unwrapped lacks {', '.join(missing)}; "
                        f"expected a memtasks env (e.g. gymnasium.make('memtasks/Parity-v0')), "
                        f"possibly inside a curriculum wrapper")


def _check_not_a_run(checkpoint_dir: Path, resume: bool) -> None:
    """Refuse to start a fresh run over one that is there already."""
    if (checkpoint_dir / runstate.CHECKPOINT).exists() and not resume:
        raise ValueError(f"checkpoint_dir={str(checkpoint_dir)!r} already holds a run; pass "
                         f"resume=True to continue it or choose another directory")


@dataclass(frozen=True)
class _Settings:
    """The validated arguments of :func:`train` (model, env and optimizer factory aside)."""

    epochs: int
    steps_per_epoch: int
    eval_steps: int
    batch_size: int
    seed: int
    logdir: Path | None
    checkpoint_dir: Path | None
    resume: bool
    device: torch.device
    target_N: int | None
    time_budget: float | None
    progress: bool
    lr: float
    grad_clip: float | None
    threshold: float
    repeats: tuple[int, ...] | None
    graphs: bool | None

    @classmethod
    def check(cls, model: Any, env: Any, *, optimizer: Any, **args: Any) -> _Settings:
        """Raise TypeError/ValueError naming the first bad argument; nothing is written before."""
        check_model(model)
        _check_env(env)
        for name in ("epochs", "steps_per_epoch", "eval_steps", "batch_size"):
            args[name] = check_int(args[name], name, 1)
        args["seed"] = check_seed(args["seed"])
        for name in ("logdir", "checkpoint_dir"):
            args[name] = None if args[name] is None else check_dir(args[name], name)
        for name in ("resume", "progress"):
            check_bool(args[name], name)
        if args["resume"] and args["checkpoint_dir"] is None:
            raise ValueError("resume=True needs checkpoint_dir: the directory of the run to continue")
        args["device"] = check_device(args["device"])
        if optimizer is not None and not callable(optimizer):
            raise TypeError(f"optimizer={optimizer!r} is not accepted: expected None or a "
                            f"callable params -> torch.optim.Optimizer")
        if args["target_N"] is not None:
            args["target_N"] = check_int(args["target_N"], "target_N", 1)
        args["time_budget"] = check_positive(args["time_budget"], "time_budget", optional=True)
        args["lr"] = check_positive(args["lr"], "lr", maximum=FLOAT32_MAX)
        args["grad_clip"] = check_positive(args["grad_clip"], "grad_clip", optional=True)
        threshold = args["threshold"]
        args["threshold"] = check_threshold(getattr(env, "threshold", THRESHOLD)
                                            if threshold is None else threshold)
        args["repeats"] = _check_repeats(args["repeats"], env)
        args["graphs"] = check_graphs(args["graphs"], model, args["device"])
        if args["checkpoint_dir"] is not None:
            _check_not_a_run(args["checkpoint_dir"], args["resume"])
        return cls(**args)

    def make_dirs(self) -> None:
        """Create the log and checkpoint directories, or say clearly why they cannot be."""
        for path, name in ((self.logdir, "logdir"), (self.checkpoint_dir, "checkpoint_dir")):
            if path is not None:
                make_out_dir(path, name)
        if self.checkpoint_dir is not None:
            make_out_dir(self.checkpoint_dir / runstate.MODELS, "checkpoint_dir")

    def describe(self) -> dict[str, Any]:
        """The settings as JSON-friendly values, for the config text and the checkpoint."""
        return {k: v if v is None or isinstance(v, (bool, int, float)) else
                list(v) if isinstance(v, tuple) else str(v)
                for k, v in dataclasses.asdict(self).items()}


def _sync_optimizer(optimizer: torch.optim.Optimizer, model: nn.Module,
                    factory: OptimizerFactory) -> torch.optim.Optimizer:
    """Rebuild the optimizer if the model's parameters changed, carrying over surviving state.

    Curricula add heads (new parameters the optimizer has never seen) and Sliding drops some
    (which must stop being updated); momentum of the parameters that stay is kept.
    """
    params = list(model.parameters())
    current = optimizer_params(optimizer)
    if len(params) == len(current) and all(a is b for a, b in zip(params, current)):
        return optimizer
    rebuilt = factory(params)
    for p in params:
        if p in optimizer.state:
            rebuilt.state[p] = optimizer.state[p]
    return rebuilt


def _param_names(model: nn.Module, optimizer: torch.optim.Optimizer) -> list[str]:
    names = {p: n for n, p in model.named_parameters()}
    return [names[p] for p in optimizer_params(optimizer)]


def _check_finite(losses: torch.Tensor, start: int, stop: int, epoch: int,
                  checkpoint: Path | None) -> None:
    """Raise NonFiniteLossError if a loss of steps ``start``…``stop - 1`` (rows of ``losses``,
    one column per repeat) is NaN or infinite."""
    window = losses[start:stop]
    bad = (~torch.isfinite(window)).nonzero()
    if len(bad):
        row, col = bad[0].tolist()
        raise NonFiniteLossError(epoch, start + row + 1, float(window[row, col]), checkpoint)


def _train_epoch(env: Any, stepper: EagerSteps | GraphedSteps, rng: np.random.Generator,
                 epoch: int, run: _Settings, monitor: Monitor, checkpoint: Path | None,
                 deadline: float | None = None) -> tuple[float, int]:
    """Train one epoch; return the mean loss and the steps taken. Losses stay on the device
    between checks. Past ``deadline`` (a ``time.perf_counter`` time) the epoch ends early.

    With ``run.repeats`` each step takes one optimizer step per k, in order, as the paper's
    authors train continuous time; the loss is the mean over all those updates.
    """
    steps, batch_size = run.steps_per_epoch, run.batch_size
    losses = torch.empty(steps, len(run.repeats or (1,)), device=run.device)
    checked = done = 0
    for step in range(steps):
        if step and deadline is not None and time.perf_counter() > deadline:
            break
        for i, batch in enumerate(_batches(env, batch_size, rng, run.repeats)):
            losses[step, i] = stepper.train(batch)
        done = step + 1
        monitor.step()
        if done - checked == NAN_CHECK_EVERY:
            _check_finite(losses, checked, done, epoch, checkpoint)
            checked = done
    _check_finite(losses, checked, done, epoch, checkpoint)
    return float(losses[:done].mean()), done


@torch.no_grad()
def _evaluate(stepper: EagerSteps | GraphedSteps, env: Any, rng: np.random.Generator, steps: int,
              batch_size: int, device: torch.device, repeats: tuple[int, ...] | None = None
              ) -> dict[int, float]:
    """Accuracy per head over ``steps`` fresh batches (per k with ``repeats``), pooled: labels
    right over labels scored, across every k (the authors' measure; with "final" labels each k
    weighs the same). Counts stay on the device until the end."""
    heads = _heads(env)
    correct = torch.zeros(len(heads), dtype=torch.int64, device=device)
    labelled = torch.zeros_like(correct)
    for _ in range(steps):
        for batch in _batches(env, batch_size, rng, repeats):
            right, total = stepper.evaluate(batch)
            correct += right
            labelled += total
    accuracy = (correct.double() / labelled.clamp_min(1).double()).tolist()
    return dict(zip(heads, accuracy))


def _heads(env: Any) -> tuple[int, ...]:
    return tuple(int(n) for n in env.unwrapped.heads)


def _describe(model: nn.Module, env: Any) -> dict[str, Any]:
    """What was trained on what, for the config text and the checkpoint."""
    unwrapped, config = env.unwrapped, getattr(model, "config", None)
    return {"model": type(model).__name__, "model_config": config() if callable(config) else None,
            "parameters": sum(p.numel() for p in model.parameters()),
            "env": type(unwrapped).__name__, "task": getattr(unwrapped, "task", None),
            "labels": getattr(unwrapped, "labels", None),
            "curriculum": type(env).__name__ if hasattr(env, "update") else None}


def _resume(path: Path, model: nn.Module, env: Any, factory: OptimizerFactory,
            rng: np.random.Generator, device: torch.device
            ) -> tuple[torch.optim.Optimizer, History]:
    """Load ``checkpoint.pt`` into model, env/curriculum, a new optimizer and the random states.

    The optimizer's settings (learning rate, momentum factor…) come from this call's factory, its
    state (momentum buffers) from the checkpoint: a run that diverged resumes at a lower ``lr``.
    """
    state = runstate.load_state(path)
    history = History.from_dict(state["history"], f"{path}: its history")
    try:
        if hasattr(env, "load_state_dict") and state["curriculum"] is not None:
            env.load_state_dict(state["curriculum"])
        heads = tuple(state["heads"])
        if _heads(env) != heads:
            env.unwrapped.set_heads(heads)
        headed(model).set_heads(heads)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{path} holds a curriculum state this env refuses: {error}") from None
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as exc:
        raise ValueError(f"{path} holds a different model than the one passed to train "
                         f"({first_line(exc)})") from None
    model.to(device)
    optimizer = factory(list(model.parameters()))
    if _param_names(model, optimizer) != state["param_names"]:
        raise ValueError(f"{path} holds optimizer state for other parameters than the model's")
    settings = [{k: v for k, v in group.items() if k != "params"} for group in optimizer.param_groups]
    try:
        optimizer.load_state_dict(state["optimizer"])
    except (KeyError, TypeError, ValueError, RuntimeError) as error:
        raise ValueError(f"{path} holds an optimizer state this optimizer refuses "
                         f"({first_line(error)})"
                         ) from None
    for group, setting in zip(optimizer.param_groups, settings):  # this call's lr, the run's momentum
        if "lr" in setting and group.get("lr") != setting["lr"]:
            history.notes.append(f"epoch {len(history) + 1}: lr {group['lr']:g} -> {setting['lr']:g}")
        group.update(setting)
    runstate.restore_rng(state["rng"], rng, device)
    runstate.save_json(history.to_dict(), path.parent / runstate.HISTORY)  # if killed before it
    return optimizer, history


def train(model: nn.Module, env: Any, epochs: int = 50, steps_per_epoch: int = 600,
          eval_steps: int = 50, batch_size: int = 256, seed: int = 0,
          logdir: str | os.PathLike | None = None,
          checkpoint_dir: str | os.PathLike | None = None, resume: bool = False,
          device: str | torch.device = "cpu", optimizer: OptimizerFactory | None = None,
          target_N: int | None = None, time_budget: float | None = None, progress: bool = True,
          *, lr: float = LR, grad_clip: float | None = GRAD_CLIP,
          threshold: float | None = None, description: Mapping[str, Any] | None = None,
          repeats: int | Sequence[int] | None = None, graphs: bool | None = None) -> History:
    """Train ``model`` on ``env`` (a memtasks env, or a curriculum wrapping one); return the History.

    Args:
        model: any module of the model protocol (``heads``, ``set_heads``, ``forward``, ``readout``).
        env: batches come from ``env.unwrapped.sample_batch``; if ``env`` has ``update`` (a
            curriculum) it is told the accuracy per head after every epoch.
        epochs: epochs of the whole run (a resumed run continues up to this number).
        steps_per_epoch, eval_steps, batch_size: training batches, evaluation batches, batch size.
        seed: seeds torch, Python and the numpy Generator that draws every batch.
        logdir: TensorBoard event files go here (None: no TensorBoard).
        checkpoint_dir: ``checkpoint.pt``, ``history.json`` and ``models/epoch_XXXX.pt`` go here,
            every epoch (None: nothing is saved).
        resume: continue from ``checkpoint_dir/checkpoint.pt`` if it exists (else start afresh),
            with this call's optimizer settings (e.g. a lower ``lr`` after a divergence).
        device: ``"cpu"`` or ``"cuda"``.
        optimizer: a factory ``params -> torch.optim.Optimizer``; default SGD, Nesterov momentum
            0.1, learning rate ``lr``. It is called again when the heads change.
        target_N: stop once a head with N ≥ ``target_N`` has accuracy above ``threshold``.
        time_budget: seconds for this call; no epoch starts that would, judged by the last
            epoch's duration, end past it, and an epoch still training when it is spent ends
            early (then is evaluated and saved): the run ends within one evaluation of it.
        progress: show a tqdm progress bar.
        lr: learning rate of the default optimizer.
        grad_clip: maximal gradient norm (None: no clipping).
        threshold: accuracy that counts as solved for ``target_N`` and ``History.solved_N``;
            None takes the curriculum's ``threshold`` (else 0.98).
        description: the run's description as plain JSON (``memtasks train`` passes its
            RunConfig), stored in the checkpoint so that a resumed run can restore its settings.
        repeats: continuous time, e.g. ``(1, 2, 4)``: every training step draws one batch per k
            (each bit shown k times) and takes one optimizer step on each, in order; a model whose
            forward takes ``repeat`` gets ``repeat=k``. Accuracy per head is pooled over all k's
            evaluation batches. None: the env's own batches (its ``repeat``), one per step.
        graphs: replay each training and evaluation step as a CUDA graph (``agents.training.
            graphs``): None = where it is correct (a CUDA device, a model that declares
            ``capturable``, SGD or a capturable optimizer); True insists (ValueError where it
            cannot); False runs eagerly. The same batches and results either way.

    Raises:
        NonFiniteLossError: the loss became NaN or infinite; the last good checkpoint is kept.
        RunInUse: another process trains in ``checkpoint_dir`` or ``logdir`` (a ValueError).
        TrainingInterrupted: Ctrl-C (a KeyboardInterrupt); its message says what was kept.
    """
    run = _Settings.check(model, env, epochs=epochs, steps_per_epoch=steps_per_epoch,
                          eval_steps=eval_steps, batch_size=batch_size, seed=seed, logdir=logdir,
                          checkpoint_dir=checkpoint_dir, resume=resume, device=device,
                          optimizer=optimizer, target_N=target_N, time_budget=time_budget,
                          progress=progress, lr=lr, grad_clip=grad_clip, threshold=threshold,
                          repeats=repeats, graphs=graphs)
    check_training_memory(unwrap(model), env, run.batch_size, run.device)
    run.make_dirs()
    with runlock.hold(run.checkpoint_dir, run.logdir):
        try:
            return _train_run(model, env, run, optimizer, description)
        except KeyboardInterrupt:
            raise TrainingInterrupted(run.checkpoint_dir) from None


def _train_run(model: nn.Module, env: Any, run: _Settings, optimizer: OptimizerFactory | None,
               description: Mapping[str, Any] | None) -> History:
    """The body of :func:`train`, once its arguments are checked and its directories locked."""
    compiled, model = model, unwrap(model)  # the forward runs compiled; all else on the module
    factory = optimizer or (lambda params: paper_optimizer(params, run.lr))
    checkpoint_dir, device, threshold = run.checkpoint_dir, run.device, run.threshold
    checkpoint = None if checkpoint_dir is None else checkpoint_dir / runstate.CHECKPOINT
    if checkpoint_dir is not None:
        _check_not_a_run(checkpoint_dir, run.resume)  # again: another run may have ended meanwhile
        runstate.remove_stale_temps(checkpoint_dir)

    curriculum = hasattr(env, "update")
    rng = np.random.default_rng(run.seed)
    if run.resume and checkpoint is not None and checkpoint.exists():
        opt, history = _resume(checkpoint, model, env, factory, rng, device)
        if history.ended(run.epochs, run.target_N):
            return history
        history.stop_reason = None
    else:
        torch.manual_seed(run.seed)
        random.seed(run.seed)
        headed(model).set_heads(_heads(env))
        model.to(device)
        opt = factory(list(model.parameters()))
        history = History(threshold=threshold)
    config = {**run.describe(), "optimizer": "paper SGD" if optimizer is None else "custom",
              **_describe(model, env), "run": None if description is None else dict(description)}

    started = time.perf_counter()
    deadline = None if run.time_budget is None else started + run.time_budget
    stepper = None
    with Monitor(run.logdir, config, epochs=run.epochs, steps_per_epoch=run.steps_per_epoch,
                 start_epoch=len(history), progress=run.progress, deadline=deadline) as monitor:
        for epoch in range(len(history) + 1, run.epochs + 1):
            tic = time.perf_counter()
            if stepper is None or stepper.optimizer is not opt:  # new heads: new graphs
                stepper = make_steps(compiled, opt, run.grad_clip, device, run.graphs)
            model.train()
            loss, steps = _train_epoch(env, stepper, rng, epoch, run, monitor, checkpoint,
                                       deadline)
            train_seconds = time.perf_counter() - tic
            model.eval()
            accuracy = _evaluate(stepper, env, rng, run.eval_steps, run.batch_size, device,
                                 run.repeats)
            taus = timescales(model)
            record = EpochRecord(
                epoch=epoch, heads=_heads(env), loss=loss, accuracy=accuracy,
                seconds=time.perf_counter() - tic,
                samples_per_second=(steps * run.batch_size * len(run.repeats or (1,))
                                    / train_seconds),
                tau_mean=None if taus is None else taus.mean().item(),
                tau_std=None if taus is None else taus.std(unbiased=False).item(), steps=steps)
            history.records.append(record)
            monitor.epoch(record, taus)
            if checkpoint_dir is not None:
                _save_model(model, checkpoint_dir / runstate.MODELS / f"epoch_{epoch:04d}.pt")

            if curriculum:
                env.update(accuracy)
            if _heads(env) != tuple(headed(model).heads):
                headed(model).set_heads(_heads(env))
                model.to(device)
                opt = _sync_optimizer(opt, model, factory)

            elapsed = time.perf_counter() - started
            if run.target_N is not None and solved_N(accuracy, threshold) >= run.target_N:
                history.stop_reason = "target_N"
            elif curriculum and getattr(env, "finished", False):
                history.stop_reason = "finished"
            elif epoch == run.epochs:
                history.stop_reason = "epochs"
            elif run.time_budget is not None and elapsed + record.seconds > run.time_budget:
                history.stop_reason = "time_budget"
            if checkpoint is not None:
                _save_run(checkpoint, model, env, opt, history, rng, device, config)
            if history.stop_reason is not None:
                break
    return history


def _save_model(model: nn.Module, path: Path) -> None:
    """The model alone with ``agents.save`` (atomic), for analysis; a user's model has no kind."""
    kinds: tuple[type[HeadedModel], ...] = tuple(KINDS.values())
    if isinstance(model, kinds):
        save(model, path)


def _save_run(path: Path, model: nn.Module, env: Any, optimizer: torch.optim.Optimizer,
              history: History, rng: np.random.Generator, device: torch.device,
              config: dict[str, Any]) -> None:
    """Write ``checkpoint.pt`` and ``history.json`` (the state ready for the next epoch)."""
    recorded = history.to_dict()
    runstate.save_state({
        "epoch": len(history), "heads": list(_heads(env)), "model": model.state_dict(),
        "optimizer": optimizer.state_dict(), "param_names": _param_names(model, optimizer),
        "curriculum": env.state_dict() if hasattr(env, "update") else None,
        "history": recorded, "rng": runstate.capture_rng(rng, device), "config": config,
    }, path)
    runstate.save_json(recorded, path.parent / runstate.HISTORY)
