"""Run a model on long Bernoulli bit streams and record its hidden (or LSTM cell) states.

The stream is fed in chunks with the state carried from one chunk to the next (models whose
``forward`` takes ``h0`` and ``return_final``, as the project's do), without gradients, so memory
holds one chunk of states at a time; other models of the protocol get one forward over the whole
stream. The initial state and the bits are drawn from ``seed`` alone (torch's global generator
is forked, so the caller's random state is left as it was).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Iterator

import numpy as np
import torch
from torch import nn

from memtasks.checks import check_int, check_memory, check_probability


def bernoulli_bits(rng: np.random.Generator, steps: int, streams: int, p: float | None) -> np.ndarray:
    """uint8 bits (steps, streams); each stream has its own p ~ U(0, 1) where ``p`` is None."""
    probability = rng.uniform(size=streams) if p is None else np.full(streams, p)
    return (rng.random((steps, streams)) < probability).astype(np.uint8)


def _carries_state(model: nn.Module) -> bool:
    parameters = inspect.signature(model.forward).parameters
    return "h0" in parameters and "return_final" in parameters


def stream_states(model: nn.Module, bits: np.ndarray, chunk: int = 1000, seed: int = 0,
                  cells: bool = False) -> Iterator[torch.Tensor]:
    """Yield the states ``(c, streams, hidden)`` of ``model`` fed ``bits`` (steps, streams), chunk by chunk.

    ``cells=True`` yields LSTM cell states instead (the model needs ``forward_with_gates``
    returning hidden states, cell states and gates). Runs under ``torch.no_grad``.
    """
    chunk = check_int(chunk, "chunk")
    if getattr(model, "input_size", 1) != 1:
        raise ValueError(f"model.input_size={model.input_size!r} is not accepted: the stream "
                         "feeds one bit per step (input_size 1)")
    if cells and not callable(getattr(model, "forward_with_gates", None)):
        raise TypeError(f"cells=True needs an LSTM (forward_with_gates), not {type(model).__name__}")
    if not (cells or _carries_state(model)):
        chunk = len(bits)
    return _generate(model, bits, chunk, seed, cells)


def _generate(model: nn.Module, bits: np.ndarray, chunk: int, seed: int,
              cells: bool) -> Iterator[torch.Tensor]:
    like = next(iter(model.parameters()), torch.zeros(()))
    inputs = torch.as_tensor(bits).to(device=like.device, dtype=like.dtype).unsqueeze(-1)
    devices = [like.device.index or 0] if like.device.type == "cuda" else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        state = None
        for start in range(0, len(inputs), chunk):
            piece = inputs[start:start + chunk]
            with torch.no_grad():
                if cells:
                    outputs = getattr(model, "forward_with_gates")(piece, state)  # checked by the caller
                    if len(outputs) != 3:
                        raise TypeError(f"cells=True needs an LSTM, not {type(model).__name__}")
                    states, state = outputs[1], (outputs[0][-1], outputs[1][-1])
                elif chunk < len(inputs):
                    states, state = model(piece, h0=state, return_final=True)
                else:
                    states = model(piece)
            yield states


def skip_steps(chunks: Iterable[torch.Tensor], skip: int) -> Iterator[torch.Tensor]:
    """The chunks ``(c, ...)`` of a stream with its first ``skip`` steps dropped."""
    position = 0
    for states in chunks:
        kept = states[max(skip - position, 0):]
        position += len(states)
        if len(kept):
            yield kept


def activity_chunks(model: nn.Module, steps: int = 10_000, trials: int = 4, burn_in: int = 500,
                    seed: int = 0, p: float | None = None, chunk: int = 1000,
                    cells: bool = False) -> Iterator[np.ndarray]:
    """The recording of :func:`record` as float32 chunks ``(trials, c, units)``, one at a time
    (streaming: memory holds a chunk; see :class:`RunningAutocorrelation`)."""
    steps, trials = check_int(steps, "steps"), check_int(trials, "trials")
    burn_in = check_int(burn_in, "burn_in", minimum=0)
    p = check_probability(p, "p", allow_none=True)
    check_memory((burn_in + steps) * trials * 9, f"steps={steps} with trials={trials}")  # the bits
    bits = bernoulli_bits(np.random.default_rng(seed), burn_in + steps, trials, p)
    states = skip_steps(stream_states(model, bits, chunk, seed, cells), burn_in)
    return (kept.transpose(0, 1).cpu().numpy().astype(np.float32, copy=False) for kept in states)


def record(model: nn.Module, steps: int = 10_000, trials: int = 4, burn_in: int = 500,
           seed: int = 0, p: float | None = None, chunk: int = 1000,
           cells: bool = False) -> np.ndarray:
    """Hidden states of ``model`` on ``trials`` Bernoulli streams, after ``burn_in`` steps.

    Args:
        model: any model of the project's protocol (input size 1).
        steps: recorded steps per trial.
        trials: independent streams (one batch).
        burn_in: steps run first and discarded (the transient from h_0).
        seed: seeds the bits, the p of each trial and the model's initial state.
        p: probability of a 1 bit; ``None`` draws one p ~ U(0, 1) per trial.
        chunk: steps per forward call (bounds memory).
        cells: record LSTM cell states instead of hidden states.

    Returns:
        float32 array ``(trials, steps, units)``.
    """
    steps, trials = check_int(steps, "steps"), check_int(trials, "trials")
    units = getattr(model, "hidden_size", 1)
    check_memory(trials * steps * units * 4, f"steps={steps} with trials={trials} and {units} units")
    out, done = None, 0
    for piece in activity_chunks(model, steps, trials, burn_in, seed, p, chunk, cells):
        if out is None:  # the output is allocated once: memory holds it and one chunk
            out = np.empty((trials, steps, piece.shape[-1]), dtype=np.float32)
        out[:, done:done + piece.shape[1]] = piece
        done += piece.shape[1]
    assert out is not None  # steps >= 1: there was a chunk
    return out
