"""Bad input everywhere, one table: each row is refused clearly, by project code, writing nothing.

Python rows must raise ``ValueError``/``TypeError`` (``FileNotFoundError`` for a missing file) from a
frame of this project — never from deep inside torch or numpy — with every listed word in the
message. CLI rows run ``memtasks`` in a subprocess and must exit with code 2 after printing exactly
one line to stderr. Rows that train check the run directory is absent or empty (or unchanged when a
run was already there). A new command or argument is one more row.
"""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch
from torch import nn

import agents
import curricula
import memtasks
from agents import GRU, LSTM, LeakyRNN, analysis
from agents.experiments.cli import COMMANDS, main
from agents.experiments.config import RunConfig
from agents.experiments.summarize import write_summary
from agents.experiments.sweep import SweepRun, read_sweep_file
from agents.training.loop import History
from agents.training.runlock import RunLock
from memtasks.vector import MemoryTaskVectorEnv

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = tuple(str(ROOT / name) + os.sep for name in ("memtasks", "curricula", "agents"))


def parity(**kwargs):
    return gym.make("memtasks/Parity-v0", **kwargs)


def tiny_train(tmp: Path, model=None, env=None, **kwargs):
    """``agents.train`` at toy sizes into ``tmp/run`` unless told otherwise."""
    args = dict(epochs=1, steps_per_epoch=1, eval_steps=1, batch_size=4, progress=False,
                checkpoint_dir=tmp / "run", logdir=tmp / "run")
    args.update(kwargs)
    return agents.train(model if model is not None else LeakyRNN(4, (2,)),
                        env if env is not None else parity(N=2), **args)


def finished_run(tmp: Path) -> Path:
    """A real, finished one-epoch run in ``tmp/run`` (for rows that must leave it untouched)."""
    tiny_train(tmp)
    return tmp / "run"


def corrupt_run(tmp: Path) -> Path:
    run = finished_run(tmp)
    (run / "checkpoint.pt").write_bytes(b"\x80\x04 not a checkpoint")
    return run


def a_file(tmp: Path) -> Path:
    path = tmp / "plain-file"
    path.write_text("I am a file, not a directory\n")
    return path


def empty_file(tmp: Path) -> Path:
    path = tmp / "e.pt"
    path.write_bytes(b"")
    return path


class Hostile:
    """Unpickling this would run ``os.system``: loaders must refuse before anything runs."""

    def __reduce__(self):
        return os.system, ("touch HACKED",)


def hostile_file(tmp: Path) -> Path:
    path = tmp / "hostile.pt"
    path.write_bytes(pickle.dumps({"format": "memtasks-model-v1", "evil": Hostile()}))
    return path


def damaged_run(change: Callable[[dict], object]) -> Callable[[Path], Path]:
    """A finished run whose checkpoint.pt, still correctly tagged, was edited by ``change``."""
    def make(tmp: Path) -> Path:
        run = finished_run(tmp)
        state = torch.load(run / "checkpoint.pt", weights_only=True)
        change(state)
        torch.save(state, run / "checkpoint.pt")
        return run
    return make


def bad_rng(state: dict) -> None:
    state["rng"]["torch"] = torch.zeros(3, dtype=torch.uint8)


def a_sweep(tmp: Path) -> Path:
    """A sweep directory holding one finished run."""
    tiny_train(tmp, checkpoint_dir=tmp / "sweep" / "c" / "seed_0", logdir=None)
    return tmp / "sweep"


def sweep_file(content: object) -> Callable[[Path], Path]:
    """``tmp/grid/sweep.json`` holding ``content`` as JSON."""
    def make(tmp: Path) -> Path:
        (tmp / "grid").mkdir()
        (tmp / "grid" / "sweep.json").write_text(json.dumps(content))
        return tmp / "grid"
    return make


def grid_file(text: str) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        (tmp / "grid.toml").write_text(text)
        return tmp / "grid.toml"
    return make


def run_with_model_named(name: str) -> Callable[[Path], Path]:
    def make(tmp: Path) -> Path:
        run = finished_run(tmp)
        (run / "models" / "epoch_0001.pt").rename(run / "models" / name)
        return run
    return make


