import numpy as np
import pytest
import torch

from agents import GRU, LSTM, LeakyRNN, analysis, load_reference_checkpoint


def slow_parity(bits, N):
    return np.array([[bits[t - N + 1:t + 1, b].sum() % 2 if t >= N - 1 else -1
                      for b in range(bits.shape[1])] for t in range(len(bits))])


def test_paper_network_is_accurate_and_ablating_every_neuron_leaves_chance(reference):
    model = load_reference_checkpoint(reference("multihead_parity_N2_N5.pt"), (2, 3, 4, 5))
    assert analysis.accuracy(model, "parity", 5, steps=500, repeats=4).min() > 0.98
    silenced = analysis.ablate(model, neurons=range(model.hidden_size))
    acc = analysis.accuracy(silenced, "parity", 5, steps=1000, repeats=10)
    assert acc.shape == (10,)
    assert abs(acc.mean() - 0.5) < 0.03


@pytest.mark.parametrize("task", ["parity", "dms"])
def test_accuracy_scores_every_step_after_warmup_like_a_direct_count(task):
    torch.manual_seed(0)
    model = LeakyRNN(9, (2, 3))
    acc = analysis.accuracy(model, task, 3, steps=60, warmup=10, repeats=4, seed=7, p=0.3, chunk=7)
    bits = analysis.bernoulli_bits(np.random.default_rng(7), 70, 4, 0.3)
    with torch.random.fork_rng():
        torch.manual_seed(7)
        with torch.no_grad():
            logits = model.readout(model(torch.as_tensor(bits, dtype=torch.float32)[..., None]))
    guess = logits[10:, :, 1].argmax(-1).numpy()
    labels = slow_parity(bits, 3)[10:] if task == "parity" else (bits[8:68] == bits[10:]).astype(int)
    np.testing.assert_allclose(acc, (guess == labels).mean(axis=0))


def test_accuracy_rejects_a_head_the_model_lacks():
    with pytest.raises(ValueError, match="N=4"):
        analysis.accuracy(LeakyRNN(4, (2, 3)), N=4)


@pytest.mark.parametrize("make", [lambda: LeakyRNN(7, (2, 3)), lambda: GRU(7, (2,)), lambda: LSTM(7, (2,))])
def test_silenced_neurons_reach_neither_other_neurons_nor_the_readout(make):
    torch.manual_seed(1)
    model = make()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    silenced = analysis.ablate(model, neurons=[1, 4])
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key  # the original is untouched
    inputs = torch.randint(0, 2, (25, 3, 1)).float()
    h0 = torch.rand(3, 7)
    other = h0.clone()
    other[:, [1, 4]] += 5.0
    with torch.no_grad():
        states = [silenced(inputs, h0=h if model.kind != "lstm" else (h, h)) for h in (h0, other)]
    keep = [0, 2, 3, 5, 6]
    torch.testing.assert_close(states[0][..., keep], states[1][..., keep])
    torch.testing.assert_close(silenced.readout(states[0]), silenced.readout(states[1]))
    if model.kind == "leaky":  # no drive: the neuron only decays by its leak
        decay = torch.cumprod((1 - 1 / silenced.taus[[1, 4]]).expand(25, 2), dim=0)
        torch.testing.assert_close(states[0][:, :, [1, 4]], h0[:, [1, 4]] * decay[:, None, :])


def test_ablating_no_neuron_changes_nothing_and_bad_indices_are_refused():
    model = LeakyRNN(5, (2,))
    same = analysis.ablate(model, neurons=[])
    for (key, a), b in zip(model.state_dict().items(), same.state_dict().values()):
        assert torch.equal(a, b), key
    for bad in ([5], [-1], [0.5], [[1, 2]]):
        with pytest.raises(ValueError, match="neurons"):
            analysis.ablate(model, neurons=bad)
    with pytest.raises(TypeError, match="ablate"):
        analysis.ablate(torch.nn.Linear(2, 2), neurons=[0])


def test_select_neurons_by_timescale_and_at_random():
    taus = np.array([3.0, 1.0, 7.0, 2.0, 5.0])
    np.testing.assert_array_equal(analysis.select_neurons(taus, 2, "largest"), [2, 4])
    np.testing.assert_array_equal(analysis.select_neurons(taus, 2, "smallest"), [1, 3])
    random = analysis.select_neurons(taus, 3, "random", seed=1)
    assert len(set(random)) == 3 and np.array_equal(random, analysis.select_neurons(taus, 3, "random", seed=1))
    with pytest.raises(ValueError, match="k=6"):
        analysis.select_neurons(taus, 6)
    with pytest.raises(ValueError, match="how"):
        analysis.select_neurons(taus, 1, "middle")


def test_a_users_model_is_ablated_through_its_unit_tensors(user_gru, analysable_gru):
    with pytest.raises(TypeError, match="unit_tensors"):
        analysis.ablate(user_gru, neurons=[0])
    size, weight = analysable_gru.hidden_size, analysable_gru.rnn.weight_hh_l0.detach()
    silenced = analysis.ablate(analysable_gru, neurons=[3]).rnn.weight_hh_l0.detach()
    rows = [3, 3 + size, 3 + 2 * size]  # unit 3 in each gate's block
    assert not silenced[rows].any() and not silenced[:, 3].any()
    kept = torch.ones_like(silenced, dtype=torch.bool)
    kept[rows] = False
    kept[:, 3] = False
    assert torch.equal(silenced[kept], weight[kept])
