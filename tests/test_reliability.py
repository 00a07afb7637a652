"""Reliability guarantees beyond bad input: one writer per run, file modes, failed writes, Ctrl-C,
the time budget, curriculum state, sweeps that stay in their directory, honest analysis figures.

(``test_bad_input.py`` holds the table of refused input; this file the behaviours around it.)
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch

import agents
import curricula
import memtasks  # noqa: F401  (registers the envs)
from agents import LeakyRNN, analysis
from agents.analysis import figures
from agents.analysis.report import load_stages
from agents.experiments.config import RunConfig
from agents.experiments.summarize import write_summary
from agents.training import checkpoint, runlock, runstate
from agents.training.loop import EpochRecord, History
from agents.training.monitor import Monitor
from tests.test_bad_input import ROOT, TINY, finished_run, run_cli, snapshot, tiny_train


def parity(**kwargs):
    return gym.make("memtasks/Parity-v0", **kwargs)


@pytest.fixture
def start_cli():
    """Start ``python -m agents.experiments.cli argv`` as a real child process (for signals),
    with Ctrl-C's default action even where the tests run as a background job, which ignores
    it; whatever is left of its process group is killed when the test ends, passed or failed."""
    started: list[subprocess.Popen] = []

    def start(argv: list[str], cwd: Path) -> subprocess.Popen:
        started.append(subprocess.Popen(
            [sys.executable, "-m", "agents.experiments.cli", *argv], cwd=cwd,
            env=dict(os.environ, PYTHONPATH=str(ROOT)), stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, text=True, start_new_session=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)))
        return started[-1]

    yield start
    for proc in started:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()


def wait_for(path: Path, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


# ---- one writer per run directory --------------------------------------------------------

def test_a_second_writer_is_refused_naming_the_holder(tmp_path):
    (tmp_path / "run").mkdir()
    with runlock.RunLock(tmp_path / "run"):  # this process trains there, as far as anyone knows
        code, err = run_cli(["train", *TINY, "--logdir", str(tmp_path / "run")], tmp_path)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1, err
    assert f"process {os.getpid()} on {socket.gethostname()}" in lines[0]
    assert not (tmp_path / "run" / "checkpoint.pt").exists()


def test_the_lock_of_a_killed_run_is_taken_over(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from agents.training.runlock import RunLock; "
         "RunLock(sys.argv[1]).acquire(); print('locked', flush=True); time.sleep(600)", str(run)],
        env=dict(os.environ, PYTHONPATH=str(ROOT)), stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    with pytest.raises(runlock.RunInUse, match=f"process {holder.pid} "):
        tiny_train(tmp_path)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert (run / runlock.LOCK).read_text().split()[0] == str(holder.pid)  # left behind, stale
    history = tiny_train(tmp_path)
    assert len(history) == 1 and not (run / runlock.LOCK).exists()


def test_two_locks_on_one_directory_exclude_each_other(tmp_path):
    with runlock.RunLock(tmp_path):
        with pytest.raises(runlock.RunInUse, match=str(os.getpid())):
            runlock.RunLock(tmp_path).acquire()
    with runlock.RunLock(tmp_path):  # released: free again
        pass


# ---- files: modes, failed writes -----------------------------------------------------------

@pytest.mark.parametrize("umask", [0o022, 0o002])
def test_run_files_honour_the_umask(umask, tmp_path):
    old = os.umask(umask)
    try:
        run = finished_run(tmp_path)
    finally:
        os.umask(old)
    files = [p for p in run.rglob("*") if p.is_file()]
    assert {p.name for p in files} >= {"checkpoint.pt", "history.json", "epoch_0001.pt"}
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask, path


def test_a_full_disk_is_an_oserror_naming_the_file(tmp_path):
    with pytest.raises(OSError) as caught:  # torch's own writer says only "basic_ios::clear"
        checkpoint.torch_save({"w": torch.zeros(1000)}, "/dev/full")
    assert caught.value.errno == 28
    target = tmp_path / "checkpoint.pt"
    target.write_bytes(b"previous")
    with pytest.raises(checkpoint.WriteError) as caught:
        checkpoint.write_atomic(target, lambda tmp: checkpoint.torch_save({}, "/dev/full"))
    assert str(caught.value) == f"cannot write '{target}': No space left on device"
    assert target.read_bytes() == b"previous" and not list(tmp_path.glob("*.tmp"))


def test_a_file_size_limit_ends_train_with_one_line_and_keeps_the_run(tmp_path):
    run = finished_run(tmp_path)
    before = snapshot(run)

    def limit() -> None:  # ulimit -f: a model file and the events fit, a checkpoint does not
        resource.setrlimit(resource.RLIMIT_FSIZE, (8192, 8192))
    code, err = run_cli(["train", *TINY, "--epochs", "2", "--resume", "--logdir", str(run)],
                        tmp_path, before=limit)
    lines = err.strip().splitlines()
    assert code == 1 and len(lines) == 1, err
    assert lines[0] == (f"memtasks train: error: cannot write '{run / 'checkpoint.pt'}': "
                        f"File too large")
    after = snapshot(run)
    assert after["checkpoint.pt"] == before["checkpoint.pt"]
    assert json.loads(after["history.json"]) == json.loads(before["history.json"])


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_an_unwritable_models_directory_is_named_up_front(tmp_path):
    run = finished_run(tmp_path)
    (run / "models").chmod(0o500)
    try:
        code, err = run_cli(["train", *TINY, "--epochs", "2", "--resume", "--logdir", str(run)],
                            tmp_path)
    finally:
        (run / "models").chmod(0o700)
    assert code == 2 and "models" in err and "not writable" in err


def test_loading_allocates_nothing_before_the_shapes_are_checked(tmp_path, monkeypatch):
    """A small file whose config claims 30,000 units is refused without building that network."""
    path = tmp_path / "m.pt"
    agents.save(LeakyRNN(4, (2,)), path)
    payload = torch.load(path, weights_only=True)
    payload["config"]["hidden_size"] = 30_000
    torch.save(payload, path)
    built = []

    class Spy(LeakyRNN):
        def __init__(self, *args, **kwargs):
            built.append(torch.empty(0).device.type)  # where the constructor allocates
            super().__init__(*args, **kwargs)
    monkeypatch.setitem(checkpoint.KINDS, "leaky", Spy)
    with pytest.raises(ValueError, match="m.pt.*shape"):
        agents.load(path)
    assert built == ["meta"]


# ---- Ctrl-C ----------------------------------------------------------------------------------

@pytest.mark.slow  # ~10 s: a fresh interpreter trains until its first checkpoint
def test_ctrl_c_in_train_says_what_was_kept_and_exits_130(tmp_path, start_cli):
    run = tmp_path / "run"
    proc = start_cli(["train", *TINY, "--epochs", "100000", "--steps-per-epoch", "20",
                      "--logdir", str(run)], tmp_path)
    wait_for(run / "history.json")
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C in a terminal: the whole process group
    _, err = proc.communicate(timeout=60)
    lines = err.strip().splitlines()
    assert proc.returncode == 130 and len(lines) == 1, err
    assert "interrupted" in lines[0]
    assert lines[0].endswith(f"continue with: memtasks train --logdir {run} --resume")
    kept = len(History.read(run / "history.json"))
    assert f"epoch{'s 1-' if kept > 1 else ' '}{kept}" in lines[0]
    assert not (run / runlock.LOCK).exists()
    code, err = run_cli(["train", "--logdir", str(run), "--resume", "--epochs", str(kept + 1)],
                        tmp_path)  # the hint works: the run's own settings come from the run
    assert code == 0, err
    assert len(History.read(run / "history.json")) == kept + 1


@pytest.mark.slow  # ~20 s: a sweep starts a job process that trains until its first checkpoint
def test_ctrl_c_in_sweep_cancels_its_jobs_and_exits_130(tmp_path, start_cli):
    sweep = tmp_path / "grid"
    proc = start_cli(["sweep", str(sweep), "--set", "hidden=4", "--set", "epochs=100000",
                      "--set", "steps-per-epoch=20", "--set", "batch-size=4", "--poll", "0.2",
                      "--no-progress"], tmp_path)
    history = sweep / "parity-multi-leaky-tau-trained" / "seed_0" / "history.json"
    wait_for(history)
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C in a terminal: the whole process group
    _, err = proc.communicate(timeout=60)
    lines = err.strip().splitlines()
    assert proc.returncode == 130 and len(lines) == 1, err
    assert "interrupted" in lines[0] and "1 running jobs cancelled" in lines[0]
    time.sleep(3)  # a job that was not cancelled would write another epoch meanwhile
    epochs = len(History.read(history))
    time.sleep(3)
    assert len(History.read(history)) == epochs


# ---- the time budget -------------------------------------------------------------------------

class Clock:
    """A fake ``time.perf_counter`` that advances ``tick`` seconds per call."""

    def __init__(self, tick: float):
        self.now, self.tick = 1000.0, tick

    def __call__(self) -> float:
        self.now += self.tick
        return self.now


def test_the_time_budget_holds_within_one_evaluation(tmp_path, monkeypatch):
    """An epoch far longer than the budget ends when the budget does, then evaluates once."""
    monkeypatch.setattr(time, "perf_counter", Clock(0.1))
    history = agents.train(LeakyRNN(4, (2,)), parity(N=2), epochs=5, steps_per_epoch=10_000,
                           eval_steps=1, batch_size=4, time_budget=3.0, progress=False)
    (record,) = history.records
    assert history.stop_reason == "time_budget"
    assert 0 < record.steps < 100  # 3 s of 0.1 s ticks, not 10,000 steps


def test_the_progress_bar_counts_the_steps_the_budget_allows(monkeypatch):
    clock = Clock(0.0)
    monkeypatch.setattr(time, "perf_counter", clock)
    monitor = Monitor(None, {}, epochs=1000, steps_per_epoch=100, progress=True,
                      deadline=clock.now + 50.0)
    for _ in range(10):  # 10 steps in 2.5 s: 200 fit in the 50 s budget
        clock.now += 0.25
        monitor.step()
    assert monitor.bar.total == 200
    clock.now += 22.5  # the epoch (100 steps) took 25 s; 25 s are left: 1 more epoch
    monitor.bar.n = 100
    monitor.epoch(EpochRecord(1, (2,), 0.5, {2: 0.6}, 25.0, 40.0), None)
    assert monitor.bar.total == 200
    clock.now += 25.0  # the second epoch took 25 s too: none is left
    monitor.bar.n = 200
    monitor.epoch(EpochRecord(2, (2,), 0.5, {2: 0.6}, 25.0, 40.0), None)
    assert monitor.bar.total == 200
    monitor.close()


# ---- curriculum state: all or nothing --------------------------------------------------------

@pytest.mark.parametrize("changes", [
    {"epoch": -1}, {"finished": "no"}, {"heads": [2, 3, 9]},
    {"recent": [[[1.5, 1, 0], [2, 2, 2]]]}, {"changes": [{"epoch": 1}]},
    {"stage_reached": [[2, 0.5]]},
], ids=["epoch", "finished", "above max_N", "float counts", "change", "stage"])
def test_a_refused_curriculum_state_changes_nothing(changes):
    """Each state names other heads (2, 3, 4) than the env's: applied first, they would show."""
    env = curricula.MultiHead(parity(N=2), max_N=4)
    env.update({2: 0.99})
    before = (env.unwrapped.heads, env.state_dict())
    with pytest.raises((TypeError, ValueError)):
        env.load_state_dict(before[1] | {"heads": [2, 3, 4]} | changes)
    assert (env.unwrapped.heads, env.state_dict()) == before