def model_with_wrong_shape(tmp: Path) -> Path:
    """A model file whose recurrent weight does not have the shape its config asks for."""
    path = tmp / "m.pt"
    agents.save(LeakyRNN(4, (2,)), path)
    payload = torch.load(path, weights_only=True)
    payload["state_dict"]["recurrent.weight"] = torch.zeros(3, 5)
    torch.save(payload, path)
    return path


def a_fifo(tmp: Path) -> Path:
    os.mkfifo(tmp / "pipe.pt")
    return tmp / "pipe.pt"


def good_model(tmp: Path) -> Path:
    agents.save(LeakyRNN(4, (2,)), tmp / "good.pt")
    return tmp / "good.pt"


def truncated_history(tmp: Path) -> Path:
    path = finished_run(tmp) / "history.json"
    path.write_text(path.read_text()[:40])
    return path


def curriculum_state(**changes: object) -> Callable[[Path], object]:
    """Load a MultiHead(max_N=4) state with ``changes`` applied."""
    def call(tmp: Path) -> None:
        env = curricula.MultiHead(parity(N=2), max_N=4)
        env.load_state_dict(env.state_dict() | changes)
    return call


@dataclass
class Row:
    """``call(tmp)`` must raise ``error`` whose message holds every word of ``words``."""

    id: str
    call: Callable[[Path], object]
    error: type[Exception] | tuple[type[Exception], ...]
    words: tuple[str, ...]


def env_step(action):
    def call(tmp):
        env = parity(N=[2, 3])
        env.reset(seed=0)
        env.step(action)
    return call


