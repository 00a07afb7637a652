"""Damaged files: model files and run checkpoints that are empty, truncated, foreign or hostile are
refused with one line naming the file, nothing in them runs, nothing on disk changes, and the run
goes on as soon as its good checkpoint is back.
"""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import gymnasium as gym
import pytest
import torch

import agents
import memtasks  # noqa: F401  (registers the envs)
from agents import LeakyRNN
from agents.training import runstate
from agents.training.loop import train

RUN = dict(steps_per_epoch=2, eval_steps=1, batch_size=4, seed=1, progress=False)


class RunsCode:
    """Unpickling this calls ``os.system``: a loader that lets it run leaves ``HACKED`` behind."""

    def __reduce__(self):
        return os.system, ("touch HACKED",)


def hostile_pickle(good: bytes, path: Path) -> bytes:
    return pickle.dumps({"format": runstate.FORMAT, "payload": RunsCode()})


def hostile_torch_file(good: bytes, path: Path) -> bytes:
    """A real torch zip file whose pickle builds a ``RunsCode``."""
    other = path.with_name("hostile.pt")
    torch.save({"format": runstate.FORMAT, "payload": RunsCode()}, other)
    return other.read_bytes()


def other_kind(good: bytes, path: Path) -> bytes:
    """A genuine file of the project's other kind: a model file for a run checkpoint, and back."""
    other = path.with_name("other.pt")
    if path.name == runstate.CHECKPOINT:
        agents.save(LeakyRNN(4, (2,)), other)
    else:
        runstate.save_state({"epoch": 0}, other)
    return other.read_bytes()


DAMAGE = {
    "empty": lambda good, path: b"",
    "truncated": lambda good, path: good[: len(good) // 2],
    "one byte": lambda good, path: good[:1],
    "text": lambda good, path: b"epoch 3, loss 0.1\n",
    "zeros": lambda good, path: bytes(len(good)),
    "hostile pickle": hostile_pickle,
    "hostile torch file": hostile_torch_file,
    "other kind": other_kind,
}


@pytest.fixture
def run_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    train(LeakyRNN(4, (2,)), gym.make("memtasks/Parity-v0", N=2), epochs=1,
          checkpoint_dir=tmp_path / "run", **RUN)
    return tmp_path / "run"


def snapshot(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes() for p in sorted(directory.rglob("*"))
            if p.is_file()}


@pytest.mark.parametrize("damage", DAMAGE, ids=list(DAMAGE))
def test_damaged_model_file_is_refused(damage, run_dir):
    path = run_dir / runstate.MODELS / "epoch_0001.pt"
    good = path.read_bytes()
    path.write_bytes(DAMAGE[damage](good, path))
    with pytest.raises(ValueError) as caught:
        agents.load(path)
    message = str(caught.value)
    assert str(path) in message and "\n" not in message
    assert not (run_dir.parent / "HACKED").exists()
    path.write_bytes(good)
    assert agents.load(path).heads == (2,)


@pytest.mark.parametrize("damage", DAMAGE, ids=list(DAMAGE))
def test_damaged_run_checkpoint_is_refused_and_the_good_one_resumes(damage, run_dir):
    path = run_dir / runstate.CHECKPOINT
    good = path.read_bytes()
    path.write_bytes(DAMAGE[damage](good, path))
    before = snapshot(run_dir)
    with pytest.raises(ValueError) as caught:
        train(LeakyRNN(4, (2,)), gym.make("memtasks/Parity-v0", N=2), epochs=2,
              checkpoint_dir=run_dir, resume=True, **RUN)
    message = str(caught.value)
    assert str(path) in message and "\n" not in message
    assert not (run_dir.parent / "HACKED").exists()
    assert snapshot(run_dir) == before, "a refused resume changed the run directory"

    path.write_bytes(good)  # the good checkpoint, e.g. from a backup: the run carries on
    history = train(LeakyRNN(4, (2,)), gym.make("memtasks/Parity-v0", N=2), epochs=2,
                    checkpoint_dir=run_dir, resume=True, **RUN)
    assert [r.epoch for r in history.records] == [1, 2]


def test_a_failed_write_keeps_the_previous_checkpoint(run_dir, monkeypatch):
    """Disk full half way through writing checkpoint.pt: the previous one stays, whole."""
    path = run_dir / runstate.CHECKPOINT
    good = path.read_bytes()

    def disk_full(obj, f, *args, **kwargs):
        f.write(b"half a checkpoint")  # torch.save writes through the file object it is given
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(torch, "save", disk_full)
    with pytest.raises(OSError):
        train(LeakyRNN(4, (2,)), gym.make("memtasks/Parity-v0", N=2), epochs=2,
              checkpoint_dir=run_dir, resume=True, **RUN)
    assert path.read_bytes() == good
    assert not list(run_dir.rglob("*.tmp"))
    assert runstate.load_state(path)["epoch"] == 1
