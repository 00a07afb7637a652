"""The paper's nine claims: per-seed numbers from this project's runs, checks, rows and a verdict.

A claim's ``numbers`` (plain JSON, written to numbers.json) hold the per-seed values; its checks
(:mod:`agents.experiments.reproduce.verdict`: an effect must exceed the spread over seeds) and
its rows (paper vs this project, for the report's table) are functions of those numbers alone,
so a report can be re-rendered, and compared with another scale's, from numbers.json without
the runs. The ``checks_*`` functions take plain numbers and are tested on known answers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


from agents.analysis.ablation import ABLATION_NAMES
from agents.experiments.reproduce.plan import PlannedRun
from agents.experiments.reproduce.verdict import (NA, NO, YES, above, compare, negate,
                                                  verdict)
from agents.training.loop import History

AS_WELL = 0.9    # "does as well": at least this fraction of the other's N
PAPER = "Khajehabdollahi et al., ICLR 2024"

Checks = dict[str, str]
Row = tuple[str, str, list]  # (quantity, the paper's value, this project's values per seed)


@dataclass
class Claim:
    """One claim: the paper's statement, our per-seed numbers, and what follows from them."""

    number: int
    title: str
    paper: str
    numbers: dict[str, Any]
    note: str = ""
    protocol: str | None = None  # the analysis protocol behind the numbers (claims 5–7)

    @property
    def checks(self) -> Checks:
        return CHECKS[self.number](self.numbers)

    @property
    def rows(self) -> list[Row]:
        return ROWS[self.number](self.numbers)

    @property
    def verdict(self) -> str:
        return verdict(self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {"number": self.number, "title": self.title, "paper": self.paper,
                "verdict": self.verdict, "checks": self.checks, "note": self.note,
                "protocol": self.protocol, "numbers": self.numbers}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Claim:
        """The claim as :meth:`to_dict` wrote it (verdict and checks are recomputed)."""
        return cls(data["number"], data["title"], data["paper"], data["numbers"],
                   data.get("note", ""), data.get("protocol"))


@dataclass
class Evidence:
    """What the runs and measurements produced, by run name."""

    specs: list[PlannedRun]
    histories: dict[str, History]
    timescales: dict[str, list[dict]] = field(default_factory=dict)
    robustness: dict[str, dict] = field(default_factory=dict)
    blocked: dict[str, str] = field(default_factory=dict)
    protocol: str = "paper"  # how timescales and robustness were measured

    def runs(self, **match: Any) -> list[tuple[PlannedRun, History]]:
        """Runs with a history whose spec matches every ``field=value`` (init_from None unless asked)."""
        match.setdefault("init_from", None)
        return [(s, self.histories[s.name]) for s in self.specs if s.name in self.histories
                and all(getattr(s, k) == v for k, v in match.items())]


# ---- numbers from histories, and reading them back ---------------------------------------------

def first_epoch(curve: Sequence[int], n: int) -> int | None:
    """The first epoch (1-based) at which ``curve`` reached N = ``n`` (None: never)."""
    return next((e + 1 for e, best in enumerate(curve) if best >= n), None)


def within(curve: Sequence[int], epochs: int) -> int:
    """The largest N solved in the first ``epochs`` epochs."""
    return int(curve[:epochs][-1]) if len(curve) else 0


def stage_taus(history: History) -> dict[int, tuple[float, float]]:
    """τ mean and spread at the last epoch of each curriculum stage (keyed by its largest N)."""
    return {max(r.heads): (r.tau_mean, r.tau_std) for r in history.records
            if r.tau_mean is not None and r.tau_std is not None}


def key(k: Any) -> float | int:
    """A numbers.json key back as a number ("12" → 12, "1.0" → 1.0)."""
    value = float(k)
    return int(value) if value.is_integer() and "." not in str(k) else value


def values(x: Any) -> list:
    """Per-seed values: a list as is, one number (an older file's mean) as a list of one."""
    return [] if x is None else list(x) if isinstance(x, (list, tuple)) else [x]


def seeds_of(x: Any, numeric: bool = True) -> list[dict]:
    """Per-seed mappings (keys back as numbers unless ``numeric`` is False): a list of mappings,
    or one mapping (an older file's mean over seeds)."""
    seeds = [] if x is None else x if isinstance(x, list) else [x]
    return [{key(k) if numeric else k: v for k, v in d.items()} for d in seeds]


def at(seeds: Sequence[Mapping], k: Any, part: int | None = None) -> list:
    """Each seed's value at ``k`` (``part``: that element of a pair) where the seed has it."""
    return [d[k] if part is None else d[k][part] for d in seeds if k in d]


def common_range(seeds: Sequence[Mapping]) -> tuple[Any, Any] | None:
    """The smallest and largest key every seed holds (None: fewer than two such keys)."""
    keys = sorted(set.intersection(*(set(d) for d in seeds))) if seeds else []
    return (keys[0], keys[-1]) if len(keys) > 1 else None


def rises(seeds: Sequence[Mapping], part: int | None = None) -> str:
    """Whether the value at the largest common N exceeds that at the smallest, beyond the spread."""
    span = common_range(seeds)
    return NA if span is None else compare(at(seeds, span[1], part), at(seeds, span[0], part))


# ---- checks and rows, on plain numbers --------------------------------------------------------

def checks_curricula(numbers: Mapping[str, Any]) -> Checks:
    """Claim 1 per task: multi-head reaches a larger N, and the largest N all runs solved sooner."""
    checks = {}
    for task, per in sorted(numbers.items()):
        single, multi = per["single"], per["multi"]
        curves = values(single.get("curves")) + values(multi.get("curves"))
        common = min((c[-1] for c in curves if c), default=0) if curves else 0
        sooner = NA if common < 2 else compare(
            [first_epoch(c, common) for c in values(single.get("curves"))],
            [first_epoch(c, common) for c in values(multi.get("curves"))])
        checks[f"{task}: multi-head reaches a larger N than single-head"] = compare(
            values(multi["max_N"]), values(single["max_N"]))
        checks[f"{task}: multi-head solves the largest N every run solved in fewer epochs"] = \
            sooner
    return checks


PAPER_EPOCHS = {("multi", 12): "12", ("single", 12): "24", ("single", 20): "99",
                ("single", 28): "242", ("multi", 20): "—", ("multi", 28): "—"}


def rows_curricula(numbers: Mapping[str, Any]) -> list[Row]:
    rows = []
    for task, per in sorted(numbers.items()):
        paper = task == "parity"
        for c, text in (("single", "33–37"), ("multi", "100+ (capped)")):
            rows.append((f"{task}, {c}-head: largest N solved", text if paper else "—",
                         values(per[c]["max_N"])))
        for n in (12, 20, 28):
            for c in ("multi", "single"):
                rows.append((f"{task}, {c}-head: epoch N = {n} solved",
                             PAPER_EPOCHS[c, n] if paper else "—",
                             [first_epoch(cv, n) for cv in values(per[c].get("curves"))]))
    return rows


def checks_no_curriculum(numbers: Mapping[str, Any]) -> Checks:
    """Claim 2: fixed-N training fails from some N on (no seed solves it), an N that every
    multi-head curriculum run solves."""
    solved = {key(n): ok for n, ok in numbers["solved"].items()}
    first = min((n for n, ok in solved.items() if not ok), default=None)
    return {
        "training on a fixed N fails (no seed solves it) at some N tested":
            NA if not solved else YES if first is not None else NO,
        "every larger N tested fails too": NA if first is None else
            YES if all(not ok for n, ok in solved.items() if n >= first) else NO,
        "every multi-head curriculum run solves that N (in as many epochs)":
            NA if first is None else above(values(numbers["multi_head_max_N"]), first - 1)}


def rows_no_curriculum(numbers: Mapping[str, Any]) -> list[Row]:
    rows = [(f"no curriculum, N = {n}: best accuracy", "solved" if key(n) <= 10 else "fails",
             values(accs)) for n, accs in numbers["best_accuracy"].items()]
    return rows + [("multi-head curriculum: largest N solved (in as many epochs)", "100+",
                    values(numbers["multi_head_max_N"]))]


def checks_fixed_tau(numbers: Mapping[str, Any]) -> Checks:
    """Claim 3: τ = 1 fixed does as well multi-head, each larger fixed τ worse, single-head worse."""
    fixed = {key(t): values(v) for t, v in numbers["multi_fixed"].items()}
    one, trained = fixed.get(1.0, fixed.get(1, [])), values(numbers["multi_trained"])
    checks = {f"multi-head with τ = 1 fixed reaches more than {AS_WELL:.0%} of the N of trained τ":
              compare(one, [AS_WELL * v for v in trained])}
    for tau in sorted(t for t in fixed if t > 1):
        checks[f"multi-head with τ = {tau:g} fixed reaches a smaller N than with τ = 1"] = \
            compare(one, fixed[tau])
    checks["single-head with τ = 1 fixed reaches a smaller N than with trained τ"] = compare(
        values(numbers["single_trained"]), values(numbers["single_fixed_1"]))
    return checks


def rows_fixed_tau(numbers: Mapping[str, Any]) -> list[Row]:
    paper = {1.0: "101", 2.0: "87", 3.0: "66–72"}
    within_ = " (same epochs)" if numbers.get("epochs") else ""
    rows = [(f"multi-head, trained τ: largest N{within_}", "100–101",
             values(numbers["multi_trained"]))]
    rows += [(f"multi-head, τ = {key(t):g} fixed: largest N{within_}", paper.get(key(t), "—"),
              values(v)) for t, v in numbers["multi_fixed"].items()]
    return rows + [(f"single-head, trained τ: largest N{within_}", "33–37",
                    values(numbers["single_trained"])),
                   (f"single-head, τ = 1 fixed: largest N{within_}", "23–26",
                    values(numbers["single_fixed_1"]))]


def checks_tau_growth(numbers: Mapping[str, Any]) -> Checks:
    """Claim 4: single-head τ mean and spread rise with N; multi-head τ does not, and stays lower."""
    single, multi = seeds_of(numbers["single"]), seeds_of(numbers["multi"])
    top = max(set.intersection(*(set(d) for d in single + multi)), default=None) \
        if single and multi else None
    return {"single-head: mean τ rises from the smallest to the largest N": rises(single, 0),
            "single-head: spread of τ rises from the smallest to the largest N": rises(single, 1),
            "multi-head: mean τ does not rise beyond the spread": negate(rises(multi, 0)),
            "multi-head: mean τ at the largest N both reach is below single-head's":
                NA if top is None else compare(at(single, top, 0), at(multi, top, 0))}


def _span_rows(name: str, seeds: Sequence[Mapping], paper: tuple[str, str],
               part: int | None = None) -> list[Row]:
    span = common_range(seeds)
    if span is None:
        return [(f"{name} (no two N common to all seeds)", paper[1], [])]
    return [(f"{name} at N = {span[0]}", paper[0], at(seeds, span[0], part)),
            (f"{name} at N = {span[1]}", paper[1], at(seeds, span[1], part))]


def rows_tau_growth(numbers: Mapping[str, Any]) -> list[Row]:
    single, multi = seeds_of(numbers["single"]), seeds_of(numbers["multi"])
    return (_span_rows("single-head: mean τ", single, ("—", "rises"), 0)
            + _span_rows("single-head: sd of τ", single, ("—", "rises"), 1)
            + _span_rows("multi-head: mean τ", multi, ("—", "near 1"), 0))


def checks_tau_net(numbers: Mapping[str, Any]) -> Checks:
    """Claim 5: τ_net rises with N in both curricula."""
    return {f"{c}-head: τ_net rises from the smallest to the largest N":
            rises(seeds_of(numbers[c])) for c in ("single", "multi")}


def rows_tau_net(numbers: Mapping[str, Any]) -> list[Row]:
    return [row for c in ("single", "multi")
            for row in _span_rows(f"{c}-head: mean τ_net", seeds_of(numbers[c]), ("—", "rises"))]


def _parts(numbers: Mapping[str, Any], curriculum: str) -> list[dict]:
    """Per seed, relative accuracy by ablation group (older files' names largest/smallest
    read as longest/shortest) or perturbation target."""
    return [{ABLATION_NAMES.get(k, k): v for k, v in d.items()}
            for d in seeds_of(numbers[curriculum], numeric=False)]


def checks_ablation(numbers: Mapping[str, Any]) -> Checks:
    """Claim 6: longest-τ ablation hurts single-head more; shortest-τ ablation hurts multi-head more."""
    single, multi = _parts(numbers, "single"), _parts(numbers, "multi")
    return {"silencing the longest-τ neurons hurts single-head more":
            compare(at(multi, "longest"), at(single, "longest")),
            "silencing the shortest-τ neurons hurts multi-head more":
            compare(at(single, "shortest"), at(multi, "shortest"))}


WHAT = {"longest": "longest-τ neurons silenced", "shortest": "shortest-τ neurons silenced",
        "random": "random neurons silenced", "weights": "weights perturbed", "tau": "τ perturbed"}


def rows_robustness(paper: Mapping[tuple[str, str], str]) -> Callable[[Mapping], list[Row]]:
    def rows(numbers: Mapping[str, Any]) -> list[Row]:
        parts = {c: _parts(numbers, c) for c in ("single", "multi")}
        kinds = sorted({k for c in parts.values() for d in c for k in d})
        return [(f"{c}-head: relative accuracy, {WHAT.get(kind, kind)}", paper.get((c, kind), "—"),
                 at(parts[c], kind)) for kind in kinds for c in ("single", "multi")]
    return rows


def checks_perturbation(numbers: Mapping[str, Any]) -> Checks:
    """Claim 7: multi-head keeps more of its accuracy under each perturbation."""
    single, multi = _parts(numbers, "single"), _parts(numbers, "multi")
    return {f"{target} perturbed: multi-head keeps more accuracy than single-head":
            compare(at(multi, target), at(single, target)) for target in ("weights", "tau")}


def checks_gated(numbers: Mapping[str, Any]) -> Checks:
    """Claim 8 per gated model: multi-head reaches a larger N than single-head and no curriculum."""
    checks = {}
    for model, per in sorted(numbers.items()):
        checks[f"{model}: multi-head reaches a larger N than single-head"] = compare(
            values(per["multi"]), values(per["single"]))
        checks[f"{model}: multi-head reaches a larger N than no curriculum"] = compare(
            values(per["multi"]), values(per["none"]))
    return checks


def rows_gated(numbers: Mapping[str, Any]) -> list[Row]:
    names = {"single": "single-head", "multi": "multi-head",
             "none": "no curriculum (largest fixed N solved)"}
    return [(f"{model}, {names[c]}: largest N", "multi-head largest" if c == "multi" else "smaller",
             values(per[c])) for model, per in sorted(numbers.items()) for c in names]


def retrained(x: Any) -> list:
    """Per-seed (epoch solved or None, final accuracy) pairs; an older file held one pair."""
    pairs = values(x)
    return pairs if pairs and isinstance(pairs[0], (list, tuple)) else [pairs] if pairs else []


def checks_retrain(numbers: Mapping[str, Any]) -> Checks:
    """Claim 9: per new N, the network trained multi-head reaches a higher accuracy after the
    same retraining (it learns the new N faster)."""
    single = {key(n): retrained(v) for n, v in numbers["single"].items()}
    multi = {key(n): retrained(v) for n, v in numbers["multi"].items()}
    checks = {f"retrained on N = {n}: the multi-head network reaches a higher accuracy":
              compare([a for _, a in multi.get(n, [])], [a for _, a in single.get(n, [])])
              for n in sorted(set(single) | set(multi))}
    return checks or {"retrained networks learn a new N faster when trained multi-head": NA}


def rows_retrain(numbers: Mapping[str, Any]) -> list[Row]:
    per = {c: {key(n): retrained(v) for n, v in numbers[c].items()} for c in ("single", "multi")}
    return [(f"trained {c}-head, retrained on N = {n}: accuracy",
             "higher" if c == "multi" else "lower", [a for _, a in per[c].get(n, [])])
            for n in sorted(set(per["single"]) | set(per["multi"])) for c in ("single", "multi")]


# ---- the claims, from the evidence ------------------------------------------------------------

def _leaky(ev: Evidence, curriculum: str, **match: Any) -> list[tuple[PlannedRun, History]]:
    return ev.runs(task=match.pop("task", "parity"), curriculum=curriculum, model="leaky",
                   fixed_tau=match.pop("fixed_tau", None), **match)


def claim1(ev: Evidence) -> Claim:
    """Claim 1: multi-head reaches larger N than single-head, and each N sooner."""
    numbers = {}
    for task in sorted({s.task for s in ev.specs if 1 in s.claims}):
        runs = {c: [h for _, h in _leaky(ev, c, task=task)] for c in ("single", "multi")}
        numbers[task] = {c: {"max_N": [h.largest_N for h in hs],
                             "curves": [h.largest_N_so_far for h in hs]}
                         for c, hs in runs.items()}
    return Claim(1, "Multi-head reaches larger N than single-head, and each N sooner", PAPER_TEXT[1],
                 numbers)


def h_threshold(ev: Evidence) -> float:
    """The runs' "solved" threshold (0.98 when there are none)."""
    return next(iter(ev.histories.values())).threshold if ev.histories else 0.98


def claim2(ev: Evidence) -> Claim:
    """Claim 2: without a curriculum, training fails beyond some N. The multi-head curriculum is
    judged on the N it solved within the most epochs a fixed-N run trained."""
    best: dict[int, list[float]] = {}
    fixed = ev.runs(curriculum="none", model="leaky", task="parity")
    for spec, h in fixed:
        n = spec.heads[0]
        best.setdefault(n, []).append(max((r.accuracy[n] for r in h.records), default=0.0))
    solved = {n: any(a > h_threshold(ev) for a in accs) for n, accs in sorted(best.items())}
    epochs = max((len(h) for _, h in fixed), default=0)
    first = min((n for n, ok in solved.items() if not ok), default=None)
    note = "" if not solved else (
        f"Without a curriculum the first N no seed solved is {first} (paper: about 10)." if first
        else f"Every fixed N tested (up to {max(solved)}) was solved.")
    if fixed:
        note += f" Fixed-N runs trained up to {epochs} epochs; the curriculum is read at as many."
    return Claim(2, "Without a curriculum, training fails beyond some N", PAPER_TEXT[2],
                 {"best_accuracy": dict(sorted(best.items())), "solved": solved,
                  "threshold": h_threshold(ev), "epochs": epochs,
                  "multi_head_max_N": [within(h.largest_N_so_far, epochs or len(h))
                                       for _, h in _leaky(ev, "multi")]}, note=note)


def claim3(ev: Evidence) -> Claim:
    """Claim 3, fixed τ: τ = 1 suffices multi-head; larger τ and single-head do worse. Every arm
    is compared at the same number of epochs: the fewest any of its runs trained."""
    arms = {"multi_trained": _leaky(ev, "multi"), "single_trained": _leaky(ev, "single"),
            "single_fixed_1": _leaky(ev, "single", fixed_tau=1.0)}
    taus = sorted({s.fixed_tau for s in ev.specs if 3 in s.claims and s.curriculum == "multi"})
    fixed = {t: _leaky(ev, "multi", fixed_tau=t) for t in taus}
    runs = [r for arm in [*arms.values(), *fixed.values()] for r in arm]
    epochs = min((s.epochs for s, _ in runs), default=0)
    numbers: dict[str, Any] = {k: [within(h.largest_N_so_far, epochs) for _, h in arm]
                               for k, arm in arms.items()}
    numbers["multi_fixed"] = {t: [within(h.largest_N_so_far, epochs) for _, h in arm]
                              for t, arm in fixed.items() if arm}
    numbers["epochs"] = epochs
    return Claim(3, "Fixed τ: τ = 1 suffices multi-head; larger τ and single-head do worse",
                 PAPER_TEXT[3], numbers,
                 note=f"Every arm is read at {epochs} epochs (the fewest any of them trained)."
                 if runs else "")


def claim4(ev: Evidence) -> Claim:
    """Claim 4: single-head raises mean and spread of τ with N; multi-head keeps τ near 1."""
    return Claim(4, "Single-head raises mean and spread of τ with N; multi-head keeps τ near 1",
                 PAPER_TEXT[4], {c: [stage_taus(h) for _, h in _leaky(ev, c)]
                                 for c in ("single", "multi")})


def claim5(ev: Evidence) -> Claim:
    """Claim 5: τ_net grows with N in both curricula."""
    return Claim(5, "τ_net grows with N in both curricula", PAPER_TEXT[5], {
        c: [{row["N"]: row["tau_net_mean"] for row in ev.timescales[s.name]
             if row["tau_net_mean"] is not None}
            for s, _ in _leaky(ev, c) if s.name in ev.timescales] for c in ("single", "multi")},
        protocol=ev.protocol)


def _robustness(ev: Evidence, part: str) -> dict[str, Any]:
    numbers: dict[str, Any] = {"N": []}
    for c in ("single", "multi"):
        rows = [ev.robustness[s.name] for s, _ in _leaky(ev, c) if s.name in ev.robustness]
        numbers[c] = [{k: v if part == "ablation" else v["relative"] for k, v in row[part].items()}
                      for row in rows]
        if c == "single":
            numbers["N"] = [row["N"] for row in rows]
    return numbers


def _listing(values_: Sequence[int]) -> str:
    return ", ".join(map(str, values_))


def claim6(ev: Evidence) -> Claim:
    """Claim 6: ablating long-τ neurons hurts single-head networks far more."""
    numbers = _robustness(ev, "ablation")
    numbers["k"] = k = next(iter(ev.robustness.values()))["k"] if ev.robustness else None
    at_ = numbers["N"]
    how = "each silenced alone, accuracies averaged" if ev.protocol == "paper" else \
        "silenced together"
    return Claim(6, "Ablating long-τ neurons hurts single-head networks far more", PAPER_TEXT[6],
                 numbers, note="" if not at_ else f"Measured at N = {_listing(at_)} (per seed, "
                                                  f"the largest N both curricula solved), {k} "
                                                  f"neuron(s) per group, {how}.",
                 protocol=ev.protocol)


def claim7(ev: Evidence) -> Claim:
    """Claim 7: multi-head networks are more robust to perturbation."""
    numbers = _robustness(ev, "perturbation")
    at_ = numbers["N"]
    return Claim(7, "Multi-head networks are more robust to perturbation", PAPER_TEXT[7], numbers,
                 note="" if not at_ else f"Measured at N = {_listing(at_)}; weights ε = 0.215, "
                                         "τ ε = 0.1.", protocol=ev.protocol)


def claim8(ev: Evidence) -> Claim:
    """Claim 8: the multi-head curriculum also helps GRUs and LSTMs."""
    numbers = {}
    for model in sorted({s.model for s in ev.specs if 8 in s.claims}):
        fixed = [(s.heads[0], h.largest_N) for s, h in ev.runs(curriculum="none", model=model)]
        numbers[model] = {c: [h.largest_N for _, h in ev.runs(curriculum=c, model=model)]
                          for c in ("single", "multi")}
        numbers[model]["none"] = [max((n for n, best in fixed if best >= n), default=0)] \
            if fixed else []
    return Claim(8, "The multi-head curriculum also helps GRUs and LSTMs", PAPER_TEXT[8], numbers)


def claim9(ev: Evidence) -> Claim:
    """Claim 9: multi-head networks learn new, larger N faster when retrained."""
    numbers: dict[str, dict[int, list]] = {"single": {}, "multi": {}}
    for spec in ev.specs:
        if spec.init_from is None or spec.name not in ev.histories:
            continue
        source = next(s for s in ev.specs if s.name == spec.init_from[0])
        h, n = ev.histories[spec.name], spec.heads[0]
        numbers[source.curriculum].setdefault(n, []).append(
            [first_epoch(h.largest_N_so_far, n), h.records[-1].accuracy[n]])
    blocked = sorted({reason for reason in ev.blocked.values()})
    return Claim(9, "Multi-head networks learn new, larger N faster when retrained", PAPER_TEXT[9],
                 {c: dict(sorted(v.items())) for c, v in numbers.items()}, note="; ".join(blocked))


CLAIMS = (claim1, claim2, claim3, claim4, claim5, claim6, claim7, claim8, claim9)
CHECKS: dict[int, Callable[[Mapping[str, Any]], Checks]] = {
    1: checks_curricula, 2: checks_no_curriculum, 3: checks_fixed_tau, 4: checks_tau_growth,
    5: checks_tau_net, 6: checks_ablation, 7: checks_perturbation, 8: checks_gated,
    9: checks_retrain}
ROWS: dict[int, Callable[[Mapping[str, Any]], list[Row]]] = {
    1: rows_curricula, 2: rows_no_curriculum, 3: rows_fixed_tau, 4: rows_tau_growth,
    5: rows_tau_net,
    6: rows_robustness({("single", "longest"): "0.44", ("multi", "longest"): "0.99",
                        ("single", "shortest"): "0.90", ("multi", "shortest"): "0.79"}),
    7: rows_robustness({("single", "weights"): "0.74", ("multi", "weights"): "0.96",
                        ("single", "tau"): "0.38", ("multi", "tau"): "0.89"}),
    8: rows_gated, 9: rows_retrain}


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
