"""The paper's leaky RNN: per-neuron trainable timescale τ, no self-connections, stacked layers,
the nonlinearity inside or outside the leak, continuous time; its time loop is in ``recurrence``."""

from __future__ import annotations

import itertools
import numbers
from collections.abc import Iterable, Iterator, Sequence
from typing import cast

import torch
from torch import nn

from agents.models.heads import HeadedModel, Heads, check_hidden_memory, check_inputs
from agents.models.recurrence import scan
from memtasks.checks import FLOAT32_MAX, check_bool, check_choice, check_int

ACTIVATIONS = ("leaky_relu", "relu", "tanh")
H0_MODES = ("random", "zeros")
LEAKS = ("inside", "outside")


def _layer_sizes(hidden_size: object) -> tuple[int, ...]:
    """``hidden_size`` (an int, or a non-empty sequence of ints: one per layer) as a tuple."""
    if isinstance(hidden_size, Sequence) and not isinstance(hidden_size, (str, bytes)):
        if not hidden_size:
            raise ValueError("hidden_size=[] is not accepted: expected an int >= 1 or a non-empty "
                             "sequence of ints >= 1 (one per layer)")
        return tuple(check_int(size, "hidden_size") for size in hidden_size)
    return (check_int(hidden_size, "hidden_size"),)


class _Layer(nn.Module):
    """A layer above the first: feed-forward weights from the layer below, recurrent weights."""

    mask: torch.Tensor

    def __init__(self, below: int, size: int):
        super().__init__()
        self.feedforward = nn.Linear(below, size)
        self.recurrent = nn.Linear(size, size)
        self.register_buffer("mask", 1 - torch.eye(size), persistent=False)