def test_a_valid_curriculum_state_round_trips():
    env = curricula.MultiHead(parity(N=2), max_N=4)
    env.update({2: 0.99})
    state = env.state_dict()
    other = curricula.MultiHead(parity(N=2), max_N=4)
    other.load_state_dict(state)
    assert other.state_dict() == state and other.unwrapped.heads == (2, 3)


# ---- sweeps stay inside their directory; summaries skip what they cannot read ----------------

def test_a_sweep_file_cannot_send_a_run_outside_the_sweep(tmp_path):
    sweep = tmp_path / "a" / "grid"
    sweep.mkdir(parents=True)
    config = RunConfig(hidden=4, epochs=1, steps_per_epoch=1, eval_steps=1, batch_size=4)
    for path in ("../../escaped", "x/../../../escaped", str(tmp_path / "escaped")):
        runs = [{"path": path, "condition": "c", "config": config.to_dict()}]
        (sweep / "sweep.json").write_text(json.dumps({"runs": runs}))
        code, err = run_cli(["sweep", str(sweep), "--no-progress"], tmp_path)
        assert code == 2 and f"path={path!r} is not accepted" in err, err
        assert not (tmp_path / "escaped").exists()
        assert sorted(p.name for p in tmp_path.iterdir()) == [".stderr", "a"]


