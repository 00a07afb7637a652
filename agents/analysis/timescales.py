"""Timescales: exponential fits of autocorrelations (τ_net) and the timescales a model was trained to.

Each neuron's autocorrelation C(k), k = 0..fit_lag, is fitted (``scipy.optimize.curve_fit``,
bounded) by

    single: a·exp(-k/τ)                    double: a₁·exp(-k/τ₁) + a₂·exp(-k/τ₂),  τ₁ ≤ τ₂

and the model with the lower AIC (n·log(RSS/n) + 2·parameters) is kept; the double exponential
competes only where both its components carry at least ``min_amplitude`` of C(0) and their
timescales differ by a factor ``MIN_TAU_RATIO`` or more (errors of an estimated autocorrelation
are correlated across lags, and AIC alone lets a tiny or a near-duplicate component fit them). τ_net is the fitted timescale, the slower one (τ₂) where the double exponential wins. A neuron gets NaN (model 0)
when its autocorrelation is not finite, no fit converges, or the kept τ_net sits at the upper
bound (the autocorrelation does not decay within the fitted lags).

:func:`fit_timescales_paper` is the paper's procedure instead: C(k)/C(0) over k = 0..fit_lag
fitted by a·exp(-k/τ) (a in [0, 1], τ in [0, 100]) and by a·c·exp(-k/τ₁) + a·(1 - c)·exp(-k/τ₂)
(a, c in [0, 1], τ₁, τ₂ in [0, 100]), each by ``curve_fit`` from the middle of its bounds with
finite-difference derivatives and at most 2000 evaluations; the lower AIC wins outright (no
amplitude or ratio condition), a tie or two failed fits gives NaN, and a τ at the bound is kept.
Those fits start where the two exponentials are interchangeable (τ₁ = τ₂, c = ½) and, for fast
neurons, drift onto ground where exp(-k/τ) is flat; which way they leave is decided by rounding
error, so changes of 1e-14 in C move τ_net of about one neuron in eight (and the mean τ_net above 1
by up to 20 %). C/C(0) is therefore rounded to ``PAPER_DECIMALS`` decimals before fitting: τ_net
is then a function of the data, not of the arithmetic that computed it.
"""

from __future__ import annotations

import numbers
import warnings
from dataclasses import dataclass

import numpy as np
import torch
from scipy.optimize import OptimizeWarning, curve_fit

TAU_BOUNDS = (1e-2, 1e4)
AMPLITUDE_BOUNDS = (0.0, 2.0)
MIN_TAU_RATIO = 2.0  # τ₂/τ₁ of a double exponential that counts as two timescales
PAPER_TAU_BOUNDS = (0.0, 100.0)
PAPER_MAX_EVALUATIONS = 2000
PAPER_DECIMALS = 8  # C/C(0) is fitted rounded to this many decimals (see the module docstring)


def single_exponential(k: np.ndarray, a: float, tau: float) -> np.ndarray:
    """a·exp(-k/τ)."""
    return a * np.exp(-k / tau)


def double_exponential(k: np.ndarray, a1: float, tau1: float, a2: float, tau2: float) -> np.ndarray:
    """a₁·exp(-k/τ₁) + a₂·exp(-k/τ₂)."""
    return a1 * np.exp(-k / tau1) + a2 * np.exp(-k / tau2)


def _single_jacobian(k: np.ndarray, a: float, tau: float) -> np.ndarray:
    decay = np.exp(-k / tau)
    return np.stack([decay, a * decay * k / tau ** 2], axis=1)


def _double_jacobian(k: np.ndarray, a1: float, tau1: float, a2: float, tau2: float) -> np.ndarray:
    return np.concatenate([_single_jacobian(k, a1, tau1), _single_jacobian(k, a2, tau2)], axis=1)


JACOBIANS = {single_exponential: _single_jacobian, double_exponential: _double_jacobian}


@dataclass
class TimescaleFit:
    """Fits of every neuron's autocorrelation.

    Attributes:
        tau: τ_net per neuron (units,), NaN where nothing fits.
        model: 1 (single exponential kept), 2 (double), 0 (nothing fits), per neuron.
        single: (units, 2) parameters (a, τ) of the single exponential, NaN where it failed.
        double: (units, 4) parameters (a₁, τ₁, a₂, τ₂), τ₁ ≤ τ₂, NaN where it failed.
        aic: (units, 2) AIC of the single and the double fit (inf where a fit failed).
        fit_lag: the largest lag fitted.
        min_amplitude: the smallest amplitude of a component of an eligible double exponential.
    """

    tau: np.ndarray
    model: np.ndarray
    single: np.ndarray
    double: np.ndarray
    aic: np.ndarray
    fit_lag: int
    min_amplitude: float

    def curve(self, unit: int, lags: np.ndarray) -> np.ndarray:
        """The kept fit of neuron ``unit`` evaluated at ``lags`` (NaN where nothing fits)."""
        if self.model[unit] == 1:
            return single_exponential(lags, *self.single[unit])
        if self.model[unit] == 2:
            return double_exponential(lags, *self.double[unit])
        return np.full(np.shape(lags), np.nan)


