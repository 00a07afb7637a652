"""Properties over random arguments (hypothesis): envs stay inside their spaces, label exactly as the
task definitions say and always end; batches do the same; ``set_heads`` keeps surviving heads."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import memtasks  # noqa: F401  (registers the envs)
from agents import GRU, LSTM, LeakyRNN

FAST = settings(max_examples=40, deadline=None)


def obvious_label(task: str, bits: list[int], t: int, N: int) -> int:
    """y_t for head N straight from the definition; −1 before the window is complete."""
    if t < N - 1:
        return -1
    if task == "parity":
        return sum(bits[t - N + 1:t + 1]) % 2
    return int(bits[t - N + 1] == bits[t])


@st.composite
def env_args(draw):
    """Valid keyword arguments of either env, over the whole accepted range."""
    task = draw(st.sampled_from(["parity", "dms"]))
    heads = draw(st.lists(st.integers(2 if task == "dms" else 1, 9), min_size=1, max_size=4,
                          unique=True))
    N = heads[0] if len(heads) == 1 and draw(st.booleans()) else heads
    low = max(heads)
    seq_len = draw(st.one_of(st.none(), st.integers(low, low + 12),
                             st.tuples(st.integers(low, low + 6), st.integers(1, 8)).map(
                                 lambda lh: (lh[0], lh[0] + lh[1]))))
    p = draw(st.one_of(st.none(), st.floats(0, 1), st.sampled_from([0.0, 1.0])))
    labels = draw(st.sampled_from(["final", "every_step"]))
    return task, dict(N=N, seq_len=seq_len, p=p, labels=labels)


def length_bounds(heads: tuple[int, ...], seq_len) -> tuple[int, int]:
    """[low, high) of the sequence length, as the API table states it."""
    if seq_len is None:
        return max(heads) + 2, 4 * max(heads) + 2
    if isinstance(seq_len, int):
        return seq_len, seq_len + 1
    return seq_len


@FAST
@given(args=env_args(), seed=st.integers(0, 2**32 - 1), data=st.data())
def test_env_episodes_stay_in_space_label_by_definition_and_end(args, seed, data):
    task, kwargs = args
    env = gym.make({"parity": "memtasks/Parity-v0", "dms": "memtasks/DMS-v0"}[task], **kwargs)
    heads = env.unwrapped.heads
    low, high = length_bounds(heads, kwargs["seq_len"])
    obs, _ = env.reset(seed=seed)
    bits = []
    for t in range(high):
        assert env.observation_space.contains(obs)
        assert obs[0] in (0.0, 1.0)
        bits.append(int(obs[0]))
        action = np.array(data.draw(st.lists(st.integers(0, 1), min_size=len(heads),
                                             max_size=len(heads))))
        obs, reward, terminated, truncated, info = env.step(action)
        assert not truncated
        last = terminated
        want = np.array([obvious_label(task, bits, t, n) if last or kwargs["labels"] == "every_step"
                         else -1 for n in heads])
        np.testing.assert_array_equal(info["labels"], want)
        np.testing.assert_array_equal(info["correct"], (action == want) & (want >= 0))
        labelled = want >= 0
        assert reward == (info["correct"][labelled].mean() if labelled.any() else 0.0)
        if terminated:
            assert low <= t + 1 < high
            assert env.observation_space.contains(obs) and not obs.any()
            break
    else:
        pytest.fail(f"no episode end within {high} steps")


@FAST
@given(args=env_args(), batch_size=st.integers(1, 9), seed=st.integers(0, 2**32 - 1))
def test_sample_batch_shapes_ranges_and_labels(args, batch_size, seed):
    task, kwargs = args
    env = memtasks.MemoryTaskEnv(task, **kwargs)
    batch = env.sample_batch(batch_size, rng=seed)
    T, heads = batch.inputs.shape[0], env.heads
    low, high = length_bounds(heads, kwargs["seq_len"])
    assert low <= T < high and batch.heads == heads
    assert batch.inputs.dtype == np.float32 and batch.inputs.shape == (T, batch_size, 1)
    assert set(np.unique(batch.inputs)) <= {0.0, 1.0}
    steps = [T - 1] if kwargs["labels"] == "final" else list(range(min(heads) - 1, T))
    np.testing.assert_array_equal(batch.steps, steps)
    assert batch.targets.dtype == np.int64 and batch.targets.shape == (len(steps), batch_size,
                                                                         len(heads))
    for b in range(batch_size):
        bits = [int(x) for x in batch.inputs[:, b, 0]]
        want = [[obvious_label(task, bits, t, n) for n in heads] for t in steps]
        np.testing.assert_array_equal(batch.targets[:, b, :], want)
    again = env.sample_batch(batch_size, rng=seed)  # the same seed, the same batch
    np.testing.assert_array_equal(again.inputs, batch.inputs)


head_sets = st.lists(st.integers(1, 12), min_size=1, max_size=5, unique=True)


@FAST
@given(kind=st.sampled_from([LeakyRNN, GRU, LSTM]), start=head_sets,
       changes=st.lists(head_sets, min_size=1, max_size=5))
def test_set_heads_keeps_surviving_heads(kind, start, changes):
    torch.manual_seed(0)
    model = kind(4, tuple(start))
    states = torch.randn(3, 4)
    for heads in changes:
        before = dict(zip(model.heads, model.readout(states).detach().unbind(-2)))
        params = {n: [p.detach().clone() for p in model.readouts.linears[str(n)].parameters()]
                  for n in model.heads}
        model.set_heads(heads)
        assert model.heads == tuple(heads)
        after = model.readout(states).detach()
        assert after.shape == (3, len(heads), 2)
        for i, n in enumerate(heads):
            if n in before:
                torch.testing.assert_close(after[:, i], before[n], rtol=1e-6, atol=1e-6)
                for old, new in zip(params[n], model.readouts.linears[str(n)].parameters()):
                    assert torch.equal(old, new)
