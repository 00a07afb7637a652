"""``memtasks reproduce --scale smoke``: every stage runs, the report is whole, reruns are resumable."""

import dataclasses
import json
import struct

import pytest

import agents
from agents.experiments.cli import main
from agents.experiments.config import RunConfig, read_history, run_status
from agents.experiments.reproduce import cost, measure, pipeline
from agents.experiments.reproduce.plan import SCALES, arm, make_plan
from agents.experiments.reproduce.run import train_one
from agents.experiments.reproduce.verdict import VERDICTS
from agents.experiments.sweep import ExecutorConfig, SweepResult, TrainJob
from agents.training import History, runstate
from agents.training.loop import EpochRecord


def _png_size(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


@pytest.mark.slow
def test_smoke_pipeline_writes_report_and_resumes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path.parent)  # the report shows --out relative to here
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
    assert {c["verdict"] for c in numbers["claims"]} <= set(VERDICTS)
    assert str(tmp_path) not in report and "```" not in report  # no machine paths, no dumps
    assert "0.0 min" not in report and numbers["wall_seconds"][0] > 0
    assert numbers["command"] == f"memtasks reproduce --scale smoke --out {tmp_path.name}"
    assert all(read_history(tmp_path / "runs" / s.name) is not None for s in plan)
    resumed = read_history(tmp_path / "runs" / victim.name)
    assert len(resumed) == victim.epochs and resumed.records[0] == first
    measurements = sorted((tmp_path / "measurements").iterdir())
    assert any(p.name.endswith("-paper-timescales.json") for p in measurements)
    assert any(p.name.endswith("-paper-robustness.json") for p in measurements)
    assert numbers["protocol"] == "paper"  # the default for claims 5–7
    assert report.count("Measured with the **paper protocol**") == 3

    # rerun: nothing is trained or measured again
    files = [tmp_path / "runs" / s.name / "checkpoint.pt" for s in plan] + measurements
    stamps = [f.stat().st_mtime_ns for f in files]
    assert main(["reproduce", "--scale", "smoke", "--out", str(tmp_path), "--no-progress"]) == 0
    assert [f.stat().st_mtime_ns for f in files] == stamps
    again = json.loads((out / "numbers.json").read_text())
    assert again["claims"] == numbers["claims"] and len(again["wall_seconds"]) == 2

    # the interrupted-then-resumed reproduction gives the numbers of one uninterrupted call
    one = tmp_path / "one"
    assert main(["reproduce", "--scale", "smoke", "--out", str(one), "--no-progress",
                 "--note", "one call"]) == 0
    in_one = json.loads((one / "reproduction" / "numbers.json").read_text())
    assert in_one["claims"] == numbers["claims"] and in_one["note"] == "one call"
    assert "Note: one call" in (one / "reproduction" / "REPORT.md").read_text()

    # measured two runs at a time, in processes of their own: the same numbers
    measured = [s for s in plan if 5 in s.claims]
    jobs = [(tmp_path / "runs" / s.name, None, s.task) for s in measured]
    scale = SCALES["smoke"]
    apart = measure.measure_runs(jobs, scale, tmp_path / "apart", workers=2, progress=False)
    here = measure.measure_runs(jobs, scale, tmp_path / "here", workers=1, progress=False)
    assert apart == here and all(taus for taus, _ in here)

    # the report is a function of numbers.json: re-rendered without the runs, it is the same
    before = (out / "REPORT.md").read_text()
    (out / "REPORT.md").unlink()
    assert main(["reproduce", "--scale", "smoke", "--out", str(tmp_path), "--report-only"]) == 0
    assert (out / "REPORT.md").read_text() == before


def _multi_head_run(run):
    """A run whose curriculum solved N=3 at epoch 2, N=4 at epoch 3, and trains N=5 at epoch 4."""
    (run / "models").mkdir(parents=True)
    records = []
    for epoch, heads, acc in [(1, (2, 3), 0.7), (2, (2, 3), 0.99), (3, (2, 3, 4), 0.99),
                              (4, (2, 3, 4, 5), 0.8)]:
        agents.save(agents.LeakyRNN(4, heads), run / "models" / f"epoch_{epoch:04d}.pt")
        records.append(EpochRecord(epoch, heads, 0.5, dict.fromkeys(heads, acc), 1.0, 1.0))
    runstate.save_json(History(records, 0.98, "epochs").to_dict(), run / "history.json")
    return run


