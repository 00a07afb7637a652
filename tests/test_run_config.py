"""One description of a run: RunConfig round trips, same seed same run from every entry point,
and a resumed run restores its own settings."""

from __future__ import annotations

import dataclasses
import json
import re

import pytest
import torch

from agents import load
from agents.experiments.config import CHANGEABLE, RunConfig, read_config, run_status, train_run
from agents.experiments.sweep import TrainJob
from agents.training.loop import History

TINY = dict(hidden=8, epochs=2, steps_per_epoch=3, eval_steps=1, batch_size=8)
TINY_FLAGS = ["--hidden", "8", "--epochs", "2", "--steps-per-epoch", "3", "--eval-steps", "1",
              "--batch-size", "8", "--no-progress"]


def _outcome(run_dir):
    """What a run produced: its losses, accuracies and its final network's parameters."""
    history = History.read(run_dir / "history.json")
    model = load(sorted((run_dir / "models").glob("epoch_*.pt"))[-1])
    return history.loss, history.accuracy, [p.detach().clone() for p in model.parameters()]


def _same(a, b):
    assert a[0] == b[0] and a[1] == b[1]
    assert all(torch.equal(x, y) for x, y in zip(a[2], b[2]))


def test_json_round_trip_and_validation():
    config = RunConfig(task="dms", curriculum="sliding", heads=(2, 3, 4), fixed_tau=2.0, seed=5,
                       init_from=("other", 3), time_budget=60)
    assert RunConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    assert config.name == "dms-sliding-leaky500-tau2-from-other-at3-seed5"
    with pytest.raises(ValueError, match="key='bogus' is not accepted"):
        RunConfig.from_dict({"bogus": 1})
    for bad, words in [({"hidden": 0}, "hidden=0"), ({"threshold": 0.0}, "threshold=0.0"),
                       ({"task": "dms", "heads": (1,)}, "heads=(1,)"), ({"model": "gru", "tau": 2.0}, "tau=2.0"),
                       ({"tau": 2.0, "fixed_tau": 2.0}, "tau=2.0"), ({"heads": (5,), "max_n": 3}, "max_n=3"),
                       ({"device": "tpu"}, "device='tpu'"), ({"init_from": "x"}, "init_from='x'")]:
        with pytest.raises((ValueError, TypeError), match=re.escape(words + " is not accepted")):
            RunConfig(**bad)


def test_leak_and_repeats_round_trip_and_validate():
    config = RunConfig(leak="outside", repeats=(1, 2), seed=1)
    assert RunConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    assert config.name == "parity-multi-leaky500-leak-outside-repeats1-2-seed1"
    assert RunConfig().name == "parity-multi-leaky500-seed0"   # defaults leave the name as it was
    assert RunConfig.from_dict({"repeats": 3}).repeats == (3,)
    for bad, words in [({"leak": "sideways"}, "leak='sideways'"),
                       ({"model": "gru", "leak": "outside"}, "leak='outside'"),
                       ({"repeats": (0, 1)}, "repeats=(0, 1)"), ({"repeats": (2, 2)}, "repeats=(2, 2)"),
                       ({"repeats": "1"}, "repeats='1'")]:
        with pytest.raises((ValueError, TypeError), match=re.escape(words + " is not accepted")):
            RunConfig(**bad)


def test_resume_keeps_leak_and_repeats(memtasks_cli, tmp_path):
    run = tmp_path / "run"
    code, _, err = memtasks_cli(["train", *TINY_FLAGS, "--leak", "outside", "--repeats", "1", "2",
                                 "--logdir", str(run)])
    assert code == 0, err
    code, _, err = memtasks_cli(["train", "--logdir", str(run), "--resume", "--epochs", "3",
                                 "--repeats", "1", "2", "--no-progress"])
    assert code == 0, err
    assert read_config(run) == RunConfig(leak="outside", repeats=(1, 2), **{**TINY, "epochs": 3})
    assert load(run / "models" / "epoch_0003.pt").leak == "outside"
    code, _, err = memtasks_cli(["train", "--logdir", str(run), "--resume", "--repeats", "4"])
    assert code == 2 and "--repeats=(4,) contradicts" in err[0], err


def test_same_seed_same_run_from_the_cli(memtasks_cli, tmp_path):
    for name in ("a", "b"):
        code, _, err = memtasks_cli(["train", *TINY_FLAGS, "--seed", "3", "--logdir",
                                     str(tmp_path / name)])
        assert code == 0, err
    _same(_outcome(tmp_path / "a"), _outcome(tmp_path / "b"))
    code, _, _ = memtasks_cli(["train", *TINY_FLAGS, "--seed", "4", "--logdir", str(tmp_path / "c")])
    assert _outcome(tmp_path / "c")[0] != _outcome(tmp_path / "a")[0]


def test_same_seed_same_run_from_python_and_sweep_jobs(tmp_path):
    config = RunConfig(seed=3, **TINY)
    torch.manual_seed(123)  # the global state must not matter
    train_run(config, tmp_path / "python", progress=False)
    torch.rand(7)
    TrainJob()(config.to_dict(), str(tmp_path / "job1"))
    TrainJob(threads=1)(config.to_dict(), str(tmp_path / "job2"))
    _same(_outcome(tmp_path / "python"), _outcome(tmp_path / "job1"))
    _same(_outcome(tmp_path / "job1"), _outcome(tmp_path / "job2"))


