"""``memtasks sweep``: the grid, the executors' parameters, a real local sweep that resumes and fails loudly."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os

import pytest

from agents.experiments import sweep, sweep_cli
from agents.experiments.cli import main
from agents.experiments.config import RunConfig, run_status, train_run
from agents.experiments.sweep import (ExecutorConfig, Grid, SweepResult, SweepRun, make_executor,
                                      read_sweep_file, run_sweep)

TINY = {"hidden": 4, "epochs": 2, "steps_per_epoch": 2, "eval_steps": 1, "batch_size": 4}


def test_grid_is_the_product_and_names_what_varies():
    runs = Grid(task=["parity", "dms"], curriculum=["single", "multi"], model=["leaky", "gru"],
                tau=["trained", 2.0], seeds=[0, 1], options={"hidden": [8, 16], "epochs": 3}).runs()
    # leaky: 2 tau settings, gru: trained only -> 3 model/tau pairs
    assert len(runs) == 2 * 2 * 3 * 2 * 2
    conditions = {r.condition for r in runs}
    assert len(conditions) == len(runs) // 2
    assert "dms-single-leaky-tau-fixed2-hidden16" in conditions
    assert "parity-multi-gru-tau-trained-hidden8" in conditions
    assert all("epochs" not in c for c in conditions)  # constant settings stay out of the names
    run = next(r for r in runs if r.condition == "dms-single-leaky-tau-fixed2-hidden16")
    assert run.config == RunConfig(task="dms", curriculum="single", fixed_tau=2.0, hidden=16,
                                   epochs=3, seed=run.config.seed)
    assert run.run_dir("S") == run.run_dir("S").parent / f"seed_{run.config.seed}"


@pytest.mark.parametrize("grid, names", [
    (Grid(options={"hidden": 0}), "hidden=0"),
    (Grid(options={"bogus": 1}), "bogus"),
    (Grid(options={"seed": 3}), "seed"),
    (Grid(options={"logdir": "x"}), "logdir"),
    (Grid(model=["lstm"], tau=[1.5]), "grid is empty"),
])
def test_bad_grids_are_refused_naming_the_problem(grid, names):
    with pytest.raises(ValueError, match=names):
        grid.runs()


@pytest.mark.parametrize("path", ["../../../x", "/tmp/x", "a/../../x", ""])
def test_run_paths_stay_inside_the_sweep(path, tmp_path):
    with pytest.raises(ValueError, match="path="):
        SweepRun(RunConfig(), path, "c")
    (tmp_path / "sweep.json").write_text(json.dumps(
        {"runs": [{"path": path, "condition": "c", "config": RunConfig().to_dict()}]}))
    with pytest.raises(ValueError, match="sweep.json"):
        read_sweep_file(tmp_path)


def test_grid_file_and_flags(tmp_path, capsys):
    config = tmp_path / "grid.toml"
    config.write_text('task = ["dms"]\ncurriculum = ["single", "multi"]\ntau = ["trained", 1]\n'
                      'seeds = [3]\n[set]\nhidden = 8\nheads = [[2, 3]]\n')
    parser = main.__globals__["build_parser"]()
    args = parser.parse_args(["sweep", str(tmp_path / "S"), "--config", str(config),
                              "--curriculum", "sliding", "--set", "epochs=4,5"])
    runs = sweep_cli.grid_from_args(args).runs()
    assert sorted({r.condition for r in runs}) == [
        "dms-sliding-leaky-tau-fixed1-epochs4", "dms-sliding-leaky-tau-fixed1-epochs5",
        "dms-sliding-leaky-tau-trained-epochs4", "dms-sliding-leaky-tau-trained-epochs5"]
    config = runs[0].config
    assert (config.heads, config.hidden, config.seed, config.epochs) == ((2, 3), 8, 3, 4)


def test_leak_and_repeats_are_axes(tmp_path):
    """--set takes a flag's several values (space-separated) as one value, commas as an axis."""
    parser = main.__globals__["build_parser"]()
    args = parser.parse_args(["sweep", str(tmp_path / "S"), "--set", "leak=inside,outside",
                              "--set", "repeats=1,1 2 4", "--set", "heads=2 3"])
    runs = sweep_cli.grid_from_args(args).runs()
    assert sorted(r.condition for r in runs) == [
        f"parity-multi-leaky-tau-trained-leak{leak}-repeats{r}"
        for leak in ("inside", "outside") for r in ("1", "1_2_4")]
    assert {(r.config.leak, r.config.repeats) for r in runs} == {
        (leak, r) for leak in ("inside", "outside") for r in ((1,), (1, 2, 4))}
    assert {r.config.heads for r in runs} == {(2, 3)}


