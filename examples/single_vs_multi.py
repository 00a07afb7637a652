"""Single-head against multi-head curriculum on N-parity: the same network, the same budget.

Trains one leaky RNN per curriculum, one after the other, and writes a PNG of the largest N
solved against epochs (the paper's Figure 2 in miniature) next to the two run directories.

    python examples/single_vs_multi.py
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import gymnasium as gym
import matplotlib
import torch

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

import curricula  # noqa: E402
import memtasks  # noqa: E402, F401  (registers the envs)
from agents import History, LeakyRNN, train  # noqa: E402

CURRICULA = {"single-head": curricula.SingleHead, "multi-head": curricula.MultiHead}


def plot(histories: dict[str, History], path: Path) -> None:
    """Largest N solved against epochs, one line per curriculum."""
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for name, history in histories.items():
        epochs = range(1, len(history) + 1)
        ax.step(list(epochs), history.largest_N_so_far, where="post", label=name)
    ax.set_xlabel("epoch")
    ax.set_ylabel("largest N solved")
    ax.set_title("N-parity, leaky RNN")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--hidden", type=int, default=128, help="hidden units (default: %(default)s)")
    p.add_argument("--epochs", type=int, default=200, help="at most this many epochs each (default: %(default)s)")
    p.add_argument("--steps", type=int, default=100, help="training batches per epoch (default: %(default)s)")
    p.add_argument("--eval-steps", type=int, default=10, help="evaluation batches per epoch (default: %(default)s)")
    p.add_argument("--batch-size", type=int, default=64, help="sequences per batch (default: %(default)s)")
    p.add_argument("--lr", type=float, default=0.1, help="learning rate of SGD, Nesterov momentum 0.1 "
                   "(default: %(default)s; the paper's is 0.05 with batches of 256)")
    p.add_argument("--time-budget", type=float, default=135.0,
                   help="seconds of training per curriculum (default: %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="seed of both runs (default: %(default)s)")
    p.add_argument("--out", type=Path, default=Path("runs/single_vs_multi") / time.strftime("%Y%m%d-%H%M%S"),
                   help="output directory (default: runs/single_vs_multi/<time>)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    args = p.parse_args(argv)

    histories = {}
    for name, schedule in CURRICULA.items():
        env = schedule(gym.make("memtasks/Parity-v0", N=2))
        torch.manual_seed(args.seed)  # both curricula start from the same network
        model = LeakyRNN(hidden_size=args.hidden, heads=env.unwrapped.heads)
        print(f"{name}:")
        histories[name] = train(model, env, epochs=args.epochs, steps_per_epoch=args.steps,
                                eval_steps=args.eval_steps, batch_size=args.batch_size,
                                seed=args.seed, logdir=args.out / name,
                                checkpoint_dir=args.out / name, time_budget=args.time_budget,
                                progress=not args.no_progress, lr=args.lr)
    png = args.out / "n_reached.png"
    plot(histories, png)
    print(f"\n{'curriculum':<12} {'epochs':>6} {'largest N solved':>16}")
    for name, history in histories.items():
        print(f"{name:<12} {len(history):>6} {history.largest_N:>16}")
    print(f"\nPlot: {png}\nTensorBoard: tensorboard --logdir {args.out}")


if __name__ == "__main__":
    main()
