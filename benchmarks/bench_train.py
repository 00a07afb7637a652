"""Overhead of agents.train's epoch loop over a bare training loop, measured in the same run.

Both draw the same batches (memtasks sample_batch), run the same LeakyRNN forward/backward, clip
and SGD step; agents.train adds loss bookkeeping, NaN checks, evaluation, curriculum update and
(optionally) TensorBoard, checkpoints and the progress bar. Prints seconds per training step
(median of repeats) and the ratio to the bare loop.

    PYTHONPATH=. python benchmarks/bench_train.py [--hidden 128 --batch 128 --steps 50]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import gymnasium as gym
import numpy as np
import torch

import curricula
import memtasks  # noqa: F401  (registers the envs)
from agents import LeakyRNN
from agents.training.loop import paper_optimizer, sequence_loss, train


def bare_loop(model, env, steps, batch, seed, device):
    """The floor: sample, forward, loss, backward, clip, step — nothing else."""
    rng = np.random.default_rng(seed)
    opt = paper_optimizer(model.parameters())
    for _ in range(steps):
        b = env.unwrapped.sample_batch(batch, rng)
        inputs, targets = b.to_torch(device)
        logits = model.readout(model(inputs)[torch.from_numpy(b.steps).to(device)])
        loss = sequence_loss(logits, targets)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 2.0)
        opt.step()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--steps", type=int, default=50)
    p.add_argument("--heads", type=int, default=10, help="heads N = 2..this")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    args = p.parse_args()
    heads = tuple(range(2, args.heads + 1))

    def setup():
        torch.manual_seed(0)
        env = curricula.Fixed(gym.make("memtasks/Parity-v0", N=heads), threshold=1.0)
        return LeakyRNN(args.hidden, heads).to(args.device), env

    def plain():
        model, env = setup()
        bare_loop(model, env, args.steps, args.batch, 0, args.device)

    def quiet():
        model, env = setup()
        train(model, env, epochs=1, steps_per_epoch=args.steps, eval_steps=1,
              batch_size=args.batch, progress=False, device=args.device)

    def everything():
        model, env = setup()
        with tempfile.TemporaryDirectory() as tmp:
            train(model, env, epochs=1, steps_per_epoch=args.steps, eval_steps=1,
                  batch_size=args.batch, logdir=tmp, checkpoint_dir=tmp, progress=True,
                  device=args.device)

    cases = {"bare loop": plain, "agents.train": quiet,
             "agents.train + TensorBoard, checkpoints, progress bar": everything}
    for fn in cases.values():  # warm-up: imports (TensorBoard), allocator, thread pools
        fn()
    times = {name: [] for name in cases}
    for _ in range(args.repeats):  # interleaved, so load changes hit every case alike
        for name, fn in cases.items():
            tic = time.perf_counter()
            fn()
            if args.device == "cuda":
                torch.cuda.synchronize()
            times[name].append((time.perf_counter() - tic) / args.steps)
    base = statistics.median(times["bare loop"])
    print(f"device {args.device}, hidden {args.hidden}, batch {args.batch}, heads N=2..{args.heads}, "
          f"{args.steps} steps per epoch, {torch.get_num_threads()} threads")
    print(f"{'case':<56} {'ms/step':>8} {'ratio':>6}")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"{name:<56} {1e3 * med:>8.2f} {med / base:>6.3f}")


if __name__ == "__main__":
    main()
