"""Analysis of trained networks: timescales (τ and τ_net), ablation, perturbation, dimensionality.

Functions over models and numpy arrays; :func:`analyze_run` writes figures and a JSON of the
numbers for a training run or a single checkpoint (``memtasks analyze``).
"""

from agents.analysis.ablation import ablate, accuracy, select_neurons
from agents.analysis.activity import activity_chunks, bernoulli_bits, record, stream_states
from agents.analysis.autocorrelation import (RunningAutocorrelation, autocorrelation,
                                             population_autocorrelation)
from agents.analysis.dimensionality import dimensionality, explained_variance
from agents.analysis.perturbation import (PerturbationSweep, perturb, perturbation_sweep,
                                          relative_accuracy)
from agents.analysis.report import add_analyze_arguments, analyze_run, run_analyze
from agents.analysis.timescales import TimescaleFit, fit_timescales, trained_timescales

__all__ = ["PerturbationSweep", "RunningAutocorrelation", "TimescaleFit", "ablate", "accuracy",
           "activity_chunks", "add_analyze_arguments", "analyze_run", "autocorrelation",
           "bernoulli_bits", "dimensionality", "explained_variance", "fit_timescales", "perturb",
           "perturbation_sweep", "population_autocorrelation", "record", "relative_accuracy",
           "run_analyze", "select_neurons", "stream_states", "trained_timescales"]
