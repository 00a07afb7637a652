"""``memtasks summarize``: known numbers from hand-made run directories, the files it writes."""

from __future__ import annotations

import csv
import json
import math

import pytest
from matplotlib.image import imread

from agents.experiments.cli import main
from agents.experiments.summarize import summarize, write_summary
from agents.training.loop import EpochRecord, History


def write_run(sweep_dir, condition, seed, solved, seconds=1.0, tau=(1.5, 0.2)):
    """A run whose epoch e solves exactly N = solved[e] (0: nothing above the threshold)."""
    records = []
    for epoch, n in enumerate(solved, start=1):
        accuracy = {m: (0.99 if m <= n else 0.6) for m in range(2, max(n, 2) + 2)}
        records.append(EpochRecord(epoch, tuple(accuracy), 0.5, accuracy, seconds, 100.0, *tau))
    run = sweep_dir / condition / f"seed_{seed}"
    run.mkdir(parents=True)
    (run / "history.json").write_text(json.dumps(History(records, 0.98, "epochs").to_dict()))


@pytest.fixture
def sweep(tmp_path):
    # multi: seed 0 reaches 2, 4, 6 (N=5 at epoch 3); seed 1 reaches 3, 5, 5 (N=5 at epoch 2)
    write_run(tmp_path, "multi", 0, [2, 4, 6], seconds=2.0, tau=(1.0, 0.1))
    write_run(tmp_path, "multi", 1, [3, 5, 5], seconds=4.0, tau=(2.0, 0.3))
    # single: a dip in solved N does not lower N reached; seed 1 stopped early
    write_run(tmp_path, "single", 0, [2, 3, 2, 4], seconds=1.0)
    write_run(tmp_path, "single", 1, [0, 2], seconds=1.0)
    return tmp_path


def test_known_numbers(sweep):
    rows = {r["condition"]: r for r in summarize(sweep, reach=(3, 5, 20))}
    multi, single = rows["multi"], rows["single"]
    assert multi["seeds"] == 2 and multi["n_reached_mean"] == 5.5
    assert multi["n_reached_sd"] == pytest.approx(math.sqrt(0.5))
    assert multi["score"] == 5  # solved by every seed
    assert (multi["reach5_seeds"], multi["reach5_epochs_mean"]) == (2, 2.5)
    assert multi["reach5_epochs_sd"] == pytest.approx(math.sqrt(0.5))
    assert multi["reach5_seconds_mean"] == pytest.approx((6.0 + 8.0) / 2)
    assert multi["reach3_epochs_mean"] == pytest.approx(1.5)  # seed 0 at epoch 2, seed 1 at 1
    assert multi["reach20_seeds"] == 0 and math.isnan(multi["reach20_epochs_mean"])
    assert (multi["tau_mean"], multi["tau_std"]) == (1.5, pytest.approx(0.2))
    assert single["n_reached_mean"] == 3.0 and single["score"] == 2
    assert single["reach3_seeds"] == 1 and single["reach3_epochs_mean"] == 2.0
    assert math.isnan(single["reach3_epochs_sd"])  # one seed: no spread to report


def test_cli_writes_csv_markdown_and_png(sweep, capsys):
    assert main(["summarize", str(sweep), "--reach", "3", "5"]) == 0
    out = capsys.readouterr().out
    with open(sweep / "summary.csv") as f:
        rows = {r["condition"]: r for r in csv.DictReader(f)}
    assert float(rows["multi"]["n_reached_mean"]) == 5.5 and rows["single"]["score"] == "2"
    assert float(rows["multi"]["reach5_epochs_mean"]) == 2.5
    table = (sweep / "summary.md").read_text()
    assert table in out
    multi = next(line for line in table.splitlines() if line.startswith("| multi "))
    assert "| 5.5 ± 0.7 | 5 |" in multi and "| 2.5 ± 0.7 |" in multi
    single = next(line for line in table.splitlines() if line.startswith("| single "))
    assert "2.0 (1/2 seeds)" in single
    image = imread(sweep / "n_reached.png")
    assert image.ndim == 3 and image.shape[0] > 100 and image[..., :3].std() > 0


@pytest.mark.parametrize("argv, names", [
    (["summarize"], "SWEEP_DIR"),
    (["summarize", "{tmp}", "--reach", "0"], "--reach"),
    (["summarize", "{tmp}", "--reach", "x"], "--reach"),
    (["summarize", "{tmp}/missing"], "missing"),
    (["summarize", "{tmp}"], "no runs"),
])
def test_bad_input_exits_2_with_one_line(argv, names, tmp_path, capsys):
    argv = [a.format(tmp=tmp_path) for a in argv]
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    assert names in err[0]


def test_reach_is_validated(sweep):
    with pytest.raises(ValueError, match="reach"):
        write_summary(sweep, reach=(0,))
