"""Readout heads keyed by N, and the base every model of the project shares.

A model answers one binary question per head (the N-parity or N-DMS of the last N inputs).
Heads are grown and shrunk by a curriculum through ``set_heads``; a head's weights live as long
as its N stays in the set.

Telling an optimizer about new heads: ``set_heads`` returns the parameters it created, so a
training loop either adds them as a group, ::

    new = model.set_heads((2, 3, 4))
    if new:
        optimizer.add_param_group({"params": new})

or simply builds a fresh optimizer from ``model.parameters()``. Parameters of dropped heads get
no gradient any more; optimizers such as SGD and Adam skip them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import torch
from torch import nn

from memtasks.checks import check_heads, check_memory


class Heads(nn.Module):
    """One linear readout ``hidden -> 2`` per N; ``forward(states (..., hidden)) -> (..., H, 2)``."""

    def __init__(self, in_features: int, heads: int | Sequence[int], *,
                 device: torch.device | str | None = None, dtype: torch.dtype | None = None):
        super().__init__()
        self.in_features = in_features
        self.linears = nn.ModuleDict()
        self._heads: tuple[int, ...] = ()
        self._device, self._dtype = device, dtype
        self.set_heads(heads)

    @property
    def heads(self) -> tuple[int, ...]:
        return self._heads

    def set_heads(self, heads: int | Sequence[int]) -> list[nn.Parameter]:
        """Keep the heads whose N stays, create fresh ones, drop the rest; return the new parameters."""
        heads = check_heads(heads, "heads")
        if len(self.linears):  # new heads follow the device and dtype of the existing ones
            weight = next(self.linears.parameters())
            self._device, self._dtype = weight.device, weight.dtype
        kept = {n: self.linears[str(n)] for n in heads if str(n) in self.linears}
        new: list[nn.Parameter] = []
        linears = nn.ModuleDict()
        for n in heads:
            if n not in kept:
                kept[n] = nn.Linear(self.in_features, 2, device=self._device, dtype=self._dtype)
                new.extend(kept[n].parameters())
            linears[str(n)] = kept[n]
        self.linears = linears
        self._heads = heads
        return new

    def layers(self) -> list[nn.Linear]:
        """The Linear of each head, in the order of ``heads``."""
        return [cast(nn.Linear, self.linears[str(n)]) for n in self._heads]

    def forward(self, states: torch.Tensor) -> torch.Tensor:
        linears = self.layers()
        weight = torch.cat([lin.weight for lin in linears])  # (2H, hidden): one GEMM for all heads
        bias = torch.cat([lin.bias for lin in linears])
        logits = nn.functional.linear(states, weight, bias)
        return logits.unflatten(-1, (len(linears), 2))

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, heads={self._heads}"


class HeadedModel(nn.Module):
    """Base of the project's models: ``heads``, ``set_heads`` and ``readout`` over ``self.readouts``.

    Subclasses build ``self.readouts = Heads(hidden_size, heads)``, set ``kind`` (the checkpoint
    registry's name) and implement ``forward`` and ``config``.
    """

    kind: str = ""
    readouts: Heads

    @property
    def heads(self) -> tuple[int, ...]:
        """The N of each head, in the order of ``readout``'s head axis."""
        return self.readouts.heads

    def set_heads(self, heads: int | Sequence[int]) -> list[nn.Parameter]:
        """Change the head set (see module docstring); returns the newly created parameters."""
        return self.readouts.set_heads(heads)

    def readout(self, states: torch.Tensor) -> torch.Tensor:
        """Logits ``(..., H, 2)`` from hidden states ``(..., hidden_size)``."""
        return self.readouts(states)

    def config(self) -> dict:
        """Constructor arguments that rebuild this model (weights aside)."""
        raise NotImplementedError


def check_inputs(inputs: torch.Tensor, input_size: int) -> None:
    """Raise unless ``inputs`` is a floating tensor of shape (T, B, input_size) with T, B ≥ 1."""
    if not isinstance(inputs, torch.Tensor) or not inputs.is_floating_point():
        got = inputs.dtype if isinstance(inputs, torch.Tensor) else type(inputs).__name__
        raise TypeError(f"inputs must be a floating-point torch.Tensor of shape "
                        f"(T, B, {input_size}), got {got}")
    if inputs.dim() != 3 or inputs.shape[-1] != input_size or inputs.numel() == 0:
        raise ValueError(f"inputs of shape {tuple(inputs.shape)} are not accepted: "
                         f"expected (T, B, {input_size}) with T, B >= 1")


def check_hidden_memory(hidden_size: int, matrices: int) -> None:
    """Refuse (ValueError naming hidden_size) a size whose ``matrices`` float32 (hidden, hidden)
    matrices alone would not fit in this machine's memory, before torch tries to allocate them."""
    check_memory(4 * matrices * hidden_size ** 2, f"hidden_size={hidden_size} (weights alone)")
