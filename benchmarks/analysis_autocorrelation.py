"""Autocorrelation speed: the FFT estimate and its streaming form against direct lagged sums.

Run: ``PYTHONPATH=. python benchmarks/analysis_autocorrelation.py`` — prints seconds and the
speed-up over the direct sums (one np.dot per lag, neuron and trial), all measured in this run.
"""

import time

import numpy as np

from agents.analysis import RunningAutocorrelation, autocorrelation

TRIALS, STEPS, UNITS, MAX_LAG, CHUNK = 4, 10_000, 100, 200, 1000


def direct(act: np.ndarray, max_lag: int) -> np.ndarray:
    out = np.empty((act.shape[0], max_lag + 1, act.shape[2]))
    for i, trial in enumerate(act):
        x = trial - trial.mean(axis=0)
        steps = len(x)
        for k in range(max_lag + 1):
            out[i, k] = np.einsum("tu,tu->u", x[:steps - k], x[k:]) / (steps - k)
        out[i] /= out[i, :1]
    return out.mean(axis=0)


def streamed(act: np.ndarray, max_lag: int) -> np.ndarray:
    running = RunningAutocorrelation(max_lag)
    for start in range(0, act.shape[1], CHUNK):
        running.update(act[:, start:start + CHUNK])
    return running.result()


def best_of(function, *args, repeats: int = 3) -> tuple[float, np.ndarray]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = function(*args)
        times.append(time.perf_counter() - start)
    return min(times), result


if __name__ == "__main__":
    act = np.random.default_rng(0).standard_normal((TRIALS, STEPS, UNITS)).cumsum(axis=1)
    base, expected = best_of(direct, act, MAX_LAG)
    print(f"autocorrelation of ({TRIALS}, {STEPS}, {UNITS}), lags 0..{MAX_LAG}")
    print(f"direct sums (baseline)   {base:8.3f} s")
    for name, function in (("FFT, whole array", autocorrelation), (f"streamed, chunks of {CHUNK}", streamed)):
        seconds, result = best_of(function, act, MAX_LAG)
        assert np.allclose(result, expected, atol=1e-8)
        print(f"{name:24s} {seconds:8.3f} s   speed-up x{base / seconds:.1f}")
