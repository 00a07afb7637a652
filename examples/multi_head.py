"""Train the paper's leaky RNN on N-parity with the multi-head curriculum, on a laptop CPU.

The network starts with one head (N = 2). Each time every head is solved (accuracy > 98%), the
curriculum adds a head for the next N and keeps the others. Defaults finish within 5 minutes on
2 CPU cores; watch it live with the ``tensorboard --logdir`` line it prints. The defaults are sized
for a CPU (128 units, batches of 64, learning rate 0.1); the paper trained 500 units with batches
of 256 at learning rate 0.05 (``agents.train``'s defaults).

    python examples/multi_head.py                 # the demo
    python examples/multi_head.py --time-budget 30 --hidden 64   # a quicker look
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import gymnasium as gym
import torch

import curricula
import memtasks  # noqa: F401  (registers the envs)
from agents import LeakyRNN, summary_table, train


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--hidden", type=int, default=128, help="hidden units (default: %(default)s)")
    p.add_argument("--batch-size", type=int, default=64, help="sequences per batch (default: %(default)s)")
    p.add_argument("--lr", type=float, default=0.1, help="learning rate of SGD, Nesterov momentum 0.1 "
                   "(default: %(default)s)")
    p.add_argument("--steps", type=int, default=100, help="training batches per epoch (default: %(default)s)")
    p.add_argument("--eval-steps", type=int, default=10, help="evaluation batches per epoch (default: %(default)s)")
    p.add_argument("--epochs", type=int, default=500, help="at most this many epochs (default: %(default)s)")
    p.add_argument("--time-budget", type=float, default=270.0,
                   help="seconds of training; no epoch starts that would end later (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="seed of every random draw (default: %(default)s)")
    p.add_argument("--device", default="cpu", help="cpu or cuda (default: %(default)s)")
    p.add_argument("--logdir", type=Path, default=Path("runs/multi_head") / time.strftime("%Y%m%d-%H%M%S"),
                   help="run directory: TensorBoard events and checkpoints (default: runs/multi_head/<time>)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    env = curricula.MultiHead(gym.make("memtasks/Parity-v0", N=2))
    torch.manual_seed(args.seed)  # the network's initial weights
    model = LeakyRNN(hidden_size=args.hidden, heads=env.unwrapped.heads)
    print(f"tensorboard --logdir {args.logdir.parent}    # to watch the run live")
    started = time.perf_counter()
    history = train(model, env, epochs=args.epochs, steps_per_epoch=args.steps,
                    eval_steps=args.eval_steps, batch_size=args.batch_size, seed=args.seed,
                    logdir=args.logdir, checkpoint_dir=args.logdir, device=args.device,
                    time_budget=args.time_budget, progress=not args.no_progress, lr=args.lr)
    seconds = time.perf_counter() - started

    print("\nEpochs where the largest solved N grew (and the last one):")
    rows = summary_table(history).splitlines()
    solved = history.solved_N
    keep = [i for i in range(len(solved)) if i == len(solved) - 1 or solved[i] > max(solved[:i], default=0)]
    print("\n".join([rows[0]] + [rows[i + 1] for i in keep]))
    print(f"\nLargest N solved: {max(solved, default=0)} after {len(history)} epochs "
          f"in {seconds:.0f} s (stopped: {history.stop_reason}).")
    print(f"Run directory: {args.logdir}\nWatch or revisit it: tensorboard --logdir {args.logdir.parent}")


if __name__ == "__main__":
    main()