def test_resume_restores_the_runs_own_settings(memtasks_cli, tmp_path):
    run = tmp_path / "run"
    code, _, err = memtasks_cli(["train", *TINY_FLAGS, "--task", "dms", "--heads", "3",
                                 "--labels", "every_step", "--fixed-tau", "2", "--logdir", str(run)])
    assert code == 0, err
    code, _, err = memtasks_cli(["train", "--logdir", str(run), "--resume", "--epochs", "3",
                                 "--no-progress"])
    assert code == 0, err
    stored = read_config(run)
    assert stored == RunConfig(task="dms", heads=(3,), labels="every_step", fixed_tau=2.0,
                               **{**TINY, "epochs": 3})
    assert len(History.read(run / "history.json")) == 3


@pytest.mark.parametrize("flags, named", [
    (["--task", "parity"], "--task='parity' contradicts"),
    (["--labels", "final"], "--labels='final' contradicts"),
    (["--hidden", "16"], "--hidden=16 contradicts"),
    (["--threshold", "0.5"], "--threshold=0.5 contradicts"),
])
def test_resume_refuses_flags_that_contradict_the_run(flags, named, memtasks_cli, tmp_path):
    run = tmp_path / "run"
    memtasks_cli(["train", *TINY_FLAGS, "--task", "dms", "--labels", "every_step", "--logdir", str(run)])
    before = (run / "checkpoint.pt").read_bytes()
    code, _, err = memtasks_cli(["train", "--logdir", str(run), "--resume", *flags])
    assert code == 2 and len(err) == 1 and named in err[0], err
    assert all(c in err[0] for c in ("epochs", "lr"))  # says what may change
    assert (run / "checkpoint.pt").read_bytes() == before


def test_repeating_the_runs_own_flags_on_resume_is_fine(memtasks_cli, tmp_path):
    run = tmp_path / "run"
    argv = ["train", *TINY_FLAGS, "--heads", "2", "3", "--logdir", str(run)]
    assert memtasks_cli(argv)[0] == 0
    assert memtasks_cli([*argv, "--resume", "--epochs", "3"])[0] == 0
    assert len(History.read(run / "history.json")) == 3


def test_resume_with_a_new_lr_notes_it_in_the_history(tmp_path):
    config = RunConfig(**TINY)
    train_run(config, tmp_path, progress=False)
    history = train_run(dataclasses.replace(config, epochs=3, lr=0.01), tmp_path, resume=True,
                        progress=False)
    assert history.notes == ["epoch 3: lr 0.05 -> 0.01"]
    assert History.read(tmp_path / "history.json").notes == history.notes
    assert read_config(tmp_path).lr == 0.01


def test_resume_with_a_larger_target_trains_on(tmp_path):
    config = RunConfig(**{**TINY, "epochs": 10}, threshold=0.01, target_n=2)
    first = train_run(config, tmp_path, progress=False)
    assert (first.stop_reason, len(first)) == ("target_N", 1)
    assert run_status(config, tmp_path) == "done"
    bigger = dataclasses.replace(config, target_n=3)
    assert run_status(bigger, tmp_path) == "partial"
    again = train_run(bigger, tmp_path, resume=True, progress=False)
    assert again.stop_reason == "target_N" and max(again.solved_N) >= 3 and len(again) > 1


def test_python_resume_refuses_another_run(tmp_path):
    train_run(RunConfig(**TINY), tmp_path, progress=False)
    with pytest.raises(ValueError, match="task='dms' contradicts"):
        train_run(RunConfig(task="dms", **TINY), tmp_path, resume=True, progress=False)
    assert set(CHANGEABLE) == {"epochs", "time_budget", "target_n", "device", "lr"}


def test_time_budget_is_the_runs_total(tmp_path):
    config = RunConfig(**{**TINY, "epochs": 50}, time_budget=1e-6)
    history = train_run(config, tmp_path, progress=False)
    assert (history.stop_reason, len(history)) == ("time_budget", 1)
    assert run_status(config, tmp_path) == "done"
    assert len(train_run(config, tmp_path, resume=True, progress=False)) == 1  # nothing left


def test_init_from_starts_from_another_runs_network(memtasks_cli, tmp_path):
    source = tmp_path / "source"
    assert memtasks_cli(["train", *TINY_FLAGS, "--threshold", "0.01", "--epochs", "1",
                         "--logdir", str(source)])[0] == 0
    code, _, err = memtasks_cli(["train", *TINY_FLAGS, "--curriculum", "none", "--heads", "3",
                                 "--init-from", str(source), "2", "--epochs", "1", "--lr", "1e-12",
                                 "--logdir", str(tmp_path / "retrained")])
    assert code == 0, err
    before, after = (load(d / "models" / "epoch_0001.pt") for d in (source, tmp_path / "retrained"))
    assert torch.allclose(before.recurrent.weight, after.recurrent.weight, atol=1e-9)
    assert after.heads == (3,)
    assert read_config(tmp_path / "retrained").init_from == (str(source.resolve()), 2)
    code, _, err = memtasks_cli(["train", *TINY_FLAGS, "--init-from", str(source), "9",
                                 "--logdir", str(tmp_path / "never")])
    assert code == 2 and len(err) == 1 and "never solved N=9" in err[0]
