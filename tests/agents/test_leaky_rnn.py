import pytest
import torch

from agents import LeakyRNN
from tests.agents.leaky_twin import eager_leaky

ACTIVATIONS = ("leaky_relu", "relu", "tanh")
LEAKS = ("inside", "outside")


def rel_err(a, b):
    return ((a - b).abs().max() / b.abs().max().clamp_min(1e-30)).item()


def make_model(hidden=12, dtype=torch.float32, activation="leaky_relu", tau_range=None, **kw):
    torch.manual_seed(1)
    model = LeakyRNN(hidden, (2, 3), activation=activation, **kw).to(dtype)
    if tau_range is not None:
        with torch.no_grad():
            size = model.hidden_size
            model.tau.copy_(torch.linspace(*tau_range, size, dtype=dtype)[torch.randperm(size)])
    return model


def compare_with_twin(model, dtype, steps=15, batch=5, repeat=1):
    torch.manual_seed(2)
    inputs = torch.randint(0, 2, (steps, batch, model.input_size), dtype=dtype).requires_grad_()
    h0 = (torch.rand(batch, model.hidden_size, dtype=dtype) * 0.1).requires_grad_()
    weights = torch.randn(steps, batch, model.hidden_size, dtype=dtype)
    grads = []
    for run in (lambda x, h: model(x, h, repeat=repeat), lambda x, h: eager_leaky(model, x, h, repeat)):
        model.zero_grad()
        inputs.grad = h0.grad = None
        states = run(inputs, h0)
        ((states * weights).sum() + model.readout(states[-1]).square().sum()).backward()
        named = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
        grads.append((states.detach(), named, inputs.grad.clone(), h0.grad.clone()))
    (fast, fast_g, fast_x, fast_h), (slow, slow_g, slow_x, slow_h) = grads
    return fast, slow, fast_g, slow_g, (fast_x, slow_x), (fast_h, slow_h)


def assert_agrees_with_twin(model, dtype, tol, **kwargs):
    fast, slow, fast_g, slow_g, xs, hs = compare_with_twin(model, dtype, **kwargs)
    assert rel_err(fast, slow) <= tol
    assert fast_g.keys() == slow_g.keys() and {"tau", "input.weight", "recurrent.weight"} <= fast_g.keys()
    for name in slow_g:
        assert rel_err(fast_g[name], slow_g[name]) <= tol, name
    assert rel_err(*xs) <= tol and rel_err(*hs) <= tol


@pytest.mark.parametrize("dtype, tol", [(torch.float32, 1e-5), (torch.float64, 1e-10)])
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("tau_range", [None, (1.0, 50.0), (0.3, 3.0)])
@pytest.mark.parametrize("leak", LEAKS)
def test_fast_loop_agrees_with_eager_twin(dtype, tol, activation, tau_range, leak):
    model = make_model(dtype=dtype, activation=activation, tau_range=tau_range, leak=leak)
    assert_agrees_with_twin(model, dtype, tol)


@pytest.mark.parametrize("dtype, tol", [(torch.float32, 1e-5), (torch.float64, 1e-10)])
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("leak", LEAKS)
def test_stacked_layers_agree_with_eager_twin(dtype, tol, activation, leak):
    model = make_model(hidden=[6, 4, 5], dtype=dtype, activation=activation, tau_range=(0.5, 8.0),
                       leak=leak)
    fast, slow, fast_g, slow_g, xs, hs = compare_with_twin(model, dtype)
    assert fast.shape == (15, 5, 15) and rel_err(fast, slow) <= tol
    assert {f"stack.{i}.{m}.weight" for i in (0, 1) for m in ("feedforward", "recurrent")} <= fast_g.keys()
    assert fast_g.keys() == slow_g.keys()
    for name in slow_g:
        assert rel_err(fast_g[name], slow_g[name]) <= tol, name
    assert rel_err(*xs) <= tol and rel_err(*hs) <= tol


@pytest.mark.parametrize("hidden", [7, [4, 3]])
@pytest.mark.parametrize("leak", LEAKS)
def test_repeat_scales_tau_before_the_clamp(hidden, leak):
    # τ from 0.3: with repeat=3 a τ of 0.5 is effectively 1.5 (clamping first would give 3)
    model = make_model(hidden=hidden, dtype=torch.float64, tau_range=(0.3, 4.0), leak=leak)
    assert_agrees_with_twin(model, torch.float64, 1e-10, repeat=3)
    scaled = make_model(hidden=hidden, dtype=torch.float64, tau_range=(0.3, 4.0), leak=leak)
    with torch.no_grad():
        scaled.tau.mul_(3)
    inputs, h0 = torch.rand(6, 2, 1, dtype=torch.float64), torch.rand(2, model.hidden_size, dtype=torch.float64)
    torch.testing.assert_close(model(inputs, h0, repeat=3), scaled(inputs, h0), rtol=1e-12, atol=1e-12)
    assert not torch.allclose(model(inputs, h0, repeat=3), model(inputs, h0))


