"""Whether a training run can fit in memory: an estimate checked before anything is written.

The estimate is a floor, not a forecast: weights with their gradients and optimizer state, one
batch (bits, random draws, targets, logits) and the hidden states kept for backpropagation. It
exists to refuse absurd sizes (a batch of 10**11 sequences, 10**7 hidden units) with one clear
line, before an allocator fails deep inside numpy or torch after the run directory was made.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from memtasks.checks import check_memory

FLOAT = 4  # bytes of a float32
COPIES_PER_PARAMETER = 4  # the weight, its gradient, the momentum buffer, a clipping temporary
STATE_COPIES = 3  # hidden states, their gradients, the backward pass's working copy


def training_bytes(model: nn.Module, env: Any, batch_size: int) -> float:
    """Bytes one training step of ``model`` on ``env``'s current task needs, at least."""
    parameters = sum(p.numel() for p in model.parameters())
    probe = env.unwrapped.sample_batch(1, rng=np.random.default_rng(0))  # shapes only
    steps, labelled, heads = probe.inputs.shape[0], len(probe.steps), len(probe.heads)
    width = getattr(model, "hidden_size", 1)
    width = sum(width) if isinstance(width, (list, tuple)) else width
    batch = batch_size * (steps * (1 + 2 * FLOAT) + labelled * heads * (8 + 2 * FLOAT))
    states = batch_size * steps * width * FLOAT * STATE_COPIES
    return parameters * FLOAT * COPIES_PER_PARAMETER + batch + states


def check_training_memory(model: nn.Module, env: Any, batch_size: int,
                          device: torch.device) -> None:
    """Refuse (ValueError naming the sizes) a run whose estimate exceeds the device's memory."""
    needed = training_bytes(model, env, batch_size)
    what = (f"batch_size={batch_size} with hidden_size={getattr(model, 'hidden_size', '?')} "
            f"and heads {tuple(env.unwrapped.heads)}")
    if device.type == "cuda":
        check_memory(needed, what, torch.cuda.get_device_properties(device).total_memory,
                     f"{device}'s memory")
    else:
        check_memory(needed, what)
