"""SIGKILL a training run at random moments (also mid-checkpoint-write), resume, and end exactly as
an uninterrupted run: same weights, same history, at most the epoch in progress lost per kill.

Each run is a forked child process (torch is already imported, so a start costs milliseconds);
the parent kills it with SIGKILL, which no code in the child can catch or clean up after.
"""

from __future__ import annotations

import io
import os
import random
import signal
import sys
import time
import traceback
from pathlib import Path

import gymnasium as gym
import pytest
import torch

import curricula
import memtasks  # noqa: F401  (registers the envs)
from agents import LeakyRNN
from agents.training import runstate
from agents.training.loop import History, train

EPOCHS = 12
RUN = dict(epochs=EPOCHS, steps_per_epoch=4, eval_steps=2, batch_size=8, seed=5, progress=False,
           threshold=0.98)
KILLS = 9
WRITING = ".test-writing-checkpoint"  # exists while a slowed checkpoint write is half done


def train_in_this_process(run_dir: Path, slow_writes: bool) -> None:
    """The run under test; ``slow_writes`` pauses every checkpoint.pt write half way through."""
    if slow_writes:
        save = torch.save

        def half_then_pause(obj, f, *args, **kwargs):
            if f".{runstate.CHECKPOINT}." not in str(getattr(f, "name", f)):  # a file or its path
                return save(obj, f, *args, **kwargs)
            buffer = io.BytesIO()
            save(obj, buffer, *args, **kwargs)
            data = buffer.getvalue()
            f.write(data[:len(data) // 2])
            f.flush()
            (run_dir / WRITING).touch()
            time.sleep(0.3)
            f.write(data[len(data) // 2:])
            (run_dir / WRITING).unlink()
        torch.save = half_then_pause
    torch.manual_seed(0)
    env = curricula.MultiHead(gym.make("memtasks/Parity-v0", N=2))
    env.threshold = -1.0  # a new head every epoch: resumes cross head changes and optimizer rebuilds
    train(LeakyRNN(8, (2,)), env, checkpoint_dir=run_dir, logdir=run_dir, resume=True, **RUN)


def start(run_dir: Path, slow_writes: bool = False) -> int:
    pid = os.fork()
    if pid == 0:  # the child: train, then leave without returning into pytest
        code = 1
        try:
            log = run_dir.parent / f"{run_dir.name}.stderr"
            os.dup2(os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND), 2)
            sys.stderr = open(2, "w", closefd=False)
            train_in_this_process(run_dir, slow_writes)
            code = 0
        except BaseException:
            traceback.print_exc()
            sys.stderr.flush()
        finally:
            os._exit(code)
    return pid


def wait(pid: int, timeout: float) -> int | None:
    """The child's exit code, or None if it is still running after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if time.monotonic() > deadline:
            return None
        time.sleep(0.005)


def kill(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


def saved_epochs(run_dir: Path) -> int:
    """Epochs whose training finished (their model file is written before the checkpoint)."""
    return len(list((run_dir / runstate.MODELS).glob("epoch_*.pt")))


def checkpoint_epoch(run_dir: Path) -> int:
    path = run_dir / runstate.CHECKPOINT
    return runstate.load_state(path)["epoch"] if path.exists() else 0


def comparable(history: dict) -> list:
    return [{k: v for k, v in r.items() if k not in ("seconds", "samples_per_second")}
            for r in History.from_dict(history).to_dict()["records"]]


@pytest.mark.slow
def test_killed_and_resumed_run_ends_as_an_uninterrupted_one(tmp_path):
    reference = tmp_path / "reference"
    assert wait(start(reference), timeout=120) == 0, (tmp_path / "reference.stderr").read_text()
    want = runstate.load_state(reference / runstate.CHECKPOINT)
    epoch_seconds = max(r["seconds"] for r in want["history"]["records"])

    run, rng = tmp_path / "killed", random.Random(0)
    progress, mid_write, finished_early = [], 0, False
    for attempt in range(KILLS):
        slow = attempt % 3 == 1  # every third start is killed while checkpoint.pt is half written
        pid = start(run, slow_writes=slow)
        if slow:
            while not (run / WRITING).exists() and wait(pid, 0.001) is None:
                pass
            code = None if (run / WRITING).exists() else wait(pid, 60)
        else:  # a random moment of the epoch after the next one to finish
            target = saved_epochs(run) + 1
            while saved_epochs(run) < target and wait(pid, 0.001) is None:
                pass
            code = wait(pid, rng.uniform(0.0, 1.0) * epoch_seconds)
        if code is not None:
            assert code == 0, (tmp_path / "killed.stderr").read_text()
            finished_early = True
            break
        kill(pid)
        if slow:
            (run / WRITING).unlink()
            mid_write += 1
        trained, kept = saved_epochs(run), checkpoint_epoch(run)  # a good checkpoint loads
        progress.append((trained, kept))
        assert kept >= trained - 1, f"kill {attempt + 1}: {trained} epochs trained, {kept} kept"
        assert kept >= max((k for _, k in progress[:-1]), default=0), progress
    if not finished_early:
        assert wait(start(run), timeout=120) == 0, (tmp_path / "killed.stderr").read_text()

    assert len(progress) >= 6 and mid_write >= 2, progress
    got = runstate.load_state(run / runstate.CHECKPOINT)
    assert comparable(got["history"]) == comparable(want["history"])
    assert got["history"]["stop_reason"] == want["history"]["stop_reason"] == "epochs"
    assert got["model"].keys() == want["model"].keys()
    for name, tensor in want["model"].items():
        assert torch.equal(got["model"][name], tensor), name
    assert saved_epochs(run) == EPOCHS
    assert not list(run.rglob(".*.tmp")), "temporary files were left behind"
