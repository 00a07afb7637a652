"""``OUT/reproduction/``: numbers.json (per claim and seed: every number), REPORT.md rendered from it
(paper | this scale | a compared scale, side by side) and ``figures/claim_<k>.png``.

REPORT.md is a function of numbers.json (and of the compared scale's numbers.json), so
``memtasks reproduce --report-only`` re-renders it without the runs.
"""

from __future__ import annotations

import json
import math
import os
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path
from statistics import fmean
from typing import Any

from agents.experiments.reproduce.claims import PAPER, Claim
from agents.experiments.reproduce.figures import draw
from agents.experiments.reproduce.measure import PROTOCOL_TEXT
from agents.experiments.reproduce.plan import Scale
from agents.experiments.reproduce.verdict import (INCONCLUSIVE, NA, NO, NOT, ONE, PARTLY,
                                                  REPRODUCED, UNDECIDED, UNTESTED, WITHIN, YES,
                                                  finite)
from memtasks.checks import first_line

NUMBERS, REPORT = "numbers.json", "REPORT.md"
COLUMN_ORDER = ("gpu", "cpu", "paper", "smoke")  # scale columns after the paper's, in this order

RULE = (f"**Verdict rule.** Each claim is split into checks; a check compares the per-seed values "
        f"of two arms. Its *effect* is the difference of the arms' means, the *spread* the larger "
        f"range (max − min over seeds) of the arms with two values or more. `{YES}`: the effect "
        f"points the paper's way and exceeds the spread; `{NO}`: it points the other way and "
        f"exceeds the spread; `{WITHIN}`: it does not exceed the spread (the sign alone does not "
        f"count); `{ONE}`: no arm has two values, so no spread to judge by; `{NA}`: an arm has no "
        f"value. Verdict: all decided checks `{YES}` → **{REPRODUCED}**; some → **{PARTLY}**; "
        f"a `{NO}` and no `{YES}` → **{NOT}**; all `{WITHIN}` → **{INCONCLUSIVE}**; none decided "
        f"→ **{UNDECIDED}** or **{UNTESTED}**. Cells read: mean (min–max), n = seeds.")


def _jsonable(value: Any) -> Any:
    """Tuples become lists, NaN/inf become None, keys become strings."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def sizes(scale: Scale) -> str:
    """The scale's sizes, in one line."""
    budget = "none" if scale.time_budget is None else f"{scale.time_budget:g} s"
    caps = "".join(f", {arm} {n}" for arm, n in scale.caps.items())
    return (f"leaky RNN {scale.hidden} units (GRU/LSTM {scale.gated_hidden}), {scale.seeds} "
            f"seed(s) per curriculum ({scale.control_seeds} in the control grids), at most "
            f"{scale.epochs} epochs{caps and ' (by arm:' + caps[1:] + ')'} × "
            f"{scale.steps_per_epoch} batches of {scale.batch_size}, time budget per run {budget}; "
            f"claims 5–7 recorded over {scale.record_trials} trials × {scale.record_steps:,} steps")


def write_numbers(claims: Sequence[Claim], meta: Mapping[str, Any], out: Path) -> dict:
    """Write ``out/numbers.json``: ``meta`` (scale, command, machine, times) and every claim."""
    doc = _jsonable({**meta, "claims": [c.to_dict() for c in claims]})
    out.mkdir(parents=True, exist_ok=True)
    (out / NUMBERS).write_text(json.dumps(doc, indent=1, allow_nan=False) + "\n")
    return doc


def read_numbers(path: Path) -> dict:
    """A numbers.json; ValueError naming the file if it is not one."""
    try:
        doc = json.loads(Path(path).read_text())
        if not isinstance(doc, dict) or not isinstance(doc.get("claims"), list):
            raise ValueError("expected an object with a list 'claims'")
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path} is not a reproduction numbers.json: "
                         f"{first_line(exc)}") from None
    return doc


def _number(v: float) -> str:
    return f"{v:.0f}" if float(v).is_integer() else f"{v:.3g}"


def cell(values: Sequence[float | None]) -> str:
    """Per-seed values as ``mean (min–max), n = k``; None counts as "not reached"."""
    if not values:
        return "—"
    got = finite(values)
    missing = len(values) - len(got)
    if not got:
        return f"not reached, n = {len(values)}"
    text = _number(got[0]) if len(got) == 1 else \
        f"{_number(fmean(got))} ({_number(min(got))}–{_number(max(got))})"
    return text + f", n = {len(values)}" + (f", {missing} not reached" if missing else "")


