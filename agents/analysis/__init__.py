"""Analysis of trained networks: timescales (τ and τ_net), ablation, perturbation, dimensionality.

Functions over models and numpy arrays; :func:`analyze_run` writes figures and a JSON of the
numbers for a training run or a single checkpoint (``memtasks analyze``). Two protocols: the
project's (group ablation, per-trial-normalised autocorrelation, pooled dimensionality) and the
paper's (:func:`paper_protocol`: the authors' definitions, see :mod:`agents.analysis.paper`).
"""

from agents.analysis.ablation import ablate, accuracy, select_neurons, single_ablations
from agents.analysis.activity import activity_chunks, bernoulli_bits, record, stream_states
from agents.analysis.autocorrelation import (RunningAutocorrelation, autocorrelation,
                                             population_autocorrelation)
from agents.analysis.dimensionality import (TrialCovariance, dimensionality, explained_variance,
                                            paper_count, trial_dimensionality)
from agents.analysis.group import GroupRobustness, group_robustness
from agents.analysis.paper import (PaperMeasurements, PaperRobustness, measure_paper,
                                   paper_protocol, paper_robustness, paper_timescales)
from agents.analysis.perturbation import (PerturbationSweep, perturb, perturbation_sweep,
                                          relative_accuracy)
from agents.analysis.report import add_analyze_arguments, analyze_run, run_analyze
from agents.analysis.timescales import (TimescaleFit, fit_timescales, fit_timescales_paper,
                                        raw_timescales, trained_timescales)

__all__ = ["GroupRobustness", "PaperMeasurements", "PaperRobustness", "PerturbationSweep", "RunningAutocorrelation", "TimescaleFit",
           "TrialCovariance", "ablate", "accuracy", "activity_chunks", "add_analyze_arguments",
           "analyze_run", "autocorrelation", "bernoulli_bits", "dimensionality",
           "explained_variance", "fit_timescales", "fit_timescales_paper", "group_robustness", "measure_paper",
           "paper_count", "paper_protocol", "paper_robustness", "paper_timescales", "perturb", "perturbation_sweep",
           "population_autocorrelation", "raw_timescales", "record", "relative_accuracy",
           "run_analyze", "select_neurons", "single_ablations", "stream_states",
           "trained_timescales", "trial_dimensionality"]
