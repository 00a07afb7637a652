"""Autocorrelation of recorded activity, per neuron and of the population, computed by FFT.

For a series x_0 … x_{T-1} with mean m, the estimate at lag k is

    C(k) = [Σ_{t<T-k} (x_t - m)(x_{t+k} - m) / (T - k)] / [Σ_t (x_t - m)² / T]

(normalised by the number of pairs per lag, so C(0) = 1), computed for every neuron of a trial
at once with one zero-padded real FFT, then averaged over trials (``average="trials"``). A neuron
that is constant in a trial has no autocorrelation there (NaN); trials where it varies are averaged.

``average="pooled"`` is the paper's definition: each trial's covariance (the bracket in the
numerator, every trial centred on its own mean) is averaged over trials and the result divided by
its lag 0 once, so trials with more variance weigh more; a constant trial adds zeros.
"""

from __future__ import annotations

import functools
import numbers
import warnings

import numpy as np
import numpy.typing as npt
from scipy import fft as sp_fft

from memtasks.checks import check_choice

def check_chunk(chunk: np.ndarray, shape: tuple[int, ...] | None) -> np.ndarray:
    """A chunk of a streamed recording, ``(trials, c, units)`` with c >= 1, whose (trials,
    units) are ``shape``, those of the earlier chunks (None: the first chunk)."""
    x = np.asarray(chunk)
    if x.ndim != 3 or x.shape[1] == 0 or (shape is not None and x.shape[::2] != shape):
        raise ValueError(f"chunk of shape {x.shape} is not accepted: expected (trials, c, units) "
                         "with c >= 1 and the trials and units of the earlier chunks")
    return x


_BLOCK_ELEMENTS = 1 << 22  # FFT work per block: keeps memory bounded for long recordings
AVERAGES = ("trials", "pooled")


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
    if not 0 <= int(max_lag) < steps:
        raise ValueError(f"max_lag={max_lag!r} is not accepted: expected 0 <= max_lag < T = {steps}")
    if not np.all(np.isfinite(array)):
        raise ValueError("act holds NaN or infinite values")
    if array.ndim == 1:
        array = array[:, None]
    return (array if array.ndim == 3 else array[None]), int(max_lag)


