"""Each example runs end to end in a shortened form (tiny sizes) as a user would start it."""

from __future__ import annotations

import json
import runpy
import sys
from pathlib import Path

import pytest

from agents.training import runstate

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
TINY = ["--hidden", "8", "--epochs", "2", "--steps", "2", "--eval-steps", "1", "--batch-size", "8",
        "--no-progress"]


def run_example(name, *args, monkeypatch, capsys):
    """Run ``python examples/<name> args`` in this process (torch is already imported); stdout."""
    monkeypatch.setattr(sys, "argv", [name, *args])
    try:
        runpy.run_path(str(EXAMPLES / name), run_name="__main__")
    except SystemExit as exc:
        assert exc.code == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("name", ["multi_head.py", "single_vs_multi.py", "custom_model.py",
                                  "variants.py"])
def test_help(name, monkeypatch, capsys):
    assert "--time-budget" in run_example(name, "--help", monkeypatch=monkeypatch, capsys=capsys)


def test_multi_head(tmp_path, monkeypatch, capsys):
    out = run_example("multi_head.py", *TINY, "--logdir", str(tmp_path / "run"),
                      monkeypatch=monkeypatch, capsys=capsys)
    assert f"tensorboard --logdir {tmp_path}" in out and "Largest N solved:" in out
    assert "tau mean" in out
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert len(history["records"]) == 2 and (tmp_path / "run" / "models" / "epoch_0002.pt").exists()


def test_single_vs_multi(tmp_path, monkeypatch, capsys):
    out = run_example("single_vs_multi.py", *TINY, "--out", str(tmp_path),
                      monkeypatch=monkeypatch, capsys=capsys)
    png = tmp_path / "n_reached.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and "multi-head" in out
    for name in ("single-head", "multi-head"):
        assert (tmp_path / name / "checkpoint.pt").exists()


def test_custom_model(tmp_path, monkeypatch, capsys):
    out = run_example("custom_model.py", *TINY, "--logdir", str(tmp_path),
                      monkeypatch=monkeypatch, capsys=capsys)
    assert "Largest N solved:" in out and (tmp_path / "checkpoint.pt").exists()


def test_variants(tmp_path, monkeypatch, capsys):
    out = run_example("variants.py", *TINY, "--repeats", "1", "2", "--out", str(tmp_path),
                      monkeypatch=monkeypatch, capsys=capsys)
    rows = [line.split() for line in out.splitlines() if line.startswith(("single-head", "multi-head"))]
    assert sorted((row[0], row[1]) for row in rows) == [
        ("multi-head", "inside"), ("multi-head", "outside"),
        ("single-head", "inside"), ("single-head", "outside")]
    assert all(row[2] == "2" for row in rows)   # --epochs 2 each
    assert "leak inside: multi-head solves" in out and "leak outside: multi-head solves" in out
    for curriculum, leak in ((r[0], r[1]) for r in rows):
        run = tmp_path / f"{curriculum}-{leak}"
        assert len(json.loads((run / "history.json").read_text())["records"]) == 2
        config = runstate.load_state(run / runstate.CHECKPOINT)["config"]
        assert config["model_config"]["leak"] == leak and config["repeats"] == [1, 2]
