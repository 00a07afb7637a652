"""LeakyRNN under PyTorch's transforms: higher-order autograd, torch.func, compile, export, trace,
autocast — each checked against the eager model or the plain-autograd twin."""

import warnings

import gymnasium as gym
import pytest
import torch
from torch import nn
from torch.nn import functional as F

import agents
import memtasks  # noqa: F401  (registers the envs)
from agents import LeakyRNN
from tests.agents.leaky_twin import eager_leaky

VARIANTS = [(5, "inside", 1), (5, "outside", 1), ([3, 2], "inside", 2), ([3, 2], "outside", 1)]


def tiny(hidden, leak, dtype=torch.float64, h0="random"):
    torch.manual_seed(3)
    model = LeakyRNN(hidden, (2, 3), leak=leak, h0=h0).to(dtype)
    with torch.no_grad():  # τ away from the clamp's kink at 1, where finite differences fail
        model.tau.copy_(torch.linspace(1.3, 3.0, model.hidden_size, dtype=dtype))
    return model


def core_parameters(model):
    return {n: p for n, p in model.named_parameters() if not n.startswith("readouts")}


@pytest.mark.parametrize("hidden, leak, repeat", VARIANTS)
def test_second_order_gradients_pass_gradgradcheck(hidden, leak, repeat):
    model = tiny(hidden, leak)
    names = list(core_parameters(model))
    params = [model.get_parameter(n).detach().clone().requires_grad_() for n in names]
    inputs = torch.rand(4, 2, 1, dtype=torch.float64, requires_grad=True)
    h0 = torch.rand(2, model.hidden_size, dtype=torch.float64, requires_grad=True)

    def run(x, h, *ps):
        return torch.func.functional_call(model, dict(zip(names, ps)), (x, h), {"repeat": repeat})

    assert torch.autograd.gradgradcheck(run, (inputs, h0, *params))


@pytest.mark.parametrize("hidden, leak, repeat", VARIANTS)
def test_gradient_penalty_equals_the_plain_autograd_twin(hidden, leak, repeat):
    # the case of the report: d/dθ ‖dL/dθ‖² through create_graph=True
    model = tiny(hidden, leak)
    params = core_parameters(model)
    inputs = torch.randint(0, 2, (6, 3, 1), dtype=torch.float64)
    h0 = torch.rand(3, model.hidden_size, dtype=torch.float64) * 0.1
    targets = torch.randint(0, 2, (3, 2))
    firsts, seconds = [], []
    for run in (lambda: model(inputs, h0, repeat=repeat), lambda: eager_leaky(model, inputs, h0, repeat)):
        logits = model.readout(run()[-1])
        loss = F.cross_entropy(logits.reshape(-1, 2), targets.reshape(-1))
        grads = torch.autograd.grad(loss, list(params.values()), create_graph=True)
        penalty = sum(g.square().sum() for g in grads)
        firsts.append(grads)
        seconds.append(torch.autograd.grad(penalty, list(params.values())))
    for name, *pairs in zip(params, *firsts, *seconds):
        for fast, slow in (pairs[:2], pairs[2:]):
            torch.testing.assert_close(fast, slow, rtol=1e-10, atol=1e-12, msg=name)
            assert fast.abs().max() > 0, name


