"""REPORT.md from numbers.json: paper | gpu | cpu side by side, a clean header, re-rendering."""

import json
from pathlib import Path

import pytest

from agents.experiments.cli import main
from agents.experiments.reproduce import report as R
from agents.experiments.reproduce.claims import Claim

COMMITTED = Path(__file__).parents[1] / "docs" / "reproduction" / "numbers.json"


@pytest.mark.parametrize("values, text", [
    ([], "—"), ([3], "3, n = 1"), ([10, 12, 14], "12 (10–14), n = 3"),
    ([0.5, 0.25], "0.375 (0.25–0.5), n = 2"), ([12, None], "12, n = 2, 1 not reached"),
    ([None, None], "not reached, n = 2")])
def test_cell(values, text):
    assert R.cell(values) == text


def _doc(scale, max_single, max_multi, **meta):
    curves = [[n] for n in max_single], [[n] for n in max_multi]
    claim = Claim(1, "Multi-head reaches larger N", "paper text",
                  {"parity": {"single": {"max_N": max_single, "curves": curves[0]},
                              "multi": {"max_N": max_multi, "curves": curves[1]}}})
    return {"scale": scale, "command": f"memtasks reproduce --scale {scale} --out runs/{scale}",
            "claims": [claim.to_dict()], **meta}


def test_three_columns_paper_gpu_cpu(tmp_path):
    gpu = _doc("gpu", [14, 16], [40, 40], device="NVIDIA H100 80GB HBM3", torch="2.11",
               wall_seconds=[300, 250], training_seconds=5400, sizes="500 units", runs=36)
    cpu = _doc("cpu", [10, 10, 10], [21, 19, 20])
    report = R.render(cpu, tmp_path, gpu, "docs/reproduction/gpu/numbers.json").read_text()
    assert "| quantity | paper | `gpu` | `cpu` |" in report  # gpu before cpu, whichever renders
    assert "| parity, multi-head: largest N solved | 100+ (capped) | 40 (40–40), n = 2 | " \
           "20 (19–21), n = 3 |" in report
    assert "| parity: multi-head reaches a larger N than single-head | yes | yes |" in report
    assert "Compared with scale `gpu` (`docs/reproduction/gpu/numbers.json`)" in report
    # every run solved its N in epoch 1: "sooner" is within spread, so partly
    assert "| 1. Multi-head reaches larger N | partly | partly |" in report
    gpu_report = R.render(gpu, tmp_path / "g").read_text()
    assert "Machine: NVIDIA H100 80GB HBM3, torch 2.11; wall time 9.2 min over 2 invocations; " \
           "training, summed over the runs: 90.0 min" in gpu_report
    assert "| quantity | paper | `gpu` |" in gpu_report


def test_numbers_round_trip_and_bad_files(tmp_path):
    doc = R.write_numbers([Claim.from_dict(_doc("cpu", [1, 2], [3, 4])["claims"][0])],
                          {"scale": "cpu", "command": "memtasks reproduce"}, tmp_path)
    assert R.read_numbers(tmp_path / R.NUMBERS) == doc
    (tmp_path / "bad.json").write_text("[1, 2]")
    with pytest.raises(ValueError, match="bad.json is not a reproduction numbers.json"):
        R.read_numbers(tmp_path / "bad.json")


def test_display_path_is_never_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert R.display_path(tmp_path / "runs" / "gpu") == "runs/gpu"
    assert R.display_path("runs/cpu") == "runs/cpu"


def test_committed_cpu_numbers_render_with_the_new_layout(tmp_path):
    doc = R.read_numbers(COMMITTED)
    report = R.render(doc, tmp_path).read_text()
    assert all(f"## Claim {k}:" in report for k in range(1, 10))
    assert "```" not in report and "/work/" not in report
    assert len(list((tmp_path / "figures").glob("claim_*.png"))) == 9


def test_report_only_refuses_another_scale(tmp_path, memtasks_cli):
    (tmp_path / "reproduction").mkdir()
    (tmp_path / "reproduction" / R.NUMBERS).write_text(json.dumps(_doc("cpu", [1], [2])))
    code, _, err = memtasks_cli(["reproduce", "--scale", "gpu", "--out", str(tmp_path),
                                 "--report-only"])
    assert code == 2 and "holds scale 'cpu'" in err[0]
    assert main(["reproduce", "--scale", "cpu", "--out", str(tmp_path), "--report-only"]) == 0
    assert (tmp_path / "reproduction" / "REPORT.md").is_file()


def test_report_only_sets_and_removes_the_note(tmp_path):
    (tmp_path / "reproduction").mkdir()
    (tmp_path / "reproduction" / R.NUMBERS).write_text(json.dumps(_doc("cpu", [1], [2], note="old")))
    report = tmp_path / "reproduction" / "REPORT.md"
    argv = ["reproduce", "--scale", "cpu", "--out", str(tmp_path), "--report-only"]
    assert main(argv) == 0 and "Note: old" in report.read_text()  # kept without --note
    assert main([*argv, "--note", "Measured with the paper protocol."]) == 0
    assert "Note: Measured with the paper protocol." in report.read_text()
    assert R.read_numbers(tmp_path / "reproduction" / R.NUMBERS)["note"] == \
        "Measured with the paper protocol."
    assert main([*argv, "--note", ""]) == 0 and "Note:" not in report.read_text()
