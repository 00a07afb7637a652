"""The paper's leaky RNN: per-neuron trainable timescale τ, no self-connections, a fast time loop."""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import torch
from torch import nn

from agents.models.heads import HeadedModel, Heads, check_hidden_memory, check_inputs
from memtasks.checks import FLOAT32_MAX, check_int


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


_LEAKY_RELU_BACKWARD = torch.ops.aten.leaky_relu_backward.grad_input   # bound once: an op lookup
_THRESHOLD_BACKWARD = torch.ops.aten.threshold_backward.grad_input     # per call costs ~1 µs
_TANH_BACKWARD = torch.ops.aten.tanh_backward.grad_input


def _activation_backward_(grad: torch.Tensor, states: torch.Tensor, activation: str) -> torch.Tensor:
    """grad *= act'(pre) in place, with act' read from the outputs h = act(pre) (all three
    activations allow it), by torch's own fused backward kernels."""
    if activation == "leaky_relu":
        return _LEAKY_RELU_BACKWARD(grad, states, LEAKY_SLOPE, True, grad_input=grad)
    if activation == "relu":
        return _THRESHOLD_BACKWARD(grad, states, 0, grad_input=grad)
    return _TANH_BACKWARD(grad, states, grad_input=grad)


def _input_term(inputs: torch.Tensor, w_in: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    """b + W x_t for all steps at once, (T, B, H). A scalar input (the tasks' bit) is an outer
    product: one broadcast multiply-add, about twice as fast as a GEMM with inner size 1."""
    if inputs.shape[-1] == 1:
        return torch.addcmul(bias, inputs, w_in.view(1, 1, -1))
    steps, batch, _ = inputs.shape
    return torch.addmm(bias, inputs.reshape(steps * batch, -1), w_in.t()).view(steps, batch, -1)


class _Recurrence(torch.autograd.Function):
    """h_t = act(W x_t + b + M h_{t-1}) for t = 0..T-1, with a hand-written backward through time.

    Forward: the input term for all steps in one op (``_input_term``), which becomes the (T, B, H)
    states buffer, then one in-place GEMM and activation per step. Backward: one in-place GEMM and
    one fused activation-backward kernel per step; dM, dW and db over all steps after the loop.
    act' is read from the saved states, so no pre-activations are kept.
    """

    @staticmethod
    def forward(ctx, inputs: torch.Tensor, w_in: torch.Tensor, bias: torch.Tensor,
                matrix: torch.Tensor, h0: torch.Tensor, activation: str) -> torch.Tensor:
        states = _input_term(inputs, w_in, bias)
        matrix_t = matrix.t()
        h = h0
        for out in states.unbind(0):
            h = _activate_(out.addmm_(h, matrix_t), activation)
        ctx.activation = activation
        ctx.save_for_backward(inputs, w_in, matrix, h0, states)
        return states

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_states: torch.Tensor):
        inputs, w_in, matrix, h0, states = ctx.saved_tensors
        steps, _, hidden = states.shape
        # dpre starts as the direct gradients (one copy); going back in time, slice t becomes
        # dL/dh_t = grad_t + dpre_{t+1} @ M (one in-place addmm), then dpre_t = that * act'_t
        # (one in-place fused kernel). Small, cache-resident (B, H) slices only.
        dpre = grad_states.clone(memory_format=torch.contiguous_format)
        dpre_steps, state_steps = dpre.unbind(0), states.unbind(0)
        _activation_backward_(dpre_steps[-1], state_steps[-1], ctx.activation)
        for t in range(steps - 2, -1, -1):
            _activation_backward_(dpre_steps[t].addmm_(dpre_steps[t + 1], matrix), state_steps[t],
                                  ctx.activation)
        flat = dpre.view(-1, hidden)
        need = ctx.needs_input_grad
        grad_inputs = (flat @ w_in).view_as(inputs) if need[0] else None
        grad_w_in = flat.t() @ inputs.reshape(flat.shape[0], -1) if need[1] else None
        grad_bias = flat.sum(0) if need[2] else None
        grad_matrix = None
        if need[3]:
            grad_matrix = dpre[0].t() @ h0
            if steps > 1:
                grad_matrix.addmm_(dpre[1:].reshape(-1, hidden).t(), states[:-1].reshape(-1, hidden))
        grad_h0 = dpre[0] @ matrix if need[4] else None
        return grad_inputs, grad_w_in, grad_bias, grad_matrix, grad_h0, None


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
        self.hidden_size = check_int(hidden_size, "hidden_size")
        self.input_size = check_int(input_size, "input_size")
        check_hidden_memory(self.hidden_size, 2)  # recurrent weights and their mask
        if tau is not None:
            if not isinstance(tau, numbers.Real) or isinstance(tau, bool):
                raise TypeError(f"tau={tau!r} is not accepted: expected None or a float >= 1")
            if not 1 <= tau <= FLOAT32_MAX:
                raise ValueError(f"tau={tau!r} is not accepted: expected None or a float >= 1 "
                                 f"that float32 holds (at most {FLOAT32_MAX:.3g})")
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

    def step_operands(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(W, b, M) with pre_t = W x_t + b + M h_{t-1}: the equation with 1/τ folded in,
        W = W_in / τ, b = (b_in + b_rec) / τ, M = W_rec·mask / τ (by rows) + diag(1 - 1/τ)."""
        inv_tau = 1.0 / self.taus
        w_in = self.input.weight * inv_tau[:, None]
        bias = (self.input.bias + self.recurrent.bias) * inv_tau
        matrix = (self.recurrent.weight * self.mask) * inv_tau[:, None] + torch.diag(1 - inv_tau)
        return w_in, bias, matrix

    def forward(self, inputs: torch.Tensor, h0: torch.Tensor | None = None,
                return_final: bool = False):
        check_inputs(inputs, self.input_size)
        batch = inputs.shape[1]
        if h0 is None:
            h0 = self.initial_state(batch, inputs)
        elif h0.shape != (batch, self.hidden_size):
            raise ValueError(f"h0 of shape {tuple(h0.shape)} is not accepted: "
                             f"expected ({batch}, {self.hidden_size})")
        states = _Recurrence.apply(inputs.contiguous(), *self.step_operands(), h0.contiguous(),
                                   self.activation)
        return (states, states[-1]) if return_final else states

    def config(self) -> dict:
        return {"hidden_size": self.hidden_size, "heads": list(self.heads), "tau": self.tau_init,
                "train_tau": self.train_tau, "activation": self.activation, "h0": self.h0,
                "input_size": self.input_size}

    def extra_repr(self) -> str:
        return (f"hidden_size={self.hidden_size}, train_tau={self.train_tau}, "
                f"activation={self.activation!r}, h0={self.h0!r}")