@pytest.mark.parametrize("argv, names", [
    (["sweep"], "SWEEP_DIR"),
    (["sweep", "S", "--task", "xor"], "--task"),
    (["sweep", "S", "--tau", "0.5"], "--tau"),
    (["sweep", "S", "--set", "hidden"], "--set"),
    (["sweep", "S", "--set", "hidden=0"], "hidden=0"),
    (["sweep", "S", "--executor", "pbs"], "--executor"),
    (["sweep", "S", "--jobs", "0"], "--jobs"),
    (["sweep", "S", "--poll", "-1"], "--poll"),
    (["sweep", "S", "--config", "missing.toml"], "--config"),
    (["sweep", "S"], "sweep.json"),
])
def test_bad_flags_exit_2_with_one_line(argv, names, memtasks_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, err = memtasks_cli(argv)
    assert code == 2 and len(err) == 1, err
    assert names in err[0] and "error" in err[0]


def test_bad_config_file_is_one_line(tmp_path, memtasks_cli):
    config = tmp_path / "grid.json"
    config.write_text('{"tasks": ["parity"]}')
    code, _, err = memtasks_cli(["sweep", str(tmp_path / "S"), "--config", str(config)])
    assert code == 2 and len(err) == 1 and "'tasks'" in err[0]


def test_slurm_executor_gets_the_cluster_parameters(tmp_path, monkeypatch):
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "srun").write_text("#!/bin/sh\nexit 1\n")  # submitit only checks that srun exists
    (fake / "srun").chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake}{os.pathsep}{os.environ['PATH']}")
    config = ExecutorConfig("slurm", jobs=4, time=90, cpus=2, gpus=1, mem_gb=8, partition="gpu")
    executor = make_executor(config, tmp_path / "logs" / "%j")
    assert executor.cluster == "slurm"
    assert executor._executor.parameters == {
        "job_name": "memtasks-sweep", "time": 90, "gpus_per_node": 1, "cpus_per_task": 2,
        "mem": "8GB", "partition": "gpu", "array_parallelism": 4}
    script = executor._executor._make_submission_file_text("CMD", "UID")
    assert "#SBATCH --partition=gpu" in script and "#SBATCH --time=90" in script


def test_local_executor_parameters(monkeypatch):
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    params = ExecutorConfig("local", jobs=3, cpus=1, partition="ignored").parameters()
    assert params == {"name": "memtasks-sweep", "timeout_min": 24 * 60, "gpus_per_node": 0,
                      "cpus_per_task": 1}
    assert ExecutorConfig("local", jobs=8, gpus=1).parameters()["gpus_per_node"] == 1
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "3")  # local jobs keep this process's GPU
    assert ExecutorConfig("local", jobs=8, gpus=1).parameters()["local_setup"] == [
        "export CUDA_VISIBLE_DEVICES=3"]
    assert "local_setup" not in ExecutorConfig("local", gpus=0).parameters()
    with pytest.raises(ValueError, match="executor='pbs'"):
        ExecutorConfig("pbs").parameters()


def _epochs(run_dir):
    return [r["epoch"] for r in json.loads((run_dir / "history.json").read_text())["records"]]


