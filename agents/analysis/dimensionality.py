"""Dimensionality of population activity: how many principal components hold a given variance."""

from __future__ import annotations

import numbers

import numpy as np

_BLOCK_ROWS = 8192


def explained_variance(act: np.ndarray) -> np.ndarray:
    """Fraction of the variance along each principal component, largest first.

    ``act`` is ``(T, units)`` or ``(trials, T, units)``; samples of all trials are pooled, each
    neuron centred. The variances are the singular values (numpy SVD) of the scatter matrix of
    the centred data, accumulated over blocks of samples so memory stays at (units, units).
    """
    array = np.asarray(act)
    if array.ndim not in (2, 3) or array.size == 0:
        raise ValueError(f"act of shape {array.shape} is not accepted: expected (T, units) or "
                         "(trials, T, units) with no empty axis")
    samples = array.reshape(-1, array.shape[-1])
    mean = samples.mean(axis=0, dtype=np.float64)
    scatter = np.zeros((samples.shape[1],) * 2)
    for start in range(0, len(samples), _BLOCK_ROWS):
        block = samples[start:start + _BLOCK_ROWS].astype(np.float64) - mean
        scatter += block.T @ block
    power = np.linalg.svd(scatter, compute_uv=False)  # = the squared singular values of the data
    total = power.sum()
    return power / total if total > 0 else np.zeros_like(power)


def dimensionality(act: np.ndarray, variance: float = 0.9) -> int:
    """The number of principal components needed for ``variance`` (in (0, 1]) of the variance
    (0 for activity that never changes)."""
    if not isinstance(variance, numbers.Real) or not 0 < variance <= 1:
        raise ValueError(f"variance={variance!r} is not accepted: expected a float in (0, 1]")
    ratio = explained_variance(act)
    if not ratio.any():
        return 0
    cumulative = np.cumsum(ratio)
    return int(min(np.searchsorted(cumulative, variance * (1 - 1e-12)) + 1, len(ratio)))