PY_ROWS = [
    # envs
    Row("env N=0", lambda t: parity(N=0), ValueError, ("N", "0")),
    Row("env N=[]", lambda t: parity(N=[]), ValueError, ("N",)),
    Row("env N repeated", lambda t: parity(N=[2, 2]), ValueError, ("N", "2")),
    Row("env N float", lambda t: parity(N=2.5), TypeError, ("N", "2.5")),
    Row("env N str", lambda t: parity(N="3"), TypeError, ("N", "'3'")),
    Row("env DMS N=1", lambda t: gym.make("memtasks/DMS-v0", N=1), ValueError, ("N", "1")),
    Row("env seq_len short", lambda t: parity(N=5, seq_len=3), ValueError, ("seq_len", "3")),
    Row("env seq_len empty range", lambda t: parity(N=2, seq_len=(6, 6)), ValueError, ("seq_len",)),
    Row("env seq_len str", lambda t: parity(N=2, seq_len="10"), TypeError, ("seq_len",)),
    Row("env p > 1", lambda t: parity(p=1.5), ValueError, ("p", "1.5")),
    Row("env p nan", lambda t: parity(p=float("nan")), ValueError, ("p", "nan")),
    Row("env p str", lambda t: parity(p="half"), TypeError, ("p", "half")),
    Row("env labels unknown", lambda t: parity(labels="all"), ValueError, ("labels", "all")),
    Row("env task unknown", lambda t: memtasks.MemoryTaskEnv("copy"), ValueError, ("task", "copy")),
    Row("env action out of space", env_step([0, 2]), ValueError, ("action",)),
    Row("env action wrong length", env_step([0]), ValueError, ("action",)),
    Row("env set_heads([0])", lambda t: parity().unwrapped.set_heads([0]), ValueError, ("0",)),
    Row("vector num_envs=0", lambda t: MemoryTaskVectorEnv(num_envs=0), ValueError, ("num_envs",)),
    # batches
    Row("batch size 0", lambda t: parity().unwrapped.sample_batch(0), ValueError, ("batch_size",)),
    Row("batch size float", lambda t: parity().unwrapped.sample_batch(2.0), TypeError,
        ("batch_size",)),
    Row("batch rng str", lambda t: parity().unwrapped.sample_batch(4, rng="seed"), TypeError,
        ("rng",)),
    Row("batch to unknown device", lambda t: parity().unwrapped.sample_batch(2).to_torch("tpu"),
        ValueError, ("device", "tpu")),
    # models
    Row("leaky hidden 0", lambda t: LeakyRNN(0, (2,)), ValueError, ("hidden_size", "0")),
    Row("leaky hidden str", lambda t: LeakyRNN("8", (2,)), TypeError, ("hidden_size",)),
    Row("leaky heads empty", lambda t: LeakyRNN(8, ()), ValueError, ("heads",)),
    Row("leaky activation", lambda t: LeakyRNN(8, (2,), activation="gelu"), ValueError,
        ("activation", "gelu")),
    Row("leaky tau < 1", lambda t: LeakyRNN(8, (2,), tau=0.5), ValueError, ("tau", "0.5")),
    Row("leaky tau inf", lambda t: LeakyRNN(8, (2,), tau=float("inf")), ValueError, ("tau", "inf")),
    Row("leaky h0", lambda t: LeakyRNN(8, (2,), h0="ones"), ValueError, ("h0", "ones")),
    Row("gru heads repeated", lambda t: GRU(8, (2, 2)), ValueError, ("heads",)),
    Row("lstm heads negative", lambda t: LSTM(8, (-1,)), ValueError, ("heads", "-1")),
    Row("model input wrong size", lambda t: LeakyRNN(8, (2,))(torch.zeros(5, 2, 3)), ValueError,
        ("input",)),
    Row("model input 2-d", lambda t: GRU(8, (2,))(torch.zeros(5, 1)), ValueError, ("input",)),
    Row("model set_heads bad", lambda t: LeakyRNN(8, (2,)).set_heads([0]), ValueError,
        ("heads", "0")),
    # curricula
    Row("curriculum threshold", lambda t: curricula.MultiHead(parity(), threshold=1.5), ValueError,
        ("threshold", "1.5")),
    Row("curriculum grow 0", lambda t: curricula.MultiHead(parity(), grow=0), ValueError,
        ("grow", "0")),
    Row("curriculum forget", lambda t: curricula.Sliding(parity(N=[2, 3]), forget=3), ValueError,
        ("forget",)),
    Row("curriculum max_N", lambda t: curricula.SingleHead(parity(N=4), max_N=2), ValueError,
        ("max_N",)),
    Row("curriculum foreign env", lambda t: curricula.MultiHead(gym.make("CartPole-v1")), TypeError,
        ("env",)),
    Row("curriculum update unknown N", lambda t: curricula.MultiHead(parity()).update({9: 0.5}),
        ValueError, ("9",)),
    Row("curriculum update not a number", lambda t: curricula.MultiHead(parity()).update({2: "x"}),
        (TypeError, ValueError), ("2",)),
    Row("curriculum state empty", lambda t: curricula.MultiHead(parity()).load_state_dict({}),
        ValueError, ("state",)),
    Row("curriculum state finished 'no'", curriculum_state(finished="no"), TypeError,
        ("finished", "'no'")),
    Row("curriculum state heads above max_N", curriculum_state(heads=[2, 9]), ValueError,
        ("heads", "max_N")),
    Row("curriculum state float counts", curriculum_state(recent=[[[1.5], [2]]]), TypeError,
        ("recent", "1.5")),
    Row("curriculum state epoch float", curriculum_state(epoch=2.7), TypeError, ("epoch", "2.7")),
    # absurd sizes: refused with an estimate of the memory needed, before allocating
    Row("env N absurd", lambda t: parity(N=10**30), ValueError, ("N", "memory")),
    Row("env seq_len absurd", lambda t: parity(N=2, seq_len=10**13), ValueError,
        ("seq_len", "memory")),
    Row("leaky hidden absurd", lambda t: LeakyRNN(10**7, (2,)), ValueError,
        ("hidden_size", "memory")),
    Row("lstm hidden absurd", lambda t: LSTM(10**6, (2,)), ValueError, ("hidden_size", "memory")),
    Row("leaky tau overflows float32", lambda t: LeakyRNN(8, (2,), tau=1e300), ValueError,
        ("tau", "1e+300")),
    # agents.train
    Row("train epochs 0", lambda t: tiny_train(t, epochs=0), ValueError, ("epochs", "0")),
    Row("train batch_size -1", lambda t: tiny_train(t, batch_size=-1), ValueError, ("batch_size",)),
    Row("train steps float", lambda t: tiny_train(t, steps_per_epoch=1.5), TypeError,
        ("steps_per_epoch",)),
    Row("train lr nan", lambda t: tiny_train(t, lr=float("nan")), ValueError, ("lr", "nan")),
    Row("train lr overflows float32", lambda t: tiny_train(t, lr=1e300), ValueError,
        ("lr", "1e+300")),
    Row("train seed negative", lambda t: tiny_train(t, seed=-1), ValueError, ("seed",)),
    Row("train seed 2**70", lambda t: tiny_train(t, seed=2**70), ValueError, ("seed", str(2**70))),
    Row("train batch_size absurd", lambda t: tiny_train(t, batch_size=10**11), ValueError,
        ("batch_size", "memory")),
    Row("train logdir empty", lambda t: tiny_train(t, logdir=""), ValueError, ("logdir", "''")),
    Row("train checkpoint_dir empty", lambda t: tiny_train(t, checkpoint_dir=""), ValueError,
        ("checkpoint_dir",)),
    Row("train logdir name too long", lambda t: tiny_train(t, logdir=t / ("x" * 300)), ValueError,
        ("logdir", "too long")),
    Row("train device tpu", lambda t: tiny_train(t, device="tpu"), ValueError, ("device", "tpu")),
    Row("train resume without dir", lambda t: tiny_train(t, resume=True, checkpoint_dir=None),
        ValueError, ("resume", "checkpoint_dir")),
    Row("train resume not bool", lambda t: tiny_train(t, resume="yes"), TypeError, ("resume",)),
    Row("train model foreign", lambda t: tiny_train(t, model=nn.Linear(2, 2)), TypeError,
        ("model",)),
    Row("train env foreign", lambda t: tiny_train(t, env=gym.make("CartPole-v1")), TypeError,
        ("env",)),
    Row("train optimizer not callable", lambda t: tiny_train(t, optimizer=3), TypeError,
        ("optimizer",)),
    Row("train logdir under a file", lambda t: tiny_train(t, logdir=a_file(t) / "logs"), ValueError,
        ("logdir",)),
    Row("train checkpoint_dir is a file", lambda t: tiny_train(t, checkpoint_dir=a_file(t)),
        ValueError, ("checkpoint_dir",)),
    Row("train over an existing run", lambda t: tiny_train(finished_run(t).parent), ValueError,
        ("checkpoint_dir", "resume")),
    Row("train resume corrupt run", lambda t: tiny_train(corrupt_run(t).parent, resume=True,
                                                                epochs=2),
        ValueError, ("checkpoint.pt",)),
    Row("train resume run of other model", lambda t: tiny_train(finished_run(t).parent, resume=True,
                                                         epochs=2, model=LeakyRNN(6, (2,))),
        ValueError, ("checkpoint.pt", "model")),
    *[Row(f"train resume damaged run: {what}", lambda t, make=make: tiny_train(
        make(t).parent, resume=True, epochs=2), ValueError, ("checkpoint.pt", *words))
      for what, make, words in [
          ("without rng", damaged_run(lambda s: s.pop("rng")), ("'rng'",)),
          ("heads a string", damaged_run(lambda s: s.update(heads="abc")), ("'heads'",)),
          ("bad rng state", damaged_run(bad_rng), ("random state",)),
          ("history without records", damaged_run(lambda s: s.update(history={})), ("history",)),
          ("optimizer of nothing", damaged_run(lambda s: s.update(
              optimizer={"state": {}, "param_groups": []})), ("optimizer",))]],
    Row("train run in use", lambda t: _train_while_locked(t), ValueError,
        ("in use", str(os.getpid()))),
    # checkpoints
    Row("load missing", lambda t: agents.load(t / "nope.pt"), FileNotFoundError, ("nope.pt",)),
    Row("load empty", lambda t: agents.load(empty_file(t)), ValueError, ("e.pt", "empty")),
    Row("load foreign text", lambda t: agents.load(a_file(t)), ValueError, ("plain-file",)),
    Row("load hostile pickle", lambda t: agents.load(hostile_file(t)), ValueError, ("hostile.pt",)),
    Row("load a run checkpoint", lambda t: agents.load(finished_run(t) / "checkpoint.pt"),
        ValueError, ("checkpoint.pt", "model file")),
    Row("load a directory", lambda t: agents.load(t), ValueError, ("directory", "regular file")),
    Row("load a FIFO", lambda t: agents.load(a_fifo(t)), ValueError, ("pipe.pt", "FIFO")),
    Row("load map_location bogus", lambda t: agents.load(good_model(t), map_location="bogus"),
        ValueError, ("map_location", "bogus")),
    Row("load wrong-shape tensor", lambda t: agents.load(model_with_wrong_shape(t)), ValueError,
        ("m.pt", "recurrent.weight", "shape")),
    Row("history truncated", lambda t: History.read(truncated_history(t)),
        ValueError, ("history.json",)),
    Row("save foreign model", lambda t: agents.save(nn.Linear(2, 2), t / "m.pt"), TypeError,
        ("Linear",)),
    Row("reference heads > stored", lambda t: agents.load_reference_checkpoint(
        _reference(t), heads=(2, 3, 4)), ValueError, ("heads",)),
    # analysis
    Row("analysis max_lag negative", lambda t: analysis.autocorrelation(np.zeros(50), max_lag=-1),
        ValueError, ("max_lag",)),
    Row("analysis record steps 0", lambda t: analysis.record(LeakyRNN(4, (2,)), steps=0),
        ValueError, ("steps",)),
    Row("analysis ablate unknown neuron", lambda t: analysis.ablate(LeakyRNN(4, (2,)), neurons=[9]),
        ValueError, ("neurons", "9")),
    Row("analysis perturb target", lambda t: analysis.perturb(LeakyRNN(4, (2,)), target="bias",
                                                              epsilon=0.1), ValueError,
        ("target", "bias")),
    Row("analysis record steps absurd", lambda t: analysis.record(LeakyRNN(4, (2,)), steps=10**12),
        ValueError, ("steps", "memory")),
    Row("analyze seed -1", lambda t: analysis.analyze_run(finished_run(t), seed=-1), ValueError,
        ("seed", "-1")),
    Row("analyze model not epoch_<n>", lambda t: analysis.analyze_run(
        run_with_model_named("epoch_abc.pt")(t)), ValueError, ("epoch_abc.pt",)),
    Row("analyze config a list", lambda t: analysis.analyze_run(
        damaged_run(lambda s: s.update(config=[1]))(t)), ValueError, ("checkpoint.pt", "task")),
    Row("analyze out a file", lambda t: analysis.analyze_run(finished_run(t), a_file(t)),
        ValueError, ("out_dir", "plain-file")),
    # sweeps and summaries
    Row("summarize out a file", lambda t: write_summary(a_sweep(t), a_file(t)), ValueError,
        ("out_dir", "plain-file")),
    Row("sweep.json without runs", lambda t: read_sweep_file(sweep_file({})(t)), ValueError,
        ("sweep.json", "runs")),
    Row("sweep path outside", lambda t: SweepRun(RunConfig(), "a/../../x", "c"), ValueError,
        ("path", "a/../../x")),
    Row("sweep path absolute", lambda t: SweepRun(RunConfig(), "/tmp/x", "c"), ValueError,
        ("path", "/tmp/x")),
]


