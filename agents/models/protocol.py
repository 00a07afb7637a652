"""The model protocol: what any module needs to be trained and analysed by the project.

A model is a ``torch.nn.Module`` with
- ``heads``: a tuple of the N of its readout heads;
- ``set_heads(heads)``: change that set, keeping the weights of heads that stay
  (may return the new parameters, see ``agents.models.heads``);
- ``forward(inputs)``: inputs ``(T, B, input_size)`` → hidden states ``(T, B, hidden)``;
- ``readout(states)``: ``(..., hidden)`` → logits ``(..., len(heads), 2)``.
Optional: ``input_size`` (default 1), ``timescales()`` (monitoring), a ``repeat`` keyword on
``forward`` (continuous time: training passes ``repeat=k`` for batches whose bits are shown k times),
and for the analysis ``unit_tensors()`` (ablation) and ``recurrent_weights()`` (perturbation), as
LeakyRNN, GRU and LSTM define them.

A ``torch.compile`` wrapper of such a module is one too: checks, attributes, the state dict and
saving refer to the module inside it (:func:`unwrap`), the forward passes to the compiled code.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Protocol, TypeVar, cast

import torch
from torch import nn


Model = TypeVar("Model", bound=nn.Module)


class Headed(Protocol):
    """The head part of the model protocol, for the type checker (``check_model`` checks it)."""

    @property
    def heads(self) -> tuple[int, ...]: ...

    def set_heads(self, heads: Sequence[int]) -> object: ...

    def readout(self, states: torch.Tensor) -> torch.Tensor: ...


def headed(model: nn.Module) -> Headed:
    """``model`` typed as :class:`Headed`, which ``check_model`` verified when training began."""
    return cast(Headed, model)


def unwrap(model: Model) -> Model:
    """The module inside a ``torch.compile`` wrapper (``OptimizedModule``), else ``model``."""
    eval_frame = sys.modules.get("torch._dynamo.eval_frame")  # loaded wherever a model is compiled
    if eval_frame is not None and isinstance(model, eval_frame.OptimizedModule):
        return model._orig_mod
    return model


def check_model(model: object, *, try_forward: bool = True) -> None:
    """Raise TypeError listing what ``model`` lacks; with ``try_forward``, also run a tiny batch
    (3 steps, 2 sequences, no gradient, random state restored) and check the shapes."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    model = unwrap(model)
    name = type(model).__name__
    missing = [f"{attr} ({what})" for attr, what in (
        ("heads", "a tuple of the N of its readout heads"),
        ("set_heads", "a method set_heads(heads) changing the head set"),
        ("readout", "a method readout(states) -> logits (..., len(heads), 2)"),
    ) if not hasattr(model, attr) or (attr != "heads" and not callable(getattr(model, attr)))]
    if type(model).forward is nn.Module.forward:
        missing.append("forward (inputs (T, B, input_size) -> states (T, B, hidden))")
    if missing:
        raise TypeError(f"model {name} lacks: " + "; ".join(missing))
    heads = model.heads
    if not isinstance(heads, tuple) or not heads or not all(isinstance(n, int) for n in heads):
        raise TypeError(f"model {name}.heads must be a non-empty tuple of ints, got {heads!r}")
    if try_forward:
        _try_forward(model, name, len(heads))


def _try_forward(model: nn.Module, name: str, num_heads: int) -> None:
    tensor = next(iter(model.parameters()), torch.zeros(()))
    input_size = getattr(model, "input_size", 1)
    inputs = torch.zeros(3, 2, input_size, device=tensor.device, dtype=tensor.dtype)
    cuda = [tensor.device.index or 0] if tensor.device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda), torch.no_grad():
        states = model(inputs)
        if not isinstance(states, torch.Tensor) or states.dim() != 3 or states.shape[:2] != (3, 2):
            shape = tuple(states.shape) if isinstance(states, torch.Tensor) else type(states).__name__
            raise TypeError(f"model {name}.forward(inputs (3, 2, {input_size})) must return "
                            f"states (3, 2, hidden), got {shape}")
        logits = headed(model).readout(states)
    if not isinstance(logits, torch.Tensor) or tuple(logits.shape) != (3, 2, num_heads, 2):
        shape = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
        raise TypeError(f"model {name}.readout(states (3, 2, hidden)) must return logits "
                        f"(3, 2, {num_heads}, 2), got {shape}")
