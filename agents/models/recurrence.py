"""The leaky RNN's time loop: a fast hand-written one, and a plain-autograd twin for transforms.

One recurrence over T steps of B sequences of H neurons, with u_t = W x_t + b:

    leak inside:   h_t = act(u_t + M h_{t-1})
    leak outside:  h_t = d ⊙ h_{t-1} + s ⊙ act(u_t + M h_{t-1})

(``LeakyRNN`` folds τ into W, b, M for the first, and passes d = 1 − 1/τ, s = 1/τ for the second.)

:func:`scan` runs the fast loop: the input term for all steps in one op, then per step one
in-place GEMM and activation (and, outside, one multiply-add); a hand-written backward through
time reads act' from the saved outputs. How it is wrapped depends on who calls:
- eagerly, an ``autograd.Function`` (the least overhead per call);
- under ``torch.compile``, ``torch.export`` or ``torch.jit.trace``, the same kernels as the torch
  custom ops ``memtasks::leaky_scan`` and ``memtasks::leaky_scan_backward``: one opaque op of any
  length in the graph (no recompiling per sequence length, nothing unrolled);
- under ``torch.func`` transforms (grad, vmap, …), :func:`scan_autograd`, the same equation in
  plain differentiable ops.
A backward asked for a graph (``create_graph=True``: higher-order gradients) differentiates a
recomputation through :func:`scan_autograd`, so second derivatives are exact.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torch.nn import functional as F

LEAKY_SLOPE = 0.01

_ACTIVATIONS = {"leaky_relu": lambda x: F.leaky_relu(x, LEAKY_SLOPE), "relu": F.relu,
                "tanh": torch.tanh}
_LEAKY_RELU_BACKWARD = torch.ops.aten.leaky_relu_backward.grad_input   # bound once: an op lookup
_THRESHOLD_BACKWARD = torch.ops.aten.threshold_backward.grad_input     # per call costs ~1 µs
_TANH_BACKWARD = torch.ops.aten.tanh_backward.grad_input


def _activate_(x: Tensor, activation: str) -> Tensor:
    """Apply ``activation`` to ``x`` in place."""
    if activation == "leaky_relu":
        return torch._C._nn.leaky_relu_(x, LEAKY_SLOPE)
    if activation == "relu":
        return x.relu_()
    return x.tanh_()


def _activation_backward_(grad: Tensor, outputs: Tensor, activation: str) -> Tensor:
    """grad *= act'(pre) in place, with act' read from the outputs act(pre) (all three
    activations allow it), by torch's own fused backward kernels."""
    if activation == "leaky_relu":
        return _LEAKY_RELU_BACKWARD(grad, outputs, LEAKY_SLOPE, True, grad_input=grad)
    if activation == "relu":
        return _THRESHOLD_BACKWARD(grad, outputs, 0, grad_input=grad)
    return _TANH_BACKWARD(grad, outputs, grad_input=grad)


def input_term(inputs: Tensor, w_in: Tensor, bias: Tensor) -> Tensor:
    """b + W x_t for all steps at once, (T, B, H). A scalar input (the tasks' bit) is an outer
    product: one broadcast multiply-add, about twice as fast as a GEMM with inner size 1."""
    if inputs.shape[-1] == 1:
        return torch.addcmul(bias, inputs, w_in.view(1, 1, -1))
    steps, batch, _ = inputs.shape
    return torch.addmm(bias, inputs.reshape(steps * batch, -1), w_in.t()).view(steps, batch, -1)


def scan(inputs: Tensor, w_in: Tensor, bias: Tensor, matrix: Tensor, h0: Tensor,
         decay: Tensor | None = None, scale: Tensor | None = None,
         activation: str = "leaky_relu") -> Tensor:
    """States (T, B, H) of the recurrence (module docstring) for inputs (T, B, K), W (H, K),
    b (H,), M (H, H), h_0 (B, H); ``decay`` and ``scale`` (H,) given means the leak is outside.
    Operands must share one dtype and device and be contiguous."""
    if (decay is None) != (scale is None):
        raise ValueError(f"decay={'None' if decay is None else 'a tensor'} with scale="
                         f"{'None' if scale is None else 'a tensor'} is not accepted: expected "
                         f"both (leak outside) or neither (leak inside)")
    operands = (inputs, w_in, bias, matrix, h0, decay, scale, activation)
    if torch.compiler.is_compiling() or torch.jit.is_tracing():
        return torch.ops.memtasks.leaky_scan(*operands)[0]
    if torch._C._are_functorch_transforms_active():
        return scan_autograd(*operands)
    return _Scan.apply(*operands)


