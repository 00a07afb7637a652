"""Many runs on one device: summed epochs per second of `memtasks sweep --executor local --jobs J`.

For each J, one sweep of J seeds (all J runs at once, heads fixed) through the real command line;
prints per J the wall time, the summed epochs per wall second (process start-up included) and
the steady rate: the sum over runs of 1 / (median seconds of an epoch after the first).

    PYTHONPATH=. python benchmarks/bench_jobs.py --device cuda --jobs 1 4 8
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from agents.training import History

ROOT = Path(__file__).resolve().parents[1]


def sweep(sweep_dir: Path, jobs: int, args: argparse.Namespace) -> float:
    """Run one sweep of ``jobs`` seeds at once; its wall seconds."""
    heads = " ".join(str(n) for n in range(2, args.heads + 1))
    settings = {"hidden": args.hidden, "batch_size": args.batch, "steps_per_epoch": args.steps,
                "eval_steps": args.eval_steps, "epochs": args.epochs, "device": args.device,
                "heads": heads}
    argv = [sys.executable, "-m", "agents.experiments.cli", "sweep", str(sweep_dir),
            "--curriculum", "none", "--seeds", *map(str, range(jobs)), "--executor", "local",
            "--jobs", str(jobs), "--cpus", str(args.cpus), "--poll", "0.2", "--no-progress"]
    argv += [f"--set={key}={value}" for key, value in settings.items()]
    tic = time.perf_counter()
    subprocess.run(argv, cwd=ROOT, check=True)
    return time.perf_counter() - tic


def epoch_seconds(sweep_dir: Path) -> list[list[float]]:
    """Per run of the sweep, the seconds of each of its epochs."""
    return [History.read(path).seconds for path in sorted(sweep_dir.glob("*/seed_*/history.json"))]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--jobs", type=int, nargs="+", default=[1, 4, 8])
    p.add_argument("--device", choices=("cpu", "cuda"), default="cuda")
    p.add_argument("--hidden", type=int, default=500)
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--heads", type=int, default=10, help="heads N = 2..this, fixed")
    p.add_argument("--steps", type=int, default=200, help="training batches per epoch")
    p.add_argument("--eval-steps", type=int, default=20)
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--cpus", type=int, default=2, help="torch threads per job")
    p.add_argument("--json", help="also write the results to this file")
    args = p.parse_args()
    print(f"device {args.device}, hidden {args.hidden}, batch {args.batch}, heads N=2..{args.heads}, "
          f"{args.steps} + {args.eval_steps} batches per epoch, {args.epochs} epochs per run")
    print(f"{'J':>3} {'wall s':>8} {'epochs':>7} {'epochs/s wall':>14} {'epochs/s steady':>16}")
    results = []
    for jobs in args.jobs:
        with tempfile.TemporaryDirectory() as tmp:
            wall = sweep(Path(tmp), jobs, args)
            seconds = epoch_seconds(Path(tmp))
        if len(seconds) != jobs:
            raise SystemExit(f"J={jobs}: {len(seconds)} of {jobs} runs wrote a history")
        epochs = sum(len(s) for s in seconds)
        steady = sum(1 / statistics.median(s[1:] or s) for s in seconds)
        print(f"{jobs:>3} {wall:>8.1f} {epochs:>7} {epochs / wall:>14.3f} {steady:>16.3f}",
              flush=True)
        results.append({"jobs": jobs, "wall_s": wall, "epoch_seconds": seconds,
                        "epochs_per_s_wall": epochs / wall, "epochs_per_s_steady": steady})
    if args.json:
        Path(args.json).write_text(json.dumps({"settings": vars(args), "results": results},
                                              indent=2))


if __name__ == "__main__":
    main()
