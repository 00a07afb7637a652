"""``OUT/reproduction/``: REPORT.md (per claim: the paper's numbers, ours, the figure, the verdict),
``figures/claim_<k>.png`` and ``numbers.json``."""

from __future__ import annotations

import json
import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from agents.experiments.reproduce.claims import PAPER, UNTESTED, Claim
from agents.experiments.reproduce.figures import draw
from agents.experiments.reproduce.measure import PROTOCOL_TEXT
from agents.experiments.reproduce.plan import Scale


def _jsonable(value: Any) -> Any:
    """Tuples become lists, NaN/inf become None, keys become strings."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, float) and value != value or value in (float("inf"), float("-inf")):
        return None
    return value


def _sizes(scale: Scale) -> str:
    budget = "none" if scale.time_budget is None else f"{scale.time_budget:g} s"
    return (f"leaky RNN {scale.hidden} units (GRU/LSTM {scale.gated_hidden}), {scale.seeds} "
            f"seed(s) per curriculum, at most {scale.epochs} epochs × {scale.steps_per_epoch} "
            f"batches of {scale.batch_size}, time budget per run {budget}")


def write_report(claims: Sequence[Claim], scale: Scale, out: Path, command: str,
                 paper_command: str, runs: int, seconds: float,
                 protocol: str = "paper") -> Path:
    """Write REPORT.md, the figures and numbers.json under ``out``; return REPORT.md's path."""
    figures = out / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    lines = [f"# Reproduction of {PAPER} — scale `{scale.name}`", "",
             f"Command: `{command}`  ", f"Sizes: {_sizes(scale)}  ",
             f"Runs: {runs}; wall time of this invocation: {seconds / 60:.1f} min", "",
             "Verdict rule, for every claim: each claim is split into yes/no checks computed "
             "from the numbers below; all pass → **reproduced**, some → **partly**, none → "
             "**not reproduced**, none decidable (runs missing at this scale) → **not tested at "
             "this scale**. Claims 1–4, 8 and 9 come from the training histories; claims 5–7 "
             f"from analyses of the trained networks by the {protocol} protocol "
             f"({PROTOCOL_TEXT[protocol]}), "
             f"recorded over {scale.record_trials} trials × {scale.record_steps:,} steps. "
             "The paper trains 500-unit networks for up to 1000 epochs; smaller "
             "scales test the direction of each effect, not its size. Paper scale (GPU "
             f"cluster): `{paper_command}` trains the runs as SLURM jobs with one GPU each "
             "(PARTITION: your cluster's; `--executor local` runs them on this machine; "
             "`--no-wait` submits and returns), then claim 9's retraining runs, and writes this "
             "report at the paper's sizes; run it again to resume, finished runs are skipped.", "", "| claim | verdict |", "|---|---|"]
    lines += [f"| {c.number}. {c.title} | {c.verdict} |" for c in claims]
    for c in claims:
        png = draw(c, figures / f"claim_{c.number}.png")
        lines += ["", f"## Claim {c.number}: {c.title}", "", f"**Paper** ({PAPER}): {c.paper}",
                  "", f"**This project** (scale `{scale.name}`):", "",
                  f"![claim {c.number}](figures/{png.name})", "", "| check | outcome |", "|---|---|"]
        lines += [f"| {name} | {'n/a' if ok is None else 'yes' if ok else 'no'} |"
                  for name, ok in c.checks.items()]
        if c.protocol is not None:
            lines += ["", f"Measured with the **{c.protocol} protocol**: {PROTOCOL_TEXT[c.protocol]}."]
        lines += ["", f"**Verdict: {c.verdict}.**"]
        if c.note:
            lines += ["", c.note]
        if c.verdict != "reproduced":
            why = ("the runs it needs were not made at this scale" if c.verdict == UNTESTED else
                   "the checks answered 'no' above do not hold at this scale; the paper's effects "
                   "were measured on 500-unit networks trained up to 1000 epochs")
            lines += ["", f"Why: {why}. To test at the paper's scale: `{paper_command}`."]
        lines += ["", "<details><summary>numbers</summary>", "", "```json",
                  json.dumps(_jsonable(c.numbers), indent=1)[:4000], "```", "", "</details>"]
    (out / "numbers.json").write_text(json.dumps(
        _jsonable({"scale": scale.name, "command": command, "protocol": protocol,
                   "claims": [c.to_dict() for c in claims]}),
        indent=1, allow_nan=False))
    report = out / "REPORT.md"
    report.write_text("\n".join(lines) + "\n")
    return report


def command_line(argv: Sequence[str]) -> str:
    """A shell-quoted ``memtasks`` command line."""
    return shlex.join(["memtasks", *argv])