def test_local_sweep_resumes_skips_and_reports_failures(tmp_path, capsys, memtasks_cli):
    """2 conditions x 2 seeds: one run interrupted after epoch 1, one already done, one fresh
    pair; plus a run that fails in its job. Re-submitting then skips all finished runs."""
    sweep_dir = tmp_path / "sweep"
    runs = Grid(curriculum=["single", "multi"], seeds=[0, 1], options=TINY).runs()
    interrupted, done = runs[0], runs[1]
    short = dataclasses.replace(interrupted.config, epochs=1)
    train_run(short, interrupted.run_dir(sweep_dir))  # "killed" after epoch 1
    train_run(done.config, done.run_dir(sweep_dir))
    first_epoch = json.loads((interrupted.run_dir(sweep_dir) / "history.json").read_text())
    done_stamp = (done.run_dir(sweep_dir) / "checkpoint.pt").stat().st_mtime_ns
    assert [run_status(r.config, r.run_dir(sweep_dir)) for r in runs] == [
        "partial", "done", "new", "new"]
    broken = SweepRun(RunConfig(**TINY, init_from=("no-such-run", 3)), "broken/seed_0", "broken")

    messages = []
    result = run_sweep(runs + [broken], sweep_dir, "local", jobs=2, poll=0.2, progress=False,
                       log=messages.append)
    assert result.skipped == [done]
    assert sorted(r.path for r in result.finished) == sorted(r.path for r in (runs[0], *runs[2:]))
    assert [run for run, _ in result.failed] == [broken] and not result.ok
    log = result.failed[0][1]
    assert log.is_file() and "never solved N=3" in log.read_text()
    assert "skipped" in messages[0]

    for run in runs:
        assert _epochs(run.run_dir(sweep_dir)) == [1, 2]
    resumed = json.loads((interrupted.run_dir(sweep_dir) / "history.json").read_text())
    assert resumed["records"][0] == first_epoch["records"][0]  # epoch 1 was not trained again
    assert (done.run_dir(sweep_dir) / "checkpoint.pt").stat().st_mtime_ns == done_stamp
    recorded = json.loads((sweep_dir / "sweep.json").read_text())
    assert len(recorded["runs"]) == 5 and "broken" in recorded["conditions"]

    # submitting again from sweep.json alone: finished runs skipped, the broken one fails again
    code, out, _ = memtasks_cli(["sweep", str(sweep_dir), "--poll", "0.2", "--no-progress"])
    assert code == 1
    assert "0 finished, 4 skipped (already done), 1 failed" in out
    assert "broken/seed_0" in out and "log:" in out


def test_cli_exit_code_follows_failures(tmp_path, memtasks_cli, monkeypatch):
    def fake(specs, sweep_dir, config, **kwargs):
        assert (config.kind, config.jobs, config.cpus, config.gpus) == ("local", 3, 1, 0)
        return SweepResult(finished=specs)

    monkeypatch.setattr(sweep_cli, "run_sweep", fake)
    argv = ["sweep", str(tmp_path), "--seeds", "0", "1", "--jobs", "3", "--cpus", "1"]
    code, out, _ = memtasks_cli(argv)
    assert code == 0 and "2 finished" in out


class _DoneJob:
    """A submitit job that already ran (in process)."""

    def __init__(self, error=None):
        self.error = error

    def done(self):
        return True

    def exception(self):
        return self.error


class _InProcess:
    """A submitit executor stand-in that runs each job when it is submitted."""

    def __init__(self, ran):
        self.ran = ran

    def batch(self):
        return contextlib.nullcontext()

    def submit(self, fn, config, run_dir):
        self.ran.append(run_dir)
        return _DoneJob()


def test_runs_wait_until_ready_and_never_ready_ones_are_blocked(tmp_path, monkeypatch):
    ran = []
    monkeypatch.setattr(sweep, "make_executor", lambda config, folder: _InProcess(ran))
    first, second, never = (SweepRun(RunConfig(**TINY, seed=s), f"r{s}", "c") for s in (0, 1, 2))
    # second is ready once first ran; never is never ready
    ready = {first.path: lambda: True, second.path: lambda: str(first.run_dir(tmp_path)) in ran,
             never.path: lambda: False}
    result = run_sweep([second, never, first], tmp_path, "local", jobs=3, poll=0.01,
                       progress=False, ready=lambda run: ready[run.path]())
    assert ran == [str(first.run_dir(tmp_path)), str(second.run_dir(tmp_path))]
    assert result.finished == [first, second] and result.blocked == [never] and result.ok
