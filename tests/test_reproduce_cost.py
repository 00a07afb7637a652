"""The time estimate of ``memtasks reproduce``: cost per device kind, and runs packed together."""

import dataclasses
import json
from pathlib import Path

import pytest

from agents.experiments.reproduce import cost, measure
from agents.experiments.reproduce.plan import SCALES, make_plan

COMMITTED = Path(__file__).parents[1] / "docs" / "reproduction" / "numbers.json"


def test_h100_figures_give_the_stated_epoch_times():
    multi = next(s for s in make_plan(SCALES["gpu"]) if s.curriculum == "multi")
    assert cost.epoch_seconds(multi, 2, cost.H100) == pytest.approx(4.6, abs=0.05)
    assert cost.epoch_seconds(multi, 12, cost.H100) == pytest.approx(5.8, abs=0.05)
    busy_step = cost.H100.busy_overhead + 40 * cost.H100.busy_per_step
    assert busy_step == pytest.approx(1.5e-3, rel=0.03)  # the graph-captured step at T = 40


def test_run_seconds_stops_at_the_time_budget_and_follows_the_curriculum():
    spec = next(s for s in make_plan(SCALES["gpu"]) if s.curriculum == "multi")
    assert cost.largest_N(spec, 1) == 2 and cost.largest_N(spec, 100) == spec.max_n
    unbounded = dataclasses.replace(spec, config=dataclasses.replace(spec.config, time_budget=None))
    total = sum(cost.epoch_seconds(spec, cost.largest_N(spec, e), cost.H100)
                for e in range(1, spec.epochs + 1))
    assert cost.run_seconds(unbounded, cost.H100) == pytest.approx(total)
    assert cost.run_seconds(spec, cost.H100) == min(total, spec.time_budget)


def test_pack_known_answers():
    def pack(*runs, jobs):
        return cost.pack([(name, seconds, busy, after, budget)
                          for name, seconds, busy, after, budget in runs], jobs)
    a, b = ("a", 100, 0.5, None, None), ("b", 100, 0.5, None, None)
    # two GPU runs that each keep the GPU busy half the time: together 1.0 > 0.8, so both run
    # at 0.8 of their speed: 100 s alone -> 125 s together; one at a time: one after the other
    assert pack(a, b, jobs=2) == pytest.approx(125)
    assert pack(a, b, jobs=1) == pytest.approx(200)
    # a time budget (wall seconds) ends b at 110 s; a has done 88 s of work by then, and does
    # the 12 s left alone at full speed
    assert pack(a, ("b", 100, 0.5, None, 110), jobs=2) == pytest.approx(122)
    # CPU runs (busy 0) do not slow each other; a GPU run alone under 0.8 busy runs at full speed
    assert pack(("a", 50, 0, None, None), ("b", 80, 0, None, None), ("g", 60, 0.3, None, None),
                jobs=3) == 80
    # a run that starts from another waits for it; waiting on a missing run ends the estimate
    assert pack(("a", 50, 0, None, None), ("b", 10, 0, "a", None), ("c", 30, 0, None, None),
                jobs=3) == 60
    assert pack(("a", 5, 0, "missing", None), jobs=2) == 0


def test_detect_gpu_names_the_figures(monkeypatch):
    monkeypatch.setattr(cost.torch.cuda, "is_available", lambda: False)
    assert cost.detect_gpu() == (cost.H100, "no GPU on this machine: times estimated for an "
                                            "NVIDIA H100 from its figures")
    monkeypatch.setattr(cost.torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(cost.torch.cuda, "get_device_name", lambda i=0: "NVIDIA H200")
    assert cost.detect_gpu()[0] is cost.GPUS["H200"]
    monkeypatch.setattr(cost.torch.cuda, "get_device_name", lambda i=0: "Tesla T4")
    gpu, line = cost.detect_gpu()
    assert gpu is cost.H100 and "Tesla T4: no figures" in line


def test_gpu_plan_fits_ten_minutes_on_an_h100():
    scale = SCALES["gpu"]
    plan = sorted(make_plan(scale), key=lambda s: -cost.run_seconds(s, cost.cost_of(s, cost.H100)))
    wall = cost.packed_seconds(plan, cost.H100, scale.jobs) + cost.analysis_seconds(plan, scale)
    assert wall < 9 * 60  # a minute left for reports and the unforeseen
    gpu_runs = [s for s in plan if s.device == "cuda"]
    busy = sum(cost.run_seconds(s, cost.H100) * cost.busy_fraction(s, cost.H100)
               for s in gpu_runs)
    assert busy / cost.PACKING < wall  # the GPU's own work is not the whole story


def test_measured_N_are_the_same_in_every_run():
    from_run = [type("Stage", (), {"N": n})() for n in (2, 3, 5, 8, 9, 14)]
    assert [s.N for s in measure.at_grid(from_run, (2, 8, 14, 24))] == [2, 8, 14]
    assert measure.at_grid(from_run, None) == from_run


def test_cpu_estimate_matches_the_committed_cpu_reproduction():
    """The CPU figures and the curriculum growth give the training time the committed cpu run
    took (every run ended at its epochs, so its time is the machine's, not the budget's)."""
    numbers = json.loads(COMMITTED.read_text())
    assert numbers["scale"] == "cpu"
    estimate = sum(cost.run_seconds(s, cost.CPU) for s in make_plan(SCALES["cpu"]))
    assert estimate == pytest.approx(numbers["training_seconds"], rel=0.25)