def scan_autograd(inputs: Tensor, w_in: Tensor, bias: Tensor, matrix: Tensor, h0: Tensor,
                  decay: Tensor | None = None, scale: Tensor | None = None,
                  activation: str = "leaky_relu") -> Tensor:
    """:func:`scan` in plain out-of-place ops: slower, but any autograd order and torch.func."""
    act = _ACTIVATIONS[activation]
    h, states = h0, []
    for u in input_term(inputs, w_in, bias).unbind(0):
        pre = torch.addmm(u, h, matrix.t())
        h = act(pre) if decay is None or scale is None else decay * h + scale * act(pre)
        states.append(h)
    return torch.stack(states)


def _scan_kernel(inputs: Tensor, w_in: Tensor, bias: Tensor, matrix: Tensor, h0: Tensor,
                decay: Tensor | None, scale: Tensor | None,
                activation: str) -> tuple[Tensor, Tensor]:
    """(states, act(pre) per step) — the second only with the leak outside, else empty."""
    drive = input_term(inputs, w_in, bias)
    matrix_t, h = matrix.t(), h0
    if decay is None or scale is None:  # leak inside: the input-term buffer becomes the states
        for out in drive.unbind(0):
            h = _activate_(out.addmm_(h, matrix_t), activation)
        return drive, drive.new_empty(0)
    states = torch.empty_like(drive)
    for act, out in zip(drive.unbind(0), states.unbind(0)):
        _activate_(act.addmm_(h, matrix_t), activation)
        h = torch.mul(h, decay, out=out).addcmul_(act, scale)
    return states, drive


_scan_op = torch.library.custom_op("memtasks::leaky_scan", _scan_kernel, mutates_args=())


@_scan_op.register_fake
def _scan_fake(inputs, w_in, bias, matrix, h0, decay, scale, activation):
    shape = (*inputs.shape[:2], matrix.shape[0])
    return inputs.new_empty(shape), inputs.new_empty(shape if decay is not None else (0,))


def _scan_backward_kernel(grad_states: Tensor, inputs: Tensor, w_in: Tensor, matrix: Tensor,
                         h0: Tensor, decay: Tensor | None, scale: Tensor | None,
                         states: Tensor, acts: Tensor, activation: str, need_inputs: bool,
                         need_h0: bool) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]:
    """Gradients of (inputs, W, b, M, h_0, d, s); empty where not needed or not applicable."""
    steps, _, hidden = states.shape
    outside = decay is not None
    # grad_h[t] becomes dL/dh_t, grad_pre[t] dL/d(pre-activation)_t, going back in time, in place
    # on small cache-resident (B, H) slices; with the leak inside they are one buffer.
    grad_h = grad_states.clone(memory_format=torch.contiguous_format)
    grad_pre = torch.empty_like(grad_h) if outside else grad_h
    h_steps = grad_h.unbind(0)
    pre_steps = grad_pre.unbind(0) if outside else h_steps
    act_steps = (acts if outside else states).unbind(0)
    for t in range(steps - 1, -1, -1):  # (scan passes decay and scale both or neither)
        if t + 1 < steps:
            if decay is not None:
                h_steps[t].addcmul_(h_steps[t + 1], decay)
            h_steps[t].addmm_(pre_steps[t + 1], matrix)
        if scale is not None:
            torch.mul(h_steps[t], scale, out=pre_steps[t])
        _activation_backward_(pre_steps[t], act_steps[t], activation)
    flat = grad_pre.view(-1, hidden)
    grad_inputs = (flat @ w_in).view_as(inputs) if need_inputs else flat.new_empty(0)
    grad_w_in = flat.t() @ inputs.reshape(flat.shape[0], -1)
    grad_matrix = grad_pre[0].t() @ h0
    if steps > 1:
        grad_matrix.addmm_(grad_pre[1:].reshape(-1, hidden).t(), states[:-1].reshape(-1, hidden))
    grad_h0 = grad_pre[0] @ matrix if need_h0 else flat.new_empty(0)
    grad_decay, grad_scale = flat.new_empty(0), flat.new_empty(0)  # distinct: outputs never alias
    if decay is not None:
        if need_h0:
            grad_h0.addcmul_(grad_h[0], decay)
        grad_decay = (grad_h[0] * h0).sum(0)
        if steps > 1:
            grad_decay += (grad_h[1:] * states[:-1]).sum((0, 1))
        grad_scale = (grad_h * acts).sum((0, 1))
    return grad_inputs, grad_w_in, flat.sum(0), grad_matrix, grad_h0, grad_decay, grad_scale


