"""The claims of ``memtasks reproduce`` on hand-made numbers with known answers."""

import json

import pytest

from agents.experiments.reproduce import claims as C
from agents.experiments.reproduce import report as R
from agents.experiments.reproduce import verdict as V
from agents.experiments.reproduce.plan import SCALES, make_plan
from agents.training.loop import EpochRecord, History


def _roundtrip(numbers):
    """The numbers as numbers.json gives them back (keys as strings)."""
    return json.loads(json.dumps(numbers))


def test_curricula_paper_like_numbers_reproduce_and_survive_json():
    numbers = {"parity": {"single": {"max_N": [33, 37], "curves": [[2, 5, 12, 12], [2, 6, 12, 13]]},
                          "multi": {"max_N": [100, 101], "curves": [[3, 12, 20, 30], [4, 13, 20, 31]]}}}
    checks = C.checks_curricula(numbers)
    assert list(checks.values()) == [V.YES, V.YES]  # N = 12: epochs 3, 3 vs 2, 2
    assert C.checks_curricula(_roundtrip(numbers)) == checks
    rows = dict((label, vals) for label, _, vals in C.rows_curricula(numbers))
    assert rows["parity, multi-head: epoch N = 12 solved"] == [2, 2]
    assert rows["parity, single-head: epoch N = 20 solved"] == [None, None]


def test_curricula_sign_alone_is_not_enough():
    numbers = {"dms": {"single": {"max_N": [9, 3], "curves": [[9], [3]]},
                       "multi": {"max_N": [6, 7], "curves": [[6], [7]]}}}
    assert list(C.checks_curricula(numbers).values()) == [V.WITHIN, V.WITHIN]  # 6.5 vs 6, spread 6


def test_no_curriculum():
    def checks(solved, multi):
        return list(C.checks_no_curriculum({"solved": solved, "multi_head_max_N": multi}).values())
    assert checks({4: True, 8: True, 12: False, 16: False}, [20, 21]) == [V.YES, V.YES, V.YES]
    assert checks({"4": True, "8": False, "12": True}, [6, 9]) == [V.YES, V.NO, V.WITHIN]
    assert checks({4: True, 8: True}, [20]) == [V.NO, V.NA, V.NA]


def test_fixed_tau_paper_numbers():
    paper = {"multi_trained": [100, 101], "multi_fixed": {1.0: [101, 101], 2.0: [87, 88],
                                                          3.0: [66, 72]},
             "single_trained": [33, 37], "single_fixed_1": [23, 26], "epochs": 1000}
    assert C.verdict(C.checks_fixed_tau(paper)) == V.REPRODUCED
    assert C.checks_fixed_tau(_roundtrip(paper)) == C.checks_fixed_tau(paper)
    worse = {"multi_trained": [100, 100], "multi_fixed": {"1.0": [80, 82], "3.0": [90, 91]},
             "single_trained": [35, 36], "single_fixed_1": [40, 41]}
    assert list(C.checks_fixed_tau(worse).values()) == [V.NO, V.NO, V.NO]
    # an older numbers.json held one mean per arm: no spread to judge by
    means = {"multi_trained": 20.0, "multi_fixed": {"1.0": 23.5, "3.0": 7.0},
             "single_trained": 10.0, "single_fixed_1": 11.5}
    assert set(C.checks_fixed_tau(means).values()) == {V.ONE}


def test_tau_growth():
    single = [{2: (1.5, 0.3), 3: (1.8, 0.5), 4: (2.4, 0.9)}, {2: (1.4, 0.3), 4: (2.6, 1.0)}]
    multi = [{2: (1.5, 0.3), 4: (1.1, 0.1), 5: (1.05, 0.1)}, {2: (1.4, 0.3), 4: (1.2, 0.1)}]
    assert C.verdict(C.checks_tau_growth({"single": single, "multi": multi})) == V.REPRODUCED
    flipped = C.checks_tau_growth({"single": multi, "multi": single})
    assert list(flipped.values()) == [V.NO, V.NO, V.NO, V.NO]
    assert C.checks_tau_growth(_roundtrip({"single": single, "multi": multi})) == \
        C.checks_tau_growth({"single": single, "multi": multi})
    lone = C.checks_tau_growth({"single": [{2: (1, 0)}], "multi": []})
    assert set(lone.values()) == {V.NA}


def test_tau_net_rises_beyond_the_spread():
    numbers = {"single": [{2: 1.0, 5: 2.0}, {2: 1.2, 5: 2.5}],
               "multi": [{2: 1.0, 5: 1.1}, {2: 0.7, 5: 1.0}]}  # +0.2, spread 0.3
    assert list(C.checks_tau_net(numbers).values()) == [V.YES, V.WITHIN]


def test_ablation_and_perturbation_paper_numbers():
    ablation = {"single": [{"largest": 0.44, "smallest": 0.90}, {"largest": 0.40, "smallest": 0.92}],
                "multi": [{"largest": 0.99, "smallest": 0.79}, {"largest": 0.98, "smallest": 0.75}]}
    assert C.verdict(C.checks_ablation(ablation)) == V.REPRODUCED
    close = {"single": [{"largest": 0.96, "smallest": 0.7}, {"largest": 0.9, "smallest": 0.8}],
             "multi": [{"largest": 0.99, "smallest": 0.8}, {"largest": 0.92, "smallest": 0.7}]}
    assert list(C.checks_ablation(close).values()) == [V.WITHIN, V.WITHIN]
    perturbation = {"single": [{"weights": 0.74, "tau": 0.38}, {"weights": 0.70, "tau": 0.40}],
                    "multi": [{"weights": 0.96, "tau": 0.89}, {"weights": 0.95, "tau": 0.85}]}
    assert C.verdict(C.checks_perturbation(perturbation)) == V.REPRODUCED
    gated = {"single": [{"weights": 0.9}, {"weights": 0.8}], "multi": [{"weights": 0.5}]}
    assert list(C.checks_perturbation(gated).values()) == [V.NO, V.NA]


