"""Watching a training run: TensorBoard scalars, a τ histogram and the config; a tqdm progress bar.

Tags written once per epoch (``global_step`` = epoch number):

- ``loss``: mean training loss of the epoch;
- ``accuracy/N=<n>``: evaluation accuracy of each head trained that epoch, ``accuracy/mean`` their mean;
- ``curriculum/max_N`` and ``curriculum/heads``: the largest N and the number of heads trained;
- ``tau/mean``, ``tau/std`` and the histogram ``tau/hist``: the model's timescales (the effective
  τ of a LeakyRNN, gate timescales of a GRU/LSTM), skipped for a model without them;
- ``time/epoch_seconds`` and ``time/samples_per_second`` (training samples per second);
- text ``config``: the run's settings, once.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from agents.training.checkpoint import WriteError


def timescales(model: nn.Module) -> torch.Tensor | None:
    """The model's timescale per unit: ``model.timescales()``, else ``model.taus``, else None."""
    method, taus = getattr(model, "timescales", None), getattr(model, "taus", None)
    if callable(method):
        taus = method()
    elif not isinstance(taus, torch.Tensor):
        return None
    taus = taus.detach().float().flatten().cpu()
    return taus if taus.numel() else None


class Monitor:
    """TensorBoard writer (when ``logdir`` is given) and progress bar (when ``progress``) of one run.

    ``start_epoch`` is the number of epochs already done (non-zero on resume): TensorBoard events
    a crashed run wrote after that epoch are purged so curves continue without duplicates.
    ``deadline`` (a ``time.perf_counter`` time; the end of a time budget) makes the bar's total
    the steps that will run before it, so its ETA is the run's, not that of all ``epochs``.
    """

    def __init__(self, logdir: str | os.PathLike | None, config: dict[str, Any], *, epochs: int,
                 steps_per_epoch: int, start_epoch: int = 0, progress: bool = True,
                 deadline: float | None = None):
        self.writer, self.logdir = None, logdir
        self.epochs, self.steps_per_epoch, self.deadline = epochs, steps_per_epoch, deadline
        self.started, self.epoch_seconds = time.perf_counter(), None
        if logdir is not None:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(os.fspath(logdir), purge_step=start_epoch + 1)
            text = json.dumps(config, indent=2, default=str)
            self.writer.add_text("config", "```\n" + text + "\n```", global_step=start_epoch)
        self.bar = tqdm(total=epochs * steps_per_epoch, initial=start_epoch * steps_per_epoch,
                        unit="step", dynamic_ncols=True, disable=not progress)

    def step(self, n: int = 1) -> None:
        """Advance the progress bar by ``n`` training steps."""
        if self.deadline is not None and self.epoch_seconds is None and not self.bar.disable:
            # the first epoch: as many steps as fit at the rate so far
            now, done = time.perf_counter(), self.bar.n + n - self.bar.initial
            fit = done + (self.deadline - now) * done / max(now - self.started, 1e-9)
            self._set_total(self.bar.initial + max(done, round(fit)))
        self.bar.update(n)

    def _set_total(self, steps: int) -> None:
        """Make the bar's total ``steps``, at most all epochs' steps."""
        self.bar.total = min(steps, self.epochs * self.steps_per_epoch)

    def epoch(self, record: Any, taus: torch.Tensor | None) -> None:
        """Log one epoch's record (an :class:`agents.training.loop.EpochRecord`) and the model's τ."""
        accuracy = record.accuracy
        mean_acc = sum(accuracy.values()) / len(accuracy)
        max_n = max(record.heads)
        if self.deadline is not None:  # train() starts an epoch only if it ends before the deadline
            self.epoch_seconds = record.seconds
            more = max(0, int((self.deadline - time.perf_counter()) // record.seconds))
            self._set_total(self.bar.n + more * self.steps_per_epoch)
        self.bar.set_postfix(epoch=record.epoch, N=max_n, acc=f"{accuracy[max_n]:.3f}",
                             loss=f"{record.loss:.3f}", refresh=False)
        if self.writer is None:
            return
        step, add = record.epoch, self.writer.add_scalar
        add("loss", record.loss, step)
        for n, acc in accuracy.items():
            add(f"accuracy/N={n}", acc, step)
        add("accuracy/mean", mean_acc, step)
        add("curriculum/max_N", max_n, step)
        add("curriculum/heads", len(record.heads), step)
        if taus is not None:
            add("tau/mean", record.tau_mean, step)
            add("tau/std", record.tau_std, step)
            self.writer.add_histogram("tau/hist", taus, step)
        add("time/epoch_seconds", record.seconds, step)
        add("time/samples_per_second", record.samples_per_second, step)
        self._written(self.writer.flush)

    def _written(self, write: Any) -> None:
        """Run the writer's ``write`` (flush, close); a file it cannot write is a WriteError."""
        try:
            write()
        except OSError as error:
            raise WriteError(error.errno, error.strerror or str(error),
                             f"{self.logdir} (TensorBoard events)") from None

    def close(self) -> None:
        self.bar.close()
        if self.writer is not None:
            self._written(self.writer.close)

    def __enter__(self) -> Monitor:
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        try:
            self.close()
        except WriteError:
            if kind is None:  # else the error already on its way says more
                raise


def summary_table(history: Any) -> str:
    """A plain-text table of a run (an :class:`agents.training.loop.History`): one line per epoch."""
    lines = [f"{'epoch':>5}  {'heads':>9}  {'acc@N_max':>9}  {'solved N':>8}  {'loss':>7}  "
             f"{'tau mean':>8}  {'tau std':>7}  {'seconds':>7}"]
    for record, solved in zip(history.records, history.solved_N):
        heads = f"{min(record.heads)}..{max(record.heads)}" if len(record.heads) > 1 \
            else str(record.heads[0])
        tau = ("-", "-") if record.tau_mean is None \
            else (f"{record.tau_mean:.3f}", f"{record.tau_std:.3f}")
        lines.append(f"{record.epoch:>5}  {heads:>9}  {record.accuracy[max(record.heads)]:>9.3f}  "
                     f"{solved:>8}  {record.loss:>7.4f}  {tau[0]:>8}  {tau[1]:>7}  "
                     f"{record.seconds:>7.1f}")
    return "\n".join(lines)
