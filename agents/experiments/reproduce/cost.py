"""How long a plan takes: a cost model per device kind, and the wall time of runs packed together.

One batch costs ``overhead + T · (per_step + per_unit · batch · hidden)`` seconds in a process of
its own (T: the sequence length, 2.5 N + 1.5 on average at largest N), an evaluation batch a third
of that. On a GPU most of that is the host's work (Python, data, kernel launches); the GPU itself
is busy ``busy_overhead + T · busy_per_step`` of each batch, and runs packed onto one GPU go, all
together, no faster than the GPU can be busy. Curricula are assumed to add ``GROWTH`` to N per
epoch of the paper's size (the paper: multi-head solves N = 12 at epoch 12, single-head at 24,
then slower), and proportionally less per epoch of fewer sequences.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch

from agents.experiments.reproduce.plan import PlannedRun, Scale


@dataclass(frozen=True)
class DeviceCost:
    """Seconds of one batch on a device kind (see the module's formula), by model."""

    name: str
    overhead: float
    per_step: Mapping[str, float]
    per_unit: Mapping[str, float]
    busy_overhead: float | None = None  # GPU: seconds the GPU works per batch (None: all of it)
    busy_per_step: float = 0.0


NONE = {"leaky": 0.0, "gru": 0.0, "lstm": 0.0}
# fitted to the epochs of the cpu-scale reproduction (LeakyRNN(64), GRU(32), LSTM(32), one thread
# of an otherwise idle core: docs/reproduction/numbers.json)
CPU = DeviceCost("one CPU thread", 2e-4, NONE, {"leaky": 9.5e-9, "gru": 3.3e-8, "lstm": 2.1e-8})
# H100, hidden 500, batch 256, eager: an epoch (600 + 50 batches) took 4.6 s at N = 2 and 5.8 s
# at N = 12 (issue 15); the training step captured in a CUDA graph, 1.5 ms at T = 40
# (../shared/gpu/README.md), is what the GPU itself works. GRU/LSTM: twice the leaky time
# step (more kernels per step; not measured).
H100 = DeviceCost("NVIDIA H100", 6.9e-3, {"leaky": 7.8e-5, "gru": 1.6e-4, "lstm": 1.6e-4}, NONE,
                  busy_overhead=1e-4, busy_per_step=3.5e-5)
GPUS = {"H100": H100, "H200": dataclasses.replace(H100, name="NVIDIA H200 (H100 figures)")}
GROWTH = {"multi": 1.0, "sliding": 1.0, "single": 0.35}  # N per epoch of PAPER_EPOCH sequences
PAPER_EPOCH = 600 * 256  # training sequences per epoch in the paper
PACKING = 0.8   # of the GPU's time that packed runs get (context switches between processes)
STARTUP = 20.0  # seconds to start the jobs' processes and CUDA contexts
# the paper protocol on a 500-unit network, one thread (BENCHMARKS.md, CPU seconds): 1.9e-5 s
# per recorded step and trial, 5.1 s of exponential fits per network, 8.5e-5 s per step of one
# accuracy test (10 streams); proportional to the size for smaller networks
RECORD_STEP, FITS, ACCURACY_STEP = 1.9e-5, 5.1, 8.5e-5


def detect_gpu() -> tuple[DeviceCost, str]:
    """The cost model of this machine's GPU, and a line saying which figures are used."""
    if not torch.cuda.is_available():
        return H100, "no GPU on this machine: times estimated for an NVIDIA H100 from its figures"
    name = torch.cuda.get_device_name(0)
    kind = next((k for k in GPUS if k in name.upper()), None)
    if kind is None:
        return H100, f"GPU {name}: no figures for it, times estimated for an NVIDIA H100"
    return GPUS[kind], f"GPU {name}: times estimated from {GPUS[kind].name} figures"


def cost_of(spec: PlannedRun, gpu: DeviceCost) -> DeviceCost:
    """The cost model of the device the run trains on."""
    return gpu if spec.device == "cuda" else CPU


def largest_N(spec: PlannedRun, epoch: int) -> int:
    """The largest N the run is assumed to train at in ``epoch`` (1-based)."""
    if spec.curriculum == "none":
        return max(spec.heads)
    epochs = (epoch - 1) * spec.steps_per_epoch * spec.batch_size / PAPER_EPOCH
    n = max(spec.heads) + int(GROWTH.get(spec.curriculum, 1.0) * epochs)
    return n if spec.max_n is None else min(n, spec.max_n)


def _batches(spec: PlannedRun) -> float:
    return spec.steps_per_epoch + spec.eval_steps / 3


def epoch_seconds(spec: PlannedRun, N: int, cost: DeviceCost) -> float:
    """Estimated seconds of one epoch (training and evaluation batches) at largest N."""
    mean_T = 2.5 * N + 1.5
    model = spec.model
    batch = cost.overhead + mean_T * (cost.per_step[model]
                                      + cost.per_unit[model] * spec.batch_size * spec.hidden)
    return _batches(spec) * batch


def busy_fraction(spec: PlannedRun, cost: DeviceCost) -> float:
    """The fraction of a GPU run's time its GPU works (at N = 12); 0 for a run on the CPU."""
    if spec.device != "cuda" or cost.busy_overhead is None:
        return 0.0
    busy = _batches(spec) * (cost.busy_overhead + 31.5 * cost.busy_per_step)
    return busy / epoch_seconds(spec, 12, cost)


def run_seconds(spec: PlannedRun, cost: DeviceCost) -> float:
    """Estimated wall time of a run alone on its device: its epochs, at most its time budget."""
    total = sum(epoch_seconds(spec, largest_N(spec, e), cost) for e in range(1, spec.epochs + 1))
    return total if spec.time_budget is None else min(spec.time_budget, total)


def pack(runs: Sequence[tuple[str, float, float, str | None, float | None]], jobs: int) -> float:
    """Wall seconds of ``runs`` = (name, seconds alone, GPU busy fraction, name of the run it
    waits for or None, time budget or None), started in order, ``jobs`` at a time: runs on one
    GPU slow down together once their busy fractions add up past PACKING (CPU runs, fraction 0,
    do not); a run ends when its work is done or its budget (wall seconds) is spent."""
    left = {name: seconds for name, seconds, *_ in runs}
    busy = {name: b for name, _, b, *_ in runs}
    after = {name: a for name, _, _, a, _ in runs}
    budget = {name: float("inf") if b is None else b for name, *_, b in runs}
    waiting, now = [name for name, *_ in runs], 0.0
    running: set[str] = set()
    done: set[str] = set()
    while waiting or running:
        for name in [n for n in waiting if after[n] is None or after[n] in done][
                :jobs - len(running)]:
            waiting.remove(name)
            running.add(name)
        if not running:  # the rest wait on runs that are not in ``runs``
            break
        demand = sum(busy[n] for n in running)
        rate = {n: min(1.0, PACKING / demand) if busy[n] else 1.0 for n in running}
        step, first = min((min(left[n] / rate[n], budget[n]), n) for n in running)
        now += step
        for n in running:
            left[n] -= step * rate[n]
            budget[n] -= step
        done.add(first)
        running.discard(first)
    return now


def packed_seconds(plan: Sequence[PlannedRun], gpu: DeviceCost, jobs: int) -> float:
    """Estimated wall time of ``plan`` trained ``jobs`` runs at a time in plan order, GPU runs
    sharing one GPU (see :func:`pack`; a run that starts from another waits for it to end)."""
    runs = [(s.name, run_seconds(s, cost_of(s, gpu)), busy_fraction(s, gpu),
             s.init_from[0] if s.init_from else None, s.time_budget) for s in plan]
    return pack(runs, jobs) + (STARTUP if any(s.device == "cuda" for s in plan) else 0.0)


def analysis_seconds(plan: Sequence[PlannedRun], scale: Scale) -> float:
    """Estimated seconds of the measurements of claims 5–7 by the paper protocol: per measured
    run, τ_net of its stages (at ``scale.measured_N``, else all) and the robustness tests; the
    runs measured ``scale.jobs`` at a time (each in a process of its own) where the scale packs."""
    size = scale.hidden / 500
    runs = []
    for spec in (s for s in plan if 5 in s.claims):
        reached = range(2, 1 + (spec.max_n or largest_N(spec, spec.epochs)))
        stages = len([n for n in reached if scale.measured_N is None or n in scale.measured_N])
        fits = stages * (FITS + RECORD_STEP * scale.record_steps * scale.record_trials)
        networks = 1 + 3 * scale.ablate_k() + 2 * scale.perturb_draws  # each neuron alone
        runs.append(size * (fits + networks * (scale.accuracy_steps + 100) * ACCURACY_STEP))
    workers = min(len(runs), scale.jobs or 1)
    if workers <= 1:
        return sum(runs)
    return max(max(runs), sum(runs) / workers) + STARTUP
