"""Vectorized sampling of bit streams and their labels: supervised batches and RL episodes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from memtasks.checks import check_int, is_int, reject
from memtasks.tasks import TaskConfig, label_stream


@dataclass
class Batch:
    """A batch of sequences for supervised training (numpy arrays).

    inputs:  float32 (T, B, 1), the bits, each shown `repeat` times in a row;
    steps:   int64 (L,), the time steps that carry labels;
    targets: int64 (L, B, H), the labels at those steps, -1 where a head has none;
    heads:   the N of each head, the column order of `targets`;
    repeat:  k, the steps per bit (continuous time; a model scales its τ by it).
    """

    inputs: np.ndarray
    steps: np.ndarray
    targets: np.ndarray
    heads: tuple[int, ...]
    repeat: int = 1

    def to_torch(self, device: Any = "cpu") -> tuple[Any, Any]:
        """(inputs, targets) as torch tensors on `device` (zero-copy on the CPU)."""
        import torch  # imported here so that memtasks never needs torch to build batches

        if not isinstance(device, (str, torch.device)):
            raise TypeError(f"device={device!r} is not accepted: expected a torch device or its "
                            f"name, e.g. 'cpu' or 'cuda'")
        try:
            device = torch.device(device)
        except RuntimeError:
            raise ValueError(f"device={device!r} is not accepted: expected a torch device name, "
                             f"e.g. 'cpu', 'cuda' or 'cuda:1'") from None
        return (torch.from_numpy(self.inputs).to(device),
                torch.from_numpy(self.targets).to(device))


def as_generator(rng: Any, default: np.random.Generator) -> np.random.Generator:
    """`rng` as a Generator: a Generator itself, an int seed >= 0, or None for `default`."""
    if rng is None:
        return default
    if isinstance(rng, np.random.Generator):
        return rng
    accepted = "a numpy.random.Generator, an int seed >= 0 or None"
    if not is_int(rng):
        raise reject("rng", rng, accepted, TypeError)
    if rng < 0:
        raise reject("rng", rng, accepted)
    return np.random.default_rng(int(rng))


def draw_bits(config: TaskConfig, rng: np.random.Generator, T: int, count: int) -> np.ndarray:
    """`count` Bernoulli bit streams of length T as uint8 (T, count); p per stream (parity default U(0, 1))."""
    if config.p is None and config.task == "parity":
        p = rng.random(count, dtype=np.float32)
    else:
        p = np.full(count, 0.5 if config.p is None else config.p, dtype=np.float32)
    return (rng.random((T, count), dtype=np.float32) < p).view(np.uint8)


def sample_batch(config: TaskConfig, batch_size: int, rng: np.random.Generator) -> Batch:
    """A batch of `batch_size` streams sharing one length drawn from the config's length range.

    With `config.repeat` = k, each of the M bits is shown k times (T = M k steps) and the label of
    bit j sits at its last copy, step (j + 1) k - 1, so "final" still labels step T - 1.
    """
    batch_size = check_int(batch_size, "batch_size")
    M = int(rng.integers(*config.length_range()))
    bits = draw_bits(config, rng, M, batch_size)
    if config.labels == "final":
        labelled = np.array([M - 1], dtype=np.int64)
    else:
        labelled = np.arange(min(config.heads) - 1, M, dtype=np.int64)
    targets = label_stream(config.task, bits, config.heads, labelled)
    k = config.repeat
    inputs = np.repeat(bits, k, axis=0).astype(np.float32)[:, :, None]
    return Batch(inputs, (labelled + 1) * k - 1, targets, config.heads, k)


def draw_episodes(config: TaskConfig, rng: np.random.Generator, count: int) -> tuple[np.ndarray, np.ndarray]:
    """`count` episodes with their own lengths: the streams as shown, uint8 (max length, count),
    each bit `config.repeat` times in a row, and their lengths in steps, int64 (count,)."""
    lengths = rng.integers(*config.length_range(), size=count)
    bits = draw_bits(config, rng, int(lengths.max()), count)
    return np.repeat(bits, config.repeat, axis=0), lengths * config.repeat


def episode_labels(config: TaskConfig, bits: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Labels of episodes `bits` (T, count) of `lengths` steps: int8 (T, count, H), -1 where none is scored.

    Only the last copy of each bit (step (j + 1) k - 1 for repeat k) can carry a label; "final"
    keeps only each episode's last step, "every_step" every such step inside the episode.
    """
    k = config.repeat
    labels = np.full((*bits.shape, len(config.heads)), -1, dtype=np.int8)
    labels[k - 1::k] = label_stream(config.task, bits[k - 1::k], config.heads)
    t = np.arange(bits.shape[0])[:, None]
    scored = t == lengths - 1 if config.labels == "final" else t < lengths
    labels[~scored] = -1
    return labels