def _history_file(run: Path, text: str) -> None:
    run.mkdir(parents=True)
    (run / "history.json").write_text(text)


def _train_while_locked(tmp: Path) -> None:
    """Train into a run directory that this process holds the lock of (as another writer would)."""
    (tmp / "run").mkdir()
    with RunLock(tmp / "run"):
        tiny_train(tmp)


def _reference(tmp: Path) -> Path:
    """A network in the paper's format with a single head."""
    model = LeakyRNN(4, (2,))
    state = {"parameterlist.0": model.tau.detach(), "modulelist.0.weight": model.input.weight,
             "modulelist.0.bias": model.input.bias, "modulelist.1.weight": model.recurrent.weight,
             "modulelist.1.bias": model.recurrent.bias,
             "modulelist.2.weight": torch.zeros(2, 4), "modulelist.2.bias": torch.zeros(2)}
    path = tmp / "reference.pt"
    torch.save({"state_dict": {k: v.detach() for k, v in state.items()}}, path)
    return path


def raised_in(error: BaseException) -> str:
    """The file that raised ``error``; through gym.make, which re-raises a creator's TypeError."""
    where = traceback.extract_tb(error.__traceback__)[-1].filename
    if where.endswith(os.path.join("gymnasium", "envs", "registration.py")) and error.__context__:
        return raised_in(error.__context__)
    return where


