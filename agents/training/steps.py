"""One training step and one evaluation step over tensors: the loss, the count of right answers,
and the step bodies that the eager loop runs and that CUDA graphs capture (``graphs.py``).

A step reads a batch as three tensors: inputs (T, B, input_size), the labelled steps (L,) and
the targets (L, B, H) (−1 where a head has no label), and the batch's ``repeat`` k (continuous
time: each bit shown k times). Nothing in a step waits for the device.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from agents.models.protocol import headed, unwrap


def optimizer_params(optimizer: torch.optim.Optimizer) -> list[nn.Parameter]:
    """The parameters ``optimizer`` updates, group after group."""
    return [p for group in optimizer.param_groups for p in group["params"]]


def sequence_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Cross-entropy summed over heads, each averaged over its labelled (step, batch) entries.

    ``logits`` (L, B, H, 2), ``targets`` (L, B, H) with −1 where a head has no label.
    """
    per_entry = F.cross_entropy(logits.reshape(-1, 2), targets.reshape(-1), ignore_index=-1,
                                reduction="none").view(targets.shape)
    labelled = (targets >= 0).sum(dim=(0, 1)).clamp_min(1)
    return (per_entry.sum(dim=(0, 1)) / labelled).sum()


def count_correct(logits: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per head: how many labelled entries were predicted right, and how many were labelled."""
    labelled = targets >= 0
    correct = (logits.argmax(-1) == targets) & labelled
    return correct.sum(dim=(0, 1)), labelled.sum(dim=(0, 1))


@functools.cache
def _takes_repeat(forward: Callable[..., Any]) -> bool:
    """Whether a ``forward`` method has a ``repeat`` keyword (continuous time: τ scaled by k)."""
    return "repeat" in inspect.signature(forward).parameters


def states_of(model: nn.Module, inputs: torch.Tensor, repeat: int = 1) -> torch.Tensor:
    """The model's states for ``inputs``; bits repeated k > 1 times pass ``repeat=k`` to a model
    whose forward takes it (LeakyRNN scales τ by k); other models just see the longer stream."""
    if repeat != 1 and _takes_repeat(type(unwrap(model)).forward):
        return model(inputs, repeat=repeat)
    return model(inputs)


def batch_repeat(batch: Any) -> int:
    """The k of a batch whose bits are each shown k times (1 for ordinary batches)."""
    return int(getattr(batch, "repeat", 1))


def batch_arrays(batch: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A memtasks Batch as the three arrays a step reads: inputs, labelled steps, targets."""
    return batch.inputs, np.asarray(batch.steps), batch.targets


def batch_tensors(batch: Any, device: torch.device) -> tuple[torch.Tensor, ...]:
    """A memtasks Batch as the three tensors a step reads, on ``device``."""
    return tuple(torch.from_numpy(a).to(device) for a in batch_arrays(batch))


def train_step(model: nn.Module, optimizer: torch.optim.Optimizer, params: list[nn.Parameter],
               grad_clip: float | None, repeat: int, inputs: torch.Tensor, steps: torch.Tensor,
               targets: torch.Tensor) -> torch.Tensor:
    """Forward, loss, backward, gradient-norm clipping and optimizer step; the loss, detached."""
    loss = sequence_loss(headed(model).readout(states_of(model, inputs, repeat)[steps]), targets)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if grad_clip is not None:
        nn.utils.clip_grad_norm_(params, grad_clip)
    optimizer.step()
    return loss.detach()


@torch.no_grad()
def eval_step(model: nn.Module, repeat: int, inputs: torch.Tensor, steps: torch.Tensor,
              targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per head, right answers and labelled entries of one batch (:func:`count_correct`)."""
    return count_correct(headed(model).readout(states_of(model, inputs, repeat)[steps]), targets)
