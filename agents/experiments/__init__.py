"""Experiment tools: the run description, the ``memtasks`` command line, sweeps, summaries, reproduction."""
