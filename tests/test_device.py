"""``--device cuda`` through train, analyze and sweep; GPU tests skip where torch sees no GPU."""

from __future__ import annotations

import json

import pytest
import torch

from agents.experiments.cli import main

TINY = ["--hidden", "8", "--epochs", "2", "--steps-per-epoch", "3", "--eval-steps", "1",
        "--batch-size", "8", "--no-progress"]
gpu = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


def _code(argv):
    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message on a machine without GPU")
def test_analyze_on_cuda_without_gpu_is_one_line(tmp_path, capsys):
    assert _code(["train", "--logdir", str(tmp_path / "run")] + TINY) == 0
    capsys.readouterr()
    assert _code(["analyze", str(tmp_path / "run"), "--device", "cuda", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cuda" in err[0]


@gpu
@pytest.mark.cuda
@pytest.mark.parametrize("model", ["leaky", "gru", "lstm"])
def test_train_resume_and_analyze_on_cuda(model, tmp_path, capsys):
    run = tmp_path / "run"
    base = ["train", "--device", "cuda", "--model", model, "--curriculum", "multi",
            "--threshold", "0.01", "--logdir", str(run)] + TINY  # low threshold: heads grow
    assert _code(base) == 0
    more = [a if a != "2" else "3" for a in base]
    assert _code(more + ["--resume"]) == 0
    history = json.loads((run / "history.json").read_text())
    assert [r["epoch"] for r in history["records"]] == [1, 2, 3]
    assert len(history["records"][-1]["heads"]) > 1
    assert _code(["analyze", str(run), "--device", "cuda", "--steps", "300", "--trials", "1",
                  "--repeats", "2", "--epsilons", "0", "0.1", "--no-progress"]) == 0
    assert (run / "analysis" / "analysis.json").is_file()


@gpu
@pytest.mark.cuda
@pytest.mark.slow
def test_sweep_on_cuda(tmp_path, capsys):
    argv = ["sweep", str(tmp_path), "--seeds", "0", "1", "--jobs", "2", "--poll", "0.5",
            "--no-progress", "--set", "device=cuda"]
    argv += [f"--set={a.lstrip('-')}={b}" for a, b in zip(TINY[:-1:2], TINY[1:-1:2])]
    assert _code(argv) == 0
    for seed in (0, 1):
        records = json.loads((tmp_path / "parity-multi-leaky-tau-trained" / f"seed_{seed}" /
                              "history.json").read_text())["records"]
        assert len(records) == 2