def test_robustness_at_N_measures_the_network_of_that_stage_not_the_latest(tmp_path, monkeypatch):
    """The paper measures the network its curriculum left at N (heads up to N), as --init-from
    takes it; a multi-head run trained past N still has a head for N in later networks."""
    run = _multi_head_run(tmp_path / "run")
    loaded = []
    monkeypatch.setattr(measure, "load", lambda path: loaded.append(path.name) or "model")
    monkeypatch.setattr(measure, "_measure_robustness", lambda model, N, task, scale, protocol: {})
    for N in (3, 4):
        measure.robustness(run, N, "parity", SCALES["smoke"], tmp_path / "cache")
    assert loaded == ["epoch_0002.pt", "epoch_0003.pt"]
    with pytest.raises(LookupError, match="never solved N=5"):
        measure.robustness(run, 5, "parity", SCALES["smoke"], tmp_path / "cache")


@pytest.mark.parametrize("protocol, kind", [("paper", "single"), ("project", "group")])
def test_robustness_numbers_have_one_shape_in_both_protocols(tmp_path, protocol, kind):
    run = _multi_head_run(tmp_path / "run")
    numbers = measure.robustness(run, 3, "parity", SCALES["smoke"], tmp_path / "cache", protocol)
    assert numbers["protocol"] == protocol and numbers["ablation_kind"] == kind
    assert set(numbers["ablation"]) == {"longest", "shortest", "random"}
    assert {t: p["epsilon"] for t, p in numbers["perturbation"].items()} == {
        "weights": measure.EPS_WEIGHTS, "tau": measure.EPS_TAU}
    assert 0.0 <= numbers["baseline"] <= 1.0
    assert numbers == measure.robustness(run, 3, "parity", SCALES["smoke"], tmp_path / "cache",
                                         protocol)  # cached: the same numbers


def test_dry_run_prints_plan_and_estimate(tmp_path, capsys):
    assert main(["reproduce", "--scale", "cpu", "--out", str(tmp_path), "--dry-run"]) == 0
    text = capsys.readouterr().out
    assert "estimated wall time, one run at a time" in text
    assert "parity-multi-leaky64-seed0" in text and "one CPU thread" in text
    assert not (tmp_path / "runs").exists()


def test_gpu_dry_run_without_a_gpu_estimates_for_an_h100(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cost.torch.cuda, "is_available", lambda: False)
    assert main(["reproduce", "--scale", "gpu", "--out", str(tmp_path), "--dry-run"]) == 0
    text = capsys.readouterr().out
    assert "no GPU on this machine: times estimated for an NVIDIA H100" in text
    assert "15 runs at a time sharing one GPU" in text
    minutes = float(text.split("estimated wall time, 15 runs at a time sharing one GPU: ")[1]
                    .split(" min")[0])
    assert minutes < 10  # designed to fit ten minutes on one H100
    for spec in make_plan(SCALES["gpu"]):
        assert f"{spec.device:<4} ~" in text.split(spec.name)[0].splitlines()[-1]


def test_gpu_scale_is_the_papers_network_capped_per_arm():
    scale = SCALES["gpu"]
    plan = make_plan(scale)
    leaky = [s for s in plan if s.model == "leaky"]
    assert {(s.hidden, s.batch_size, s.steps_per_epoch, s.eval_steps, s.lr, s.device)
            for s in leaky} == {(500, 256, 600, 50, 0.05, "cuda")}
    assert all(s.time_budget is not None and s.epochs <= 50 for s in plan)
    assert {arm(s.config) for s in plan} == {"single", "multi", "dms", "fixed_tau", "none",
                                             "gated"}
    assert all(s.epochs == scale.epochs_of(arm(s.config)) for s in plan if s.init_from is None)
    multi = [s for s in plan if arm(s.config) == "multi"]
    assert all(s.max_n > 30 and s.epochs > 30 for s in multi)  # multi-head far past N = 30
    assert {s.fixed_tau for s in plan if 3 in s.claims} == {1.0, 2.0, 3.0}
    assert {s.model for s in plan if 8 in s.claims} == {"gru", "lstm"}
    retrain = [s for s in plan if s.init_from is not None]
    assert len({s.init_from[0] for s in retrain}) == 4  # two seeds of each curriculum


