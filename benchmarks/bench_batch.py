"""Speed of `sample_batch` + `to_torch` against a naive per-sample generator, measured in the same run.

The naive generator is structurally faithful to the paper code's per-sample batch generator
(our own code, same op structure): one torch tensor per sequence, its labels computed sequence by
sequence, stacked per head, then the sequences stacked. Both produce what a training step
needs: inputs (T, B, 1) float32 and labels ((1, B, H) int64 for memtasks; one (B,) tensor per
head for the naive generator, as the paper's code returns them).

    PYTHONPATH=. python benchmarks/bench_batch.py [--repeats 30] [--batch-size 256]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import gymnasium as gym
import torch

import memtasks  # noqa: F401  (registers the envs)


def naive_batch(task: str, heads: tuple[int, ...], batch_size: int) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """A batch built sample by sample, with the op structure of the paper code's per-sample generator.

    Per sequence: `(torch.rand(T) < torch.rand(1)) * 1.` (parity; DMS: `< 0.5`); labels per head,
    sequence by sequence, `(seq[-N:].sum() % 2).long()` (DMS: `(seq[-N] == seq[-1]).long()`),
    stacked into one tensor per head; then the sequences stacked. One length T per batch, drawn
    from the task's default range. Returns inputs (T, B, 1) and one (B,) label tensor per head.
    """
    n_max = max(heads)
    T = int(torch.randint(n_max + 2, 4 * n_max + 2, ()))
    with torch.no_grad():
        if task == "parity":
            sequences = [((torch.rand(T) < torch.rand(1)) * 1.).unsqueeze(-1) for _ in range(batch_size)]
            labels = [torch.stack([(seq[-n:].sum() % 2).long() for seq in sequences]) for n in heads]
        else:
            sequences = [((torch.rand(T) < 0.5) * 1.).unsqueeze(-1) for _ in range(batch_size)]
            labels = [torch.stack([(seq[-n] == seq[-1]).long() for seq in sequences]).squeeze(-1)
                      for n in heads]
        return torch.stack(sequences, dim=1), labels


def timings_ms(makers: dict[str, Callable[[], object]], repeats: int) -> dict[str, tuple[float, float]]:
    """Median (cold, warm) wall time in ms of each maker.

    Makers take turns within every repeat, so all see the same machine load. "cold" is the first
    call after the other maker ran (caches hold its data, as in a training loop where a batch
    follows a forward and backward pass); "warm" is the call right after it.
    """
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in makers}
    for _ in range(repeats):
        for name, make in makers.items():
            pair = []
            for _ in range(2):
                start = time.perf_counter()
                make()
                pair.append(1000 * (time.perf_counter() - start))
            times[name].append(tuple(pair))
    return {name: tuple(statistics.median(column) for column in zip(*values)) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=30, help="timed calls per generator (median reported)")
    parser.add_argument("--batch-size", type=int, default=256, help="sequences per batch")
    parser.add_argument("--task", choices=memtasks.TASKS, default="parity", help="which task's labels")
    parser.add_argument("--seed", type=int, default=0, help="seed of both generators")
    args = parser.parse_args()
    if args.repeats < 1 or args.batch_size < 1:
        parser.error("--repeats and --batch-size must be >= 1")
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)

    env_id = {"parity": "memtasks/Parity-v0", "dms": "memtasks/DMS-v0"}[args.task]
    print(f"task={args.task} batch={args.batch_size} repeats={args.repeats} "
          "(median ms per batch of torch tensors; cold: right after the other generator ran)")
    print(f"{'heads':>10} | {'memtasks':>9} | {'(cold)':>7} | {'naive':>8} | {'speed-up':>8} | {'(cold)':>6}")
    for n_max in (10, 101):
        heads = tuple(range(2, n_max + 1))
        env = gym.make(env_id, N=list(heads)).unwrapped
        env.reset(seed=args.seed)
        ms = timings_ms({"ours": lambda: env.sample_batch(args.batch_size).to_torch("cpu"),
                         "naive": lambda: naive_batch(args.task, heads, args.batch_size)}, args.repeats)
        (ours_cold, ours), (_, naive) = ms["ours"], ms["naive"]
        print(f"{f'N=2..{n_max}':>10} | {ours:9.3f} | {ours_cold:7.3f} | {naive:8.2f} | "
              f"{naive / ours:7.0f}x | {naive / ours_cold:5.0f}x")

if __name__ == "__main__":
    main()
