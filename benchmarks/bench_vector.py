"""Steps per second of the vector modes: the native vector env ("shared" and "per_copy" seeding, next- and
same-step autoreset) against Gymnasium's "sync" mode, measured in interleaved rounds of the same run.

    PYTHONPATH=. python benchmarks/bench_vector.py [--copies 64 1024] [--steps 500] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import gymnasium as gym
import numpy as np

import memtasks  # noqa: F401  (registers the envs)

MODES = {
    "native shared": dict(vectorization_mode="vector_entry_point"),
    "native shared, same-step": dict(vectorization_mode="vector_entry_point", autoreset_mode="SameStep"),
    "native per_copy": dict(vectorization_mode="vector_entry_point", seeding="per_copy"),
    "sync": dict(vectorization_mode="sync"),
}


def steps_per_second(envs: gym.vector.VectorEnv, steps: int) -> float:
    """Copy-steps per second over `steps` calls of `envs.step` with fixed actions."""
    actions = np.zeros(envs.action_space.shape, dtype=np.int64)
    start = time.perf_counter()
    for _ in range(steps):
        envs.step(actions)
    return envs.num_envs * steps / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, nargs="+", default=[64, 1024])
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--N", type=int, default=2)
    args = parser.parse_args()
    print(f"parity N={args.N}, median of {args.rounds} rounds of {args.steps} steps; M copy-steps/s (x: vs sync)")
    for copies in args.copies:
        envs = {name: gym.make_vec("memtasks/Parity-v0", num_envs=copies, N=args.N, **kwargs)
                for name, kwargs in MODES.items()}
        for e in envs.values():
            e.reset(seed=0)
            steps_per_second(e, 20)  # warm-up
        rates: dict[str, list[float]] = {name: [] for name in envs}
        for _ in range(args.rounds):
            for name, e in envs.items():
                rates[name].append(steps_per_second(e, args.steps))
        sync = statistics.median(rates["sync"])
        for name, r in rates.items():
            median = statistics.median(r)
            print(f"| {copies} | {name} | {median / 1e6:.2f} | {median / sync:.1f}x |")


if __name__ == "__main__":
    main()