def _initial_tau(ac: np.ndarray) -> float:
    """A rough τ: the first lag where C drops below 1/e (at least 0.5)."""
    below = np.flatnonzero(ac < ac[0] / np.e)
    return float(np.clip(below[0] if below.size else len(ac), 0.5, TAU_BOUNDS[1] / 10))


def _fit(function, lags: np.ndarray, ac: np.ndarray, p0: list[float], bounds) -> tuple[np.ndarray, float]:
    """(parameters, AIC) of a bounded least-squares fit, or (NaN, inf) if it fails."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OptimizeWarning)
            params, _ = curve_fit(function, lags, ac, p0=p0, bounds=bounds, jac=JACOBIANS[function],
                                  maxfev=5000)
    except (RuntimeError, ValueError):
        return np.full(len(p0), np.nan), np.inf
    rss = float(np.sum((function(lags, *params) - ac) ** 2))
    n = len(lags)
    return params, n * np.log(max(rss, np.finfo(float).tiny) / n) + 2 * len(p0)


def _fitted_columns(array: np.ndarray, fit_lag: object) -> np.ndarray:
    """Lags 0..fit_lag of ``array`` (lags,) or (lags, units) as (fit_lag + 1, units), or a clear error."""
    if array.ndim not in (1, 2) or array.shape[0] == 0:
        raise ValueError(f"ac of shape {array.shape} is not accepted: expected (lags,) or (lags, units)")
    if not isinstance(fit_lag, numbers.Integral) or isinstance(fit_lag, bool):
        raise TypeError(f"fit_lag={fit_lag!r} is not accepted: expected an int")
    if not 4 <= int(fit_lag) < array.shape[0]:
        raise ValueError(f"fit_lag={fit_lag!r} is not accepted: expected 4 <= fit_lag < "
                         f"{array.shape[0]} (the number of lags in ac)")
    return array.reshape(array.shape[0], -1)[:fit_lag + 1]


def _fit_one(ac: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lags = np.arange(len(ac), dtype=np.float64)
    tau0 = _initial_tau(ac)
    low, high = AMPLITUDE_BOUNDS, TAU_BOUNDS
    single, aic1 = _fit(single_exponential, lags, ac, [1.0, tau0],
                        ([low[0], high[0]], [low[1], high[1]]))
    double, aic2 = _fit(double_exponential, lags, ac, [0.5, tau0 / 3, 0.5, tau0 * 3],
                        ([low[0], high[0]] * 2, [low[1], high[1]] * 2))
    if np.all(np.isfinite(double)) and double[1] > double[3]:
        double = double[[2, 3, 0, 1]]  # order the components: τ₁ ≤ τ₂
    return single, double, np.array([aic1, aic2])


def fit_timescales(ac: np.ndarray, fit_lag: int = 30, min_amplitude: float = 0.05) -> TimescaleFit:
    """Fit single and double exponentials to autocorrelations and keep the better by AIC.

    Args:
        ac: autocorrelation ``(lags,)`` or ``(lags, units)`` with lag 0 first (as from
            :func:`autocorrelation`).
        fit_lag: fit lags 0..fit_lag (at least 4, at most ``lags - 1``).
        min_amplitude: a double exponential is considered only where both amplitudes reach this
            (a fraction of C(0) = 1), in [0, 1).

    Returns:
        a :class:`TimescaleFit`; ``tau`` is τ_net per neuron.
    """
    if not isinstance(min_amplitude, numbers.Real) or not 0 <= min_amplitude < 1:
        raise ValueError(f"min_amplitude={min_amplitude!r} is not accepted: expected a float in [0, 1)")
    columns = _fitted_columns(np.asarray(ac, dtype=np.float64), fit_lag)
    units = columns.shape[1]
    single, double = np.full((units, 2), np.nan), np.full((units, 4), np.nan)
    aic = np.full((units, 2), np.inf)
    for unit in range(units):
        if np.all(np.isfinite(columns[:, unit])):
            single[unit], double[unit], aic[unit] = _fit_one(columns[:, unit])
    eligible = ((np.minimum(double[:, 0], double[:, 2]) >= min_amplitude)  # False where NaN
                & (double[:, 3] >= MIN_TAU_RATIO * double[:, 1]))
    model = np.where(np.isinf(aic).all(axis=1), 0,
                     np.where(eligible & (aic[:, 1] < aic[:, 0]), 2, 1))
    tau = np.where(model == 2, double[:, 3], np.where(model == 1, single[:, 1], np.nan))
    unresolved = tau >= TAU_BOUNDS[1] * (1 - 1e-6)
    tau[unresolved], model[unresolved] = np.nan, 0
    return TimescaleFit(tau=tau, model=model, single=single, double=double, aic=aic,
                        fit_lag=int(fit_lag), min_amplitude=float(min_amplitude))


def paper_double_exponential(k: np.ndarray, a: float, tau1: float, tau2: float,
                             coeff: float) -> np.ndarray:
    """a·c·exp(-k/τ₁) + a·(1 - c)·exp(-k/τ₂): the paper's parametrisation of two timescales."""
    return a * coeff * np.exp(-k / tau1) + a * (1 - coeff) * np.exp(-k / tau2)


