"""The verdict rules of ``memtasks reproduce`` on hand-made numbers with known answers."""

import json

import pytest

from agents.experiments.reproduce import claims as C
from agents.experiments.reproduce.plan import SCALES, make_plan
from agents.experiments.reproduce.report import write_report
from agents.training.loop import EpochRecord, History


@pytest.mark.parametrize("checks, expected", [
    ({"a": True, "b": True}, C.REPRODUCED), ({"a": True, "b": False}, C.PARTLY),
    ({"a": False, "b": False}, C.NOT), ({"a": None}, C.UNTESTED), ({}, C.UNTESTED),
    ({"a": True, "b": None}, C.REPRODUCED), ({"a": False, "b": None}, C.NOT)])
def test_verdict(checks, expected):
    assert C.verdict(checks) == expected


def test_rule_curricula_paper_numbers_reproduce():
    checks = C.rule_curricula("parity", [33, 37], [100, 101], {12: 24, 20: 99}, {12: 12, 20: 20})
    assert list(checks.values()) == [True, True]


def test_rule_curricula_uses_largest_common_N_and_means():
    # single sooner at N = 5, the largest N both solve; single's mean max N is larger
    checks = C.rule_curricula("dms", [9, 3], [5, 5], {4: 10, 5: 12}, {4: 8, 5: 13, 6: 20})
    assert list(checks.values()) == [False, False]  # mean 5 vs 6; 13 epochs vs 12
    assert C.rule_curricula("dms", [], [5], {}, {}) == {
        "dms: multi-head reaches a larger N than single-head (mean over seeds)": None,
        "dms: multi-head solves the largest N both solve in fewer epochs": None}


def test_rule_no_curriculum():
    assert list(C.rule_no_curriculum({4: True, 8: True, 12: False, 16: False}, 20).values()) == \
        [True, True, True]
    assert list(C.rule_no_curriculum({4: True, 8: False, 12: True}, 6).values()) == \
        [True, False, False]
    assert list(C.rule_no_curriculum({4: True, 8: True}, 20).values()) == [False, None, None]


def test_rule_fixed_tau_paper_numbers():
    paper = C.rule_fixed_tau(100.5, {1.0: 101, 2.0: 87, 3.0: 69}, 35, 24.5)
    assert C.verdict(paper) == C.REPRODUCED
    worse = C.rule_fixed_tau(100, {1.0: 80, 3.0: 90}, 35, 40)
    assert list(worse.values()) == [False, False, False]
    assert list(C.rule_fixed_tau(None, {3.0: 5}, None, None).values()) == [None, None, None]


def test_rule_tau_growth():
    single = {2: (1.5, 0.3), 3: (1.8, 0.5), 4: (2.4, 0.9)}
    multi = {2: (1.5, 0.3), 3: (1.3, 0.2), 4: (1.1, 0.1), 5: (1.05, 0.1)}
    assert C.verdict(C.rule_tau_growth(single, multi)) == C.REPRODUCED
    assert list(C.rule_tau_growth(multi, single).values()) == [False, False, False, False]
    assert set(C.rule_tau_growth({2: (1, 0)}, {}).values()) == {None}


def test_rises_needs_three_points_and_ignores_nan():
    assert C.rises({2: 1.0, 3: 2.0}) is None
    assert C.rises({2: 1.0, 3: float("nan"), 4: 2.0, 5: 3.0}) is True
    assert C.rises({2: 3.0, 3: 2.0, 4: 1.0}) is False
    assert C.rises({2: 1.0, 3: 1.0, 4: 1.0}) is False  # constant: ρ undefined, no rise


def test_rule_ablation_and_perturbation_paper_numbers():
    ablation = C.rule_ablation({"longest": 0.44, "shortest": 0.90}, {"longest": 0.99, "shortest": 0.79})
    assert C.verdict(ablation) == C.REPRODUCED
    close = C.rule_ablation({"longest": 0.96, "shortest": 0.7}, {"longest": 0.99, "shortest": 0.8})
    assert list(close.values()) == [False, False]  # within the margin; shortest hurts single more
    perturbation = C.rule_perturbation({"weights": 0.74, "tau": 0.38}, {"weights": 0.96, "tau": 0.89})
    assert C.verdict(perturbation) == C.REPRODUCED
    gated = C.rule_perturbation({"weights": 0.9}, {"weights": 0.5})
    assert list(gated.values()) == [False, None]