def test_summarize_skips_unreadable_runs_naming_them(tmp_path, capsys):
    sweep = tmp_path / "sweep"
    tiny_train(tmp_path, checkpoint_dir=sweep / "c" / "seed_0", logdir=None)
    (sweep / "c" / "seed_1").mkdir()
    (sweep / "c" / "seed_1" / "history.json").write_text('{"records": [')
    (sweep / "c" / "seed_2").mkdir()
    (sweep / "c" / "seed_2" / "history.json").write_text('{"threshold": 0.98}')
    (sweep / "c" / "seed_abc").mkdir()
    (sweep / "c" / "seed_abc" / "history.json").write_text(
        (sweep / "c" / "seed_0" / "history.json").read_text())
    (row,) = write_summary(sweep)
    assert row["seeds"] == 1
    warnings = capsys.readouterr().err.strip().splitlines()
    assert len(warnings) == 3
    for name in ("seed_1/history.json", "seed_2/history.json", "seed_abc"):
        assert sum(name in line for line in warnings) == 1, (name, warnings)


# ---- analyze: stages named, unsolved ones said ------------------------------------------------

def test_analyze_says_a_stage_was_never_solved_and_names_it_on_every_figure(tmp_path,
                                                                            monkeypatch):
    run = tmp_path / "run"
    (run / "models").mkdir(parents=True)
    model, records = LeakyRNN(8, (2,)), []
    for epoch, (heads, accuracy) in enumerate([((2,), 0.99), ((2, 3), 0.99), ((2, 3, 4), 0.78)],
                                              start=1):
        model.set_heads(heads)
        agents.save(model, run / "models" / f"epoch_{epoch:04d}.pt")
        records.append(EpochRecord(epoch, heads, 0.5, dict.fromkeys(heads, accuracy), 1.0, 1.0))
    runstate.save_json(History(records, 0.98, "epochs").to_dict(), run / "history.json")
    labels = []
    for name in ("plot_autocorrelations", "plot_timescale_histograms", "plot_ablation",
                 "plot_perturbation"):
        def spy(*args, _draw=getattr(figures, name), **kwargs):
            labels.append(kwargs.get("stage"))
            return _draw(*args, **kwargs)
        monkeypatch.setattr(figures, name, spy)
    notes = []
    results = analysis.analyze_run(run, steps=300, trials=1, burn_in=10, max_lag=20, fit_lag=10,
                                   epsilons=(0.0,), draws=1, accuracy_steps=50, warmup=10,
                                   repeats=1, progress=False, log=notes.append)
    assert [(s["N"], s["epoch"], s["accuracy"], s["solved"]) for s in results["stages"]] == [
        (2, 1, 0.99, True), (3, 2, 0.99, True), (4, 3, 0.78, False)]
    (note,) = notes
    assert "never solved" in note and "N=4" in note and "epoch 3" in note and "0.780" in note
    assert labels == ["N=4, epoch 3, accuracy 0.780 (never solved)"] * 4


def test_a_run_without_a_history_says_its_accuracy_is_unknown(tmp_path):
    path = tmp_path / "m.pt"
    agents.save(LeakyRNN(4, (2, 3)), path)
    (stage,) = load_stages(path)
    assert stage.label == "N=3, m, accuracy unknown" and stage.solved is None


def test_memory_estimates_pass_ordinary_sizes():
    """The refusals above are for absurd sizes only: the paper's are accepted."""
    LeakyRNN(500, (2,))
    parity(N=list(range(2, 101)))
    np.testing.assert_array_less(0, analysis.record(LeakyRNN(4, (2,)), steps=10, trials=1) + 1)