def snapshot(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): p.read_bytes()
            for p in sorted(directory.rglob("*")) if p.is_file()} if directory.exists() else {}


@pytest.mark.parametrize("row", PY_ROWS, ids=[r.id for r in PY_ROWS])
def test_python_bad_input_is_refused_clearly(row: Row, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a hostile pickle that ran would leave HACKED here
    with pytest.raises(Exception) as caught:
        row.call(tmp_path)
    assert isinstance(caught.value, row.error), (
        f"{row.id}: {type(caught.value).__name__}: {caught.value}")
    message = str(caught.value)
    assert "\n" not in message.strip(), f"{row.id}: message is not one line: {message!r}"
    for word in row.words:
        assert word in message, f"{row.id}: {word!r} missing from {message!r}"
    where = raised_in(caught.value)
    assert where.startswith(PACKAGES), f"{row.id}: raised in {where}, not by the project"
    assert not (tmp_path / "HACKED").exists(), f"{row.id}: code in a file ran"
    run = tmp_path / "run"
    if row.id.startswith("train") and "run" not in row.id:  # rows over a run: see the next test
        assert not run.exists() or not any(run.iterdir()), f"{row.id}: wrote {list(run.iterdir())}"


@pytest.mark.parametrize("setup, call", [
    (finished_run, lambda t: tiny_train(t, epochs=2)),
    (corrupt_run, lambda t: tiny_train(t, resume=True, epochs=2)),
    (finished_run, lambda t: tiny_train(t, resume=True, epochs=2, model=LeakyRNN(6, (2,)))),
    (damaged_run(bad_rng), lambda t: tiny_train(t, resume=True, epochs=2)),
    (damaged_run(lambda s: s.update(history={})), lambda t: tiny_train(t, resume=True, epochs=2)),
], ids=["no resume", "corrupt", "other model", "bad rng", "bad history"])
def test_refused_train_leaves_an_existing_run_untouched(setup, call, tmp_path):
    run = setup(tmp_path)
    before = snapshot(run)
    with pytest.raises(ValueError):
        call(tmp_path)
    assert snapshot(run) == before


# ---- command line: each row in its own child process -----------------------------------

@dataclass
class CliRow:
    """``memtasks *argv`` (``{tmp}`` is the row's directory) exits 2 with one line holding words;
    ``prepare(tmp)`` makes what the row needs; ``run_dir`` must then be absent, empty or unchanged."""

    id: str
    argv: tuple[str, ...]
    words: tuple[str, ...]
    prepare: Callable[[Path], object] = lambda tmp: None
    run_dir: str | None = None


TINY = ("--hidden", "4", "--epochs", "1", "--steps-per-epoch", "1", "--eval-steps", "1",
        "--batch-size", "4", "--no-progress")
CLI_ROWS = [
    CliRow("no command", (), ("COMMAND",)),
    CliRow("unknown command", ("fly",), ("fly",)),
    CliRow("train unknown flag", ("train", "--bogus"), ("--bogus",)),
    CliRow("train hidden 0", ("train", "--hidden", "0"), ("--hidden", "0")),
    CliRow("train epochs word", ("train", "--epochs", "ten"), ("--epochs", "ten")),
    CliRow("train task unknown", ("train", "--task", "copy"), ("--task", "copy")),
    CliRow("train heads repeated", ("train", *TINY, "--heads", "2", "2", "--logdir", "{tmp}/run"),
           ("--heads", "2"), run_dir="run"),
    CliRow("train dms N=1", ("train", *TINY, "--task", "dms", "--heads", "1", "--logdir",
                             "{tmp}/run"), ("--heads", "1"), run_dir="run"),
    CliRow("train tau on gru", ("train", *TINY, "--model", "gru", "--tau", "2", "--logdir",
                                "{tmp}/run"), ("--tau", "gru"), run_dir="run"),
    CliRow("train max-n below heads", ("train", *TINY, "--heads", "4", "--max-n", "2", "--logdir",
                                       "{tmp}/run"), ("--max-n",), run_dir="run"),
    CliRow("train logdir under a file", ("train", *TINY, "--logdir", "{tmp}/plain-file/run"),
           ("logdir",), prepare=a_file),
    CliRow("train over an existing run", ("train", *TINY, "--logdir", "{tmp}/run"),
           ("resume",), prepare=finished_run, run_dir="run"),
    CliRow("train resume corrupt", ("train", *TINY, "--epochs", "2", "--resume", "--logdir",
                                    "{tmp}/run"), ("checkpoint.pt",), prepare=corrupt_run,
           run_dir="run"),
    CliRow("train hidden absurd", ("train", *TINY, "--hidden", "10000000", "--logdir", "{tmp}/run"),
           ("hidden_size", "memory"), run_dir="run"),
    CliRow("train heads absurd", ("train", *TINY, "--heads", "100000000000", "--logdir",
                                  "{tmp}/run"), ("N=", "memory"), run_dir="run"),
    CliRow("train batch-size absurd", ("train", *TINY, "--batch-size", "100000000000", "--logdir",
                                       "{tmp}/run"), ("batch_size", "memory"), run_dir="run"),
    CliRow("train seed 2**70", ("train", *TINY, "--seed", str(2**70), "--logdir", "{tmp}/run"),
           ("--seed", str(2**70)), run_dir="run"),
    CliRow("train lr 1e300", ("train", *TINY, "--lr", "1e300", "--logdir", "{tmp}/run"),
           ("lr", "1e+300"), run_dir="run"),
    CliRow("train tau 1e300", ("train", *TINY, "--tau", "1e300", "--logdir", "{tmp}/run"),
           ("tau", "1e+300"), run_dir="run"),
    CliRow("train logdir empty", ("train", *TINY, "--logdir", ""), ("--logdir", "''")),
    CliRow("train logdir 300 chars", ("train", *TINY, "--logdir", "{tmp}/" + "x" * 300),
           ("logdir", "too long")),
    CliRow("train resume damaged run", ("train", *TINY, "--epochs", "2", "--resume", "--logdir",
                                        "{tmp}/run"), ("checkpoint.pt", "'rng'"),
           prepare=damaged_run(lambda s: s.pop("rng")), run_dir="run"),
    CliRow("analyze missing", ("analyze", "{tmp}/nope"), ("nope",)),
    CliRow("analyze seed -1", ("analyze", "{tmp}/run", "--seed", "-1"), ("seed", "-1"),
           prepare=finished_run, run_dir="run"),
    CliRow("analyze steps absurd", ("analyze", "{tmp}/run", "--steps", "10000000000"),
           ("steps", "memory"), prepare=finished_run, run_dir="run"),
    CliRow("analyze model not epoch_<n>", ("analyze", "{tmp}/run"), ("epoch_abc.pt",),
           prepare=run_with_model_named("epoch_abc.pt"), run_dir="run"),
    CliRow("analyze config a list", ("analyze", "{tmp}/run"), ("checkpoint.pt", "--task"),
           prepare=damaged_run(lambda s: s.update(config=[1])), run_dir="run"),
    CliRow("analyze wrong-shape tensor", ("analyze", "{tmp}/m.pt"), ("m.pt", "shape"),
           prepare=model_with_wrong_shape),
    CliRow("analyze out a file", ("analyze", "{tmp}/run", "--out", "{tmp}/plain-file"),
           ("plain-file", "not a directory"), prepare=lambda t: (finished_run(t), a_file(t)),
           run_dir="run"),
    CliRow("analyze steps negative", ("analyze", "{tmp}", "--steps", "-5"), ("steps", "-5")),
    CliRow("analyze trials word", ("analyze", "{tmp}", "--trials", "x"), ("--trials", "x")),
    CliRow("analyze hostile model", ("analyze", "{tmp}/hostile.pt"), ("hostile.pt",),
           prepare=hostile_file),
    CliRow("sweep executor unknown", ("sweep", "{tmp}/grid", "--executor", "pbs"),
           ("--executor", "pbs")),
    CliRow("sweep train flag out of range", ("sweep", "{tmp}/grid", "--set", "hidden=0",
                                             "--dry-run"), ("hidden=0",), run_dir="grid"),
    CliRow("sweep config set a string", ("sweep", "{tmp}/grid", "--config", "{tmp}/grid.toml"),
           ("grid.toml", "set", "'x'"), prepare=grid_file('set = "x"\n'), run_dir="grid"),
    CliRow("sweep config set a number", ("sweep", "{tmp}/grid", "--config", "{tmp}/grid.toml"),
           ("grid.toml", "set", "5"), prepare=grid_file("set = 5\n"), run_dir="grid"),
    CliRow("sweep config tau bogus", ("sweep", "{tmp}/grid", "--config", "{tmp}/grid.toml"),
           ("grid.toml", "tau", "bogus"), prepare=grid_file('tau = ["bogus"]\n'),
           run_dir="grid"),
    CliRow("sweep.json without runs", ("sweep", "{tmp}/grid"), ("sweep.json", "runs"),
           prepare=sweep_file({"conditions": []}), run_dir="grid"),
    CliRow("sweep.json path outside", ("sweep", "{tmp}/grid", "--no-progress"),
           ("path", "../escaped"), prepare=sweep_file({"runs": [{
               "path": "../escaped", "condition": "c",
               "config": RunConfig(hidden=4, epochs=1).to_dict()}]}), run_dir="grid"),
    CliRow("summarize missing", ("summarize", "{tmp}/nope"), ("nope",)),
    CliRow("summarize out a file", ("summarize", "{tmp}/sweep", "--out", "{tmp}/plain-file"),
           ("plain-file", "not a directory"), prepare=lambda t: (a_sweep(t), a_file(t)),
           run_dir="sweep"),
    CliRow("reproduce scale unknown", ("reproduce", "--scale", "huge", "--out", "{tmp}/r"),
           ("--scale", "huge"), run_dir="r"),
    CliRow("reproduce out a file", ("reproduce", "--scale", "smoke", "--out", "{tmp}/plain-file"),
           ("--out", "plain-file"), prepare=a_file),
    CliRow("reproduce over a key-less history", ("reproduce", "--scale", "smoke", "--out", "{tmp}/r",
                                                 "--no-progress"), ("history.json", "records"),
           prepare=lambda t: _history_file(t / "r" / "runs" / "parity-single-leaky16-seed0",
                                           '{"threshold": 0.98}'), run_dir="r/runs"),
]


def run_cli(argv: list[str], cwd: Path, timeout: float = 60.0,
            before: Callable[[], object] | None = None) -> tuple[int, str]:
    """Exit code and stderr of ``memtasks argv`` in a forked child process (real fds, no start-up
    cost: torch is already imported); a child still running after ``timeout`` seconds is killed.
    ``before()`` runs in the child first (e.g. to set a resource limit)."""
    err_path = cwd / ".stderr"
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        code = 99
        try:
            os.chdir(cwd)
            os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
            os.dup2(os.open(err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), 2)
            sys.stdout, sys.stderr = open(1, "w", closefd=False), open(2, "w", closefd=False)
            try:
                if before is not None:
                    before()
                code = main(argv)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            except BaseException:
                traceback.print_exc()
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)
    deadline = time.monotonic() + timeout
    while (status := os.waitpid(pid, os.WNOHANG))[0] == 0:
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            status = os.waitpid(pid, 0)
            break
        time.sleep(0.01)
    return os.waitstatus_to_exitcode(status[1]), err_path.read_text()