def test_rule_gated_and_retrain():
    assert list(C.rule_gated("gru", 10, 20, 8).values()) == [True, True]
    assert list(C.rule_gated("lstm", 10, 9, None).values()) == [False, None]
    checks = C.rule_retrain({20: (5, 0.99), 30: (None, 0.7), 40: (None, 0.6)},
                            {20: (3, 0.99), 30: (None, 0.8), 40: (None, 0.5)}, cap=20)
    assert list(checks.values()) == [True, True, False]
    assert list(C.rule_retrain({}, {}, cap=20).values()) == [None]


def _history(heads_acc, tau=None):
    records = [EpochRecord(epoch=i + 1, heads=tuple(h), loss=0.0, accuracy=a, seconds=1.0,
                           samples_per_second=1.0, tau_mean=None if tau is None else tau[i],
                           tau_std=None if tau is None else tau[i] / 10)
               for i, (h, a) in enumerate(heads_acc)]
    return History(records)


def test_history_numbers():
    h = _history([((2,), {2: 0.5}), ((2,), {2: 0.99}), ((3,), {3: 0.99}), ((4,), {4: 0.7})],
                 tau=[1.0, 1.1, 1.2, 1.3])
    assert C.max_N(h) == 3
    assert C.epochs_to_solve(h) == {2: 2, 3: 3}
    assert C.stage_taus(h) == {2: (1.1, pytest.approx(0.11)), 3: (1.2, 0.12), 4: (1.3, 0.13)}
    assert C.mean_by_key([{2: 1.0, 3: 3.0}, {2: 3.0}]) == {2: 2.0, 3: 3.0}


def test_claim1_from_evidence():
    plan = [s for s in make_plan(SCALES["smoke"]) if 1 in s.claims]
    single, multi = (next(s for s in plan if s.curriculum == c) for c in ("single", "multi"))
    ev = C.Evidence(plan, {
        single.name: _history([((2,), {2: 0.99}), ((3,), {3: 0.9})]),
        multi.name: _history([((2,), {2: 0.99}), ((2, 3), {2: 1.0, 3: 0.99})])})
    claim = C.claim1(ev)
    assert claim.numbers["parity"]["multi"]["max_N"] == [3]
    assert claim.verdict == C.PARTLY  # larger N, but N = 2 solved at the same epoch


@pytest.mark.parametrize("protocol", ["paper", "project"])
def test_claims_5_to_7_state_their_protocol_in_the_report(protocol, tmp_path):
    plan = [s for s in make_plan(SCALES["smoke"]) if 6 in s.claims]
    single, multi = (next(s for s in plan if s.curriculum == c) for c in ("single", "multi"))
    history = _history([((2,), {2: 0.99}), ((2, 3), {2: 0.99, 3: 0.99})])
    row = {"N": 3, "k": 1, "protocol": protocol,
           "ablation": {"longest": 0.4, "shortest": 0.9, "random": 0.8},
           "perturbation": {"weights": {"epsilon": 0.215, "relative": 0.7},
                            "tau": {"epsilon": 0.1, "relative": 0.4}}}
    better = {**row, "ablation": {"longest": 0.99, "shortest": 0.8, "random": 0.9},
              "perturbation": {"weights": {"epsilon": 0.215, "relative": 0.9},
                               "tau": {"epsilon": 0.1, "relative": 0.9}}}
    ev = C.Evidence(plan, {single.name: history, multi.name: history},
                    robustness={single.name: row, multi.name: better}, protocol=protocol)
    claims = C.evaluate(ev)
    assert [c.protocol for c in claims] == [None] * 4 + [protocol] * 3 + [None] * 2
    assert claims[5].verdict == claims[6].verdict == C.REPRODUCED  # the paper's pattern
    assert ("one at a time" in claims[5].note or "alone" in claims[5].note) == (protocol == "paper")
    report = write_report(claims, SCALES["smoke"], tmp_path, "memtasks reproduce", "x", 2, 1.0,
                          protocol).read_text()
    assert report.count(f"Measured with the **{protocol} protocol**") == 3
    numbers = json.loads((tmp_path / "numbers.json").read_text())
    assert numbers["protocol"] == protocol
    assert [c["protocol"] for c in numbers["claims"]][4:7] == [protocol] * 3
