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
    array = np.asarray(act)  # kept in its float type: blocks are converted to float64 one at a time
    if array.dtype.kind not in "fiub":
        raise TypeError(f"act of dtype {array.dtype} is not accepted: expected real numbers")
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
        x = series[:, start:start + block].astype(np.float64)
        x -= x.mean(axis=0)
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
    return autocorrelation(array.mean(axis=-1, dtype=np.float64)[..., None], max_lag)[:, 0]


class RunningAutocorrelation:
    """The estimate of :func:`autocorrelation`, accumulated chunk by chunk in bounded memory.

    Feed ``update(chunk)`` with consecutive pieces ``(trials, c, units)`` of a recording (e.g.
    from :func:`activity_chunks`); ``result()`` equals ``autocorrelation`` of the whole recording.
    Kept per trial and neuron: the lagged product sums Σ x_t x_{t+k} (each chunk correlated by
    FFT with itself and the last ``max_lag`` steps before it), the total, and the first and last
    ``max_lag`` values, from which the mean-subtracted sums follow exactly.
    """

    def __init__(self, max_lag: int = 200):
        if not isinstance(max_lag, numbers.Integral) or isinstance(max_lag, bool) or max_lag < 0:
            raise ValueError(f"max_lag={max_lag!r} is not accepted: expected an int >= 0")
        self.max_lag = int(max_lag)
        self.steps = 0
        self._sums = self._total = self._head = self._tail = None

    def update(self, chunk: np.ndarray) -> None:
        """Add the next ``(trials, c, units)`` steps of the recording."""
        x = np.asarray(chunk, dtype=np.float64)
        if x.ndim != 3 or x.shape[1] == 0 or (self._total is not None and
                                              x.shape[::2] != self._total.shape):
            raise ValueError(f"chunk of shape {x.shape} is not accepted: expected (trials, c, units) "
                             "with c >= 1 and the trials and units of the earlier chunks")
        if self._total is None:
            trials, _, units = x.shape
            self._sums = np.zeros((trials, self.max_lag + 1, units))
            self._total = np.zeros((trials, units))
            self._head = self._tail = x[:, :0]
        lag = self.max_lag
        extended = np.concatenate([self._tail, x], axis=1)
        before = self._tail.shape[1]
        size = sp_fft.next_fast_len(extended.shape[1] + lag, real=True)  # no wrap-around
        cross = sp_fft.irfft(sp_fft.rfft(extended, n=size, axis=1)
                             * np.conj(sp_fft.rfft(x, n=size, axis=1)), n=size, axis=1)
        # cross[d] = Σ_j extended[j + d] x[j]; lag k pairs x[j] with extended[before + j - k]
        self._sums += cross[:, (before - np.arange(lag + 1)) % size]
        self._total += x.sum(axis=1)
        self._head = np.concatenate([self._head, x[:, :lag - self._head.shape[1]]], axis=1)
        self._tail = extended[:, max(extended.shape[1] - lag, 0):]
        self.steps += x.shape[1]

    def result(self) -> np.ndarray:
        """Autocorrelation ``(max_lag + 1, units)``, as :func:`autocorrelation` would give."""
        if self.steps <= self.max_lag:
            raise ValueError(f"max_lag={self.max_lag} needs more than {self.max_lag} steps; "
                             f"{self.steps} were given")
        lags = np.arange(self.max_lag + 1)
        mean = self._total / self.steps  # (trials, units)
        first = np.concatenate([np.zeros_like(mean[:, None]), np.cumsum(self._head, axis=1)], axis=1)
        last = np.concatenate([np.zeros_like(mean[:, None]),
                               np.cumsum(self._tail[:, ::-1], axis=1)], axis=1)
        # Σ_{t<T-k} x_t = total - (last k values); Σ_{t>=k} x_t = total - (first k values)
        edges = 2 * self._total[:, None] - first[:, lags] - last[:, lags]
        pairs = (self.steps - lags)[None, :, None]
        covariance = (self._sums - mean[:, None] * edges) / pairs + mean[:, None] ** 2
        with np.errstate(invalid="ignore", divide="ignore"):
            variance = covariance[:, :1]
            per_trial = np.where(variance > 1e-12 * np.abs(self._sums[:, :1]) / self.steps,
                                 covariance / variance, np.nan)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return np.nanmean(per_trial, axis=0)