def test_bad_scale_exits_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["reproduce", "--scale", "huge", "--out", str(tmp_path)])
    assert exc.value.code == 2
    assert "--scale" in capsys.readouterr().err


def test_paper_plan_is_expressible_as_sweep_jobs(tmp_path):
    plan = make_plan(SCALES["paper"])
    assert len({s.name for s in plan}) == len(plan)
    for spec in plan:
        job = spec.sweep_run()
        assert job.run_dir(tmp_path) == tmp_path / spec.name and job.config == spec.config
        assert RunConfig.from_dict(json.loads(json.dumps(job.to_dict()))["config"]) == job.config
        if spec.init_from is not None:  # its source is a sibling in the plan, listed before it
            assert any(s.name == spec.init_from[0] for s in plan[:plan.index(spec)])


def test_paper_scale_submits_through_the_sweep(tmp_path, memtasks_cli, monkeypatch):
    calls = []

    def fake(specs, sweep_dir, config, **kwargs):
        calls.append((specs, sweep_dir, config, kwargs))
        return SweepResult(failed=[(specs[0], tmp_path / "job.err")],
                           blocked=[s for s in specs if s.config.init_from])

    monkeypatch.setattr(pipeline, "run_sweep", fake)
    code, out, _ = memtasks_cli(["reproduce", "--scale", "paper", "--out", str(tmp_path),
                                 "--executor", "slurm", "--partition", "gpu", "--jobs", "8",
                                 "--time", "90", "--no-wait", "--no-progress"])
    assert code == 1 and "1 failed" in out and "job.err" in out  # failures are not dropped
    [(specs, sweep_dir, config, kwargs)] = calls
    plan = make_plan(SCALES["paper"])
    assert sweep_dir == tmp_path / "runs"
    assert sorted(s.path for s in specs) == sorted(p.name for p in plan)
    assert all(s.config.device == "cuda" for s in specs)
    assert (config.kind, config.partition, config.jobs, config.time, config.gpus) == (
        "slurm", "gpu", 8, 90, 1)
    assert kwargs["wait"] is False and callable(kwargs["ready"])
    numbers = json.loads((tmp_path / "reproduction" / "numbers.json").read_text())
    assert {c["verdict"] for c in numbers["claims"]} == {"not tested at this scale"}
    assert "still running" in numbers["claims"][8]["note"]
    assert "--executor slurm --jobs 8" in numbers["command"]


def test_sweep_scale_retrains_once_sources_solved_their_N(tmp_path, monkeypatch):
    """A tiny scale trained as sweep jobs (each trained here as a submitit job would, once
    ``ready``): claim 9's runs wait for their sources; a rerun then finds all done."""
    scale = dataclasses.replace(SCALES["smoke"], trains_locally=False, jobs=2)
    order = []

    def in_process(specs, sweep_dir, config, *, ready, **kwargs):
        pending = list(specs)
        while started := [s for s in pending if ready(s)]:
            for spec in started:
                pending.remove(spec)
                order.append(spec)
                TrainJob()(spec.config.to_dict(), str(spec.run_dir(sweep_dir)))
        return SweepResult(finished=order, blocked=pending)

    monkeypatch.setattr(pipeline, "run_sweep", in_process)
    report, result = pipeline.reproduce(scale, tmp_path, "memtasks reproduce", progress=False,
                                        executor=ExecutorConfig("local", jobs=2))
    plan = make_plan(scale)
    assert sorted(s.path for s in order) == sorted(p.name for p in plan) and result.ok
    for spec in (s for s in order if s.config.init_from):
        assert [s.path for s in order].index(spec.config.init_from[0]) < order.index(spec)
    assert all(run_status(s.config, s.run_dir(tmp_path / "runs")) == "done" for s in order)
    numbers = json.loads((report.parent / "numbers.json").read_text())
    assert numbers["claims"][8]["verdict"] != "not tested at this scale"


def test_bad_executor_flag_exits_2_with_one_line(tmp_path, memtasks_cli):
    code, _, err = memtasks_cli(["reproduce", "--scale", "paper", "--out", str(tmp_path),
                                 "--executor", "pbs"])
    assert code == 2 and len(err) == 1 and "--executor" in err[0]
    assert not (tmp_path / "runs").exists()
