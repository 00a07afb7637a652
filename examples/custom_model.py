"""Plug your own model into agents.train: a two-layer GRU with a readout head per N.

Any ``torch.nn.Module`` with these four members can be trained, checkpointed and monitored:

- ``heads``: a tuple of the N of its readout heads;
- ``set_heads(heads)``: change that set, keeping the weights of the heads that stay;
- ``forward(inputs (T, B, 1))`` → hidden states ``(T, B, hidden)``;
- ``readout(states (..., hidden))`` → logits ``(..., len(heads), 2)``, heads in ``heads`` order.

Optionally ``timescales()`` → a tensor of per-unit timescales, logged to TensorBoard as ``tau/*``.

    python examples/custom_model.py
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import gymnasium as gym
import torch
from torch import nn

import curricula
import memtasks  # noqa: F401  (registers the envs)
from agents import summary_table, train


class TwoLayerGRU(nn.Module):
    """A stacked GRU whose readout heads live in a ModuleDict keyed by N."""

    def __init__(self, hidden_size: int, heads: tuple[int, ...]):
        super().__init__()
        self.hidden_size = hidden_size
        self.rnn = nn.GRU(input_size=1, hidden_size=hidden_size, num_layers=2)
        self.linears = nn.ModuleDict()
        self.set_heads(heads)

    @property
    def heads(self) -> tuple[int, ...]:
        return tuple(int(n) for n in self.linears)

    def set_heads(self, heads: tuple[int, ...]) -> None:
        device = next(self.rnn.parameters()).device
        self.linears = nn.ModuleDict({
            str(n): self.linears[str(n)] if str(n) in self.linears
            else nn.Linear(self.hidden_size, 2, device=device) for n in heads})

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        states, _ = self.rnn(inputs)
        return states

    def readout(self, states: torch.Tensor) -> torch.Tensor:
        return torch.stack([linear(states) for linear in self.linears.values()], dim=-2)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--hidden", type=int, default=64, help="GRU units per layer (default: %(default)s)")
    p.add_argument("--epochs", type=int, default=100, help="at most this many epochs (default: %(default)s)")
    p.add_argument("--steps", type=int, default=100, help="training batches per epoch (default: %(default)s)")
    p.add_argument("--eval-steps", type=int, default=10, help="evaluation batches per epoch (default: %(default)s)")
    p.add_argument("--batch-size", type=int, default=128, help="sequences per batch (default: %(default)s)")
    p.add_argument("--time-budget", type=float, default=120.0, help="seconds of training (default: %(default)s)")
    p.add_argument("--logdir", type=Path, default=Path("runs/custom_model") / time.strftime("%Y%m%d-%H%M%S"),
                   help="run directory (default: runs/custom_model/<time>)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    args = p.parse_args(argv)

    torch.manual_seed(0)
    env = curricula.MultiHead(gym.make("memtasks/Parity-v0", N=2))
    model = TwoLayerGRU(args.hidden, env.unwrapped.heads)
    history = train(model, env, epochs=args.epochs, steps_per_epoch=args.steps,
                    eval_steps=args.eval_steps, batch_size=args.batch_size,
                    logdir=args.logdir, checkpoint_dir=args.logdir, time_budget=args.time_budget,
                    optimizer=lambda params: torch.optim.Adam(params, lr=1e-3),  # your optimizer
                    progress=not args.no_progress)
    print(summary_table(history))
    print(f"Largest N solved: {history.largest_N}; "
          f"run directory: {args.logdir} (tensorboard --logdir {args.logdir})")


if __name__ == "__main__":
    main()