class LeakyRNN(HeadedModel):
    r"""Leaky RNN with a trainable timescale per neuron (the paper's network), one or more layers.

    With the leak inside the nonlinearity (``leak="inside"``, the paper's main network):

    .. math::
        h_t = \mathrm{act}\big((1 - 1/\tau) \odot h_{t-1}
              + (W_{rec} h_{t-1} + b_{rec} + W_{in} x_t + b_{in}) / \tau\big)

    outside it (``leak="outside"``, the authors' "mod" variant):

    .. math::
        h_t = (1 - 1/\tau) \odot h_{t-1}
              + \mathrm{act}(W_{rec} h_{t-1} + b_{rec} + W_{in} x_t + b_{in}) / \tau

    with the effective τ = max(k·τ, 1) for ``forward(..., repeat=k)`` (continuous time: each input
    repeated k times; k = 1 by default). The clamp has no gradient below 1 (``torch.clamp``).
    Self-connections are removed by a fixed mask (``W_rec * mask``); the stored diagonal is zero
    from the start and gets zero gradient, so it stays zero through any optimizer step.

    Stacked layers (``hidden_size=[H_1, …, H_L]``): layer 1 is the network above; layer l > 1 has
    its own τ and W_rec, and in place of W_in x_t + b_in it receives F_l h^{l-1}_t + b_F, the
    state of layer l − 1 at the same step. ``forward`` returns all layers' states side by side
    (layer 1 first), ``taus`` likewise, so a neuron has one index across the network;
    ``readout`` reads the last layer.

    Args:
        hidden_size: number of neurons, or a sequence of them, one per layer.
        heads: the N of each readout head, e.g. ``(2, 3)``.
        tau: ``None`` draws τ from 1 + U(0, 1) (torch's global generator); a float ≥ 1 sets every τ.
        train_tau: whether τ is a parameter (else a buffer, still saved in ``state_dict``).
        activation: ``"leaky_relu"`` (slope 0.01, the paper's), ``"relu"`` or ``"tanh"``.
        h0: ``"random"`` draws h_0 from U(0, 0.1) at every forward (torch's global generator,
            so seed it with ``torch.manual_seed``); ``"zeros"`` starts at 0.
        input_size: size of x_t.
        leak: ``"inside"`` or ``"outside"`` the nonlinearity (the equations above).

    Attributes: ``hidden_size`` is the number of neurons of all layers together (the width of the
    states), ``layer_sizes`` the tuple of layer sizes, ``layer_slices`` each layer's slice of it.

    Shapes: ``forward(inputs (T, B, input_size), h0=None (or (B, hidden)), return_final=False,
    *, repeat=1)`` returns states ``(T, B, hidden)`` (and the final state ``(B, hidden)`` if
    ``return_final``). Inputs and h_0 must have the model's dtype; under ``torch.autocast`` the
    recurrence runs in the autocast dtype.
    """

    kind = "leaky"
    capturable = True  # a step holds no host sync and no state between forwards: CUDA graphs may replay it
    tau: torch.Tensor  # a parameter, or a buffer without train_tau
    mask: torch.Tensor

    def __init__(self, hidden_size: int | Sequence[int], heads: int | Sequence[int], *,
                 tau: float | None = None, train_tau: bool = True, activation: str = "leaky_relu",
                 h0: str = "random", input_size: int = 1, leak: str = "inside"):
        super().__init__()
        self.layer_sizes = _layer_sizes(hidden_size)
        self.hidden_size = sum(self.layer_sizes)
        self.input_size = check_int(input_size, "input_size")
        check_hidden_memory(self.hidden_size, 2)  # recurrent weights and their mask
        if tau is not None:
            if not isinstance(tau, numbers.Real) or isinstance(tau, bool):
                raise TypeError(f"tau={tau!r} is not accepted: expected None or a float >= 1")
            if not 1 <= tau <= FLOAT32_MAX:
                raise ValueError(f"tau={tau!r} is not accepted: expected None or a float >= 1 "
                                 f"that float32 holds (at most {FLOAT32_MAX:.3g})")
        check_bool(train_tau, "train_tau")
        check_choice(activation, "activation", ACTIVATIONS)
        check_choice(h0, "h0", H0_MODES)
        check_choice(leak, "leak", LEAKS)
        self.tau_init, self.train_tau, self.activation, self.h0 = tau, train_tau, activation, h0
        self.leak = leak
        tau_values = torch.empty(self.hidden_size)
        if train_tau:
            self.tau = nn.Parameter(tau_values)
        else:
            self.register_buffer("tau", tau_values)
        first = self.layer_sizes[0]
        self.input = nn.Linear(self.input_size, first)
        self.recurrent = nn.Linear(first, first)
        self.register_buffer("mask", 1 - torch.eye(first), persistent=False)
        self.stack = nn.ModuleList(_Layer(below, size) for below, size
                                   in zip(self.layer_sizes, self.layer_sizes[1:]))
        self.readouts = Heads(self.layer_sizes[-1], heads)
        self.layer_slices = tuple(slice(end - size, end) for end, size
                                  in zip(itertools.accumulate(self.layer_sizes), self.layer_sizes))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """τ as configured, nn.Linear's default init, then the recurrent diagonals zeroed."""
        with torch.no_grad():
            if self.tau_init is None:
                self.tau.uniform_(1.0, 2.0)
            else:
                self.tau.fill_(self.tau_init)
            for feed, recurrent, mask in self._layers():
                feed.reset_parameters()
                recurrent.reset_parameters()
                recurrent.weight.mul_(mask)

    def _layers(self) -> Iterator[tuple[nn.Linear, nn.Linear, torch.Tensor]]:
        """(feed-forward or input Linear, recurrent Linear, mask) of each layer, bottom up."""
        yield self.input, self.recurrent, self.mask
        for layer in cast(Iterable[_Layer], self.stack):
            yield layer.feedforward, layer.recurrent, layer.mask

    @property
    def taus(self) -> torch.Tensor:
        """The effective τ per neuron, max(τ, 1), shape (hidden_size,)."""
        return torch.clamp(self.tau, min=1.0)

    def timescales(self) -> torch.Tensor:
        """Effective τ per neuron, detached (the monitoring hook shared with GRU and LSTM)."""
        return self.taus.detach()

    def initial_state(self, batch_size: int, like: torch.Tensor) -> torch.Tensor:
        """h_0 of shape (batch_size, hidden), as ``self.h0`` says, on ``like``'s device and dtype."""
        if self.h0 == "zeros":
            return like.new_zeros(batch_size, self.hidden_size)
        return torch.rand(batch_size, self.hidden_size, device=like.device, dtype=like.dtype) * 0.1

    def _layer_operands(self, feed: nn.Linear, recurrent: nn.Linear, mask: torch.Tensor,
                        tau: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor,
                                                    torch.Tensor | None, torch.Tensor | None]:
        """(W, b, M, d, s) of one layer for :func:`~agents.models.recurrence.scan`. Leak inside:
        1/τ folded in, W = W_in / τ, b = (b_in + b_rec) / τ, M = W_rec·mask / τ (by rows) +
        diag(1 − 1/τ), no d, s. Outside: W_in, b_in + b_rec, W_rec·mask, d = 1 − 1/τ, s = 1/τ."""
        inv_tau = 1.0 / tau
        bias = feed.bias + recurrent.bias
        weight = recurrent.weight * mask
        if self.leak == "outside":
            return feed.weight, bias, weight, 1 - inv_tau, inv_tau
        return (feed.weight * inv_tau[:, None], bias * inv_tau,
                weight * inv_tau[:, None] + torch.diag(1 - inv_tau), None, None)

    def forward(self, inputs: torch.Tensor, h0: torch.Tensor | None = None,
                return_final: bool = False, *, repeat: int = 1):
        check_inputs(inputs, self.input_size)
        repeat = check_int(repeat, "repeat")
        tau = self.tau
        dtype = self._compute_dtype(inputs, tau)
        batch = inputs.shape[1]
        if h0 is None:
            h0 = self.initial_state(batch, inputs)
        else:
            self._check_h0(h0, inputs)
        tau = torch.clamp(tau * repeat if repeat > 1 else tau, min=1.0)
        if len(self.layer_sizes) == 1:
            states = self._scan_layer(inputs, self.input, self.recurrent, self.mask, tau, h0, dtype)
        else:  # layer by layer, each driven by the states of the one below
            x, layers = inputs, []
            for (feed, recurrent, mask), part in zip(self._layers(), self.layer_slices):
                x = self._scan_layer(x, feed, recurrent, mask, tau[part], h0[:, part], dtype)
                layers.append(x)
            states = torch.cat(layers, dim=-1)
        return (states, states[-1]) if return_final else states

    def _scan_layer(self, x: torch.Tensor, feed: nn.Linear, recurrent: nn.Linear,
                    mask: torch.Tensor, tau: torch.Tensor, h0: torch.Tensor,
                    dtype: torch.dtype | None) -> torch.Tensor:
        """One layer's states (T, B, size) for its drive ``x`` (inputs or the layer below)."""
        w_in, bias, matrix, decay, scale = self._layer_operands(feed, recurrent, mask, tau)
        if dtype is not None:  # autocast: the whole recurrence in its dtype
            x, w_in, bias, matrix, h0 = (t.to(dtype) for t in (x, w_in, bias, matrix, h0))
            if decay is not None and scale is not None:
                decay, scale = decay.to(dtype), scale.to(dtype)
        return scan(x.contiguous(), w_in, bias, matrix, h0.contiguous(), decay, scale,
                    self.activation)

    def _compute_dtype(self, inputs: torch.Tensor, tau: torch.Tensor) -> torch.dtype | None:
        """The autocast dtype where autocast is on for the inputs' device (else None), after
        checking that the inputs match the model's device and (outside autocast) dtype."""
        if inputs.device != tau.device:
            raise ValueError(f"inputs on {inputs.device} are not accepted: the model is on "
                             f"{tau.device} (move one of them with .to)")
        device = inputs.device.type
        if torch.is_autocast_enabled(device):
            return torch.get_autocast_dtype(device)
        if inputs.dtype != tau.dtype:
            raise TypeError(f"inputs of dtype {inputs.dtype} are not accepted: expected "
                            f"{tau.dtype}, the model's dtype (convert the model, e.g. "
                            f"model.to({inputs.dtype}), or the inputs)")
        return None

    def _check_h0(self, h0: object, inputs: torch.Tensor) -> None:
        expected = f"({inputs.shape[1]}, {self.hidden_size})"
        if not isinstance(h0, torch.Tensor):
            raise TypeError(f"h0 of type {type(h0).__name__} is not accepted: expected None or a "
                            f"torch.Tensor of shape {expected}")
        if h0.shape != (inputs.shape[1], self.hidden_size):
            raise ValueError(f"h0 of shape {tuple(h0.shape)} is not accepted: expected {expected}")
        if h0.dtype != inputs.dtype or h0.device != inputs.device:
            raise TypeError(f"h0 of dtype {h0.dtype} on {h0.device} is not accepted: expected "
                            f"{inputs.dtype} on {inputs.device}, as the inputs")

    def readout(self, states: torch.Tensor) -> torch.Tensor:
        """Logits ``(..., H, 2)`` from states ``(..., hidden_size)``: the heads read the last layer."""
        if len(self.layer_sizes) > 1:
            states = states[..., self.layer_slices[-1]]
        return self.readouts(states)

    def unit_tensors(self) -> list[tuple[torch.Tensor, int, int, int]]:
        """``(tensor, axis, first, size)`` for every tensor holding a neuron's weights in or out:
        along ``axis``, index j belongs to neuron ``first + j % size`` (the analysis' ablation)."""
        out: list[tuple[torch.Tensor, int, int, int]] = []
        layers = list(self._layers())
        for index, ((feed, recurrent, _), part) in enumerate(zip(layers, self.layer_slices)):
            first, size = part.start, part.stop - part.start
            out += [(feed.weight, 0, first, size), (feed.bias, 0, first, size),
                    (recurrent.bias, 0, first, size), (recurrent.weight, 0, first, size),
                    (recurrent.weight, 1, first, size)]
            if index + 1 < len(layers):  # read by the next layer, else by the heads
                out.append((layers[index + 1][0].weight, 1, first, size))
            else:
                out += [(lin.weight, 1, first, size) for lin in self.readouts.layers()]
        return out

    def recurrent_weights(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """(W_rec, mask) of each layer, bottom up (the analysis' weight perturbation)."""
        return [(recurrent.weight, mask) for _, recurrent, mask in self._layers()]

    def config(self) -> dict:
        sizes = self.layer_sizes
        return {"hidden_size": sizes[0] if len(sizes) == 1 else list(sizes),
                "heads": list(self.heads), "tau": self.tau_init, "train_tau": self.train_tau,
                "activation": self.activation, "h0": self.h0, "input_size": self.input_size,
                "leak": self.leak}

    def extra_repr(self) -> str:
        sizes = self.layer_sizes[0] if len(self.layer_sizes) == 1 else list(self.layer_sizes)
        return (f"hidden_size={sizes}, train_tau={self.train_tau}, activation={self.activation!r}, "
                f"h0={self.h0!r}, leak={self.leak!r}")
