"""Analysis of trained networks: timescales (τ and τ_net), ablation, perturbation, dimensionality.

Functions over models and numpy arrays; :func:`analyze_run` writes figures and a JSON of the
numbers for a training run or a single checkpoint (``memtasks analyze``).
"""

from agents.analysis.autocorrelation import autocorrelation, population_autocorrelation
from agents.analysis.timescales import TimescaleFit, fit_timescales

__all__ = ["TimescaleFit", "autocorrelation", "fit_timescales", "population_autocorrelation"]
