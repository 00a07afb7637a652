"""CUDA-graph steps: the static-buffer structure equals the plain eager step (CPU, every run);
capture and replay equal eager, resume stays bit-exact, seeds repeat, memory stays bounded (CUDA).
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from agents import LeakyRNN
from agents.training.graphs import (EagerSteps, GraphedSteps, _Buffers, check_graphs, make_steps,
                                    model_support, optimizer_ready, optimizer_support, rehearse)
from agents.training.loop import paper_optimizer, train
from agents.training.steps import batch_tensors

gpu = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
CPU = torch.device("cpu")


def _pair(hidden=16, heads=(2, 3), device="cpu"):
    """Two identical models with their paper optimizers."""
    torch.manual_seed(0)
    model = LeakyRNN(hidden, heads).to(device)
    twin = copy.deepcopy(model)
    return (model, paper_optimizer(model.parameters())), (twin, paper_optimizer(twin.parameters()))


def _batches(env, count, seed, batch_size=8, repeats=(1,)):
    """``count`` batches of varying length T (so buffers grow, shrink and shapes repeat), each k
    of ``repeats`` in turn (continuous time)."""
    rng = np.random.default_rng(seed)
    return [env.unwrapped.sample_batch(batch_size, rng, repeat=repeats[i % len(repeats)])
            for i in range(count)]


def _drive(stepper, batches, seed=0):
    """Train on ``batches`` then evaluate on them; the losses and counts, seeded alike."""
    torch.manual_seed(seed)
    losses = [stepper.train(b).clone() for b in batches]
    counts = [tuple(t.clone() for t in stepper.evaluate(b)) for b in batches]
    return losses, counts


@pytest.mark.parametrize("labels, repeats", [("final", (1,)), ("every_step", (1,)),
                                             ("final", (1, 2))])
def test_static_buffer_steps_equal_plain_eager_steps(make_env, labels, repeats):
    env = make_env((2, 3), labels=labels)
    batches = _batches(env, 12, seed=1, repeats=repeats)
    assert len({b.inputs.shape[0] for b in batches}) > 3  # several lengths, some repeated
    (model, opt), (twin, twin_opt) = _pair()
    losses, counts = _drive(EagerSteps(model, opt, 2.0, CPU), batches)
    static = GraphedSteps(twin, twin_opt, 2.0, CPU, capture=False)
    twin_losses, twin_counts = _drive(static, batches)
    assert static.captures == 0
    assert all(torch.equal(a, b) for a, b in zip(losses, twin_losses))
    assert all(torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
               for a, b in zip(counts, twin_counts))
    for p, q in zip(model.parameters(), twin.parameters()):
        assert torch.equal(p, q)


class FakeGraph:
    """Stands in for a CUDA graph on the CPU: its capture ran the step once (as capture plus the
    first replay do), later replays run it again and write into the same output tensors."""

    def __init__(self, step, inputs, outputs):
        self.step, self.inputs, self.outputs, self.replays = step, inputs, outputs, 0

    def replay(self):
        if self.replays:
            fresh = self.step(*self.inputs)
            for out, new in zip(self.outputs if isinstance(self.outputs, tuple)
                                else (self.outputs,), fresh if isinstance(fresh, tuple) else (fresh,)):
                out.copy_(new)
        self.replays += 1


def _fake_capturing(steps):
    """``steps`` (built with capture=False) capturing stand-in graphs instead of CUDA ones."""
    def capture(name, step, inputs):
        graph = FakeGraph(step, inputs, step(*inputs))
        return graph, graph.outputs
    steps.capture = True
    steps._rehearse = lambda inputs: None
    steps._capture = capture
    return steps


def test_graph_table_keys_replays_evicts_and_drops_on_growth(make_env):
    """The bookkeeping of GraphedSteps with stand-in graphs: one graph per (step, k, shapes),
    eager until the optimizer has state, least recently used dropped, all dropped on growth."""
    env = make_env((2, 3))
    batches = _batches(env, 16, seed=5, repeats=(1, 2))  # k=1 and k=2 batches of one length
    batches.sort(key=lambda b: -b.inputs.size)  # the longest first: the buffers never grow
    (model, opt), (twin, twin_opt) = _pair()
    losses, counts = _drive(EagerSteps(model, opt, 2.0, CPU), batches)
    faked = _fake_capturing(GraphedSteps(twin, twin_opt, 2.0, CPU, capture=False, max_graphs=6))
    twin_losses, twin_counts = _drive(faked, batches)
    assert all(torch.equal(a, b) for a, b in zip(losses, twin_losses))
    assert all(torch.equal(a[0], b[0]) for a, b in zip(counts, twin_counts))
    for p, q in zip(model.parameters(), twin.parameters()):
        assert torch.equal(p, q)
    assert len(faked.graphs) <= 6 < faked.captures
    assert {key[:2] for key in faked.graphs} <= {("train", 1), ("train", 2), ("eval", 1), ("eval", 2)}
    replays = sum(graph.replays for graph, _ in faked.graphs.values())
    assert replays > len(faked.graphs)  # some shapes came back and were replayed
    (model, opt), _ = _pair()
    fresh = _fake_capturing(GraphedSteps(model, opt, 2.0, CPU, capture=False))
    fresh.train(batches[0])
    assert fresh.captures == 0  # the optimizer had no momentum yet: that step ran eagerly
    fresh.train(batches[0])
    assert fresh.captures == 1
    longer = env.unwrapped.sample_batch(8, np.random.default_rng(0), repeat=64)  # buffers grow
    faked.evaluate(longer)
    assert [key[0] for key in faked.graphs] == ["eval"] and len(faked.graphs) == 1


def test_buffers_hold_each_batch_in_its_shape_and_say_when_they_grow():
    buffers = _Buffers(CPU)
    small, large = np.arange(6, dtype=np.int64).reshape(2, 3), np.arange(20, dtype=np.int64)
    assert buffers.fit([small]) is True and buffers.fit([small]) is False
    (view,) = buffers.fill([small])
    assert torch.equal(view, torch.from_numpy(small))
    base = buffers.flat[0].data_ptr()
    assert buffers.fit([large]) is True and buffers.flat[0].data_ptr() != base
    assert buffers.fit([small]) is False  # smaller batches reuse the grown buffer
    (view,) = buffers.fill([small])
    assert view.data_ptr() == buffers.flat[0].data_ptr() and torch.equal(view, torch.from_numpy(small))
    assert buffers.fit([small.astype(np.float32)]) is True  # another dtype: a new buffer


def test_rehearsal_leaves_model_optimizer_and_random_state_untouched(make_env):
    (model, opt), _ = _pair()
    EagerSteps(model, opt, 2.0, CPU).train(_batches(make_env((2, 3)), 1, seed=2)[0])
    before = copy.deepcopy((model.state_dict(), opt.state_dict()))
    rng = torch.get_rng_state()
    inputs = batch_tensors(_batches(make_env((2, 3)), 1, seed=3)[0], CPU)
    rehearse(model, opt, 2.0, inputs)
    assert torch.equal(torch.get_rng_state(), rng)
    for name, value in model.state_dict().items():
        assert torch.equal(value, before[0][name]), name
    for p, state in opt.state_dict()["state"].items():
        assert torch.equal(state["momentum_buffer"], before[1]["state"][p]["momentum_buffer"])


def test_optimizer_is_ready_once_its_state_exists(make_env):
    (model, opt), _ = _pair()
    assert not optimizer_ready(opt)
    EagerSteps(model, opt, 2.0, CPU).train(_batches(make_env((2, 3)), 1, seed=4)[0])
    assert optimizer_ready(opt)
    assert optimizer_ready(torch.optim.SGD(model.parameters(), lr=0.1))  # no momentum, no state


def test_which_models_and_optimizers_can_be_captured(user_gru):
    model = LeakyRNN(4, (2,))
    assert model_support(model) is None
    assert "UserGRU" in model_support(user_gru)
    assert optimizer_support(paper_optimizer(model.parameters())) is None
    assert optimizer_support(torch.optim.Adam(model.parameters(), capturable=True)) is None
    assert "Adam" in optimizer_support(torch.optim.Adam(model.parameters()))


def test_graphs_argument_is_checked(make_env):
    model = LeakyRNN(4, (2,))
    assert check_graphs(None, model, CPU) is False and check_graphs(False, model, CPU) is False
    with pytest.raises(ValueError, match=r"graphs=True is not accepted: CUDA graphs need a CUDA "
                                         r"device, not 'cpu'"):
        train(model, make_env(2), epochs=1, progress=False, graphs=True)
    with pytest.raises(TypeError, match=r"graphs='yes' is not accepted: expected None, True or "
                                        r"False"):
        train(model, make_env(2), epochs=1, progress=False, graphs="yes")
    opt = torch.optim.Adam(model.parameters())
    assert isinstance(make_steps(model, opt, 2.0, CPU, False), EagerSteps)
    with pytest.raises(ValueError, match="graphs=True is not accepted: optimizer Adam"):
        make_steps(model, opt, 2.0, CPU, True)


# ---- on a CUDA GPU -------------------------------------------------------------------------

@gpu
@pytest.mark.cuda
@pytest.mark.parametrize("labels, repeats", [("final", (1,)), ("every_step", (1,)),
                                             ("final", (1, 2))])
def test_graphed_steps_equal_eager_steps_on_cuda(make_env, labels, repeats):
    cuda = torch.device("cuda")
    env = make_env((2, 3, 4), labels=labels)
    batches = _batches(env, 16, seed=5, batch_size=32, repeats=repeats)
    (model, opt), (twin, twin_opt) = _pair(64, (2, 3, 4), "cuda")
    losses, counts = _drive(EagerSteps(model, opt, 2.0, cuda), batches)
    graphed = GraphedSteps(twin, twin_opt, 2.0, cuda)
    twin_losses, twin_counts = _drive(graphed, batches)
    shapes = len({(b.repeat, b.inputs.shape) for b in batches})
    assert 0 < graphed.captures <= 2 * shapes < 2 * len(batches)  # some steps were replays
    for a, b in zip(losses, twin_losses):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)
    assert all(torch.equal(a[1], b[1]) for a, b in zip(counts, twin_counts))
    for p, q in zip(model.parameters(), twin.parameters()):
        torch.testing.assert_close(p, q, rtol=0, atol=1e-5)


def _run(make_env, tmp_path, epochs, *, seed=3, resume=False, graphs=None, name="run"):
    torch.manual_seed(0)
    model = LeakyRNN(32, (2,))
    env = make_env(2, curriculum=True)
    env.threshold = -1.0  # a new head every epoch: graphs are re-captured on both sides
    history = train(model, env, epochs=epochs, steps_per_epoch=20, eval_steps=4, batch_size=16,
                    seed=seed, checkpoint_dir=tmp_path / name, resume=resume, device="cuda",
                    progress=False, graphs=graphs)
    return model, [(r.heads, r.loss, r.accuracy) for r in history.records]


@gpu
@pytest.mark.cuda
def test_graphed_run_resumes_bit_exact_and_seeds_repeat_on_cuda(make_env, tmp_path):
    full_model, full = _run(make_env, tmp_path, 4, name="full")
    _run(make_env, tmp_path, 2, name="split")
    split_model, split = _run(make_env, tmp_path, 4, resume=True, name="split")
    assert split == full
    for p, q in zip(full_model.state_dict().values(), split_model.state_dict().values()):
        assert torch.equal(p, q)
    assert _run(make_env, tmp_path, 4, name="again")[1] == full  # same seed, same run
    assert _run(make_env, tmp_path, 4, seed=4, name="other")[1] != full
    eager = _run(make_env, tmp_path, 4, graphs=False, name="eager")[1]
    assert [h for h, _, _ in eager] == [h for h, _, _ in full]
    np.testing.assert_allclose([loss for _, loss, _ in eager], [loss for _, loss, _ in full],
                               rtol=1e-4)


@gpu
@pytest.mark.cuda
def test_graph_memory_stays_near_one_eager_step_for_N_2_to_100(make_env, capsys):
    """All graphs share one pool: the peak is that of the longest step, not the sum over T."""
    cuda = torch.device("cuda")
    heads = tuple(range(2, 101))
    batches = _batches(make_env(heads), 40, seed=6, batch_size=256)
    (model, opt), (twin, twin_opt) = _pair(500, heads, "cuda")
    EagerSteps(model, opt, 2.0, cuda).train(batches[0])  # optimizer state and CUDA set-up
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    base = torch.cuda.memory_allocated()
    eager = EagerSteps(model, opt, 2.0, cuda)
    for batch in batches:
        eager.train(batch)
    torch.cuda.synchronize()
    eager_peak = torch.cuda.max_memory_allocated() - base
    del eager, model, opt
    graphed = GraphedSteps(twin, twin_opt, 2.0, cuda)
    graphed.train(batches[0])  # optimizer state
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    base, free = torch.cuda.memory_allocated(), torch.cuda.mem_get_info()[0]
    for batch in batches:
        graphed.train(batch)
    torch.cuda.synchronize()
    graphed_peak = torch.cuda.max_memory_allocated() - base
    device_used = free - torch.cuda.mem_get_info()[0]
    lengths = len({b.inputs.shape[0] for b in batches})
    with capsys.disabled():
        print(f"\nN=2..100, hidden 500, batch 256, {lengths} lengths, {graphed.captures} graphs: "
              f"peak allocated eager {eager_peak / 2**20:.0f} MiB, graphed "
              f"{graphed_peak / 2**20:.0f} MiB; device memory taken by the graphs "
              f"{device_used / 2**20:.0f} MiB")
    assert graphed.captures == lengths > 10
    assert graphed_peak <= 2 * eager_peak
