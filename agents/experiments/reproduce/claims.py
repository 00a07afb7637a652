"""The paper's nine claims: numbers from this project's runs, and a verdict by an explicit rule.

Each claim is checked by a few yes/no *checks* computed from the numbers (None where the runs for
a check are missing). The verdict rule is the same for every claim: all checks pass →
reproduced; some → partly; none → not reproduced; no check decidable → not tested at this scale.
The ``rule_*`` functions take plain numbers, so each rule is tested on hand-made known answers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from statistics import fmean
from typing import Any

import numpy as np
from scipy.stats import spearmanr

from agents.experiments.reproduce.plan import PlannedRun
from agents.training.loop import History

REPRODUCED, PARTLY, NOT, UNTESTED = ("reproduced", "partly", "not reproduced",
                                     "not tested at this scale")
RISES = 0.5      # a Spearman ρ above this counts as "grows with N"
AS_WELL = 0.9    # "does as well": at least this fraction of the other's N
MARGIN = 0.05    # "hurts more": relative accuracy lower by more than this
PAPER = "Khajehabdollahi et al., ICLR 2024"

Checks = dict[str, "bool | None"]


def verdict(checks: Mapping[str, bool | None]) -> str:
    """All decidable checks pass → reproduced; some → partly; none → not; none decidable → untested."""
    decided = [bool(v) for v in checks.values() if v is not None]
    if not decided:
        return UNTESTED
    return REPRODUCED if all(decided) else PARTLY if any(decided) else NOT


@dataclass
class Claim:
    """One claim: the paper's numbers (markdown), ours, the checks and the verdict they give."""

    number: int
    title: str
    paper: str
    numbers: dict[str, Any]
    checks: Checks
    note: str = ""

    @property
    def verdict(self) -> str:
        return verdict(self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {"number": self.number, "title": self.title, "paper": self.paper,
                "verdict": self.verdict, "checks": self.checks, "note": self.note,
                "numbers": self.numbers}


@dataclass
class Evidence:
    """What the runs and measurements produced, by run name."""

    specs: list[PlannedRun]
    histories: dict[str, History]
    timescales: dict[str, list[dict]] = field(default_factory=dict)
    robustness: dict[str, dict] = field(default_factory=dict)
    blocked: dict[str, str] = field(default_factory=dict)

    def runs(self, **match: Any) -> list[tuple[PlannedRun, History]]:
        """Runs with a history whose spec matches every ``field=value`` (init_from None unless asked)."""
        match.setdefault("init_from", None)
        return [(s, self.histories[s.name]) for s in self.specs if s.name in self.histories
                and all(getattr(s, k) == v for k, v in match.items())]


# ---- numbers from histories -------------------------------------------------------------------

def max_N(history: History) -> int:
    """The largest N the run solved (0 if none)."""
    return max(history.solved_N, default=0)


def epochs_to_solve(history: History) -> dict[int, int]:
    """For each N the run solved, the first epoch it did (solving N counts for every smaller N)."""
    first: dict[int, int] = {}
    for record, best in zip(history.records, history.solved_N):
        for n in range(2, best + 1):
            first.setdefault(n, record.epoch)
    return first


def stage_taus(history: History) -> dict[int, tuple[float, float]]:
    """τ mean and spread at the last epoch of each curriculum stage (keyed by its largest N)."""
    return {max(r.heads): (r.tau_mean, r.tau_std) for r in history.records
            if r.tau_mean is not None}


def mean_by_key(dicts: Sequence[Mapping[int, float]]) -> dict[int, float]:
    """Per key, the mean over the dicts that hold it."""
    keys = sorted({k for d in dicts for k in d})
    return {k: fmean(d[k] for d in dicts if k in d) for k in keys}


def _mean(values: Sequence[float]) -> float | None:
    return fmean(values) if values else None


def rises(series: Mapping[int, float]) -> bool | None:
    """Spearman ρ of value against N above :data:`RISES` (None with fewer than 3 points)."""
    points = [(n, v) for n, v in series.items() if v is not None and np.isfinite(v)]
    if len(points) < 3:
        return None
    if len({v for _, v in points}) == 1:
        return False  # constant: no rise (and ρ is undefined)
    rho = spearmanr(*zip(*points)).statistic
    return bool(np.isfinite(rho) and rho > RISES)


# ---- the rules, on plain numbers --------------------------------------------------------------

def rule_curricula(task: str, single_max: Sequence[int], multi_max: Sequence[int],
                   single_epochs: Mapping[int, float], multi_epochs: Mapping[int, float]) -> Checks:
    """Claim 1 for one task: multi-head reaches a larger N, and the largest common N sooner."""
    larger = None if not (single_max and multi_max) else fmean(multi_max) > fmean(single_max)
    common = set(single_epochs) & set(multi_epochs)
    sooner = None if not common else multi_epochs[max(common)] < single_epochs[max(common)]
    return {f"{task}: multi-head reaches a larger N than single-head (mean over seeds)": larger,
            f"{task}: multi-head solves the largest N both solve in fewer epochs": sooner}


def rule_no_curriculum(solved: Mapping[int, bool], curriculum_max: float | None) -> Checks:
    """Claim 2: fixed-N training fails from some N on, an N the multi-head curriculum solves."""
    failing = [n for n, ok in solved.items() if not ok]
    first = min(failing, default=None)
    return {
        "training on a fixed N fails at some N tested": None if not solved else first is not None,
        "every larger N tested fails too": None if first is None else
        all(not ok for n, ok in solved.items() if n >= first),
        "the multi-head curriculum solves that N within the same budget":
            None if first is None or curriculum_max is None else curriculum_max >= first}


def rule_fixed_tau(multi_trained: float | None, multi_fixed: Mapping[float, float],
                   single_trained: float | None, single_fixed: float | None) -> Checks:
    """Claim 3: τ fixed at 1 does as well multi-head, larger fixed τ worse, single-head worse."""
    one = multi_fixed.get(1.0)
    larger = [v for t, v in multi_fixed.items() if t > 1]
    return {
        f"multi-head with τ = 1 fixed reaches ≥ {AS_WELL:.0%} of the N of trained τ":
            None if one is None or multi_trained is None else one >= AS_WELL * multi_trained,
        "multi-head with a larger fixed τ reaches a smaller N than with τ = 1":
            None if one is None or not larger else all(v < one for v in larger),
        "single-head with τ = 1 fixed reaches a smaller N than with trained τ":
            None if single_fixed is None or single_trained is None else single_fixed < single_trained}


def rule_tau_growth(single: Mapping[int, tuple[float, float]],
                    multi: Mapping[int, tuple[float, float]]) -> Checks:
    """Claim 4: single-head τ mean and spread rise with N; multi-head τ stays lower, near 1."""
    common = set(single) & set(multi)
    top = max(common, default=None)
    return {
        f"single-head: mean τ rises with N (Spearman ρ > {RISES})":
            rises({n: m for n, (m, _) in single.items()}),
        f"single-head: spread of τ rises with N (Spearman ρ > {RISES})":
            rises({n: s for n, (_, s) in single.items()}),
        "multi-head: mean τ does not rise with N":
            None if (r := rises({n: m for n, (m, _) in multi.items()})) is None else not r,
        "multi-head: mean τ at the largest N both reach is below single-head's":
            None if top is None else multi[top][0] < single[top][0]}


def rule_tau_net(single: Mapping[int, float], multi: Mapping[int, float]) -> Checks:
    """Claim 5: τ_net grows with N in both curricula."""
    return {f"single-head: τ_net rises with N (Spearman ρ > {RISES})": rises(single),
            f"multi-head: τ_net rises with N (Spearman ρ > {RISES})": rises(multi)}


def rule_ablation(single: Mapping[str, float], multi: Mapping[str, float]) -> Checks:
    """Claim 6: longest-τ ablation hurts single-head more; shortest-τ ablation hurts multi-head more."""
    both = bool(single) and bool(multi)
    return {f"silencing the longest-τ neurons hurts single-head more (by > {MARGIN})":
            single["largest"] < multi["largest"] - MARGIN if both else None,
            "silencing the shortest-τ neurons hurts multi-head more":
            multi["smallest"] < single["smallest"] if both else None}


def rule_perturbation(single: Mapping[str, float], multi: Mapping[str, float]) -> Checks:
    """Claim 7: multi-head keeps more of its accuracy under each perturbation."""
    return {f"{target} perturbed: multi-head keeps more accuracy than single-head":
            multi[target] > single[target] if target in single and target in multi else None
            for target in ("weights", "tau")}


def rule_gated(model: str, single: float | None, multi: float | None,
               none: float | None) -> Checks:
    """Claim 8 for one gated model: multi-head reaches a larger N than single-head and no curriculum."""
    return {f"{model}: multi-head reaches a larger N than single-head":
            None if single is None or multi is None else multi > single,
            f"{model}: multi-head reaches a larger N than no curriculum":
            None if none is None or multi is None else multi > none}


def rule_retrain(single: Mapping[int, tuple[int | None, float]],
                 multi: Mapping[int, tuple[int | None, float]], cap: int) -> Checks:
    """Claim 9: per new N, the multi-head network learns it sooner (ties: higher final accuracy).

    Values are (first epoch solving N or None, final accuracy); None counts as ``cap + 1``.
    """
    def better(n: int) -> bool:
        (es, acc_s), (em, acc_m) = single[n], multi[n]
        es, em = cap + 1 if es is None else es, cap + 1 if em is None else em
        return em < es or (em == es and acc_m > acc_s)
    checks = {f"retrained on N = {n}: the multi-head network learns it faster":
              better(n) if n in single and n in multi else None
              for n in sorted(set(single) | set(multi))}
    return checks or {"retrained networks learn a new N faster when trained multi-head": None}


# ---- the claims, from the evidence ------------------------------------------------------------

def _curves(runs: Sequence[tuple[PlannedRun, History]]) -> list[list[int]]:
    """Per run, the largest N solved so far at each epoch."""
    return [np.maximum.accumulate(h.solved_N).tolist() for _, h in runs]


def _max_mean(ev: Evidence, **match: Any) -> float | None:
    return _mean([max_N(h) for _, h in ev.runs(**match)])


def claim1(ev: Evidence) -> Claim:
    """Claim 1: multi-head reaches larger N than single-head, and each N sooner."""
    numbers, checks = {}, {}
    for task in sorted({s.task for s in ev.specs if 1 in s.claims}):
        per = {}
        for curriculum in ("single", "multi"):
            runs = ev.runs(task=task, curriculum=curriculum, model="leaky", fixed_tau=None)
            per[curriculum] = {"max_N": [max_N(h) for _, h in runs],
                               "epochs_to_solve": mean_by_key([epochs_to_solve(h) for _, h in runs]),
                               "curves": _curves(runs)}
        numbers[task] = per
        checks.update(rule_curricula(task, per["single"]["max_N"], per["multi"]["max_N"],
                                     per["single"]["epochs_to_solve"],
                                     per["multi"]["epochs_to_solve"]))
    return Claim(1, "Multi-head reaches larger N than single-head, and each N sooner", PAPER_TEXT[1],
                 numbers, checks)


def claim2(ev: Evidence) -> Claim:
    """Claim 2: without a curriculum, training fails beyond some N."""
    best: dict[int, list[float]] = {}
    for spec, h in ev.runs(curriculum="none", model="leaky", task="parity"):
        n = spec.heads[0]
        best.setdefault(n, []).append(max((r.accuracy[n] for r in h.records), default=0.0))
    solved = {n: any(a > h_threshold(ev) for a in accs) for n, accs in sorted(best.items())}
    curriculum = _max_mean(ev, task="parity", curriculum="multi", model="leaky", fixed_tau=None)
    first = min((n for n, ok in solved.items() if not ok), default=None)
    note = "" if not solved else (
        f"Without a curriculum the first N not solved is {first} (paper: about 10)." if first
        else f"Every fixed N tested (up to {max(solved)}) was solved.")
    return Claim(2, "Without a curriculum, training fails beyond some N", PAPER_TEXT[2],
                 {"best_accuracy": dict(sorted(best.items())), "solved": solved,
                  "threshold": h_threshold(ev), "multi_head_max_N": curriculum},
                 rule_no_curriculum(solved, curriculum), note=note)


def h_threshold(ev: Evidence) -> float:
    """The runs' "solved" threshold (0.98 when there are none)."""
    return next(iter(ev.histories.values())).threshold if ev.histories else 0.98


def claim3(ev: Evidence) -> Claim:
    """Claim 3, fixed τ: τ = 1 suffices multi-head; larger τ and single-head do worse."""
    def arm(curriculum: str, tau: float | None) -> float | None:
        return _max_mean(ev, task="parity", curriculum=curriculum, model="leaky", fixed_tau=tau)
    taus = sorted({s.fixed_tau for s in ev.specs if 3 in s.claims and s.curriculum == "multi"})
    multi_fixed = {t: v for t in taus if (v := arm("multi", t)) is not None}
    numbers = {"multi_trained": arm("multi", None), "multi_fixed": multi_fixed,
               "single_trained": arm("single", None), "single_fixed_1": arm("single", 1.0)}
    return Claim(3, "Fixed τ: τ = 1 suffices multi-head; larger τ and single-head do worse",
                 PAPER_TEXT[3], numbers,
                 rule_fixed_tau(numbers["multi_trained"], multi_fixed, numbers["single_trained"],
                                numbers["single_fixed_1"]))


def _stage_taus(ev: Evidence, curriculum: str) -> dict[int, tuple[float, float]]:
    per_run = [stage_taus(h) for _, h in ev.runs(task="parity", curriculum=curriculum,
                                                 model="leaky", fixed_tau=None)]
    means = mean_by_key([{n: m for n, (m, _) in d.items()} for d in per_run])
    spreads = mean_by_key([{n: s for n, (_, s) in d.items()} for d in per_run])
    return {n: (means[n], spreads[n]) for n in means}


def claim4(ev: Evidence) -> Claim:
    """Claim 4: single-head raises mean and spread of τ with N; multi-head keeps τ near 1."""
    single, multi = _stage_taus(ev, "single"), _stage_taus(ev, "multi")
    return Claim(4, "Single-head raises mean and spread of τ with N; multi-head keeps τ near 1",
                 PAPER_TEXT[4], {"single": single, "multi": multi}, rule_tau_growth(single, multi))


def _tau_net(ev: Evidence, curriculum: str) -> dict[int, float]:
    names = [s.name for s, _ in ev.runs(task="parity", curriculum=curriculum, model="leaky",
                                        fixed_tau=None) if s.name in ev.timescales]
    return mean_by_key([{row["N"]: row["tau_net_mean"] for row in ev.timescales[name]
                         if row["tau_net_mean"] is not None} for name in names])


def claim5(ev: Evidence) -> Claim:
    """Claim 5: τ_net grows with N in both curricula."""
    single, multi = _tau_net(ev, "single"), _tau_net(ev, "multi")
    return Claim(5, "τ_net grows with N in both curricula", PAPER_TEXT[5],
                 {"single": single, "multi": multi}, rule_tau_net(single, multi))


def _robustness(ev: Evidence, curriculum: str, part: str) -> tuple[dict[str, float], list[int]]:
    rows = [ev.robustness[s.name] for s, _ in ev.runs(task="parity", curriculum=curriculum,
                                                      model="leaky", fixed_tau=None)
            if s.name in ev.robustness]
    values = [{k: v if part == "ablation" else v["relative"] for k, v in row[part].items()}
              for row in rows]
    keys = set.intersection(*(set(v) for v in values)) if values else set()
    return {k: fmean(v[k] for v in values) for k in sorted(keys)}, [row["N"] for row in rows]


def _listing(values: Sequence[int]) -> str:
    return ", ".join(map(str, values))


def claim6(ev: Evidence) -> Claim:
    """Claim 6: ablating long-τ neurons hurts single-head networks far more."""
    (single, at), (multi, _) = (_robustness(ev, c, "ablation") for c in ("single", "multi"))
    k = next(iter(ev.robustness.values()))["k"] if ev.robustness else None
    return Claim(6, "Ablating long-τ neurons hurts single-head networks far more", PAPER_TEXT[6],
                 {"single": single, "multi": multi, "N": at, "k": k},
                 rule_ablation(single, multi),
                 note="" if not at else f"Measured at N = {_listing(at)} (per seed, the largest N "
                                        f"both curricula solved), {k} neuron(s) per group.")


def claim7(ev: Evidence) -> Claim:
    """Claim 7: multi-head networks are more robust to perturbation."""
    (single, at), (multi, _) = (_robustness(ev, c, "perturbation") for c in ("single", "multi"))
    return Claim(7, "Multi-head networks are more robust to perturbation", PAPER_TEXT[7],
                 {"single": single, "multi": multi, "N": at}, rule_perturbation(single, multi),
                 note="" if not at else f"Measured at N = {_listing(at)}; weights ε = 0.215, τ ε = 0.1.")


def claim8(ev: Evidence) -> Claim:
    """Claim 8: the multi-head curriculum also helps GRUs and LSTMs."""
    numbers, checks = {}, {}
    for model in sorted({s.model for s in ev.specs if 8 in s.claims}):
        fixed = [(s.heads[0], max_N(h)) for s, h in ev.runs(curriculum="none", model=model)]
        none = max((n for n, best in fixed if best >= n), default=0) if fixed else None
        numbers[model] = {"single": _max_mean(ev, curriculum="single", model=model),
                          "multi": _max_mean(ev, curriculum="multi", model=model), "none": none}
        checks.update(rule_gated(model, **numbers[model]))
    return Claim(8, "The multi-head curriculum also helps GRUs and LSTMs", PAPER_TEXT[8], numbers,
                 checks)


def claim9(ev: Evidence) -> Claim:
    """Claim 9: multi-head networks learn new, larger N faster when retrained."""
    numbers: dict[str, dict[int, tuple[int | None, float]]] = {"single": {}, "multi": {}}
    cap = 0
    for spec in ev.specs:
        if spec.init_from is None or spec.name not in ev.histories:
            continue
        source = next(s for s in ev.specs if s.name == spec.init_from[0])
        h, n = ev.histories[spec.name], spec.heads[0]
        numbers[source.curriculum][n] = (epochs_to_solve(h).get(n), h.records[-1].accuracy[n])
        cap = max(cap, spec.epochs)
    blocked = sorted({reason for reason in ev.blocked.values()})
    return Claim(9, "Multi-head networks learn new, larger N faster when retrained", PAPER_TEXT[9],
                 numbers, rule_retrain(numbers["single"], numbers["multi"], cap),
                 note="; ".join(blocked))


CLAIMS = (claim1, claim2, claim3, claim4, claim5, claim6, claim7, claim8, claim9)


def evaluate(ev: Evidence) -> list[Claim]:
    """All nine claims, in order."""
    return [claim(ev) for claim in CLAIMS]


PAPER_TEXT = {
    1: "Parity, 1000 epochs: single-head reaches N = 33–37, multi-head 100+ (capped). Multi-head "
       "solves N = 12 at epoch 12, single-head at 24; single-head N = 20 at epoch 99, N = 28 at "
       "242. The same ordering holds for DMS.",
    2: "Trained on a fixed N from the start (no curriculum), networks fail beyond N ≈ 10.",
    3: "Largest N reached — multi-head: trained τ 100–101, τ = 1 fixed 101, τ = 2 fixed 87, "
       "τ = 3 fixed 66–72; single-head: trained τ 33–37, fixed τ 23–26.",
    4: "Single-head networks raise the mean and the spread of τ as N grows; multi-head networks "
       "keep τ near 1.",
    5: "τ_net (the slower timescale of autocorrelation fits) grows with N in both curricula.",
    6: "Silencing the 20 longest-τ neurons (of 500): relative accuracy at N = 30 is 0.44 "
       "single-head vs 0.99 multi-head; the 20 shortest-τ: 0.90 single-head vs 0.79 multi-head.",
    7: "Relative accuracy, multi-head vs single-head: recurrent weights perturbed at ε = 0.215: "
       "0.96 vs 0.74; τ perturbed at ε = 0.1: 0.89 vs 0.38.",
    8: "GRUs and LSTMs trained multi-head reach larger N than single-head or without a curriculum.",
    9: "Networks saved at N = 16 and retrained on N = 16…46 (20 epochs each) learn the new N "
       "faster when they were trained multi-head.",
}
