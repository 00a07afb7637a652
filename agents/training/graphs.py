"""The training and evaluation steps replayed as CUDA graphs: one launch per step, not hundreds.

A step of the leaky RNN is hundreds of small kernels, each launched from Python; on a GPU the
launches, not the arithmetic, set the pace. :class:`GraphedSteps` captures the whole step —
forward, loss, backward, clipping, optimizer (``steps.train_step``), and the evaluation step —
once per batch shape with ``torch.cuda.CUDAGraph`` (manual capture on a side stream), and then
replays it. How:

- Shapes: the sequence length T varies per batch, so there is one graph per (step, T, …) shape,
  kept in a least-recently-used table of at most ``max_graphs``; all graphs share one memory pool
  (they never run at the same time and keep nothing in the pool between replays that another
  graph needs: parameters, momentum and the static inputs live outside it).
- Inputs: batches are still drawn by numpy (the same batches as on the CPU, so a seed gives the
  same run everywhere) and copied asynchronously from pinned memory into static device buffers,
  one flat buffer per array, viewed in each batch's shape; when a buffer must grow, the graphs
  that read the old one are dropped.
- Optimizer state: optimizers create their state (e.g. SGD's momentum) at their first step, which
  a replay cannot repeat; until the state exists the step runs eagerly on the same buffers.
- Lazy CUDA set-up (cuBLAS handles, the autograd thread's workspaces) must not happen inside a
  capture: before its first capture, a :class:`GraphedSteps` rehearses both steps on copies of the
  model and optimizer, with the random state forked, so the run itself is untouched.
- Heads: a curriculum that changes the heads changes the parameters; the training loop then
  builds a new :class:`GraphedSteps` (re-capture).

The outputs of a replay (the loss; right and labelled counts) are static tensors overwritten by
the next replay: consume them (e.g. copy them into a device buffer) before the next step. With
``capture=False`` the same object runs the steps eagerly on the same static buffers — the CPU
twin that the tests compare with the plain eager step.
"""

from __future__ import annotations

import contextlib
import copy
from collections import OrderedDict
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import numpy as np
import torch
from torch import nn

from agents.models.protocol import unwrap
from agents.training.steps import (batch_arrays, batch_repeat, batch_tensors, eval_step,
                                   optimizer_params, train_step)
from memtasks.checks import check_bool, first_line

MAX_GRAPHS = 1024  # graphs kept per run: train and eval steps for every T of N up to ~170


def model_support(model: nn.Module) -> str | None:
    """Why steps of ``model`` cannot be captured, or None: a model declares it with
    ``capturable = True`` (no host syncs, no state kept between forwards)."""
    if unwrap(model) is not model:
        return "a torch.compile'd model (compile with mode='reduce-overhead' for graphs instead)"
    if getattr(model, "capturable", False):
        return None
    return (f"model {type(model).__name__} does not declare capturable = True (the project's "
            f"LeakyRNN does)")


def optimizer_support(optimizer: torch.optim.Optimizer) -> str | None:
    """Why steps of ``optimizer`` cannot be captured, or None: SGD or capturable optimizers."""
    if isinstance(optimizer, torch.optim.SGD) or all(
            group.get("capturable", False) for group in optimizer.param_groups):
        return None
    return f"optimizer {type(optimizer).__name__} is neither SGD nor built with capturable=True"


def _refuse_forced(graphs: bool | None, reason: str | None) -> None:
    """Raise where ``graphs=True`` asks for graphs that cannot run, for ``reason``."""
    if graphs and reason is not None:
        raise ValueError(f"graphs=True is not accepted: {reason}; expected None or False")


def check_graphs(graphs: Any, model: nn.Module, device: torch.device) -> bool | None:
    """Check ``train``'s ``graphs`` argument against the device and the model; False where
    graphs cannot run, else ``graphs`` (None: decided by the optimizer, :func:`make_steps`)."""
    check_bool(graphs, "graphs", optional=True)
    reason = (f"CUDA graphs need a CUDA device, not {str(device)!r}" if device.type != "cuda"
              else model_support(model))
    _refuse_forced(graphs, reason)
    return False if reason is not None else graphs


