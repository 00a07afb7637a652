"""``memtasks summarize SWEEP_DIR``: one row per condition of a sweep, a CSV, a Markdown table, a PNG.

A run's "N reached" after an epoch is the largest N solved so far (accuracy above the run's
threshold, 0.98 by default, the paper's rule); a condition aggregates its seeds
(``SWEEP_DIR/<condition>/seed_<s>/history.json``). The bsuite-style score of a condition is the
largest N that every one of its seeds solved.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from agents.training.loop import History
from agents.training.paths import int_at_least, make_out_dir, path_argument
from agents.training.runstate import HISTORY
from memtasks.checks import first_line

CSV, MARKDOWN, FIGURE = "summary.csv", "summary.md", "n_reached.png"


@dataclass
class Run:
    """One run's curve: N reached, cumulative seconds, after each epoch; its final τ."""

    seed: int
    n_reached: np.ndarray
    seconds: np.ndarray
    tau_mean: float
    tau_std: float

    @classmethod
    def read(cls, path: Path) -> Run:
        """The run in ``path`` (a ``seed_<s>`` directory holding ``history.json``); ValueError
        naming the file or directory if it is not one."""
        if not path.name.removeprefix("seed_").isdigit():
            raise ValueError(f"{path} is not a run of the sweep: expected a directory seed_<int>")
        history = History.read(path / HISTORY)
        last = history.records[-1] if history.records else None
        nan = float("nan")
        return cls(int(path.name.removeprefix("seed_")),
                   np.asarray(history.largest_N_so_far or [0], dtype=float),
                   np.cumsum(history.seconds or [0.0]),
                   nan if last is None or last.tau_mean is None else last.tau_mean,
                   nan if last is None or last.tau_std is None else last.tau_std)

    def reach(self, n: int) -> tuple[int, float] | None:
        """(epoch, seconds) at the end of the first epoch with N reached ≥ n; None if never."""
        hits = np.flatnonzero(self.n_reached >= n)
        return None if hits.size == 0 else (int(hits[0]) + 1, float(self.seconds[hits[0]]))


def _warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def read_sweep(sweep_dir: str | os.PathLike,
               warn: Callable[[str], object] = _warn) -> dict[str, list[Run]]:
    """Runs by condition: every ``<condition>/seed_<s>/history.json`` under ``sweep_dir``.

    A run whose history cannot be read (truncated, not JSON, not a history) or whose directory is
    not ``seed_<int>`` is skipped: ``warn`` is told the file and the reason.
    """
    sweep_dir = Path(sweep_dir)
    if not sweep_dir.is_dir():
        raise FileNotFoundError(f"no sweep directory at '{sweep_dir}'")
    runs: dict[str, list[Run]] = {}
    for history in sorted(sweep_dir.glob("*/seed_*/history.json")):
        try:
            run = Run.read(history.parent)
        except (OSError, ValueError) as error:
            warn(f"skipped: {first_line(error)}")
            continue
        runs.setdefault(history.parent.parent.name, []).append(run)
    if not runs:
        raise FileNotFoundError(f"no runs in '{sweep_dir}': expected "
                                f"<condition>/seed_<s>/history.json")
    return {c: sorted(r, key=lambda run: run.seed) for c, r in runs.items()}


def _mean_sd(values: list[float]) -> tuple[float, float]:
    """Mean and sample sd (NaN for fewer than two values, or none)."""
    values = [v for v in values if not math.isnan(v)]
    if not values:
        return math.nan, math.nan
    return float(np.mean(values)), float(np.std(values, ddof=1)) if len(values) > 1 else math.nan


def summarize(sweep_dir: str | os.PathLike, reach: tuple[int, ...] = (5, 10, 20)) -> list[dict]:
    """One dict per condition: seeds, N reached, score, epochs/seconds to reach N, final τ."""
    return _rows(read_sweep(sweep_dir), reach)


def _rows(sweep: dict[str, list[Run]], reach: tuple[int, ...]) -> list[dict]:
    """The summary rows of runs read by :func:`read_sweep`."""
    rows = []
    for condition, runs in sweep.items():
        finals = [float(r.n_reached[-1]) for r in runs]
        row = {"condition": condition, "seeds": len(runs)}
        row["n_reached_mean"], row["n_reached_sd"] = _mean_sd(finals)
        row["score"] = int(min(finals))
        for n in reach:
            hits = [h for h in (r.reach(n) for r in runs) if h is not None]
            row[f"reach{n}_seeds"] = len(hits)
            row[f"reach{n}_epochs_mean"], row[f"reach{n}_epochs_sd"] = _mean_sd(
                [float(e) for e, _ in hits])
            row[f"reach{n}_seconds_mean"], row[f"reach{n}_seconds_sd"] = _mean_sd(
                [s for _, s in hits])
        row["tau_mean"], _ = _mean_sd([r.tau_mean for r in runs])
        row["tau_std"], _ = _mean_sd([r.tau_std for r in runs])
        rows.append(row)
    return rows


