"""``memtasks reproduce --scale smoke``: every stage runs, the report is whole, reruns are resumable."""

import dataclasses
import json
import struct

import pytest

from agents.experiments.cli import main
from agents.experiments.config import RunConfig, read_history, run_status
from agents.experiments.reproduce import pipeline
from agents.experiments.reproduce.plan import SCALES, make_plan
from agents.experiments.reproduce.run import train_one
from agents.experiments.sweep import ExecutorConfig, SweepResult, TrainJob


def _png_size(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.mark.slow
def test_smoke_pipeline_writes_report_and_resumes(tmp_path):
    plan = make_plan(SCALES["smoke"])
    victim = plan[0]  # interrupted after its first epoch
    train_one(dataclasses.replace(victim, config=dataclasses.replace(victim.config, epochs=1)),
              tmp_path / "runs")
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


def test_paper_plan_is_expressible_as_sweep_jobs(tmp_path):
    plan = make_plan(SCALES["paper"])
    assert len({s.name for s in plan}) == len(plan)
    for spec in plan:
        if spec.init_from is None:
            job = spec.sweep_run("cuda")
            assert job.run_dir(tmp_path) == tmp_path / spec.name
            assert job.config == dataclasses.replace(spec.config, device="cuda")
            assert RunConfig.from_dict(json.loads(json.dumps(job.to_dict()))["config"]) == job.config
        else:
            assert any(s.name == spec.init_from[0] for s in plan[:plan.index(spec)])
            with pytest.raises(ValueError, match="starts from another run"):
                spec.sweep_run()


def test_paper_scale_submits_through_the_sweep(tmp_path, memtasks_cli, monkeypatch):
    calls = []

    def fake(specs, sweep_dir, config, **kwargs):
        calls.append((specs, sweep_dir, config, kwargs))
        return SweepResult(failed=[(specs[0], tmp_path / "job.err")])

    monkeypatch.setattr(pipeline, "run_sweep", fake)
    code, out, _ = memtasks_cli(["reproduce", "--scale", "paper", "--out", str(tmp_path),
                                 "--executor", "slurm", "--partition", "gpu", "--jobs", "8",
                                 "--time", "90", "--no-wait", "--no-progress"])
    assert code == 1 and "1 failed" in out and "job.err" in out  # failures are not dropped
    [(specs, sweep_dir, config, kwargs)] = calls
    plan = make_plan(SCALES["paper"])
    assert sweep_dir == tmp_path / "runs"
    assert [s.run_dir(sweep_dir) for s in specs] == [
        sweep_dir / p.name for p in plan if p.init_from is None]
    assert all(s.config.device == "cuda" for s in specs)
    assert (config.kind, config.partition, config.jobs, config.time, config.gpus) == (
        "slurm", "gpu", 8, 90, 1)
    assert kwargs["wait"] is False
    numbers = json.loads((tmp_path / "reproduction" / "numbers.json").read_text())
    assert {c["verdict"] for c in numbers["claims"]} == {"not tested at this scale"}
    report = (tmp_path / "reproduction" / "REPORT.md").read_text()
    assert f"--scale paper --out {tmp_path} --executor slurm --partition PARTITION" in report


def test_sweep_scale_trains_sources_as_jobs_then_retrains_here(tmp_path, monkeypatch):
    """A tiny scale that does not train locally: its sources go through run_sweep (each job
    trained here as a submitit job would), claim 9's runs train afterwards, and the sweep then
    sees all done."""
    scale = dataclasses.replace(SCALES["smoke"], trains_locally=False)
    submitted = []

    def in_process(specs, sweep_dir, config, **kwargs):
        submitted.extend(specs)
        for spec in specs:
            TrainJob()(spec.config.to_dict(), str(spec.run_dir(sweep_dir)))
        return SweepResult(finished=list(specs))

    monkeypatch.setattr(pipeline, "run_sweep", in_process)
    report, result = pipeline.reproduce(scale, tmp_path, ["reproduce"], progress=False,
                                        executor=ExecutorConfig("local", jobs=2))
    plan = make_plan(scale)
    sources = [s for s in plan if s.init_from is None]
    assert [s.path for s in submitted] == [s.name for s in sources] and result.ok
    assert all(run_status(s.config, s.run_dir(tmp_path / "runs")) == "done"
               for s in submitted)  # rerun skips
    assert all(read_history(tmp_path / "runs" / s.name) is not None for s in plan)
    numbers = json.loads((report.parent / "numbers.json").read_text())
    assert numbers["claims"][8]["verdict"] != "not tested at this scale"


def test_bad_executor_flag_exits_2_with_one_line(tmp_path, memtasks_cli):
    code, _, err = memtasks_cli(["reproduce", "--scale", "paper", "--out", str(tmp_path),
                                 "--executor", "pbs"])
    assert code == 2 and len(err) == 1 and "--executor" in err[0]
    assert not (tmp_path / "runs").exists()