def optimizer_ready(optimizer: torch.optim.Optimizer) -> bool:
    """Whether every parameter has the state the optimizer's step updates in place (it is created
    at the first step; SGD without momentum keeps none)."""
    return all(group.get("momentum", 1) == 0 or optimizer.state.get(p)
               for group in optimizer.param_groups for p in group["params"])


def rehearse(model: nn.Module, optimizer: torch.optim.Optimizer, grad_clip: float | None,
             inputs: Sequence[torch.Tensor]) -> None:
    """Run a training and an evaluation step on copies of ``model`` and ``optimizer`` with the
    random state forked: what the steps set up lazily gets set up; the run is untouched."""
    model, optimizer = copy.deepcopy((model, optimizer))
    params = optimizer_params(optimizer)
    device = inputs[0].device
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        train_step(model, optimizer, params, grad_clip, 1, *inputs)
        eval_step(model, 1, *inputs)


class _Buffers:
    """Static device buffers a batch is copied into: one flat buffer per array, viewed in the
    batch's shape, so that graphs of every shape read the same addresses."""

    def __init__(self, device: torch.device):
        self.device = device
        self.flat: list[torch.Tensor] = []

    def fit(self, arrays: Sequence[np.ndarray]) -> bool:
        """Make room for ``arrays``; True when a buffer was replaced (old views are stale)."""
        grew = False
        for i, array in enumerate(arrays):
            dtype = torch.from_numpy(np.empty(0, array.dtype)).dtype
            old = self.flat[i] if i < len(self.flat) else None
            if old is None or old.numel() < array.size or old.dtype != dtype:
                size = max(array.size, 0 if old is None else 3 * old.numel() // 2)
                new = torch.empty(size, dtype=dtype, device=self.device)
                self.flat[i:i + 1] = [new]
                grew = True
        return grew

    def fill(self, arrays: Sequence[np.ndarray]) -> list[torch.Tensor]:
        """Copy ``arrays`` into the buffers (from pinned memory, asynchronously, on CUDA)."""
        views = []
        for flat, array in zip(self.flat, arrays):
            view = flat[:array.size].view(array.shape)
            source = torch.from_numpy(np.ascontiguousarray(array))
            if self.device.type == "cuda":
                source = source.pin_memory()  # the host allocator keeps it until the copy is done
            view.copy_(source, non_blocking=True)
            views.append(view)
        return views


class GraphedSteps:
    """The training and evaluation steps of one model and optimizer, replayed as CUDA graphs.

    ``train(batch)`` returns the loss, ``evaluate(batch)`` the right and labelled counts per head,
    as tensors on the device that the next call overwrites (see the module docstring).
    ``capture=False`` runs the same steps eagerly on the same static buffers (any device).
    """

    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer,
                 grad_clip: float | None, device: torch.device, *, capture: bool = True,
                 max_graphs: int = MAX_GRAPHS):
        self.model, self.optimizer, self.grad_clip = model, optimizer, grad_clip
        self.params = optimizer_params(optimizer)
        self.device, self.capture, self.max_graphs = torch.device(device), capture, max_graphs
        self.graphs: OrderedDict[tuple, tuple[torch.cuda.CUDAGraph, Any]] = OrderedDict()
        self.captures = 0  # graphs captured so far (dropped ones included)
        self._buffers = _Buffers(self.device)
        self._rehearsed = False
        if capture:
            self._stream = torch.cuda.Stream(self.device)
            self._pool = torch.cuda.graph_pool_handle()

    def train(self, batch: Any) -> torch.Tensor:
        """One training step on ``batch`` (a memtasks Batch); the loss on the device."""
        step = partial(train_step, self.model, self.optimizer, self.params, self.grad_clip,
                       batch_repeat(batch))
        return self._run("train", step, batch)

    def evaluate(self, batch: Any) -> tuple[torch.Tensor, torch.Tensor]:
        """Right answers and labelled entries per head of ``batch``, on the device."""
        return self._run("eval", partial(eval_step, self.model, batch_repeat(batch)), batch)

    def _run(self, name: str, step: Callable[..., Any], batch: Any) -> Any:
        arrays = batch_arrays(batch)
        cuda = self.device.type == "cuda"
        with torch.cuda.device(self.device) if cuda else contextlib.nullcontext():
            if self._buffers.fit(arrays):
                self._drop(len(self.graphs))
            inputs = self._buffers.fill(arrays)
            key = (name, batch_repeat(batch), *(a.shape for a in arrays))
            if key in self.graphs:
                self.graphs.move_to_end(key)
            elif self.capture and (name == "eval" or optimizer_ready(self.optimizer)):
                self._rehearse(inputs)
                self.graphs[key] = self._capture(name, step, inputs)
                self.captures += 1
                self._drop(len(self.graphs) - self.max_graphs)
            else:
                return step(*inputs)
            graph, outputs = self.graphs[key]
            graph.replay()
            return outputs

    def _drop(self, count: int) -> None:
        """Drop the ``count`` least recently used graphs, once no replay of them is pending."""
        if count > 0 and self.device.type == "cuda":
            torch.cuda.current_stream().synchronize()
        for _ in range(count):
            self.graphs.popitem(last=False)

    def _rehearse(self, inputs: list[torch.Tensor]) -> None:
        """Before the first capture: :func:`rehearse` on the side stream that captures."""
        if self._rehearsed:
            return
        self._stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(self._stream):
            rehearse(self.model, self.optimizer, self.grad_clip, inputs)
        torch.cuda.current_stream().wait_stream(self._stream)
        self._rehearsed = True

    def _capture(self, name: str, step: Callable[..., Any], inputs: list[torch.Tensor]
                 ) -> tuple[torch.cuda.CUDAGraph, Any]:
        """Capture ``step(*inputs)`` on the side stream into the shared pool (nothing runs)."""
        graph = torch.cuda.CUDAGraph()
        self._stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(self._stream):
            graph.capture_begin(pool=self._pool)
            try:
                outputs = step(*inputs)
            except Exception as exc:
                with contextlib.suppress(RuntimeError):
                    graph.capture_end()
                raise RuntimeError(f"capturing the {name} step of {type(self.model).__name__} "
                                   f"in a CUDA graph failed ({first_line(exc)}); "
                                   f"train with graphs=False") from exc
            graph.capture_end()
        torch.cuda.current_stream().wait_stream(self._stream)
        return graph, outputs


