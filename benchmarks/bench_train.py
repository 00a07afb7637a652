"""Seconds per training step of agents.train against a bare training loop, measured in the same run.

All cases draw the same batches (memtasks sample_batch), run forward, loss, backward, clip and SGD
from a fresh network per repeat (one epoch of ``--steps`` steps). Cases:
  bare loop                the floor of the project's model: sample, step, nothing else
  bare loop, cuDNN nn.RNN  (CUDA only) the same loop with torch.nn.RNN (relu) and the same heads
  agents.train (eager)     graphs=False: adds loss bookkeeping, NaN checks, evaluation, curriculum
  agents.train (graphs)    (CUDA only) the same with every step replayed as a CUDA graph
  agents.train + …         the default, with TensorBoard, checkpoints and the progress bar
Prints ms per step (median of repeats), the ratio to the bare loop and, on CUDA, to cuDNN's.
With ``--epochs E``, also trains E epochs at fixed heads with graphs off and on and prints each
epoch's seconds (training and evaluation; the first epoch includes the captures).

    PYTHONPATH=. python benchmarks/bench_train.py [--hidden 128 --batch 128 --steps 50]
    PYTHONPATH=. python benchmarks/bench_train.py --device cuda --hidden 500 --batch 256 \\
        --heads 31 --steps 600 --epochs 3 --eval-steps 50     # one paper-size epoch
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import gymnasium as gym
import numpy as np
import torch
from torch import nn

import curricula
import memtasks  # noqa: F401  (registers the envs)
from agents import LeakyRNN
from agents.models.heads import Heads
from agents.training.loop import GRAD_CLIP, paper_optimizer, train
from agents.training.steps import sequence_loss


class CuDNNRNN(nn.Module):
    """torch.nn.RNN (relu, cuDNN on a GPU) with the project's heads: the baseline of the targets."""

    def __init__(self, hidden: int, heads: tuple[int, ...]):
        super().__init__()
        self.rnn = nn.RNN(1, hidden, nonlinearity="relu")
        self.readouts = Heads(hidden, heads)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.rnn(inputs)[0]

    def readout(self, states: torch.Tensor) -> torch.Tensor:
        return self.readouts(states)


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
        torch.nn.utils.clip_grad_norm_(model.parameters(), GRAD_CLIP)
        opt.step()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--steps", type=int, default=50, help="training steps per epoch")
    p.add_argument("--heads", type=int, default=10, help="heads N = 2..this")
    p.add_argument("--repeats", type=int, default=5, help="timed rounds (0: no step table)")
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    p.add_argument("--epochs", type=int, default=0,
                   help="also time this many whole epochs with graphs off and on (default 0: no)")
    p.add_argument("--eval-steps", type=int, default=50, help="evaluation batches per epoch "
                   "in the --epochs part")
    args = p.parse_args()
    heads = tuple(range(2, args.heads + 1))
    cuda = args.device == "cuda"

    def setup(model_class=LeakyRNN):
        torch.manual_seed(0)
        env = curricula.Fixed(gym.make("memtasks/Parity-v0", N=heads), threshold=1.0)
        return model_class(args.hidden, heads).to(args.device), env

    def bare(model_class=LeakyRNN):
        model, env = setup(model_class)
        bare_loop(model, env, args.steps, args.batch, 0, args.device)

    def quiet(graphs):
        model, env = setup()
        train(model, env, epochs=1, steps_per_epoch=args.steps, eval_steps=1,
              batch_size=args.batch, progress=False, device=args.device, graphs=graphs)

    def everything():
        model, env = setup()
        with tempfile.TemporaryDirectory() as tmp:
            train(model, env, epochs=1, steps_per_epoch=args.steps, eval_steps=1,
                  batch_size=args.batch, logdir=tmp, checkpoint_dir=tmp, progress=True,
                  device=args.device)

    cases = {"bare loop": bare}
    if cuda:
        cases["bare loop, cuDNN nn.RNN (relu)"] = lambda: bare(CuDNNRNN)
    cases["agents.train (eager)"] = lambda: quiet(False)
    if cuda:
        cases["agents.train (graphs)"] = lambda: quiet(True)
    cases["agents.train + TensorBoard, checkpoints, progress bar"] = everything
    card = f", card {torch.cuda.get_device_name()}" if cuda else ""
    print(f"device {args.device}{card}, hidden {args.hidden}, batch {args.batch}, heads "
          f"N=2..{args.heads}, {args.steps} steps per epoch, {torch.get_num_threads()} threads")
    if args.repeats:
        step_table(cases, args)
    if args.epochs:
        print(f"seconds per epoch ({args.steps} training + {args.eval_steps} evaluation "
              f"batches, heads fixed at N=2..{args.heads}):")
        for graphs in (False, True) if cuda else (False,):
            model, env = setup()
            history = train(model, env, epochs=args.epochs, steps_per_epoch=args.steps,
                            eval_steps=args.eval_steps, batch_size=args.batch, progress=False,
                            device=args.device, graphs=graphs)
            print(f"  graphs={graphs!s:<5} " + " ".join(f"{s:.2f}" for s in history.seconds),
                  flush=True)


def step_table(cases: dict, args: argparse.Namespace) -> None:
    """Time each case in ``args.repeats`` interleaved rounds; print ms per step and the ratios."""
    cuda = args.device == "cuda"
    for fn in cases.values():  # warm-up: imports (TensorBoard), allocator, thread pools
        fn()
    times = {name: [] for name in cases}
    for _ in range(args.repeats):  # interleaved, so load changes hit every case alike
        for name, fn in cases.items():
            tic = time.perf_counter()
            fn()
            if cuda:
                torch.cuda.synchronize()
            times[name].append((time.perf_counter() - tic) / args.steps)
    base = statistics.median(times["bare loop"])
    cudnn = statistics.median(times["bare loop, cuDNN nn.RNN (relu)"]) if cuda else None
    print(f"{'case':<56} {'ms/step':>8} {'ratio':>6}" + (f" {'/cuDNN':>7}" if cuda else ""))
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"{name:<56} {1e3 * med:>8.2f} {med / base:>6.3f}"
              + (f" {med / cudnn:>7.3f}" if cuda else ""), flush=True)

if __name__ == "__main__":
    main()
