"""Time one training step of the leaky RNN against baselines measured in the same run.

A step: sample a parity batch (T = 40), forward, readout at the last step, cross-entropy summed
over heads, backward, clip the gradient norm at 2, SGD with Nesterov momentum (lr 0.05,
momentum 0.1). Variants:
  project  agents.LeakyRNN (hand-written backward through time)
  graphed  (CUDA only) the step agents.train runs on a GPU: agents.training.graphs.GraphedSteps,
           i.e. a memtasks batch drawn by numpy, copied from pinned memory into static buffers,
           and the whole step (forward, loss, backward, clipping, SGD) replayed as one CUDA graph
  eager    structurally faithful to the paper code (PaperStyleRNN): input projected once, diagonal
           zeroed in place in forward, per step the recurrent nn.Linear, clamp(τ, 1) twice and
           LeakyReLU, autograd through the Python loop; a list of heads, one loss per head
  torch    torch.nn.RNN (relu) with the same heads
  floor    the GEMMs alone: per step h @ W (forward), dh @ W (backward), dW += dh^T h
Rounds interleave the variants; the table shows medians, speed-ups over `eager` (x), time over
`torch`'s (/torch: the issue's targets are ratios against cuDNN on a GPU) and the peak tensor
memory one step allocates (see peak_memory).

    PYTHONPATH=. python benchmarks/bench_step.py --threads 2
    PYTHONPATH=. python benchmarks/bench_step.py --device cuda                          # T = 40
    PYTHONPATH=. python benchmarks/bench_step.py --device cuda --steps 250 --max-n 100 --sizes 0,1
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from torch.profiler import ProfilerActivity, profile

from agents import LeakyRNN
from agents.training.graphs import GraphedSteps
from agents.training.loop import GRAD_CLIP, paper_optimizer
from memtasks import MemoryTaskEnv

CONFIGS = ((500, 256, tuple(range(2, 11))), (128, 256, tuple(range(2, 11))), (64, 64, (2,)))
VARIANTS = ("project", "eager", "torch", "floor")
CUDA_VARIANTS = ("project", "graphed", "eager", "torch", "floor")


class PaperStyleRNN(nn.Module):
    """Eager baseline, structurally faithful to the paper code's network (our own code, same ops).

    Per forward: the input projected for all steps at once, the recurrent diagonal zeroed in place
    (``weight.data.fill_diagonal_``). Per step: the recurrent ``nn.Linear`` called on h, the
    clamp ``max(τ, 1)`` computed twice (in the leak term and in the divisor), then LeakyReLU.
    The heads are a list of ``nn.Linear`` applied to the final state, returning a list of logits.
    """

    def __init__(self, hidden: int, heads: tuple[int, ...]):
        super().__init__()
        self.hidden = hidden
        self.taus = nn.ParameterList([nn.Parameter(1 + torch.rand(hidden))])
        self.input_layer = nn.Linear(1, hidden)
        self.w_hh = nn.Linear(hidden, hidden)
        self.fc = nn.ModuleList([nn.Linear(hidden, 2) for _ in heads])
        self.afunc = nn.LeakyReLU()

    def forward(self, inputs: torch.Tensor) -> list[torch.Tensor]:
        h = 0.1 * torch.rand(inputs.shape[1], self.hidden, device=inputs.device)
        drive = self.input_layer(inputs)
        self.w_hh.weight.data.fill_diagonal_(0.0)
        tau = self.taus[0]
        for t in range(inputs.shape[0]):
            h = (1 - 1 / torch.clamp(tau, min=1.0)) * h + (self.w_hh(h) + drive[t]) / torch.clamp(tau, min=1.0)
            h = self.afunc(h)
        return [head(h) for head in self.fc]


class TorchRNN(nn.Module):
    def __init__(self, hidden: int, heads: tuple[int, ...]):
        super().__init__()
        self.rnn = nn.RNN(1, hidden, nonlinearity="relu")
        self.head = nn.Linear(hidden, 2 * len(heads))

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.head(self.rnn(inputs)[0][-1]).unflatten(-1, (-1, 2))


class Project(nn.Module):
    def __init__(self, hidden: int, heads: tuple[int, ...]):
        super().__init__()
        self.model = LeakyRNN(hidden, heads)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        return self.model.readout(self.model(inputs)[-1])


def parity_batch(steps: int, batch: int, heads: tuple[int, ...], device: str):
    """Bits with p ~ U(0, 1) per sequence and the parity of the last N bits per head."""
    p = torch.rand(batch, device=device)
    bits = (torch.rand(steps, batch, device=device) < p).float()
    targets = torch.stack([bits[-n:].sum(0) % 2 for n in heads], dim=-1).long()
    return bits[..., None], targets


def make_step(variant: str, hidden: int, batch: int, heads: tuple[int, ...], steps: int, device: str):
    """A closure running one training step of ``variant``."""
    if variant == "floor":
        w = torch.randn(hidden, hidden, device=device) / hidden ** 0.5
        grad_w = torch.zeros_like(w)

        def floor_step():
            states = [torch.rand(batch, hidden, device=device)]
            for _ in range(steps):
                states.append(states[-1] @ w)
            dh = torch.rand(batch, hidden, device=device)
            for t in range(steps, 0, -1):
                grad_w.addmm_(dh.t(), states[t - 1])
                dh = dh @ w
        return floor_step

    if variant == "graphed":
        env, rng = MemoryTaskEnv("parity", N=heads, seq_len=steps), np.random.default_rng(0)
        leaky = LeakyRNN(hidden, heads).to(device)
        graphed = GraphedSteps(leaky, paper_optimizer(leaky.parameters()), GRAD_CLIP,
                               torch.device(device), capture=device == "cuda")  # CPU: no capture

        def graphed_step():
            graphed.train(env.sample_batch(batch, rng))
        return graphed_step

    model = {"project": Project, "eager": PaperStyleRNN, "torch": TorchRNN}[variant](hidden, heads)
    model.to(device)
    optimizer = paper_optimizer(model.parameters())

    def train_step():
        inputs, targets = parity_batch(steps, batch, heads, device)
        logits = model(inputs)
        if isinstance(logits, list):  # the paper's way: one loss per head, summed
            loss = sum(F.cross_entropy(out, labels) for out, labels in zip(logits, targets.unbind(1)))
        else:  # (B, H, 2): one cross-entropy over all heads, times H = the sum over heads
            loss = F.cross_entropy(logits.transpose(1, 2), targets) * len(heads)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), GRAD_CLIP)
        optimizer.step()
    return train_step


def sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def time_config(hidden, batch, heads, args) -> tuple[dict[str, float], dict[str, float]]:
    """Median seconds per step and peak MiB per variant."""
    variants = variants_of(args)
    steps = {v: make_step(v, hidden, batch, heads, args.steps, args.device) for v in variants}
    times: dict[str, list[float]] = {v: [] for v in variants}
    for _ in range(args.warmup):
        for step in steps.values():
            step()
    for r in range(args.repeats):
        order = variants[r % len(variants):] + variants[:r % len(variants)]
        for v in order:
            sync(args.device)
            start = time.perf_counter()
            steps[v]()
            sync(args.device)
            times[v].append(time.perf_counter() - start)
    memory = {v: peak_memory(step, args.device) for v, step in steps.items()}
    return {v: statistics.median(t) for v, t in times.items()}, memory


def variants_of(args: argparse.Namespace) -> tuple[str, ...]:
    """The variants to time: ``--variants``, else all that suit the device (graphed: CUDA)."""
    if args.variants:
        return tuple(args.variants.split(","))
    return CUDA_VARIANTS if args.device == "cuda" else VARIANTS


def peak_memory(step, device: str) -> float:
    """MiB of tensor memory allocated at the peak of one step, above what was live before it:
    torch.cuda's peak counter, or on CPU the profiler's allocation events summed in time order."""
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        step()
        return (torch.cuda.max_memory_allocated() - base) / 2**20
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        step()
    events = sorted((e.start_ns(), e.nbytes()) for e in prof.profiler.kineto_results.events()
                    if e.name() == "[memory]")
    live = peak = 0
    for _, nbytes in events:
        live += nbytes
        peak = max(peak, live)
    return peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    parser.add_argument("--repeats", type=int, default=15, help="timed rounds per size")
    parser.add_argument("--warmup", type=int, default=3, help="untimed rounds per size")
    parser.add_argument("--steps", type=int, default=40, help="sequence length T")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--no-flush-denormal", action="store_true",
                        help="keep denormal floats (flushing is on by default, for every variant)")
    parser.add_argument("--sizes", default="0,1,2", help="which of the 3 sizes to run (0,1,2)")
    parser.add_argument("--variants", default=None,
                        help=f"comma-separated subset of {','.join(CUDA_VARIANTS)}; must hold "
                             f"eager and torch (default: all for the device; graphed on the CPU "
                             f"runs the static-buffer steps without capture)")
    parser.add_argument("--max-n", type=int, default=10,
                        help="heads N = 2..this for the multi-head sizes 0 and 1 (default 10)")
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(not args.no_flush_denormal)
    torch.manual_seed(0)
    print(f"device={args.device} threads={args.threads} T={args.steps} "
          f"flush_denormal={not args.no_flush_denormal} torch={torch.__version__}")
    if args.device == "cuda":
        print(f"card: {torch.cuda.get_device_name()}")
    variants = variants_of(args)
    header = f"{'hidden':>6} {'batch':>5} {'heads':>7} " + " ".join(
        f"{v + ' ms':>10} {'x':>5} {'/torch':>6} {'MiB':>6}" for v in variants)
    print(header)
    results = []
    for index in (int(i) for i in args.sizes.split(",")):
        hidden, batch, heads = CONFIGS[index]
        if len(heads) > 1:
            heads = tuple(range(2, args.max_n + 1))
        medians, memory = time_config(hidden, batch, heads, args)
        speedup = {v: medians["eager"] / medians[v] for v in variants}
        vs_torch = {v: medians[v] / medians["torch"] for v in variants}
        label = f"{heads[0]}..{heads[-1]}" if len(heads) > 1 else str(heads[0])
        print(f"{hidden:>6} {batch:>5} {label:>7} " + " ".join(
            f"{medians[v] * 1e3:>10.2f} {speedup[v]:>5.2f} {vs_torch[v]:>6.2f} {memory[v]:>6.0f}"
            for v in variants), flush=True)
        results.append({"hidden": hidden, "batch": batch, "heads": list(heads), "T": args.steps,
                        "device": args.device, "median_s": medians, "speedup_vs_eager": speedup,
                        "time_over_torch": vs_torch, "peak_mib": memory})
    if args.json:
        with open(args.json, "w") as file:
            json.dump(results, file, indent=2)


if __name__ == "__main__":
    main()
