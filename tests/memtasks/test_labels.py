"""The vectorized label function and batches against the slow per-sample definition."""

import numpy as np
import pytest

import memtasks
from memtasks.batch import sample_batch
from memtasks.tasks import TaskConfig, label_stream


@pytest.mark.parametrize("task", memtasks.TASKS)
def test_label_stream_matches_definition(task, slow):
    rng = np.random.default_rng(0)
    bits = (rng.random((23, 7)) < 0.5).astype(np.uint8)
    heads = (2, 5, 3, 23) if task == "dms" else (1, 2, 5, 3, 23)
    labels = label_stream(task, bits, heads)
    assert labels.shape == (23, 7, len(heads)) and labels.dtype == np.int64
    expected = [[[slow(task, bits[:, b], t, n) for n in heads] for b in range(7)] for t in range(23)]
    np.testing.assert_array_equal(labels, expected)


@pytest.mark.parametrize("task", memtasks.TASKS)
def test_label_stream_at_steps_equals_full_stream_rows(task):
    bits = (np.random.default_rng(1).random((300, 4)) < 0.5).astype(np.uint8)  # long streams, 4 of them (padded to 8)
    steps = np.array([0, 3, 255, 256, 299])
    full = label_stream(task, bits, (2, 4, 260))
    np.testing.assert_array_equal(label_stream(task, bits, (2, 4, 260), steps), full[steps])


def test_known_answers():
    bits = np.array([[1, 0, 1, 1, 0]]).T
    np.testing.assert_array_equal(label_stream("parity", bits, (2, 3))[:, 0].T,
                                  [[-1, 1, 1, 0, 1], [-1, -1, 0, 0, 0]])
    np.testing.assert_array_equal(label_stream("dms", bits, (2, 4))[:, 0].T,
                                  [[-1, 0, 0, 1, 0], [-1, -1, -1, 1, 1]])


@pytest.mark.parametrize("task", memtasks.TASKS)
@pytest.mark.parametrize("labels", ["final", "every_step"])
def test_batch_targets_match_definition(task, labels, slow):
    config = TaskConfig(task, (4, 2, 7), None, None, labels)
    batch = sample_batch(config, 16, np.random.default_rng(2))
    T, B = batch.inputs.shape[:2]
    assert batch.inputs.shape == (T, 16, 1) and batch.inputs.dtype == np.float32
    assert 9 <= T < 30 and batch.heads == (4, 2, 7)
    expected_steps = [T - 1] if labels == "final" else list(range(1, T))
    np.testing.assert_array_equal(batch.steps, expected_steps)
    assert batch.steps.dtype == np.int64 and batch.targets.dtype == np.int64
    bits = batch.inputs[:, :, 0]
    expected = [[[slow(task, bits[:, b], t, n) for n in batch.heads] for b in range(B)] for t in batch.steps]
    np.testing.assert_array_equal(batch.targets, expected)


def test_to_torch():
    torch = pytest.importorskip("torch")
    batch = sample_batch(TaskConfig("parity", (2, 3)), 5, np.random.default_rng(3))
    inputs, targets = batch.to_torch("cpu")
    assert inputs.dtype == torch.float32 and targets.dtype == torch.int64
    np.testing.assert_array_equal(inputs.numpy(), batch.inputs)
    np.testing.assert_array_equal(targets.numpy(), batch.targets)