@pytest.mark.parametrize("row", CLI_ROWS, ids=[r.id for r in CLI_ROWS])
def test_cli_bad_input_is_one_line_and_exit_2(row: CliRow, tmp_path):
    row.prepare(tmp_path)
    tmp = tmp_path
    before = snapshot(tmp / row.run_dir) if row.run_dir else None
    code, err = run_cli([a.replace("{tmp}", str(tmp)) for a in row.argv], tmp)
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1, f"{row.id}: exit {code}, stderr:\n{err}"
    assert "Traceback" not in err
    for word in row.words:
        assert word in lines[0], f"{row.id}: {word!r} missing from {lines[0]!r}"
    assert not (tmp / "HACKED").exists()
    if row.run_dir:
        run = tmp / row.run_dir
        assert snapshot(run) == before, f"{row.id}: the run directory changed"
        if not before:
            assert not run.exists() or not any(run.iterdir()), f"{row.id}: wrote into {run}"
    assert not (tmp / "runs").exists(), f"{row.id}: created a default run directory"


def test_the_console_entry_point_behaves_the_same(tmp_path):
    """One real ``python -m agents.experiments.cli`` start (the rows above fork to skip torch's import)."""
    proc = subprocess.run([sys.executable, "-m", "agents.experiments.cli", "train", "--hidden", "0"],
                          cwd=tmp_path, env=dict(os.environ, PYTHONPATH=str(ROOT)),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "memtasks train: error: --hidden=0 is not accepted: expected an int >= 1"]


def test_the_table_is_large_enough():
    assert len(PY_ROWS) + len(CLI_ROWS) >= 30
    commands = {r.argv[0] for r in CLI_ROWS if r.argv}
    assert set(COMMANDS) <= commands, f"CLI commands without a bad-input row: {set(COMMANDS) - commands}"
