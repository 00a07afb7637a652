"""The paper's leaky RNN: per-neuron trainable timescale τ, no self-connections, a fast time loop."""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import torch
from torch import nn

from agents.heads import HeadedModel, Heads, check_inputs, validate_size

ACTIVATIONS = ("leaky_relu", "relu", "tanh")
H0_MODES = ("random", "zeros")
LEAKY_SLOPE = 0.01


def _activate_(x: torch.Tensor, activation: str) -> torch.Tensor:
    """Apply ``activation`` to ``x`` in place."""
    if activation == "leaky_relu":
        return torch._C._nn.leaky_relu_(x, LEAKY_SLOPE)
    if activation == "relu":
        return x.relu_()
    return x.tanh_()


def _activation_backward(grad: torch.Tensor, states: torch.Tensor, activation: str,
                         out: torch.Tensor) -> torch.Tensor:
    """out = grad * act'(pre), with act' read from the outputs h = act(pre) (all three
    activations allow it), by torch's own fused backward kernels."""
    aten = torch.ops.aten
    if activation == "leaky_relu":
        return aten.leaky_relu_backward.grad_input(grad, states, LEAKY_SLOPE, True, grad_input=out)
    if activation == "relu":
        return aten.threshold_backward.grad_input(grad, states, 0, grad_input=out)
    return aten.tanh_backward.grad_input(grad, states, grad_input=out)


class _Recurrence(torch.autograd.Function):
    """h_t = act(drive_t + h_{t-1} @ M^T) for t = 0..T-1, with a hand-written backward through time.

    Forward: one GEMM per step into a pre-allocated (T, B, H) buffer. Backward: one GEMM per step
    for the state gradient, then dM with one GEMM over all steps; act' comes from the saved states.
    """

    @staticmethod
    def forward(ctx, drive: torch.Tensor, matrix: torch.Tensor, h0: torch.Tensor,
                activation: str) -> torch.Tensor:
        states = torch.empty_like(drive)
        matrix_t = matrix.t()
        h = h0
        for drive_t, out in zip(drive.unbind(0), states.unbind(0)):
            torch.addmm(drive_t, h, matrix_t, out=out)
            h = _activate_(out, activation)
        ctx.activation = activation
        ctx.save_for_backward(matrix, h0, states)
        return states

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_states: torch.Tensor):
        matrix, h0, states = ctx.saved_tensors
        steps, _, hidden = states.shape
        # carry = dL/dh_t (direct + through h_{t+1}) = grad_t + dpre_{t+1} @ M in one addmm;
        # dpre_t = carry * act'_t by a fused kernel. Small, cache-resident (B, H) slices only.
        dpre = torch.empty_like(states)
        dpre_steps, state_steps, grad_steps = dpre.unbind(0), states.unbind(0), grad_states.unbind(0)
        carry, buffer = grad_steps[-1], torch.empty_like(h0)
        for t in range(steps - 1, -1, -1):
            _activation_backward(carry, state_steps[t], ctx.activation, dpre_steps[t])
            if t > 0:
                carry = torch.addmm(grad_steps[t - 1], dpre_steps[t], matrix, out=buffer)
        grad_h0 = dpre[0] @ matrix if ctx.needs_input_grad[2] else None
        grad_matrix = None
        if ctx.needs_input_grad[1]:
            grad_matrix = dpre[0].t() @ h0
            if steps > 1:
                grad_matrix.addmm_(dpre[1:].reshape(-1, hidden).t(), states[:-1].reshape(-1, hidden))
        return dpre, grad_matrix, grad_h0, None