def _paper_fit(function, lags: np.ndarray, ac: np.ndarray, low: list[float],
               high: list[float]) -> tuple[np.ndarray, float]:
    """(parameters, AIC) of the paper's bounded fit from the middle of the bounds, or (NaN, inf)."""
    start = (np.array(low) + np.array(high)) / 2
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore", OptimizeWarning)
            params, _ = curve_fit(function, lags, ac, p0=start, bounds=(low, high),
                                  maxfev=PAPER_MAX_EVALUATIONS)
            rss = float(np.sum((function(lags, *params) - ac) ** 2))
            n = len(lags)
            return params, 2 * len(low) + n * np.log(rss / n)
    except (RuntimeError, ValueError):
        return np.full(len(low), np.nan), np.inf


def fit_timescales_paper(ac: np.ndarray, fit_lag: int = 30) -> TimescaleFit:
    """The paper's fits of autocorrelations (see the module docstring).

    Args:
        ac: autocorrelation ``(lags,)`` or ``(lags, units)``, lag 0 first (the paper's is
            :func:`autocorrelation` with ``average="pooled"``).
        fit_lag: fit lags 0..fit_lag (at least 4, at most ``lags - 1``).

    Returns:
        a :class:`TimescaleFit` (``double`` as (a·c, τ₁, a·(1 - c), τ₂) with τ₁ ≤ τ₂,
        ``min_amplitude`` 0); ``tau`` is τ_net per neuron, the slower τ where two win.
    """
    array = np.asarray(ac, dtype=np.float64)
    columns = _fitted_columns(array, fit_lag)
    units = columns.shape[1]
    lags = np.arange(fit_lag + 1, dtype=np.float64)
    single, double = np.full((units, 2), np.nan), np.full((units, 4), np.nan)
    aic = np.full((units, 2), np.inf)
    (t_low, t_high), (a_low, a_high) = PAPER_TAU_BOUNDS, (0.0, 1.0)
    for unit in range(units):
        with np.errstate(all="ignore"):
            ydata = np.round(columns[:, unit] / columns[0, unit], PAPER_DECIMALS)
        single[unit], aic[unit, 0] = _paper_fit(single_exponential, lags, ydata,
                                                [a_low, t_low], [a_high, t_high])
        (a, tau1, tau2, coeff), aic[unit, 1] = _paper_fit(
            paper_double_exponential, lags, ydata, [a_low, t_low, t_low, a_low],
            [a_high, t_high, t_high, a_high])
        components = sorted([(tau1, a * coeff), (tau2, a * (1 - coeff))])
        double[unit] = [components[0][1], components[0][0], components[1][1], components[1][0]]
    model = np.where(aic[:, 0] < aic[:, 1], 1, np.where(aic[:, 1] < aic[:, 0], 2, 0))
    tau = np.where(model == 2, double[:, 3], np.where(model == 1, single[:, 1], np.nan))
    return TimescaleFit(tau=tau, model=model, single=single, double=double, aic=aic,
                        fit_lag=int(fit_lag), min_amplitude=0.0)


def finite_stats(values: np.ndarray) -> tuple[float | None, float | None]:
    """Mean and std over the finite values (None, None where there is none)."""
    finite = np.asarray(values, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    return (float(finite.mean()), float(finite.std())) if finite.size else (None, None)


def paper_tau_net_summary(tau_net: np.ndarray) -> dict[str, float | None]:
    """The paper's summary of τ_net: mean and std over the neurons whose τ_net exceeds 1 (None
    where none does)."""
    values = np.asarray(tau_net, dtype=np.float64)
    above = values[values > 1]  # NaN compares False: neurons without a fit drop out
    if not above.size:
        return {"mean_above_1": None, "std_above_1": None}
    return {"mean_above_1": float(above.mean()), "std_above_1": float(above.std())}


def trained_timescales(model: object) -> np.ndarray:
    """The timescales a model holds in its parameters, per unit, as numpy.

    ``model.timescales()`` where offered (LeakyRNN: effective τ = max(τ, 1); GRU/LSTM:
    1 / (1 − mean gate) of the update/forget gate), else ``model.taus``.
    """
    timescales = getattr(model, "timescales", None)
    if callable(timescales):
        values = timescales()
    elif hasattr(model, "taus"):
        values = model.taus
    else:
        raise TypeError(f"model {type(model).__name__} offers neither timescales() nor taus")
    return np.asarray(values.detach().cpu() if hasattr(values, "detach") else values, dtype=np.float64)


def raw_timescales(model: object) -> np.ndarray:
    """The trained τ parameter itself where the model has one (LeakyRNN: ``model.tau``, which may
    lie below the clamp at 1; the paper sorts and averages these), else :func:`trained_timescales`."""
    raw = getattr(model, "tau", None)
    if isinstance(raw, torch.Tensor):
        return raw.detach().cpu().double().numpy().reshape(-1)
    return trained_timescales(model)