def _columns(doc: Mapping, other: Mapping | None) -> list[Mapping]:
    docs = [doc] + ([other] if other else [])
    return sorted(docs, key=lambda d: COLUMN_ORDER.index(d["scale"])
                  if d["scale"] in COLUMN_ORDER else len(COLUMN_ORDER))


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    return (["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
            + ["| " + " | ".join(r) + " |" for r in rows])


def _minutes(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 60 else f"{seconds / 60:.1f} min"


def header(doc: Mapping) -> list[str]:
    """Command, machine, times and sizes of the run behind ``doc``, and its note if any."""
    wall = doc.get("wall_seconds") or []
    calls = f" over {len(wall)} invocations" if len(wall) > 1 else ""
    times = (f"wall time {_minutes(sum(wall))}{calls}" if wall else "wall time not recorded")
    if doc.get("training_seconds"):
        times += f"; training, summed over the runs: {_minutes(doc['training_seconds'])}"
    machine = ", ".join(x for x in (doc.get("device"), doc.get("torch") and
                                    f"torch {doc['torch']}") if x)
    lines = [f"Command: `{doc['command']}`  ", f"Machine: {machine or 'not recorded'}; {times}  ",
             f"Sizes: {doc.get('sizes', 'not recorded')}; runs: {doc.get('runs', '?')}"]
    return lines + (["", f"Note: {doc['note']}"] if doc.get("note") else [])


def render(doc: Mapping, out: Path, other: Mapping | None = None,
           other_path: str | None = None) -> Path:
    """Write ``out/REPORT.md`` and the figures from ``doc`` (a numbers.json), with ``other``
    (another scale's numbers.json, read from ``other_path``) in a column beside it."""
    figures = out / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    cols = _columns(doc, other)
    names = [f"`{d['scale']}`" for d in cols]
    claims = {d["scale"]: {c["number"]: Claim.from_dict(c) for c in d["claims"]} for d in cols}
    own = claims[doc["scale"]]
    lines = [f"# Reproduction of {PAPER} — scale `{doc['scale']}`", "", *header(doc), ""]
    if other:
        lines += [f"Compared with scale `{other['scale']}` (`{other_path}`): "
                  f"`{other['command']}`", ""]
    lines += [RULE, "", *_table(["claim", *names],
                               [[f"{k}. {c.title}", *(claims[d['scale']][k].verdict
                                                      if k in claims[d['scale']] else "—"
                                                      for d in cols)]
                                for k, c in own.items()]), ""]
    for k, c in own.items():
        png = draw(c, figures / f"claim_{k}.png")
        per = [claims[d["scale"]].get(k) for d in cols]
        lines += [f"## Claim {k}: {c.title}", "", f"**Paper** ({PAPER}): {c.paper}", "",
                  f"![claim {k}](figures/{png.name})", ""]
        rows: dict[str, list[str]] = {}
        for i, claim in enumerate(per):
            for label, paper, values in claim.rows if claim else []:
                rows.setdefault(label, [paper] + ["—"] * len(cols))[i + 1] = cell(values)
        lines += [*_table(["quantity", "paper", *names], [[q, *r] for q, r in rows.items()]), ""]
        checks: dict[str, list[str]] = {}
        for i, claim in enumerate(per):
            for name, outcome in (claim.checks if claim else {}).items():
                checks.setdefault(name, ["—"] * len(cols))[i] = outcome
        lines += [*_table(["check", *names], [[q, *r] for q, r in checks.items()]), ""]
        lines += _protocols(names, per)
        lines += ["**Verdict:** " + "; ".join(f"{n} **{p.verdict if p else '—'}**"
                                              for n, p in zip(names, per)) + ".", ""]
        lines += [f"{n}: {p.note}" for n, p in zip(names, per) if p and p.note]
        lines += [""] if any(p and p.note for p in per) else []
    lines += [f"Every number per seed, and the curves behind the figures: `{NUMBERS}`."]
    report = out / REPORT
    report.write_text("\n".join(lines) + "\n")
    return report


def _protocols(names: Sequence[str], per: Sequence[Claim | None]) -> list[str]:
    """How claims 5–7 were measured: one line if every column agrees, else one per column."""
    used = {(n, p.protocol) for n, p in zip(names, per) if p and p.protocol}
    if not used:
        return []
    if len({p for _, p in used}) == 1:
        p = next(iter(used))[1]
        return [f"Measured with the **{p} protocol**: {PROTOCOL_TEXT[p]}.", ""]
    return [f"{n}: measured with the **{p} protocol**: {PROTOCOL_TEXT[p]}." for n, p in sorted(used)
            ] + [""]


def display_path(path: str | os.PathLike) -> str:
    """A path as a user would type it: relative to the working directory, never absolute."""
    path = os.fspath(path)
    return os.path.relpath(path) if os.path.isabs(path) else path


def command_line(argv: Sequence[str]) -> str:
    """A shell-quoted ``memtasks`` command line."""
    return shlex.join(["memtasks", *argv])