class EagerSteps:
    """The same two steps run eagerly on each batch's own tensors (the CPU path, ``graphs=False``)."""

    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer,
                 grad_clip: float | None, device: torch.device):
        self.model, self.optimizer, self.grad_clip, self.device = model, optimizer, grad_clip, device
        self.params = optimizer_params(optimizer)

    def train(self, batch: Any) -> torch.Tensor:
        """One training step on ``batch``; the loss on the device."""
        return train_step(self.model, self.optimizer, self.params, self.grad_clip,
                          batch_repeat(batch), *batch_tensors(batch, self.device))

    def evaluate(self, batch: Any) -> tuple[torch.Tensor, torch.Tensor]:
        """Right answers and labelled entries per head of ``batch``, on the device."""
        return eval_step(self.model, batch_repeat(batch), *batch_tensors(batch, self.device))


def make_steps(model: nn.Module, optimizer: torch.optim.Optimizer, grad_clip: float | None,
               device: torch.device, graphs: bool | None) -> GraphedSteps | EagerSteps:
    """The steps ``train`` runs: graphed where ``graphs`` (from :func:`check_graphs`) and the
    optimizer allow, else eager; ``graphs=True`` with an optimizer that cannot: ValueError."""
    reason = None if graphs is False else optimizer_support(optimizer)
    _refuse_forced(graphs, reason)
    if graphs is not False and reason is None:
        return GraphedSteps(model, optimizer, grad_clip, device)
    return EagerSteps(model, optimizer, grad_clip, device)