def test_leak_outside_is_the_variant_equation_for_one_neuron():
    # one neuron, no recurrence (the diagonal is masked): h_t = (1 - 1/τ) h + relu(w x + b) / τ
    model = LeakyRNN(1, 2, tau=4.0, activation="relu", leak="outside")
    with torch.no_grad():
        model.input.weight.fill_(2.0), model.input.bias.fill_(-1.0), model.recurrent.bias.zero_()
    inputs = torch.tensor([1.0, 0.0, 1.0]).view(3, 1, 1)
    states = model(inputs, torch.full((1, 1), 0.5)).flatten()
    torch.testing.assert_close(states, torch.tensor([0.625, 0.46875, 0.6015625]))
    inside = LeakyRNN(1, 2, tau=4.0, activation="relu")
    inside.load_state_dict(model.state_dict())  # same weights, act((1 - 1/τ) h + (w x + b) / τ)
    torch.testing.assert_close(inside(inputs, torch.full((1, 1), 0.5)).flatten(),
                               torch.tensor([0.625, 0.21875, 0.4140625]))



@pytest.mark.parametrize("dtype, tol", [(torch.float32, 1e-5), (torch.float64, 1e-10)])
def test_fast_loop_agrees_with_eager_twin_for_vector_inputs(dtype, tol):
    # input_size > 1 takes the GEMM path for the input term (a scalar input takes a broadcast one)
    model = make_model(dtype=dtype, tau_range=(1.0, 50.0), input_size=3)
    fast, slow, fast_g, slow_g, xs, hs = compare_with_twin(model, dtype)
    assert rel_err(fast, slow) <= tol and rel_err(*xs) <= tol and rel_err(*hs) <= tol
    assert fast_g["input.weight"].shape == (model.hidden_size, 3)
    for name in slow_g:
        assert rel_err(fast_g[name], slow_g[name]) <= tol, name


def test_gradcheck_float64():
    model = make_model(hidden=4, dtype=torch.float64, tau_range=(0.5, 4.0))
    names = [n for n, _ in model.named_parameters() if not n.startswith("readouts")]
    params = [model.get_parameter(n).detach().clone().requires_grad_() for n in names]
    inputs = torch.rand(5, 3, 1, dtype=torch.float64, requires_grad=True)
    h0 = torch.rand(3, 4, dtype=torch.float64, requires_grad=True)
    # keep τ away from the clamp's kink at 1, where the finite difference is not defined
    with torch.no_grad():
        params[names.index("tau")][(params[names.index("tau")] - 1).abs() < 0.05] += 0.1

    def run(x, h, *ps):
        return torch.func.functional_call(model, dict(zip(names, ps)), (x, h))

    assert torch.autograd.gradcheck(run, (inputs, h0, *params))


def test_clamp_semantics():
    model = make_model(hidden=6, tau_range=(0.2, 3.0))
    below = model.tau < 1
    assert below.any() and (~below).any()
    assert torch.equal(model.taus[below], torch.ones(int(below.sum())))
    assert torch.equal(model.taus[~below], model.tau[~below])
    model(torch.ones(4, 3, 1)).sum().backward()
    assert torch.all(model.tau.grad[below] == 0)
    assert torch.all(model.tau.grad[~below] != 0)


def test_stacked_shapes_slices_and_readout_of_the_last_layer():
    model = LeakyRNN([5, 3, 4], (2, 3))
    assert model.hidden_size == 12 and model.layer_sizes == (5, 3, 4)
    assert model.layer_slices == (slice(0, 5), slice(5, 8), slice(8, 12))
    assert model.taus.shape == (12,) and model.readouts.in_features == 4
    states, final = model(torch.rand(6, 2, 1), return_final=True)
    assert states.shape == (6, 2, 12) and torch.equal(final, states[-1])
    changed = states.clone()
    changed[..., :8] += 1.0  # the heads read the last layer only
    torch.testing.assert_close(model.readout(changed), model.readout(states))
    assert not torch.allclose(model.readout(changed[..., [*range(8), 11, 10, 9, 8]]),
                              model.readout(states))
    assert model.config()["hidden_size"] == [5, 3, 4]
    assert LeakyRNN([5], 2).config()["hidden_size"] == 5
    assert all(torch.all(layer.recurrent.weight.diagonal() == 0) for layer in model.stack)