class FinalLogits(nn.Module):
    """inputs (T, B, 1) -> logits at the last step (B, H, 2): a model and its readout as one call."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, inputs):
        return self.model.readout(self.model(inputs)[-1])


@pytest.mark.parametrize("hidden, leak", [(5, "inside"), ([3, 2], "outside")])
def test_per_sample_gradients_by_vmap_equal_a_loop(hidden, leak):
    net = FinalLogits(tiny(hidden, leak, dtype=torch.float32, h0="zeros"))
    params = {n: p.detach() for n, p in net.named_parameters()}
    inputs = torch.randint(0, 2, (7, 4, 1)).float()
    targets = torch.randint(0, 2, (4, 2))

    def loss(p, x, y):  # one sequence: x (T, 1), y (heads,)
        logits = torch.func.functional_call(net, p, (x.unsqueeze(1),))
        return F.cross_entropy(logits[0], y)

    per_sample = torch.func.vmap(torch.func.grad(loss), in_dims=(None, 1, 0))(params, inputs, targets)
    for b in range(4):
        net.zero_grad()
        F.cross_entropy(net(inputs[:, b:b + 1])[0], targets[b]).backward()  # the fast path
        for name, p in net.named_parameters():
            torch.testing.assert_close(per_sample[name][b], p.grad, rtol=1e-5, atol=1e-6, msg=name)
            assert p.grad.abs().max() > 0, name


def _train(model, tmp_path, epochs, resume=False):
    env = gym.make("memtasks/Parity-v0", N=2, seq_len=(4, 40))
    return agents.train(model, env, epochs=epochs, steps_per_epoch=4, eval_steps=2, batch_size=8,
                        seed=0, checkpoint_dir=tmp_path, resume=resume, progress=False)


@pytest.mark.parametrize("hidden, leak", [(8, "inside"), ([6, 4], "outside")])
def test_train_takes_a_compiled_model_and_compiles_once_per_grad_mode(hidden, leak, tmp_path):
    from torch._dynamo.utils import counters

    torch.manual_seed(0)
    eager, model = LeakyRNN(hidden, 2, leak=leak), LeakyRNN(hidden, 2, leak=leak)
    model.load_state_dict(eager.state_dict())
    torch._dynamo.reset()
    counters.clear()
    compiled = torch.compile(model, backend="aot_eager")  # Dynamo and AOTAutograd, no codegen
    history = _train(compiled, tmp_path / "compiled", epochs=3)
    graphs = counters["stats"]["unique_graphs"]
    # 24 batches of lengths drawn from 4..39; a graph per grad mode, and per mode one
    # specialised on the first length before Dynamo makes the length dynamic
    assert 2 <= graphs <= 4
    _train(compiled, tmp_path / "compiled", epochs=5, resume=True)
    assert counters["stats"]["unique_graphs"] == graphs  # new lengths, no new graphs
    reference = _train(eager, tmp_path / "eager", epochs=3)
    for mine, theirs in zip(history.records, reference.records):
        assert mine.loss == pytest.approx(theirs.loss, rel=1e-5)
        assert mine.accuracy == pytest.approx(theirs.accuracy)
    saved = agents.load(tmp_path / "compiled" / "models" / "epoch_0005.pt")
    assert saved.config() == model.config()
    agents.save(compiled, tmp_path / "direct.pt")  # saves the model inside the wrapper
    for loaded in (saved, agents.load(tmp_path / "direct.pt")):
        for key, value in model.state_dict().items():
            assert torch.equal(loaded.state_dict()[key], value), key


def test_export_holds_one_scan_op_and_runs_any_length():
    torch.manual_seed(0)
    model = LeakyRNN([6, 4], (2, 3), leak="outside")
    inputs, h0 = torch.randint(0, 2, (7, 3, 1)).float(), torch.rand(3, 10) * 0.1
    exported = torch.export.export(model, (inputs, h0),
                                   dynamic_shapes={"inputs": {0: torch.export.Dim("T", min=2)},
                                                   "h0": None})
    calls = [node for node in exported.graph.nodes
             if node.op == "call_function" and "leaky_scan" in str(node.target)]
    assert len(calls) == 2  # one per layer, whatever T: the time loop is not unrolled
    longer = torch.randint(0, 2, (23, 3, 1)).float()
    torch.testing.assert_close(exported.module()(longer, h0), model(longer, h0))


def test_jit_trace_gives_a_module_that_runs_any_length():
    torch.manual_seed(0)
    model = LeakyRNN(6, (2,))
    inputs, h0 = torch.randint(0, 2, (5, 3, 1)).float(), torch.rand(3, 6) * 0.1
    with pytest.warns(torch.jit.TracerWarning):  # the shape checks become constants in the trace
        warnings.simplefilter("ignore", DeprecationWarning)  # torch.jit is deprecated, still used
        traced = torch.jit.trace(model, (inputs, h0))
    longer = torch.randint(0, 2, (12, 3, 1)).float()
    torch.testing.assert_close(traced(longer, h0), model(longer, h0))


@pytest.mark.parametrize("hidden, leak", [(8, "inside"), ([6, 4], "outside")])
def test_autocast_runs_the_recurrence_in_bfloat16(hidden, leak):
    torch.manual_seed(0)
    model = LeakyRNN(hidden, (2, 3), leak=leak)
    inputs = torch.randint(0, 2, (10, 4, 1)).float()
    h0 = torch.rand(4, model.hidden_size) * 0.1
    full = model(inputs, h0)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        states = model(inputs, h0)
        logits = model.readout(states[-1])
    assert states.dtype == logits.dtype == torch.bfloat16
    torch.testing.assert_close(states.float(), full, rtol=0.05, atol=0.02)
    assert not torch.equal(states.float(), full)  # really computed in bfloat16
    logits.float().square().sum().backward()
    for name, p in model.named_parameters():
        assert p.grad is None or (p.grad.dtype == torch.float32 and p.grad.isfinite().all()), name
    assert model.tau.grad.abs().max() > 0


@pytest.mark.slow
def test_model_compile_with_inductor_trains_without_recompiling_per_length(tmp_path):
    from torch._dynamo.utils import counters

    torch.manual_seed(0)
    model = LeakyRNN([8, 8], 2, leak="outside")
    torch._dynamo.reset()
    counters.clear()
    model.compile()  # in place, the default backend (inductor)
    history = _train(model, tmp_path, epochs=3)
    assert 2 <= counters["stats"]["unique_graphs"] <= 4
    assert all(record.loss > 0 for record in history.records)
    assert agents.load(tmp_path / "models" / "epoch_0003.pt").config() == model.config()


@pytest.mark.parametrize("outside", [False, True])
def test_the_custom_op_passes_opcheck_and_agrees_with_plain_autograd(outside):
    # the op that torch.compile, export and trace see: schema, fake kernel, autograd registration
    from agents.models.recurrence import scan_autograd

    torch.manual_seed(0)
    f64 = dict(dtype=torch.float64)
    inputs, h0 = torch.rand(6, 3, 2, **f64), torch.rand(3, 4, **f64)
    w_in, bias, matrix = (torch.randn(4, 2, **f64), torch.randn(4, **f64), torch.randn(4, 4, **f64) / 2)
    decay, scale = (torch.rand(4, **f64), torch.rand(4, **f64)) if outside else (None, None)
    operands = [t if t is None else t.requires_grad_() for t in (inputs, w_in, bias, matrix, h0, decay, scale)]
    torch.library.opcheck(torch.ops.memtasks.leaky_scan.default, (*operands, "tanh"))
    wanted = [t for t in operands if t is not None]
    weights = torch.randn(6, 3, 4, **f64)
    fast = torch.ops.memtasks.leaky_scan(*operands, "tanh")[0]
    slow = scan_autograd(*operands, "tanh")
    torch.testing.assert_close(fast, slow, rtol=1e-12, atol=1e-12)
    for a, b in zip(torch.autograd.grad((fast * weights).sum(), wanted),
                    torch.autograd.grad((slow * weights).sum(), wanted)):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("given", ["decay", "scale"])
def test_scan_refuses_decay_without_scale_and_scale_without_decay(given):
    from agents.models.recurrence import scan

    operands = (torch.rand(4, 2, 1), torch.rand(3, 1), torch.rand(3), torch.rand(3, 3),
                torch.rand(2, 3))
    with pytest.raises(ValueError, match="decay=.* scale=.*both .*or neither"):
        scan(*operands, **{given: torch.rand(3)})
