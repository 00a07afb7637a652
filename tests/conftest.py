"""Suite-wide settings and test data.

One torch thread, so tests do not oversubscribe a small CI machine. The paper's reference
checkpoints live in ``shared/reference-checkpoints`` beside the repository (or where
``MEMTASKS_REFERENCE_DIR`` points); tests that need them skip where they are absent.
"""

import os
from pathlib import Path

import pytest
import torch

torch.set_num_threads(1)

REFERENCE_DIR = Path(os.environ.get(
    "MEMTASKS_REFERENCE_DIR",
    Path(__file__).resolve().parents[2] / "shared" / "reference-checkpoints"))
PAPER_HEADS = {"multihead_parity_N2_N5.pt": (2, 3, 4, 5), "singlehead_parity_N5.pt": (5,)}


@pytest.fixture
def reference():
    """``reference(name)`` → the path of a reference checkpoint; skips the test where it is absent."""
    def path(name: str) -> Path:
        file = REFERENCE_DIR / name
        if not file.is_file():
            pytest.skip(f"reference checkpoint {file} not found")
        return file
    return path


@pytest.fixture
def memtasks_cli(capsys):
    """``memtasks_cli(argv)`` → (exit code, stdout, stderr lines) of the ``memtasks`` command, run in process."""
    from agents.experiments.cli import main

    def call(argv: list[str]) -> tuple[int, str, list[str]]:
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code
        captured = capsys.readouterr()
        return code, captured.out, captured.err.strip().splitlines()
    return call