def test_shapes_dtypes_and_final_state():
    model = LeakyRNN(7, (2, 3, 4))
    states, final = model(torch.zeros(9, 4, 1), return_final=True)
    assert states.shape == (9, 4, 7) and states.dtype == torch.float32
    assert torch.equal(final, states[-1])
    assert model.readout(states).shape == (9, 4, 3, 2)
    assert model.heads == (2, 3, 4)
    assert model.taus.shape == (7,) and model.timescales().shape == (7,)
    double = LeakyRNN(3, 2).double()
    assert double(torch.zeros(2, 1, 1, dtype=torch.float64)).dtype == torch.float64


@pytest.mark.parametrize("hidden, leak", [(8, "inside"), ([5, 3], "inside"), ([5, 3], "outside")])
def test_carrying_state_over_chunks_equals_one_pass(hidden, leak):
    model = LeakyRNN(hidden, 2, leak=leak)
    inputs = torch.randint(0, 2, (12, 3, 1)).float()
    h0 = torch.rand(3, 8) * 0.1
    whole = model(inputs, h0)
    first, h = model(inputs[:5], h0, return_final=True)
    second = model(inputs[5:], h)
    torch.testing.assert_close(torch.cat([first, second]), whole)


def test_tau_initialisation():
    torch.manual_seed(0)
    model = LeakyRNN(1000, 2)
    assert model.tau.requires_grad and 1 <= model.tau.min() and model.tau.max() < 2
    assert 1.45 < model.tau.mean() < 1.55
    fixed = LeakyRNN(5, 2, tau=3.0, train_tau=False)
    assert "tau" not in dict(fixed.named_parameters()) and "tau" in fixed.state_dict()
    assert torch.equal(fixed.taus, torch.full((5,), 3.0))


def test_h0_random_is_uniform_0_to_0_1_and_seeded():
    model = LeakyRNN(50, 2)
    h = model.initial_state(400, torch.zeros(1))
    assert 0 <= h.min() and h.max() < 0.1 and 0.045 < h.mean() < 0.055
    inputs = torch.ones(3, 2, 1)
    torch.manual_seed(5)
    a = model(inputs)
    torch.manual_seed(5)
    assert torch.equal(a, model(inputs))
    zeros = LeakyRNN(4, 2, h0="zeros")
    zeros.input.weight.data.zero_(), zeros.input.bias.data.zero_(), zeros.recurrent.bias.data.zero_()
    assert torch.equal(zeros(inputs), torch.zeros(3, 2, 4))


@pytest.mark.parametrize("make_opt", [
    lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.1, nesterov=True, weight_decay=1e-3),
    lambda p: torch.optim.Adam(p, lr=1e-2),
    lambda p: torch.optim.AdamW(p, lr=1e-2),
])
def test_diagonal_stays_zero_through_training(make_opt):
    torch.manual_seed(0)
    model = LeakyRNN(10, (2, 3))
    assert torch.all(model.recurrent.weight.diagonal() == 0)
    opt = make_opt(model.parameters())
    before = model.recurrent.weight.detach().clone()
    for _ in range(4):
        opt.zero_grad()
        logits = model.readout(model(torch.randint(0, 2, (6, 4, 1)).float())[-1])
        torch.nn.functional.cross_entropy(logits.reshape(-1, 2), torch.randint(0, 2, (8,))).backward()
        opt.step()
    assert not torch.equal(model.recurrent.weight, before)
    assert torch.all(model.recurrent.weight.diagonal() == 0)


def test_set_heads_keeps_weights_on_the_model():
    model = LeakyRNN(6, (2, 3))
    w3 = model.readouts.linears["3"].weight.detach().clone()
    new = model.set_heads((3, 4))
    assert model.heads == (3, 4) and len(new) == 2
    torch.testing.assert_close(model.readouts.linears["3"].weight, w3)