def _trial_covariance(series: np.ndarray, max_lag: int) -> tuple[np.ndarray, np.ndarray]:
    """Lagged covariance (max_lag + 1, units) of each column of ``series`` (T, units), and
    whether each column is constant (its covariance is then set to 0)."""
    steps, units = series.shape
    pairs = (steps - np.arange(max_lag + 1))[:, None]
    covariance, constant = np.empty((max_lag + 1, units)), np.empty(units, dtype=bool)
    block = max(1, _BLOCK_ELEMENTS // sp_fft.next_fast_len(steps + max_lag, real=True))
    for start in range(0, units, block):
        x = series[:, start:start + block].astype(np.float64)
        x -= x.mean(axis=0)
        flat = np.ptp(x, axis=0) == 0
        sums = _lagged_sums(np.ascontiguousarray(x.T), max_lag).T
        covariance[:, start:start + block] = np.where(flat, 0.0, sums / pairs)
        constant[start:start + block] = flat
    return covariance, constant


def _normalise(covariance: np.ndarray, constant: np.ndarray, average: str) -> np.ndarray:
    """Autocorrelation (lags, units) from per-trial covariances (trials, lags, units), ``constant``
    (trials, 1, units) marking the trials where a neuron never changes (see the module docstring)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        if average == "pooled":
            pooled = covariance.mean(axis=0)
            return np.where(pooled[:1] > 0, pooled / pooled[:1], np.nan)
        per_trial = np.where(constant, np.nan, covariance / covariance[:, :1])
    with warnings.catch_warnings():  # all-NaN columns (constant neurons) stay NaN, silently
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(per_trial, axis=0)


def autocorrelation(act: np.ndarray, max_lag: int = 200, average: str = "trials") -> np.ndarray:
    """Autocorrelation per neuron, lags 0..max_lag, over trials (see the module docstring).

    Args:
        act: activity ``(T,)``, ``(T, units)`` or ``(trials, T, units)`` (as :func:`record` gives).
        max_lag: the largest lag, ``0 <= max_lag < T``.
        average: ``"trials"`` normalises each trial, then averages; ``"pooled"`` averages the
            trials' covariances, then normalises once (the paper's definition).

    Returns:
        ``(max_lag + 1,)`` for a single series, else ``(max_lag + 1, units)``; lag 0 is 1, NaN for
        a neuron that is constant in every trial.
    """
    array, max_lag = _validate_activity(act, max_lag)
    average = check_choice(average, "average", AVERAGES)
    covariance, constant = zip(*(_trial_covariance(trial, max_lag) for trial in array))
    result = _normalise(np.stack(covariance), np.stack(constant)[:, None, :], average)
    return result[:, 0] if np.ndim(act) == 1 else result


def population_autocorrelation(act: np.ndarray, max_lag: int = 200, average: str = "trials") -> np.ndarray:
    """Autocorrelation ``(max_lag + 1,)`` of the population activity (the mean over neurons)."""
    array, max_lag = _validate_activity(act, max_lag)
    return autocorrelation(array.mean(axis=-1, dtype=np.float64)[..., None], max_lag, average)[:, 0]


class RunningAutocorrelation:
    """The estimate of :func:`autocorrelation`, accumulated chunk by chunk in bounded memory.

    Feed ``update(chunk)`` with consecutive pieces ``(trials, c, units)`` of a recording (e.g.
    from :func:`activity_chunks`); ``result()`` equals ``autocorrelation`` of the whole recording
    with the same ``average``. Kept per trial and neuron: the lagged product sums Σ x_t x_{t+k}
    (each chunk, joined to the last ``max_lag`` steps before it, correlated with itself by one
    FFT along time; the pairs within those earlier steps, counted before, are taken off), the
    total, and the first and last ``max_lag`` values, from which the mean-subtracted sums follow
    exactly.
    """

    def __init__(self, max_lag: int = 200, average: str = "trials") -> None:
        if not isinstance(max_lag, numbers.Integral) or isinstance(max_lag, bool) or int(max_lag) < 0:
            raise ValueError(f"max_lag={max_lag!r} is not accepted: expected an int >= 0")
        self.max_lag: int = int(max_lag)
        self.average: str = check_choice(average, "average", AVERAGES)
        self.steps: int = 0  # 0 until the first chunk, which sets the shapes of the sums below
        self._sums: npt.NDArray[np.float64] = np.zeros((0, 0, self.max_lag + 1))
        self._total: npt.NDArray[np.float64] = np.zeros((0, 0))
        self._head: npt.NDArray[np.float64] = np.zeros((0, 0, 0))
        self._tail: npt.NDArray[np.float64] = self._head

    def update(self, chunk: np.ndarray) -> None:
        """Add the next ``(trials, c, units)`` steps of the recording."""
        x = check_chunk(chunk, self._total.shape if self.steps else None)
        trials, steps, units = x.shape
        if self.steps == 0:
            self._sums = np.zeros((trials, units, self.max_lag + 1))
            self._total = np.zeros((trials, units))
            self._head = self._tail = np.zeros((trials, units, 0))
        lag, before = self.max_lag, self._tail.shape[-1]
        length = before + steps
        # the earlier steps' tail, then this chunk, as rows (trials, units, time) zero-padded for the FFT
        padded = np.zeros((trials, units, sp_fft.next_fast_len(length + lag, real=True)))
        padded[..., :before] = self._tail
        padded[..., before:length] = x.transpose(0, 2, 1)
        new = padded[..., before:length]
        self._sums += _padded_lagged_sums(padded, lag) - _lagged_sums(self._tail, lag)
        self._total += new.sum(axis=-1)
        self._head = np.concatenate([self._head, new[..., :lag - self._head.shape[-1]]], axis=-1)
        self._tail = padded[..., max(length - lag, 0):length].copy()
        self.steps += steps

    def result(self) -> np.ndarray:
        """Autocorrelation ``(max_lag + 1, units)``, as :func:`autocorrelation` would give."""
        if self.steps <= self.max_lag:
            raise ValueError(f"max_lag={self.max_lag} needs more than {self.max_lag} steps; "
                             f"{self.steps} were given")
        lags = np.arange(self.max_lag + 1)
        mean = self._total / self.steps  # (trials, units)
        zero = np.zeros_like(mean[..., None])
        first = np.concatenate([zero, np.cumsum(self._head, axis=-1)], axis=-1)
        last = np.concatenate([zero, np.cumsum(self._tail[..., ::-1], axis=-1)], axis=-1)
        # Σ_{t<T-k} x_t = total - (last k values); Σ_{t>=k} x_t = total - (first k values)
        edges = 2 * self._total[..., None] - first[..., lags] - last[..., lags]
        pairs = self.steps - lags
        covariance = (self._sums - mean[..., None] * edges) / pairs + mean[..., None] ** 2
        constant = ~(covariance[..., :1] > 1e-12 * np.abs(self._sums[..., :1]) / self.steps)
        return _normalise(np.where(constant, 0.0, covariance).transpose(0, 2, 1),
                          constant.transpose(0, 2, 1), self.average)


def _lagged_sums(x: np.ndarray, max_lag: int) -> np.ndarray:
    """Σ_t x_t x_{t+k} along the last axis for k = 0..max_lag (zero where the series is shorter)."""
    steps = x.shape[-1]
    if steps == 0:
        return np.zeros(x.shape[:-1] + (max_lag + 1,))
    padded = np.zeros(x.shape[:-1] + (sp_fft.next_fast_len(steps + max_lag, real=True),))
    padded[..., :steps] = x
    return _padded_lagged_sums(padded, max_lag)


def _padded_lagged_sums(padded: np.ndarray, max_lag: int) -> np.ndarray:
    """:func:`_lagged_sums` of series already followed by at least ``max_lag`` zeros (no
    wrap-around): the power spectrum, inverted at lags 0..max_lag only (one matrix product)."""
    size = padded.shape[-1]
    spectrum = sp_fft.rfft(padded, axis=-1)
    power = spectrum.real ** 2 + spectrum.imag ** 2
    return (power.reshape(-1, power.shape[-1]) @ _inverse_cosines(size, max_lag)).reshape(
        padded.shape[:-1] + (max_lag + 1,))


@functools.lru_cache(maxsize=8)
def _inverse_cosines(size: int, max_lag: int) -> np.ndarray:
    """(size // 2 + 1, max_lag + 1): the inverse real DFT of length ``size`` at lags 0..max_lag,
    for a spectrum that is real and even (a power spectrum)."""
    frequencies = np.arange(size // 2 + 1)
    weights = np.where((frequencies == 0) | (2 * frequencies == size), 1.0, 2.0) / size
    return weights[:, None] * np.cos(2 * np.pi * np.outer(frequencies, np.arange(max_lag + 1)) / size)
