"""``memtasks reproduce``: train what the paper's claims need, measure, and report side by side.

plan (scales → planned runs) → run (train missing runs, resumable) → measure (analysis of the trained
networks, cached) → claims (numbers and a verdict per claim) → report (REPORT.md, PNGs, JSON).
"""

from agents.experiments.reproduce.plan import SCALES, PlannedRun, Scale, make_plan

__all__ = ["SCALES", "PlannedRun", "Scale", "make_plan"]
