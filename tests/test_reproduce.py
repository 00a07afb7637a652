"""``memtasks reproduce --scale smoke``: every stage runs, the report is whole, reruns are resumable."""

import dataclasses
import json
import struct

import pytest

from agents.cli import main
from agents.reproduce.plan import SCALES, make_plan
from agents.reproduce.run import read_history, train_run


def _png_size(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.mark.slow
def test_smoke_pipeline_writes_report_and_resumes(tmp_path):
    plan = make_plan(SCALES["smoke"])
    victim = plan[0]  # interrupted after its first epoch
    train_run(dataclasses.replace(victim, epochs=1), tmp_path / "runs")
    first = read_history(tmp_path / "runs" / victim.name).records[0]

    assert main(["reproduce", "--scale", "smoke", "--out", str(tmp_path), "--no-progress"]) == 0
    out = tmp_path / "reproduction"
    report = (out / "REPORT.md").read_text()
    numbers = json.loads((out / "numbers.json").read_text())
    assert [c["number"] for c in numbers["claims"]] == list(range(1, 10))
    for k in range(1, 10):
        assert f"## Claim {k}:" in report
        assert f"figures/claim_{k}.png" in report
        width, height = _png_size(out / "figures" / f"claim_{k}.png")
        assert width > 100 and height > 100
    verdicts = {"reproduced", "partly", "not reproduced", "not tested at this scale"}
    assert {c["verdict"] for c in numbers["claims"]} <= verdicts
    assert all(read_history(tmp_path / "runs" / s.name) is not None for s in plan)
    resumed = read_history(tmp_path / "runs" / victim.name)
    assert len(resumed) == victim.epochs and resumed.records[0] == first
    measurements = sorted((tmp_path / "measurements").iterdir())
    assert any(p.name.endswith("-timescales.json") for p in measurements)
    assert any(p.name.endswith("-robustness.json") for p in measurements)

    # rerun: nothing is trained or measured again
    files = [tmp_path / "runs" / s.name / "checkpoint.pt" for s in plan] + measurements
    stamps = [f.stat().st_mtime_ns for f in files]
    assert main(["reproduce", "--scale", "smoke", "--out", str(tmp_path), "--no-progress"]) == 0
    assert [f.stat().st_mtime_ns for f in files] == stamps
    assert json.loads((out / "numbers.json").read_text())["claims"] == numbers["claims"]


def test_dry_run_prints_plan_and_estimate(tmp_path, capsys):
    assert main(["reproduce", "--scale", "cpu", "--out", str(tmp_path), "--dry-run"]) == 0
    text = capsys.readouterr().out
    assert "estimated total" in text and "parity-multi-leaky64-seed0" in text
    assert not (tmp_path / "runs").exists()


def test_bad_scale_exits_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["reproduce", "--scale", "huge", "--out", str(tmp_path)])
    assert exc.value.code == 2
    assert "--scale" in capsys.readouterr().err


def test_paper_plan_is_expressible_as_train_commands():
    plan = make_plan(SCALES["paper"])
    assert len({s.name for s in plan}) == len(plan)
    for spec in plan:
        if spec.init_from is None:
            argv = spec.train_argv("runs", "cuda")
            assert argv[0] == "train" and "--resume" in argv and "cuda" in argv
        else:
            assert any(s.name == spec.init_from[0] for s in plan[:plan.index(spec)])


def test_paper_scale_lists_sweep_runs_and_reports_untested(tmp_path):
    assert main(["reproduce", "--scale", "paper", "--out", str(tmp_path), "--no-progress"]) == 0
    sweep = json.loads((tmp_path / "reproduction" / "sweep_plan.json").read_text())
    assert sweep and all(entry["argv"][0] == "train" for entry in sweep)
    numbers = json.loads((tmp_path / "reproduction" / "numbers.json").read_text())
    assert {c["verdict"] for c in numbers["claims"]} == {"not tested at this scale"}
    assert not any((tmp_path / "runs").glob("*/checkpoint.pt"))
