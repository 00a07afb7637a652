import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from memtasks.tasks import label_stream

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_batch.py"


def load_bench():
    spec = importlib.util.spec_from_file_location("bench_batch", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("task", ["parity", "dms"])
def test_naive_baseline_computes_the_task(task):
    """The per-sample baseline builds the same task as memtasks: shapes, lengths and labels."""
    torch.manual_seed(0)
    heads = (2, 3, 5)
    inputs, labels = load_bench().naive_batch(task, heads, 16)
    T = inputs.shape[0]
    assert inputs.shape == (T, 16, 1) and inputs.dtype == torch.float32 and 7 <= T < 22
    assert len(labels) == len(heads) and all(label.shape == (16,) for label in labels)
    bits = inputs[..., 0].numpy().astype(np.uint8)
    expected = label_stream(task, bits, heads, np.array([T - 1]))[0]       # (B, H)
    np.testing.assert_array_equal(torch.stack(labels, dim=1).numpy(), expected)