def _show(mean: float, sd: float, digits: int = 1) -> str:
    if math.isnan(mean):
        return "–"
    return f"{mean:.{digits}f}" if math.isnan(sd) else f"{mean:.{digits}f} ± {sd:.{digits}f}"


def markdown(rows: list[dict], reach: tuple[int, ...]) -> str:
    """The summary as a Markdown table; a reach cell says how many seeds got there."""
    head = ["condition", "seeds", "N reached", "score (N solved by all seeds)"]
    head += [f"epochs to N={n}" for n in reach] + [f"seconds to N={n}" for n in reach]
    head += ["final τ mean", "final τ std"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [row["condition"], str(row["seeds"]),
                 _show(row["n_reached_mean"], row["n_reached_sd"]), str(row["score"])]
        for unit in ("epochs", "seconds"):
            for n in reach:
                cell = _show(row[f"reach{n}_{unit}_mean"], row[f"reach{n}_{unit}_sd"])
                if 0 < row[f"reach{n}_seeds"] < row["seeds"]:
                    cell += f" ({row[f'reach{n}_seeds']}/{row['seeds']} seeds)"
                cells.append(cell)
        cells += [_show(row["tau_mean"], math.nan, 3), _show(row["tau_std"], math.nan, 3)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def plot(runs: dict[str, list[Run]], path: Path) -> None:
    """N reached against epochs: the mean over seeds per condition, a band of ± one sd."""
    fig = Figure(figsize=(7, 4.5))  # no pyplot: the caller's matplotlib backend is left alone
    ax = fig.subplots()
    for condition, group in runs.items():
        length = max(len(r.n_reached) for r in group)
        # a run that stopped early (target reached, curriculum finished) keeps its last N
        curves = np.stack([np.pad(r.n_reached, (0, length - len(r.n_reached)), mode="edge")
                           for r in group])
        epochs = np.arange(1, length + 1)
        mean, sd = curves.mean(0), curves.std(0)
        (line,) = ax.plot(epochs, mean, label=f"{condition} ({len(group)} seeds)")
        ax.fill_between(epochs, mean - sd, mean + sd, color=line.get_color(), alpha=0.2)
    ax.set_xlabel("epoch")
    ax.set_ylabel("N reached (largest N solved)")
    ax.legend(fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def write_summary(sweep_dir: str | os.PathLike, out_dir: str | os.PathLike | None = None,
                  reach: tuple[int, ...] = (5, 10, 20)) -> list[dict]:
    """Write ``summary.csv``, ``summary.md`` and ``n_reached.png`` (default: into ``sweep_dir``)."""
    reach = tuple(reach)
    if not reach or any(isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in reach):
        raise ValueError(f"reach={reach!r} is not accepted: expected one or more ints >= 1")
    sweep = read_sweep(sweep_dir)
    rows = _rows(sweep, reach)
    out = make_out_dir(out_dir or sweep_dir, "out_dir")
    with open(out / CSV, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    (out / MARKDOWN).write_text(markdown(rows, reach))
    plot(sweep, out / FIGURE)
    return rows


def add_summarize_arguments(p: argparse.ArgumentParser) -> None:
    """The arguments of ``memtasks summarize``."""
    p.add_argument("sweep_dir", type=path_argument, metavar="SWEEP_DIR",
                   help="a sweep directory: <condition>/seed_<s>/history.json")
    p.add_argument("--reach", type=int_at_least(1), nargs="+", default=[5, 10, 20], metavar="N",
                   help="report epochs and seconds to reach each of these N (default: 5 10 20)")
    p.add_argument("--out", type=path_argument, default=None, metavar="DIR",
                   help="where to write summary.csv, summary.md, n_reached.png "
                        "(default: SWEEP_DIR)")


def run_summarize(args: argparse.Namespace) -> int:
    """Run ``memtasks summarize``: print the Markdown table and where the files went."""
    rows = write_summary(args.sweep_dir, args.out, tuple(args.reach))
    print(markdown(rows, tuple(args.reach)), end="")
    out = args.out or args.sweep_dir
    print(f"wrote {out / CSV}, {out / MARKDOWN}, {out / FIGURE}")
    return 0