@pytest.mark.parametrize("kwargs, error, name", [
    ({"hidden_size": 0}, ValueError, "hidden_size"),
    ({"hidden_size": 2.5}, TypeError, "hidden_size"),
    ({"heads": ()}, ValueError, "heads"),
    ({"heads": (2, 2)}, ValueError, "heads"),
    ({"activation": "gelu"}, ValueError, "activation"),
    ({"h0": "ones"}, ValueError, "h0"),
    ({"tau": 0.5}, ValueError, "tau"),
    ({"tau": "1"}, TypeError, "tau"),
    ({"input_size": 0}, ValueError, "input_size"),
    ({"hidden_size": []}, ValueError, "hidden_size"),
    ({"hidden_size": [4, 0]}, ValueError, "hidden_size"),
    ({"hidden_size": [4, "2"]}, TypeError, "hidden_size"),
    ({"leak": "middle"}, ValueError, "leak"),
])
def test_bad_constructor_arguments(kwargs, error, name):
    args = {"hidden_size": 4, "heads": (2,)} | kwargs
    with pytest.raises(error, match=name):
        LeakyRNN(**args)


def test_bad_inputs_and_h0():
    model = LeakyRNN(4, 2)
    with pytest.raises(ValueError, match="inputs"):
        model(torch.zeros(3, 2))
    with pytest.raises(TypeError, match="inputs.*int64"):
        model(torch.zeros(3, 2, 1, dtype=torch.int64))
    with pytest.raises(ValueError, match="h0"):
        model(torch.zeros(3, 2, 1), h0=torch.zeros(2, 5))
    for repeat, error in ((0, ValueError), (1.5, TypeError), (True, TypeError)):
        with pytest.raises(error, match="repeat"):
            model(torch.zeros(3, 2, 1), repeat=repeat)


def test_float64_and_list_h0_and_inputs_are_refused_by_a_float32_model_naming_them():
    model = LeakyRNN(4, 2)
    with pytest.raises(TypeError, match=r"inputs of dtype torch.float64 .*expected torch.float32"):
        model(torch.zeros(3, 2, 1, dtype=torch.float64))
    with pytest.raises(TypeError, match=r"h0 of type list .*torch.Tensor of shape \(2, 4\)"):
        model(torch.zeros(3, 2, 1), h0=[[0.0] * 4] * 2)
    with pytest.raises(TypeError, match=r"h0 of dtype torch.float64"):
        model(torch.zeros(3, 2, 1), h0=torch.zeros(2, 4, dtype=torch.float64))
    with pytest.raises(TypeError, match=r"h0 of dtype torch.float64"):  # also when returned final
        model(torch.zeros(3, 2, 1), h0=torch.zeros(2, 4, dtype=torch.float64), return_final=True)
    double = LeakyRNN(4, 2).double()  # a float64 model takes float64 end to end
    states, final = double(torch.zeros(3, 2, 1, dtype=torch.float64), return_final=True)
    assert states.dtype == final.dtype == double.readout(states).dtype == torch.float64
    with pytest.raises(TypeError, match=r"inputs of dtype torch.float32 .*expected torch.float64"):
        double(torch.zeros(3, 2, 1))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
@pytest.mark.parametrize("hidden, leak, repeat", [(12, "inside", 1), ([7, 5], "outside", 2)])
def test_cuda_agrees_with_cpu_twin(hidden, leak, repeat):
    model = make_model(hidden=hidden, tau_range=(1.0, 10.0), leak=leak).double()
    inputs = torch.randint(0, 2, (10, 4, 1), dtype=torch.float64)
    h0 = torch.rand(4, 12, dtype=torch.float64) * 0.1
    slow = eager_leaky(model, inputs, h0, repeat)
    fast = model.cuda()(inputs.cuda(), h0.cuda(), repeat=repeat)
    assert rel_err(fast.cpu(), slow) <= 1e-10
    fast.sum().backward()
    assert model.tau.grad.is_cuda and torch.all(model.recurrent.weight.grad.diagonal() == 0)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_fast_loop_gradients_from_a_broadcast_gradient(activation):
    # states.sum() hands the backward an expanded (stride 0) gradient, which it must copy, not alias
    model = make_model(dtype=torch.float64, activation=activation, tau_range=(1.0, 50.0))
    inputs = torch.randint(0, 2, (9, 4, 1), dtype=torch.float64)
    h0 = torch.rand(4, model.hidden_size, dtype=torch.float64) * 0.1
    grads = []
    for run in (model, lambda x, h: eager_leaky(model, x, h)):
        model.zero_grad()
        run(inputs, h0).sum().backward()
        grads.append({n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None})
    assert grads[0].keys() == grads[1].keys()
    for name in grads[1]:
        assert rel_err(grads[0][name], grads[1][name]) <= 1e-10, name
