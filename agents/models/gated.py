"""GRU and LSTM (torch.nn.GRU / torch.nn.LSTM) with the project's heads and gate timescales.

Gate timescales: a gate g that keeps a fraction g of the old state each step forgets with
timescale 1 / (1 - g). ``timescales()`` averages the gate (LSTM: forget gate; GRU: update gate,
which keeps h_{t-1}) over a copy of the last forward pass's inputs (at most its first 64
sequences and 1000 steps, from a zero state), or over a fixed probe stream of random bits before
any forward pass.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from agents.models.heads import HeadedModel, Heads, check_hidden_memory, check_inputs
from memtasks.checks import check_int

TIMESCALE_INPUTS = (1000, 64)  # steps and sequences of the last forward pass kept for timescales()


def _probe_inputs(input_size: int, like: torch.Tensor) -> torch.Tensor:
    """A fixed random bit stream (its own generator: the global one is left alone)."""
    generator = torch.Generator().manual_seed(0)
    bits = torch.randint(0, 2, (50, 8, input_size), generator=generator)
    return bits.to(device=like.device, dtype=like.dtype)


class _Gated(HeadedModel):
    """Shared body of GRU and LSTM: a one-layer torch RNN, heads, and gate timescales."""

    rnn_class: type[nn.GRU] | type[nn.LSTM]

    def __init__(self, hidden_size: int, heads: int | Sequence[int], *, input_size: int = 1):
        super().__init__()
        self.hidden_size = check_int(hidden_size, "hidden_size")
        self.input_size = check_int(input_size, "input_size")
        check_hidden_memory(self.hidden_size, 4)  # up to four gates' recurrent weights
        self.rnn = self.rnn_class(self.input_size, self.hidden_size)
        self.readouts = Heads(self.hidden_size, heads)
        self._last_inputs: torch.Tensor | None = None

    def forward(self, inputs: torch.Tensor, h0=None, return_final: bool = False):
        """States (T, B, hidden) for inputs (T, B, input_size); h0 as ``return_final`` gives it."""
        check_inputs(inputs, self.input_size)
        steps, sequences = TIMESCALE_INPUTS
        self._last_inputs = inputs[:steps, :sequences].detach().clone()
        states, final = self.rnn(inputs, self._to_torch_state(h0))
        return (states, self._from_torch_state(final)) if return_final else states

    def timescales(self) -> torch.Tensor:
        """1 / (1 - mean gate) per unit, shape (hidden,) (see the module docstring)."""
        _, weight, _, _ = self._weights()
        inputs = self._last_inputs if self._last_inputs is not None else _probe_inputs(
            self.input_size, weight)
        with torch.no_grad():
            gate = self.forward_with_gates(inputs.to(weight))[-1].mean(dim=(0, 1))
        finfo = torch.finfo(gate.dtype)
        return 1 / (1 - gate).clamp_min(finfo.eps)

    def forward_with_gates(self, inputs: torch.Tensor, h0=None) -> tuple[torch.Tensor, ...]:
        """Step-by-step forward with the same weights, returning states and gates (T, B, hidden)."""
        raise NotImplementedError

    def _to_torch_state(self, h0):
        return None if h0 is None else h0.unsqueeze(0)

    def _from_torch_state(self, final):
        return final.squeeze(0)

    def _weights(self) -> list[nn.Parameter]:
        """The torch RNN's weight_ih, weight_hh, bias_ih, bias_hh."""
        return self.rnn.all_weights[0]

    def unit_tensors(self) -> list[tuple[torch.Tensor, int, int, int]]:
        """``(tensor, axis, first, size)`` for every tensor holding a unit's weights in or out:
        along ``axis``, index j belongs to unit ``first + j % size`` (the gates' blocks are
        stacked along axis 0; the analysis' ablation)."""
        w_ih, w_hh, b_ih, b_hh = self._weights()
        size = self.hidden_size
        return [(w_ih, 0, 0, size), (b_ih, 0, 0, size), (w_hh, 0, 0, size), (b_hh, 0, 0, size),
                (w_hh, 1, 0, size), *((lin.weight, 1, 0, size) for lin in self.readouts.layers())]

    def recurrent_weights(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """(W_hh, mask) with every entry free (the analysis' weight perturbation)."""
        w_hh = self._weights()[1]
        return [(w_hh, torch.ones_like(w_hh))]

    def _projections(self, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Input projections for all steps at once, and the recurrent weight and bias."""
        w_ih, w_hh, b_ih, b_hh = self._weights()
        return F.linear(inputs, w_ih, b_ih), w_hh, b_hh

    def config(self) -> dict:
        return {"hidden_size": self.hidden_size, "heads": list(self.heads),
                "input_size": self.input_size}


class GRU(_Gated):
    r"""One-layer GRU (``torch.nn.GRU``) with readout heads keyed by N.

    ``forward(inputs (T, B, input_size), h0=None (or (B, hidden)), return_final=False)``;
    ``forward_with_gates`` also returns the update gate z, with h_t = (1 - z) n + z h_{t-1}.
    """

    kind = "gru"
    rnn_class = nn.GRU

    def forward_with_gates(self, inputs: torch.Tensor, h0: torch.Tensor | None = None
                           ) -> tuple[torch.Tensor, torch.Tensor]:
        """(hidden states, update gates), each (T, B, hidden), computed one step at a time."""
        check_inputs(inputs, self.input_size)
        projected, w_hh, b_hh = self._projections(inputs)
        h = inputs.new_zeros(inputs.shape[1], self.hidden_size) if h0 is None else h0
        states, updates = [], []
        for x in projected:
            x_r, x_z, x_n = x.chunk(3, dim=-1)
            h_r, h_z, h_n = F.linear(h, w_hh, b_hh).chunk(3, dim=-1)
            reset, update = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
            h = (1 - update) * torch.tanh(x_n + reset * h_n) + update * h
            states.append(h)
            updates.append(update)
        return torch.stack(states), torch.stack(updates)


class LSTM(_Gated):
    r"""One-layer LSTM (``torch.nn.LSTM``) with readout heads keyed by N.

    ``forward`` returns the hidden states h; ``h0`` and the final state are ``(h, c)`` pairs of
    (B, hidden). ``forward_with_gates`` also returns the cell states and forget gates.
    """

    kind = "lstm"
    rnn_class = nn.LSTM

    def _to_torch_state(self, h0):
        return None if h0 is None else (h0[0].unsqueeze(0), h0[1].unsqueeze(0))

    def _from_torch_state(self, final):
        return final[0].squeeze(0), final[1].squeeze(0)

    def forward_with_gates(self, inputs: torch.Tensor,
                           h0: tuple[torch.Tensor, torch.Tensor] | None = None
                           ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(hidden states, cell states, forget gates), each (T, B, hidden), one step at a time."""
        check_inputs(inputs, self.input_size)
        projected, w_hh, b_hh = self._projections(inputs)
        if h0 is None:
            h = c = inputs.new_zeros(inputs.shape[1], self.hidden_size)
        else:
            h, c = h0
        states, cells, forgets = [], [], []
        for x in projected:
            i, f, g, o = (x + F.linear(h, w_hh, b_hh)).chunk(4, dim=-1)
            forget = torch.sigmoid(f)
            c = forget * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            states.append(h)
            cells.append(c)
            forgets.append(forget)
        return torch.stack(states), torch.stack(cells), torch.stack(forgets)