_scan_backward_op = torch.library.custom_op("memtasks::leaky_scan_backward", _scan_backward_kernel,
                                            mutates_args=())


@_scan_backward_op.register_fake
def _scan_backward_fake(grad_states, inputs, w_in, matrix, h0, decay, scale, states, acts,
                              activation, need_inputs, need_h0):
    hidden = matrix.shape[0]

    def maybe(shape: tuple[int, ...], needed: bool) -> Tensor:
        return grad_states.new_empty(shape if needed else (0,))

    return (maybe(inputs.shape, need_inputs), torch.empty_like(w_in), grad_states.new_empty(hidden),
            torch.empty_like(matrix), maybe(h0.shape, need_h0), maybe((hidden,), decay is not None),
            maybe((hidden,), decay is not None))


def _save(ctx, operands: tuple, states: Tensor, acts: Tensor) -> None:
    *tensors, activation = operands
    ctx.activation = activation
    ctx.save_for_backward(*tensors, states, acts)


def _gradients(ctx, grad_states: Tensor, backward_kernel) -> tuple:
    """The gradients of scan's 8 arguments: by ``backward_kernel``, or under create_graph by
    differentiating a plain-autograd recomputation (itself differentiable)."""
    inputs, w_in, bias, matrix, h0, decay, scale, states, acts = ctx.saved_tensors
    need = ctx.needs_input_grad[:7]
    if torch.is_grad_enabled():  # create_graph=True
        # through fresh views, so an operand computed from another (d = 1 - s) is not counted twice
        inputs, w_in, bias, matrix, h0 = (t.view_as(t) for t in (inputs, w_in, bias, matrix, h0))
        if decay is not None and scale is not None:
            decay, scale = decay.view_as(decay), scale.view_as(scale)
        operands = (inputs, w_in, bias, matrix, h0, decay, scale)
        recomputed = scan_autograd(*operands, ctx.activation)
        grads = iter(torch.autograd.grad(recomputed, [t for t, n in zip(operands, need) if n],
                                         grad_states, create_graph=True, allow_unused=True))
        return (*(next(grads) if n else None for n in need), None)
    grads = backward_kernel(grad_states, inputs, w_in, matrix, h0, decay, scale, states, acts,
                            ctx.activation, need[0], need[4])
    return (*(g if n else None for g, n in zip(grads, need)), None)


class _Scan(torch.autograd.Function):
    """The eager wrapper of the kernels: states out, act(pre) kept for the backward only."""

    @staticmethod
    def forward(ctx, *operands):
        states, acts = _scan_kernel(*operands)
        _save(ctx, operands, states, acts)
        return states

    @staticmethod
    def backward(ctx, grad_states):
        return _gradients(ctx, grad_states, _scan_backward_kernel)


def _setup_context(ctx, inputs, output) -> None:
    ctx.mark_non_differentiable(output[1])
    _save(ctx, inputs, *output)


_scan_op.register_autograd(
    lambda ctx, grad_states, _grad_acts: _gradients(ctx, grad_states, _scan_backward_op),
    setup_context=_setup_context)