def test_gated_and_retrain():
    gated = {"gru": {"single": [10, 11], "multi": [20, 22], "none": [8]},
             "lstm": {"single": [10, 12], "multi": [9, 13], "none": []}}
    assert list(C.checks_gated(gated).values()) == [V.YES, V.YES, V.WITHIN, V.NA]
    retrain = {"single": {20: [[5, 0.99], [6, 0.98]], "30": [[None, 0.7], [None, 0.6]]},
               "multi": {20: [[3, 0.99], [3, 0.99]], 30: [[None, 0.8], [None, 0.9]]}}
    assert list(C.checks_retrain(retrain).values()) == [V.WITHIN, V.YES]
    old = {"single": {"8": [None, 0.83]}, "multi": {"8": [None, 0.94]}}  # one pair per N
    assert list(C.checks_retrain(old).values()) == [V.ONE]
    assert list(C.checks_retrain({"single": {}, "multi": {}}).values()) == [V.NA]


def _history(heads_acc, tau=None):
    records = [EpochRecord(epoch=i + 1, heads=tuple(h), loss=0.0, accuracy=a, seconds=1.0,
                           samples_per_second=1.0, tau_mean=None if tau is None else tau[i],
                           tau_std=None if tau is None else tau[i] / 10)
               for i, (h, a) in enumerate(heads_acc)]
    return History(records)


def test_history_numbers():
    h = _history([((2,), {2: 0.5}), ((2,), {2: 0.99}), ((3,), {3: 0.99}), ((4,), {4: 0.7})],
                 tau=[1.0, 1.1, 1.2, 1.3])
    assert h.largest_N == 3
    assert h.largest_N_so_far == [0, 2, 3, 3]
    assert C.first_epoch(h.largest_N_so_far, 3) == 3 and C.first_epoch(h.largest_N_so_far, 4) is None
    assert C.within(h.largest_N_so_far, 2) == 2 and C.within(h.largest_N_so_far, 99) == 3
    assert C.stage_taus(h) == {2: (1.1, pytest.approx(0.11)), 3: (1.2, 0.12), 4: (1.3, 0.13)}


def test_claim1_from_evidence_and_back_from_json():
    plan = [s for s in make_plan(SCALES["smoke"]) if 1 in s.claims]
    single, multi = (next(s for s in plan if s.curriculum == c) for c in ("single", "multi"))
    ev = C.Evidence(plan, {
        single.name: _history([((2,), {2: 0.99}), ((3,), {3: 0.9})]),
        multi.name: _history([((2,), {2: 0.99}), ((2, 3), {2: 1.0, 3: 0.99})])})
    claim = C.claim1(ev)
    assert claim.numbers["parity"]["multi"]["max_N"] == [3]
    assert claim.numbers["parity"]["single"]["curves"] == [[2, 2]]
    assert claim.verdict == V.UNDECIDED  # one seed per curriculum
    again = C.Claim.from_dict(_roundtrip(claim.to_dict()))
    assert (again.checks, again.rows, again.verdict) == (claim.checks, claim.rows, claim.verdict)


def test_claim2_reads_the_curriculum_at_the_fixed_runs_epochs():
    plan = make_plan(SCALES["smoke"])
    fixed = next(s for s in plan if 2 in s.claims and s.heads == (3,))
    multi = next(s for s in plan if 1 in s.claims and s.curriculum == "multi")
    ev = C.Evidence(plan, {
        fixed.name: _history([((3,), {3: 0.6}), ((3,), {3: 0.7})]),  # 2 epochs, not solved
        multi.name: _history([((2,), {2: 0.99}), ((2, 3), {2: 1.0, 3: 0.99}),
                              ((2, 3, 4), {2: 1.0, 3: 1.0, 4: 0.99})])})
    claim = C.claim2(ev)
    assert claim.numbers["epochs"] == 2 and claim.numbers["multi_head_max_N"] == [3]
    assert claim.numbers["solved"] == {3: False}
    assert list(claim.checks.values())[2] == V.YES  # N = 3 solved by epoch 2


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
    assert claims[5].numbers["multi"] == [better["ablation"]]
    assert claims[5].verdict == claims[6].verdict == V.UNDECIDED  # one seed each: no spread
    assert ("alone" in claims[5].note) == (protocol == "paper")
    doc = R.write_numbers(claims, {"scale": "smoke", "command": "memtasks reproduce",
                                   "protocol": protocol}, tmp_path)
    report = R.render(doc, tmp_path).read_text()
    assert report.count(f"Measured with the **{protocol} protocol**") == 3
    assert [c["protocol"] for c in doc["claims"]][4:7] == [protocol] * 3
    assert C.Claim.from_dict(doc["claims"][5]).protocol == protocol


def test_older_ablation_names_read_as_the_new_ones():
    old = {"single": {"largest": 0.24, "smallest": 0.26}, "multi": {"largest": 1.0, "smallest": 0.2}}
    new = {"single": [{"longest": 0.24, "shortest": 0.26}], "multi": [{"longest": 1.0, "shortest": 0.2}]}
    assert C.checks_ablation(old) == C.checks_ablation(new)
    assert C.rows_robustness({})(old) == C.rows_robustness({})(new)
