"""Autocorrelation of recorded activity, per neuron and of the population, computed by FFT.

For a series x_0 … x_{T-1} with mean m, the estimate at lag k is

    C(k) = [Σ_{t<T-k} (x_t - m)(x_{t+k} - m) / (T - k)] / [Σ_t (x_t - m)² / T]

(normalised by the number of pairs per lag, so C(0) = 1), computed for every neuron of a trial
at once with one zero-padded real FFT, then averaged over trials. A neuron that is constant in
a trial has no autocorrelation there (NaN); trials where it varies are averaged.
"""

from __future__ import annotations

import numbers
import warnings

import numpy as np
from scipy import fft as sp_fft

_BLOCK_ELEMENTS = 1 << 22  # FFT work per block: keeps memory bounded for long recordings


def _validate_activity(act: object, max_lag: object) -> tuple[np.ndarray, int]:
    """``act`` as float64 (trials, T, units) and ``max_lag`` as an int, or a clear error."""
    array = np.asarray(act, dtype=np.float64)
    if array.ndim not in (1, 2, 3) or array.size == 0:
        raise ValueError(f"act of shape {array.shape} is not accepted: expected (T,), (T, units) "
                         "or (trials, T, units) with no empty axis")
    if not isinstance(max_lag, numbers.Integral) or isinstance(max_lag, bool):
        raise TypeError(f"max_lag={max_lag!r} is not accepted: expected an int >= 0")
    steps = array.shape[-2] if array.ndim > 1 else array.shape[0]
    if not 0 <= max_lag < steps:
        raise ValueError(f"max_lag={max_lag!r} is not accepted: expected 0 <= max_lag < T = {steps}")
    if not np.all(np.isfinite(array)):
        raise ValueError("act holds NaN or infinite values")
    if array.ndim == 1:
        array = array[:, None]
    return (array if array.ndim == 3 else array[None]), int(max_lag)


def _trial_autocorrelation(series: np.ndarray, max_lag: int) -> np.ndarray:
    """C(0..max_lag) of each column of ``series`` (T, units); NaN for constant columns."""
    steps, units = series.shape
    size = sp_fft.next_fast_len(steps + max_lag, real=True)  # padding ≥ max_lag: no wrap-around
    pairs = (steps - np.arange(max_lag + 1))[:, None]
    out = np.empty((max_lag + 1, units))
    block = max(1, _BLOCK_ELEMENTS // size)
    for start in range(0, units, block):
        x = series[:, start:start + block]
        x = x - x.mean(axis=0)
        spectrum = sp_fft.rfft(x, n=size, axis=0)
        sums = sp_fft.irfft(spectrum.real ** 2 + spectrum.imag ** 2, n=size, axis=0)[:max_lag + 1]
        covariance = sums / pairs
        with np.errstate(invalid="ignore", divide="ignore"):
            variance = np.where(np.ptp(x, axis=0) > 0, covariance[0], np.nan)
            out[:, start:start + block] = covariance / variance
    return out


def autocorrelation(act: np.ndarray, max_lag: int = 200) -> np.ndarray:
    """Autocorrelation per neuron, lags 0..max_lag, averaged over trials (see the module docstring).

    Args:
        act: activity ``(T,)``, ``(T, units)`` or ``(trials, T, units)`` (as :func:`record` gives).
        max_lag: the largest lag, ``0 <= max_lag < T``.

    Returns:
        ``(max_lag + 1,)`` for a single series, else ``(max_lag + 1, units)``; lag 0 is 1, NaN for
        a neuron that is constant in every trial.
    """
    array, max_lag = _validate_activity(act, max_lag)
    per_trial = np.stack([_trial_autocorrelation(trial, max_lag) for trial in array])
    with warnings.catch_warnings():  # all-NaN columns (constant neurons) stay NaN, silently
        warnings.simplefilter("ignore", RuntimeWarning)
        result = np.nanmean(per_trial, axis=0)
    return result[:, 0] if np.ndim(act) == 1 else result


def population_autocorrelation(act: np.ndarray, max_lag: int = 200) -> np.ndarray:
    """Autocorrelation ``(max_lag + 1,)`` of the population activity (the mean over neurons)."""
    array, max_lag = _validate_activity(act, max_lag)
    return autocorrelation(array.mean(axis=-1)[..., None], max_lag)[:, 0]