class LeakyRNN(HeadedModel):
    r"""Leaky RNN with a trainable timescale per neuron (the paper's network).

    .. math::
        h_t = \mathrm{act}\big((1 - 1/\tau) \odot h_{t-1}
              + (W_{rec} h_{t-1} + b_{rec} + W_{in} x_t + b_{in}) / \tau\big),
        \qquad \tau_{\mathrm{eff}} = \max(\tau, 1)

    The clamp has no gradient below 1 (``torch.clamp``). Self-connections are removed by a fixed
    mask (``W_rec * mask``); the stored diagonal is zero from the start and gets zero gradient,
    so it stays zero through any optimizer step.

    Args:
        hidden_size: number of neurons.
        heads: the N of each readout head, e.g. ``(2, 3)``.
        tau: ``None`` draws τ from 1 + U(0, 1) (torch's global generator); a float ≥ 1 sets every τ.
        train_tau: whether τ is a parameter (else a buffer, still saved in ``state_dict``).
        activation: ``"leaky_relu"`` (slope 0.01, the paper's), ``"relu"`` or ``"tanh"``.
        h0: ``"random"`` draws h_0 from U(0, 0.1) at every forward (torch's global generator,
            so seed it with ``torch.manual_seed``); ``"zeros"`` starts at 0.
        input_size: size of x_t.

    Shapes: ``forward(inputs (T, B, input_size), h0=None (or (B, hidden)), return_final=False)``
    returns states ``(T, B, hidden)`` (and the final state ``(B, hidden)`` if ``return_final``).
    """

    kind = "leaky"

    def __init__(self, hidden_size: int, heads: int | Sequence[int], *, tau: float | None = None,
                 train_tau: bool = True, activation: str = "leaky_relu", h0: str = "random",
                 input_size: int = 1):
        super().__init__()
        self.hidden_size = validate_size(hidden_size, "hidden_size")
        self.input_size = validate_size(input_size, "input_size")
        if tau is not None:
            if not isinstance(tau, numbers.Real) or isinstance(tau, bool):
                raise TypeError(f"tau={tau!r} is not accepted: expected None or a float >= 1")
            if not tau >= 1:
                raise ValueError(f"tau={tau!r} is not accepted: expected None or a float >= 1")
        if not isinstance(train_tau, bool):
            raise TypeError(f"train_tau={train_tau!r} is not accepted: expected True or False")
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation={activation!r} is not accepted: expected one of {ACTIVATIONS}")
        if h0 not in H0_MODES:
            raise ValueError(f"h0={h0!r} is not accepted: expected one of {H0_MODES}")
        self.tau_init, self.train_tau, self.activation, self.h0 = tau, train_tau, activation, h0
        tau_values = torch.empty(self.hidden_size)
        if train_tau:
            self.tau = nn.Parameter(tau_values)
        else:
            self.register_buffer("tau", tau_values)
        self.input = nn.Linear(self.input_size, self.hidden_size)
        self.recurrent = nn.Linear(self.hidden_size, self.hidden_size)
        self.register_buffer("mask", 1 - torch.eye(self.hidden_size), persistent=False)
        self.readouts = Heads(self.hidden_size, heads)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """τ as configured, nn.Linear's default init, then the recurrent diagonal zeroed."""
        with torch.no_grad():
            if self.tau_init is None:
                self.tau.uniform_(1.0, 2.0)
            else:
                self.tau.fill_(self.tau_init)
            self.input.reset_parameters()
            self.recurrent.reset_parameters()
            self.recurrent.weight.mul_(self.mask)

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

    def step_operands(self, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(drive, M) with pre_t = drive_t + M h_{t-1}: drive = (W_in x_t + b) / τ for all t in one
        GEMM, M = W_rec·mask / τ (rows) + diag(1 - 1/τ)."""
        inv_tau = 1.0 / self.taus
        drive = nn.functional.linear(inputs, self.input.weight * inv_tau[:, None],
                                     (self.input.bias + self.recurrent.bias) * inv_tau)
        matrix = (self.recurrent.weight * self.mask) * inv_tau[:, None] + torch.diag(1 - inv_tau)
        return drive, matrix

    def forward(self, inputs: torch.Tensor, h0: torch.Tensor | None = None,
                return_final: bool = False):
        check_inputs(inputs, self.input_size)
        batch = inputs.shape[1]
        if h0 is None:
            h0 = self.initial_state(batch, inputs)
        elif h0.shape != (batch, self.hidden_size):
            raise ValueError(f"h0 of shape {tuple(h0.shape)} is not accepted: "
                             f"expected ({batch}, {self.hidden_size})")
        drive, matrix = self.step_operands(inputs)
        states = _Recurrence.apply(drive.contiguous(), matrix, h0.contiguous(), self.activation)
        return (states, states[-1]) if return_final else states

    def config(self) -> dict:
        return {"hidden_size": self.hidden_size, "heads": list(self.heads), "tau": self.tau_init,
                "train_tau": self.train_tau, "activation": self.activation, "h0": self.h0,
                "input_size": self.input_size}

    def extra_repr(self) -> str:
        return (f"hidden_size={self.hidden_size}, train_tau={self.train_tau}, "
                f"activation={self.activation!r}, h0={self.h0!r}")
