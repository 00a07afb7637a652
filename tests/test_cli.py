"""The ``memtasks`` command line: help, one-line errors with exit code 2, a tiny real run."""

from __future__ import annotations

import json

import pytest
import torch

from agents.experiments.cli import build_parser, main
from agents.training import runstate

TINY = ["--hidden", "8", "--epochs", "2", "--steps-per-epoch", "3", "--eval-steps", "1",
        "--batch-size", "8", "--no-progress"]


def test_help_explains_every_flag(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["train", "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    train = build_parser()._subparsers._group_actions[0].choices["train"]
    flags = [s for a in train._actions for s in a.option_strings if s.startswith("--")]
    assert len(flags) > 20
    for action in train._actions:
        assert action.help, action.option_strings
    for flag in flags:
        assert flag in text


@pytest.mark.parametrize("argv, names", [
    ([], "COMMAND"),
    (["fly"], "fly"),
    (["train", "--bogus"], "--bogus"),
    (["train", "--hidden", "0"], "--hidden"),
    (["train", "--hidden", "ten"], "--hidden"),
    (["train", "--epochs", "-1"], "--epochs"),
    (["train", "--task", "xor"], "--task"),
    (["train", "--curriculum", "random"], "--curriculum"),
    (["train", "--model", "transformer"], "--model"),
    (["train", "--heads"], "--heads"),
    (["train", "--heads", "0"], "--heads"),
    (["train", "--lr", "-0.1"], "--lr"),
    (["train", "--lr", "nan"], "--lr"),
    (["train", "--tau", "0.5"], "--tau"),
    (["train", "--tau", "2", "--fixed-tau", "2"], "--fixed-tau"),
    (["train", "--time-budget", "0"], "--time-budget"),
    (["train", "--device", "tpu"], "--device"),
    (["train", "--labels", "sometimes"], "--labels"),
    (["train", "--leak", "sideways"], "--leak"),
    (["train", "--repeats"], "--repeats"),
    (["train", "--repeats", "1", "0"], "--repeats"),
])
def test_bad_flags_exit_2_with_one_line(argv, names, memtasks_cli):
    code, _, err = memtasks_cli(argv)
    assert code == 2 and len(err) == 1, err
    assert names in err[0] and "error" in err[0]


@pytest.mark.parametrize("argv, names", [
    (["train", "--model", "gru", "--tau", "2"], "--tau"),
    (["train", "--task", "dms", "--heads", "1"], "--heads"),
    (["train", "--curriculum", "sliding", "--heads", "3", "2", "3"], "--heads"),
    (["train", "--heads", "5", "--max-n", "3"], "--max-n"),
    (["train", "--model", "lstm", "--leak", "outside"], "--leak"),
    (["train", "--repeats", "2", "2"], "--repeats"),
])
def test_bad_values_found_by_the_library_exit_2_with_one_line(argv, names, memtasks_cli, tmp_path):
    code, _, err = memtasks_cli(argv + TINY + ["--logdir", str(tmp_path / "run")])
    assert code == 2 and len(err) == 1, err
    assert names in err[0]
    assert not (tmp_path / "run").exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without GPU")
def test_cuda_without_gpu_is_one_line(memtasks_cli, tmp_path):
    code, _, err = memtasks_cli(["train", "--device", "cuda", "--logdir", str(tmp_path)] + TINY)
    assert code == 2 and len(err) == 1 and "cuda" in err[0]


def test_train_writes_a_run_and_resumes(memtasks_cli, tmp_path):
    logdir = tmp_path / "run"
    code, _, _ = memtasks_cli(["train", "--logdir", str(logdir), "--seed", "1"] + TINY)
    assert code == 0
    assert {"checkpoint.pt", "history.json", "models"} <= {p.name for p in logdir.iterdir()}
    assert any(p.name.startswith("events.out.tfevents") for p in logdir.iterdir())
    assert sorted(p.name for p in (logdir / "models").iterdir()) == ["epoch_0001.pt", "epoch_0002.pt"]

    code, _, err = memtasks_cli(["train", "--logdir", str(logdir)] + TINY)  # no --resume: refused
    assert code == 2 and len(err) == 1 and "--resume" not in err[0] and "resume" in err[0]

    more = [a if a != "2" else "3" for a in TINY]  # --epochs 3
    code, _, _ = memtasks_cli(["train", "--logdir", str(logdir), "--seed", "1", "--resume"] + more)
    assert code == 0
    history = json.loads((logdir / "history.json").read_text())
    assert [r["epoch"] for r in history["records"]] == [1, 2, 3]


@pytest.mark.parametrize("extra", [
    ["--model", "gru", "--curriculum", "single"],
    ["--model", "lstm", "--curriculum", "sliding", "--heads", "2", "3", "--task", "dms"],
    ["--fixed-tau", "1", "--curriculum", "none", "--labels", "every_step"],
])
def test_each_model_curriculum_and_label_mode_runs(extra, memtasks_cli, tmp_path):
    code, out, _ = memtasks_cli(["train", "--logdir", str(tmp_path)] + TINY + extra)
    assert code == 0 and f"tensorboard --logdir {tmp_path}" in out


def test_repeats_reach_the_training_loop(memtasks_cli, tmp_path):
    code, _, _ = memtasks_cli(["train", "--logdir", str(tmp_path), "--repeats", "1", "3"] + TINY)
    assert code == 0
    assert runstate.load_state(tmp_path / runstate.CHECKPOINT)["config"]["repeats"] == [1, 3]


def test_leak_reaches_the_model(memtasks_cli, tmp_path):
    code, _, _ = memtasks_cli(["train", "--logdir", str(tmp_path), "--leak", "outside"] + TINY)
    assert code == 0
    config = runstate.load_state(tmp_path / runstate.CHECKPOINT)["config"]["model_config"]
    assert config["leak"] == "outside"
