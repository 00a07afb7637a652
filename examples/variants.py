"""Does the curriculum effect hold when the nonlinearity sits outside the leak? Four runs on N-parity.

Trains the same leaky RNN under the single-head and the multi-head curriculum, once with the
nonlinearity wrapping the leak (the paper's main network, ``leak="inside"``) and once acting on
the recurrent input only (the authors' variant, ``leak="outside"``), each for the same time budget,
and prints the largest N each solved and its mean τ at the end.

    python examples/variants.py                       # about 4 minutes on 2 CPU cores
    python examples/variants.py --repeats 1 2         # the same in continuous time
"""

from __future__ import annotations

import argparse
import itertools
import time
from pathlib import Path

import gymnasium as gym
import torch

import curricula
import memtasks  # noqa: F401  (registers the envs)
from agents import History, LeakyRNN, train

CURRICULA = {"single-head": curricula.SingleHead, "multi-head": curricula.MultiHead}
LEAKS = ("inside", "outside")


def table(results: dict[tuple[str, str], History]) -> str:
    """One row per run, then per leak the multi-head minus single-head difference in N solved."""
    solved = {key: history.largest_N for key, history in results.items()}
    lines = [f"{'curriculum':<12} {'leak':<8} {'epochs':>6} {'largest N solved':>16} {'tau mean':>8}"]
    for (name, leak), history in results.items():
        tau = history.records[-1].tau_mean if history.records else float("nan")
        lines.append(f"{name:<12} {leak:<8} {len(history):>6} {solved[name, leak]:>16} {tau:>8.2f}")
    for leak in sorted({leak for _, leak in results}):
        if ("multi-head", leak) in solved and ("single-head", leak) in solved:
            gain = solved["multi-head", leak] - solved["single-head", leak]
            lines.append(f"leak {leak}: multi-head solves {gain:+d} N over single-head")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--hidden", type=int, default=128, help="hidden units (default: %(default)s)")
    p.add_argument("--epochs", type=int, default=200, help="at most this many epochs per run (default: %(default)s)")
    p.add_argument("--steps", type=int, default=100, help="training batches per epoch (default: %(default)s)")
    p.add_argument("--eval-steps", type=int, default=10, help="evaluation batches per epoch (default: %(default)s)")
    p.add_argument("--batch-size", type=int, default=64, help="sequences per batch (default: %(default)s)")
    p.add_argument("--lr", type=float, default=0.1, help="learning rate of SGD, Nesterov momentum 0.1 "
                   "(default: %(default)s; the paper's is 0.05 with batches of 256)")
    p.add_argument("--time-budget", type=float, default=55.0,
                   help="seconds of training per run, four runs (default: %(default)s)")
    p.add_argument("--repeats", type=int, nargs="+", default=None, metavar="K",
                   help="continuous time: train on every bit shown K times, for each K (default: 1)")
    p.add_argument("--threads", type=int, default=1,
                   help="torch CPU threads (default: %(default)s; more only slow these small networks down "
                        "on a busy machine)")
    p.add_argument("--seed", type=int, default=0, help="seed of every run (default: %(default)s)")
    p.add_argument("--out", type=Path, default=Path("runs/variants") / time.strftime("%Y%m%d-%H%M%S"),
                   help="output directory (default: runs/variants/<time>)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)

    results: dict[tuple[str, str], History] = {}
    for leak, (name, schedule) in itertools.product(LEAKS, CURRICULA.items()):
        env = schedule(gym.make("memtasks/Parity-v0", N=2))
        torch.manual_seed(args.seed)
        model = LeakyRNN(hidden_size=args.hidden, heads=env.unwrapped.heads, leak=leak)
        run_dir = args.out / f"{name}-{leak}"
        print(f"training {name}, nonlinearity {leak} the leak:")
        results[name, leak] = train(model, env, epochs=args.epochs, steps_per_epoch=args.steps,
                                    eval_steps=args.eval_steps, batch_size=args.batch_size,
                                    seed=args.seed, logdir=run_dir, checkpoint_dir=run_dir,
                                    time_budget=args.time_budget, progress=not args.no_progress,
                                    lr=args.lr, repeats=args.repeats)
    print()
    print(table(results))
    print(f"\nRuns: {args.out}\nTensorBoard: tensorboard --logdir {args.out}")


if __name__ == "__main__":
    main()
