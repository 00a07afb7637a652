"""How long a user waits for ``paper_protocol`` on a 500-unit network with the paper's sizes.

Run: ``OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 PYTHONPATH=. python benchmarks/bench_paper_protocol.py``
(``--checkpoint`` a paper checkpoint with ``--heads``; default: the multi-head reference network
where ``MEMTASKS_REFERENCE_DIR`` or ../shared/reference-checkpoints holds it, else a random
500-unit network). Prints, all measured in this run:
- ``simulation only``: the 10 × 100,500 network steps of the recording, states discarded — the
  floor no implementation of the protocol can go below;
- ``paper_protocol``: the whole protocol with the defaults (what the user waits for), and its
  parts timed again on their own: the exponential fits and the accuracy tests (ablation and
  perturbation); the rest is recording with the autocorrelation and covariance accumulated;
- the load average before and after, since the machine may be shared, and each part's CPU time
  beside its wall time (on a shared machine the wall time counts the other jobs' turns too).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import torch

from agents import LeakyRNN, analysis, load_reference_checkpoint

REFERENCE = "multihead_parity_N2_N5.pt"


def network(checkpoint: Path | None, heads: list[int]) -> tuple[torch.nn.Module, str]:
    if checkpoint is None:
        folder = Path(os.environ.get("MEMTASKS_REFERENCE_DIR",
                                     Path(__file__).resolve().parents[2] / "shared" / "reference-checkpoints"))
        checkpoint = folder / REFERENCE if (folder / REFERENCE).is_file() else None
    if checkpoint is None:
        torch.manual_seed(0)
        return LeakyRNN(500, tuple(heads)), "a random LeakyRNN(500)"
    return load_reference_checkpoint(checkpoint, tuple(heads)), str(checkpoint.name)


def seconds(function, *args, **kwargs) -> tuple[float, float, object]:
    """(wall seconds, CPU seconds of this process, result) of one call."""
    start, cpu = time.perf_counter(), time.process_time()
    result = function(*args, **kwargs)
    return time.perf_counter() - start, time.process_time() - cpu, result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, default=None)
    parser.add_argument("--heads", type=int, nargs="+", default=[2, 3, 4, 5])
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default: 1)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model, name = network(args.checkpoint, args.heads)
    N = max(model.heads)
    load = os.getloadavg()[0]
    print(f"paper_protocol({name}, N={N}), defaults: 10 trials x 100,000 steps, k = 20; "
          f"torch threads {args.threads}, load average {load:.2f} on {os.cpu_count()} cores")

    floor = seconds(lambda: sum(1 for _ in analysis.activity_chunks(
        model, steps=100_000, trials=10, burn_in=500, p=None, chunk=1000)))
    total = seconds(analysis.measure_paper, model, N, progress=True)
    measured = total[2]
    fits = seconds(analysis.fit_timescales_paper, measured.autocorrelation, 30)
    robust = seconds(analysis.paper_robustness, model, N)
    rest = [t - f - r for t, f, r in zip(total[:2], fits[:2], robust[:2])]
    print("                                        wall s    CPU s")
    for label, (wall, cpu) in (("simulation only (floor)", floor[:2]),
                               ("paper_protocol, whole", total[:2]),
                               ("  exponential fits (1,000)", fits[:2]),
                               ("  ablation and perturbation (81 nets)", robust[:2]),
                               ("  recording + autocorrelation + PCA", rest)):
        print(f"{label:38s} {wall:7.1f}  {cpu:7.1f}")
    print(f"paper_protocol / floor: {total[0] / floor[0]:.1f}x wall")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    summary = measured.summary()
    print(f"numbers: ablation {summary['ablation']}, perturbation {summary['perturbation']}, "
          f"tau_net {summary['tau_net']}, dimensionality {summary['dimensionality']:.1f}")
