import numpy as np
import pytest
import torch

from agents import GRU, LeakyRNN, analysis


@pytest.fixture
def leaky():
    torch.manual_seed(0)
    return LeakyRNN(10, (2, 3))


def test_zero_epsilon_is_the_baseline(leaky):
    for target in ("weights", "tau"):
        same = analysis.perturb(leaky, target, epsilon=0.0)
        for (key, a), b in zip(leaky.state_dict().items(), same.state_dict().values()):
            torch.testing.assert_close(a, b, msg=key)
    sweep = analysis.perturbation_sweep(leaky, epsilons=[0.0, 0.3], N=3, draws=2, steps=50,
                                        warmup=5, repeats=2)
    np.testing.assert_allclose(sweep.accuracy[0], sweep.baseline)
    np.testing.assert_allclose(sweep.relative[0], 1.0)
    assert sweep.accuracy.shape == sweep.relative.shape == (2, 2) and sweep.retrained is None


def test_weight_perturbation_has_the_asked_size_and_keeps_the_zero_diagonal(leaky):
    weight = leaky.recurrent.weight.detach().clone()
    changed = analysis.perturb(leaky, "weights", epsilon=0.2, seed=3).recurrent.weight.detach()
    assert torch.equal(leaky.recurrent.weight, weight)  # the original is untouched
    delta = changed - weight
    assert float(delta.norm()) == pytest.approx(0.2 * float(weight.norm()), rel=1e-5)
    assert torch.count_nonzero(torch.diagonal(changed)) == 0
    again = analysis.perturb(leaky, "weights", epsilon=0.2, seed=3).recurrent.weight.detach()
    other = analysis.perturb(leaky, "weights", epsilon=0.2, seed=4).recurrent.weight.detach()
    assert torch.equal(again, changed) and not torch.equal(other, changed)


def test_tau_perturbation_only_lengthens_timescales(leaky):
    changed = analysis.perturb(leaky, "tau", epsilon=0.5, seed=1).taus.detach()
    delta = changed - leaky.taus.detach()
    assert (delta >= 0).all()
    assert float(delta.norm()) == pytest.approx(0.5 * float(leaky.taus.detach().norm()), rel=1e-5)


def test_gated_models_perturb_their_recurrent_matrix_but_have_no_tau():
    model = GRU(6, (2,))
    weight = model.rnn.weight_hh_l0.detach()
    changed = analysis.perturb(model, "weights", epsilon=0.1).rnn.weight_hh_l0.detach()
    assert float((changed - weight).norm()) == pytest.approx(0.1 * float(weight.norm()), rel=1e-5)
    with pytest.raises(TypeError, match="LeakyRNN"):
        analysis.perturb(model, "tau")


@pytest.mark.parametrize("kwargs, error, name", [
    ({"target": "bias"}, ValueError, "target"),
    ({"epsilon": -0.1}, ValueError, "epsilon"),
])
def test_perturb_rejects_bad_arguments(leaky, kwargs, error, name):
    with pytest.raises(error, match=name):
        analysis.perturb(leaky, **kwargs)


def test_relative_accuracy_maps_baseline_to_one_and_chance_to_zero():
    np.testing.assert_allclose(analysis.relative_accuracy([0.9, 0.5, 0.7], 0.9), [1.0, 0.0, 0.5])


def test_the_retraining_hook_runs_on_every_perturbed_copy(leaky):
    seen = []

    def retrain(model):
        seen.append(model)
        with torch.no_grad():  # "training" that forgets everything: the head answers constantly
            for parameter in model.readouts.parameters():
                parameter.zero_()

    sweep = analysis.perturbation_sweep(leaky, epsilons=[0.0, 0.1, 0.2], draws=2, retrain=retrain,
                                        steps=40, warmup=5, repeats=2)
    assert len(seen) == 6 and all(m is not leaky for m in seen)
    assert sweep.retrained.shape == (3, 2) and sweep.N == 3
    assert np.all(np.abs(sweep.retrained - 0.5) < 0.2)


def test_a_users_model_is_perturbed_through_its_recurrent_weights(user_gru, analysable_gru):
    with pytest.raises(TypeError, match="recurrent_weights"):
        analysis.perturb(user_gru, "weights")
    weight = analysable_gru.rnn.weight_hh_l0.detach()
    changed = analysis.perturb(analysable_gru, "weights", epsilon=0.1).rnn.weight_hh_l0.detach()
    assert float((changed - weight).norm()) == pytest.approx(0.1 * float(weight.norm()), rel=1e-5)


@pytest.mark.parametrize("make", [lambda: LeakyRNN(10, (2, 3)), lambda: GRU(10, (2, 3))])
def test_group_robustness_silences_each_group_together_and_sweeps_each_target(make):
    torch.manual_seed(0)
    model = make()
    scoring = {"steps": 60, "warmup": 5, "repeats": 3}
    measured = analysis.group_robustness(model, 3, k=4, epsilons_weights=(0.0, 0.3),
                                         epsilons_tau=(0.0,), draws=2, seed=1, **scoring)
    baseline = analysis.accuracy(model, "parity", 3, seed=1, **scoring)
    np.testing.assert_array_equal(measured.baseline, baseline)
    taus = analysis.trained_timescales(model)
    for how, name in (("largest", "longest"), ("smallest", "shortest"), ("random", "random")):
        alone = analysis.accuracy(analysis.ablate(model, analysis.select_neurons(taus, 4, how, 1)),
                                  "parity", 3, seed=1, **scoring)
        np.testing.assert_array_equal(measured.ablation[how], alone)
        assert measured.summary()["ablation"][name] == pytest.approx(
            (alone.mean() - 0.5) / (baseline.mean() - 0.5))
    perturbation = measured.summary()["perturbation"]
    assert set(perturbation) == ({"weights", "tau"} if model.kind == "leaky" else {"weights"})
    assert perturbation["weights"][0.0] == pytest.approx(1.0) and set(perturbation["weights"]) == {0.0, 0.3}
