"""Dimensionality of population activity: how many principal components hold a given variance.

Two definitions. :func:`dimensionality` pools every sample of every trial and counts the
components needed to reach the variance (the project's). :func:`trial_dimensionality` is the
paper's: one PCA per trial, and the count is the index (from 0) of the first component at which
the cumulative explained variance exceeds the threshold, i.e. the components *before* the one
that crosses it; the paper reports the mean over trials.
"""

from __future__ import annotations

import numbers

import numpy as np
import numpy.typing as npt

from agents.analysis.autocorrelation import check_chunk

_BLOCK_ROWS = 8192


def check_variance(variance: object) -> float:
    """``variance`` as a float in (0, 1], else a ValueError naming it."""
    if not isinstance(variance, numbers.Real) or isinstance(variance, bool) or not 0 < float(variance) <= 1:
        raise ValueError(f"variance={variance!r} is not accepted: expected a float in (0, 1]")
    return float(variance)


def _as_trials(act: object) -> np.ndarray:
    array = np.asarray(act)
    if array.ndim not in (2, 3) or array.size == 0:
        raise ValueError(f"act of shape {array.shape} is not accepted: expected (T, units) or "
                         "(trials, T, units) with no empty axis")
    return array if array.ndim == 3 else array[None]


def _ratios(scatter: np.ndarray) -> np.ndarray:
    """Fractions of the variance along each principal component (largest first) from a scatter
    matrix; zeros for activity that never changes."""
    power = np.clip(np.linalg.eigvalsh(scatter)[::-1], 0.0, None)
    total = power.sum()
    return power / total if total > 0 else np.zeros_like(power)


def explained_variance(act: np.ndarray) -> np.ndarray:
    """Fraction of the variance along each principal component, largest first.

    ``act`` is ``(T, units)`` or ``(trials, T, units)``; samples of all trials are pooled, each
    neuron centred. The variances are the eigenvalues of the scatter matrix of the centred data,
    accumulated over blocks of samples so memory stays at (units, units).
    """
    samples = _as_trials(act).reshape(-1, np.shape(act)[-1])
    mean = samples.mean(axis=0, dtype=np.float64)
    scatter = np.zeros((samples.shape[1],) * 2)
    for start in range(0, len(samples), _BLOCK_ROWS):
        block = samples[start:start + _BLOCK_ROWS].astype(np.float64) - mean
        scatter += block.T @ block
    return _ratios(scatter)


def dimensionality(act: np.ndarray, variance: float = 0.9) -> int:
    """The number of principal components needed for ``variance`` (in (0, 1]) of the variance
    (0 for activity that never changes)."""
    variance = check_variance(variance)
    ratio = explained_variance(act)
    if not ratio.any():
        return 0
    cumulative = np.cumsum(ratio)
    return int(min(np.searchsorted(cumulative, variance * (1 - 1e-12)) + 1, len(ratio)))


class TrialCovariance:
    """The covariance of each trial's activity, accumulated chunk by chunk in bounded memory.

    Feed ``update(chunk)`` with consecutive pieces ``(trials, c, units)`` of a recording; kept per
    trial: the sum and the scatter matrix of the activity minus a fixed shift (each neuron's mean
    in the first chunk, so sums stay small and no precision is lost to a large mean). Each chunk's
    scatter is one float32 matrix product (relative error ~1e-6, four times faster than float64),
    accumulated in float64.
    """

    def __init__(self) -> None:
        self.steps = 0  # 0 until the first chunk, which sets the shapes below
        self._shift: npt.NDArray[np.float32] = np.zeros((0, 1, 0), dtype=np.float32)
        self._sum: npt.NDArray[np.float64] = np.zeros((0, 0))
        self._scatter: npt.NDArray[np.float64] = np.zeros((0, 0, 0))

    def update(self, chunk: np.ndarray) -> None:
        """Add the next ``(trials, c, units)`` steps of the recording."""
        x = check_chunk(chunk, self._sum.shape if self.steps else None)
        if self.steps == 0:
            self._shift = x.mean(axis=1, dtype=np.float64)[:, None].astype(np.float32)
            self._sum = np.zeros(x.shape[::2])
            self._scatter = np.zeros((x.shape[0], x.shape[2], x.shape[2]))
        centred = np.subtract(x, self._shift, dtype=np.float32)
        self._sum += centred.sum(axis=1, dtype=np.float64)
        for trial, block in zip(self._scatter, centred):
            trial += block.T @ block  # a symmetric product in float32 (BLAS syrk), summed in float64
        self.steps += x.shape[1]

    def explained_variance(self) -> np.ndarray:
        """(trials, units): per trial, the fraction of its variance along each principal component."""
        if self.steps == 0:
            raise ValueError("no activity was given: call update(chunk) first")
        mean = self._sum / self.steps
        return np.stack([_ratios(scatter - self.steps * np.outer(m, m))
                         for scatter, m in zip(self._scatter, mean)])


def paper_count(ratios: np.ndarray, variance: float = 0.9) -> np.ndarray:
    """The paper's dimensionality of each row of explained-variance ``ratios`` (largest first):
    the index of the first component whose cumulative ratio exceeds ``variance`` (0 for a row of
    zeros, the number of components where the cumulative ratio never exceeds it)."""
    variance = check_variance(variance)
    cumulative = np.cumsum(np.atleast_2d(ratios), axis=-1)
    counts = (cumulative <= variance).sum(axis=-1)
    return np.where(cumulative[:, -1] > 0, counts, 0)


def trial_dimensionality(act: np.ndarray, variance: float = 0.9) -> np.ndarray:
    """The paper's dimensionality (see the module docstring) of each trial of ``act``
    ``(trials, T, units)`` or ``(T, units)``: an int array ``(trials,)``."""
    variance = check_variance(variance)
    covariance = TrialCovariance()
    array = _as_trials(act)
    for start in range(0, array.shape[1], _BLOCK_ROWS):
        covariance.update(array[:, start:start + _BLOCK_ROWS])
    return paper_count(covariance.explained_variance(), variance)
